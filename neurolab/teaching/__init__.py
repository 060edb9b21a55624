"""Course machinery: the mistakes the course demonstrates, and the exercises' self-checks.

This subpackage sits on top of the library and knows the chapters; nothing in the library imports
it. ``pitfalls``: the bugs of chapter 6, each a small function. ``exercises``: ``check(...)`` and
one module of checkers per chapter.
"""
