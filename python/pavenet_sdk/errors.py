"""The one base class of "bad input" errors (torch-free, imported by every layer).

A model package, a checkpoint, a teacher file, a labelling source or a command-line value
that cannot be used raises a subclass of :class:`InputError` whose message names the file or
argument. The CLI prints these as one ``error:`` line with exit code 2; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["InputError", "UsageError"]


class InputError(ValueError):
    """Bad input from the user; the message says which file or argument and why."""


class UsageError(InputError):
    """A bad command-line argument or option value."""
