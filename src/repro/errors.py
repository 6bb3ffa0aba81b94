"""The project's exception types, shared by every layer.

The command line tells a user's mistake from a bug by type alone: a
:class:`BadInput` (a wrong configuration key or value, a missing, damaged or
misplaced file, a path that cannot be used) is printed as one line
``error: ...`` with exit code 2; any other exception is a bug and keeps its
traceback (exit code 1).
"""

from __future__ import annotations


class BadInput(ValueError):
    """Bad input from the user: the message names what is wrong (printed without traceback)."""


class ConfigError(BadInput):
    """A configuration name, field or value is wrong; the message names it."""


class Busy(RuntimeError):
    """Another reproduce holds the results folder (exit code 2: wait, or remove a stale lock)."""


class StageFailed(RuntimeError):
    """A unit of work (a training, an evaluation, the LaTeX build) failed in its own process;
    the message names it and the end of its output (exit code 1, no traceback of ours)."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message names the run and the step (exit code 3)."""
