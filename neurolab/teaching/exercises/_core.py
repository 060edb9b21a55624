"""The machinery of the self-checks: registering checkers, ``check``, and the checkers' tools.

    from neurolab.teaching.exercises import check
    check("ex-01-reliable", best20, rel=rel)    # or by number: check("1.1", best20, rel=rel)

Every exercise of the book has a checker (one module per chapter beside this one), registered under its label (``ex-01-reliable``)
and its number (``1.1``: chapter 1, first exercise). ``check(exercise, *answer, **values)`` takes
the learner's answer (positionally, or by the names the exercise's stub uses) and the chapter's
objects the exercise works from (by keyword, with the names the chapter uses); ``describe(label)``
and ``help_for(label)`` say which. It returns a :class:`Feedback`, which is truthy only when the
answer passes and displays as one line in a notebook: ``✓`` and what was verified, or ``✗`` and a
hint aimed at the typical mistake (wrong shape, leaked split, grey trials counted, an off-by-one
index, the wrong chance level ...). A checker recomputes what it can from the given objects, so it
works on whatever data the chapter ran on, synthetic or real.

An answer still ``...`` (the student edition's stub) gives "not answered yet", never an exception:
a wrong answer is feedback, not an error, and so is a malformed one (a list instead of an array, the
wrong shape or axis, a string): ✗ with what the answer is and what to compare, never a traceback. Calling ``check`` with an unknown exercise or without an
object it needs raises (``KeyError`` / ``TypeError``): that is a mistake in the call, not in the
answer.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Feedback", "NotPassed", "check", "describe", "exercises", "grade", "help_for"]


@dataclass
class Feedback:
    """The verdict on one answer. ``bool(feedback)`` is ``passed``."""

    exercise: str
    number: str
    passed: bool
    message: str
    answered: bool = True

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        mark = "✓" if self.passed else "✗"
        return f"{mark} Exercise {self.number} ({self.exercise}): {self.message}"

    __str__ = __repr__


@dataclass(frozen=True)
class _Checker:
    label: str
    number: str
    answers: tuple[str, ...]
    given: tuple[str, ...]
    func: Callable = field(repr=False)
    question: str = ""


_CHECKERS: dict[str, _Checker] = {}
_NUMBERS: dict[str, str] = {}


class Wrong(Exception):
    """Raised inside a checker: the answer fails, with this hint."""


def exercise(label: str, number: str, question: str = ""):
    """Register a checker ``func(answer, ..., *, given, ...) -> str`` (what was verified).

    The checker's signature says what it takes: its positional parameters are the answer's names
    (as the exercise's stub names them), its keyword-only parameters the chapter objects it needs.
    """

    def register(func):
        params = inspect.signature(func).parameters.values()
        answers = tuple(p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD)
        given = tuple(p.name for p in params if p.kind is p.KEYWORD_ONLY)
        checker = _Checker(label, number, answers, given, func, question)
        _CHECKERS[label] = checker
        _NUMBERS[number] = label
        return func

    return register


def _resolve(exercise: str) -> _Checker:
    key = str(exercise).strip()
    label = _NUMBERS.get(key, key)
    if label not in _CHECKERS:
        raise KeyError(f"no exercise {exercise!r}; known: {', '.join(sorted(_CHECKERS))}")
    return _CHECKERS[label]


def exercises() -> list[tuple[str, str]]:
    """[(number, label)] of every exercise with a checker, in book order."""
    def order(number: str):
        return tuple(int(part) for part in number.split("."))

    return sorted(((c.number, c.label) for c in _CHECKERS.values()), key=lambda nl: order(nl[0]))


def describe(exercise: str) -> dict:
    """{'label', 'number', 'answers', 'given', 'question'} of one exercise's checker."""
    c = _resolve(exercise)
    return {"label": c.label, "number": c.number, "answers": c.answers, "given": c.given,
            "question": c.question}


def help_for(exercise: str) -> str:
    """How to call ``check`` for one exercise, e.g. ``check("1.1", best20, rel=rel)``."""
    c = _resolve(exercise)
    args = [f'"{c.label}"', *c.answers[:1], *(f"{n}={n}" for n in c.answers[1:] + c.given)]
    return f"check({', '.join(args)})  # {c.question}" if c.question else f"check({', '.join(args)})"


def check(exercise: str, *answer, **values) -> Feedback:
    """Check an answer to ``exercise`` (a label such as "ex-03-unknown" or a number such as "3.2").

    answer: the answer, positionally (one object, the exercise's first answer name), or by name.
    values: the other answer names and the chapter objects the checker needs (see ``help_for``).
    Returns a Feedback (displayed as a ✓ / ✗ line with a hint).
    """
    c = _resolve(exercise)
    if len(answer) > 1:
        raise TypeError(f"check({c.label!r}, ...) takes one positional answer; pass the others by "
                        f"name: {help_for(c.label)}")
    if answer:
        if c.answers[0] in values:
            raise TypeError(f"{c.answers[0]} given both positionally and by name")
        values[c.answers[0]] = answer[0]
    unknown = sorted(set(values) - set(c.answers) - set(c.given))
    if unknown:
        raise TypeError(f"check({c.label!r}) got unexpected names {unknown}; call it as {help_for(c.label)}")
    missing_given = [n for n in c.given if n not in values]
    if missing_given:
        raise TypeError(f"check({c.label!r}) needs the chapter's {', '.join(missing_given)} too; "
                        f"call it as {help_for(c.label)}")
    missing = [n for n in c.answers if n not in values or values[n] is Ellipsis]
    if missing:
        return Feedback(c.label, c.number, False,
                        f"not answered yet: fill in {', '.join(missing)} (still `...`), then run the check again.",
                        answered=False)
    try:
        verified = c.func(**values)
    except Wrong as wrong:
        return Feedback(c.label, c.number, False, str(wrong))
    except Exception as error:  # noqa: BLE001 - a malformed answer is feedback, never a traceback
        return Feedback(c.label, c.number, False, _malformed(c, values, error))
    return Feedback(c.label, c.number, True, f"correct. {verified}".strip())


def _describe_value(value) -> str:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {tuple(shape)}"
    if isinstance(value, (list, tuple, dict, set)):
        return f"{type(value).__name__} of length {len(value)}"
    return type(value).__name__


def _malformed(c: _Checker, values: dict, error: Exception) -> str:
    """The hint for an answer the checker could not even use (wrong type, shape or axis)."""
    given = ", ".join(f"`{name}` is a {_describe_value(values[name])}" for name in c.answers)
    what = f" The question: {c.question}" if c.question else ""
    return (
        f"this answer could not be checked ({type(error).__name__}: {str(error)[:160]}). "
        f"Here {given}: compare its type and shape with what the exercise asks for.{what}"
    )


class NotPassed(AssertionError):
    """Raised by :func:`grade` when an answer does not pass: an autograder scores the cell 0."""


def grade(exercise: str, *answer, **values) -> None:
    """``check`` for an autograder (the graded edition's test cells, ``book/_ext/grading.py``).

    Prints the same one-line verdict as ``check`` and returns None when the answer passes; raises
    :class:`NotPassed` with the verdict when it does not ("not answered yet" included), so that an
    autograder that scores a cell by whether it raises (nbgrader) gives no points. Warnings raised
    while checking are silenced: nbgrader scores any cell that writes to stderr as 0.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feedback = check(exercise, *answer, **values)
    if not feedback.passed:
        raise NotPassed(str(feedback))
    print(feedback)


# ---------------------------------------------------------------------------------------------
# Small tools for the checkers


def _array(name: str, value, ndim: int | None = None, shape: tuple | None = None) -> np.ndarray:
    try:
        a = np.asarray(value)
    except Exception as error:  # noqa: BLE001 - anything that is not array-like
        raise Wrong(f"`{name}` should be an array, got {type(value).__name__} ({error})") from None
    if a.dtype == object:
        raise Wrong(f"`{name}` should be a numeric array, got {type(value).__name__} of mixed objects")
    if ndim is not None and a.ndim != ndim:
        raise Wrong(f"`{name}` should be {ndim}-D, got shape {a.shape}")
    if shape is not None and a.shape != tuple(shape):
        raise Wrong(f"`{name}` should have shape {tuple(shape)}, got {a.shape}")
    return a


def _indices(name: str, value, n: int) -> np.ndarray:
    a = _array(name, value, ndim=1)
    if a.dtype == bool:
        raise Wrong(f"`{name}` is a boolean mask; give the indices (np.flatnonzero(mask))")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise Wrong(f"`{name}` holds non-integer values: give indices (e.g. from np.argsort), "
                        f"not the values themselves")
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise Wrong(f"`{name}` should hold integer indices, got dtype {a.dtype}")
    if len(a) and (a.min() < 0 or a.max() >= n):
        raise Wrong(f"`{name}` has indices outside 0..{n - 1}")
    return a.astype(np.int64)


def _number(name: str, value, lo: float = -np.inf, hi: float = np.inf) -> float:
    if hasattr(value, "accuracy") and hasattr(value, "balanced_accuracy"):
        raise Wrong(f"`{name}` is a result object; give the number (e.g. its .balanced_accuracy)")
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise Wrong(f"`{name}` should be a number, got {type(value).__name__} {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise Wrong(f"`{name}` should be a number, got {type(value).__name__}") from None
    if not np.isfinite(x):
        raise Wrong(f"`{name}` is {x}: something upstream produced NaN or inf")
    if not lo <= x <= hi:
        if hi == 1 and 1 < x <= 100:
            raise Wrong(f"`{name}` = {x:g}: give a fraction between 0 and 1, not a percentage")
        raise Wrong(f"`{name}` = {x:g} should lie between {lo:g} and {hi:g}")
    return x


def _mapping(name: str, value, keys=None) -> Mapping:
    if not isinstance(value, Mapping):
        raise Wrong(f"`{name}` should be a dict, got {type(value).__name__}")
    if keys is not None:
        missing = [k for k in keys if k not in value]
        if missing:
            raise Wrong(f"`{name}` lacks the key(s) {missing}; it has {list(value)}")
    return value


def _rearranged(name: str, value, original: np.ndarray, unchanged: str) -> np.ndarray:
    """``value`` as an array of the original's shape that differs from it (else Wrong)."""
    a = _array(name, value, shape=original.shape)
    if np.array_equal(a, original):
        raise Wrong(f"`{name}` is {unchanged}")
    return a


def _close(a, b, tol: float = 1e-6) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=tol, atol=tol, equal_nan=True))


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"
