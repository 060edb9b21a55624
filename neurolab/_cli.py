"""What every command line of neurolab does with an error: one line, exit status 2, no traceback.

``run_cli(function, args, debug)`` calls ``function(args)`` and returns its exit status. An error
becomes one line on standard error, ``error: <what is wrong>`` (the message's lines joined), and
status 2; ``--debug`` (``debug=True``) lets the traceback through instead. Ctrl-C gives status 130.
"""

from __future__ import annotations

import argparse
import sys


def int_at_least(low: int, what: str):
    """An argparse ``type``: a whole number >= ``low``, else a message naming ``what`` is expected."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{what}, got {value}")
        return value

    return parse


def one_line(error: BaseException) -> str:
    """The error's message on one line (its own lines joined), prefixed by its type when unclear."""
    text = " ".join(part.strip() for part in str(error).splitlines() if part.strip())
    if isinstance(error, (KeyError, ZeroDivisionError, IndexError, AttributeError)) or not text:
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text


def run_cli(function, args, debug: bool = False) -> int:
    if debug:
        return function(args)
    try:
        return function(args)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - every error ends as one line; --debug shows more
        print(f"error: {one_line(error)} (--debug shows the traceback)", file=sys.stderr)
        return 2
