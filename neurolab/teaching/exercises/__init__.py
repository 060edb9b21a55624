"""Self-checks for the course's exercises: right or wrong, with a specific hint, no solution shown.

    from neurolab.teaching.exercises import check
    check("ex-01-reliable", best20, rel=rel)    # or by number: check("1.1", best20, rel=rel)

``check(exercise, *answer, **values)`` takes the learner's answer and the chapter's objects the
exercise works from; it returns a ``Feedback`` that displays as one ✓ / ✗ line with a hint.
``describe(label)`` and ``help_for(label)`` say what an exercise's check takes. The checkers live
in one module per chapter (``ch01`` ... ``ch11``); each one's signature names the answer
(positional parameters) and the chapter objects it needs (keyword-only parameters).
"""

from neurolab.teaching.exercises import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09, ch10, ch11  # noqa: F401
from neurolab.teaching.exercises._core import Feedback, NotPassed, Wrong, check, describe, exercises, grade, help_for

__all__ = ["Feedback", "NotPassed", "Wrong", "check", "describe", "exercises", "grade", "help_for"]
