"""Errors raised by skyfence, rooted in one base class.

::

    SkyfenceError
    ├── UsageError          a wrong option or argument (exit code 2)
    │   ├── ConfigError     a bad configuration or policy file
    │   └── ZoneError       an unknown zone name or a bad zone definition
    └── DataError           bad input data (exit code 1)
        ├── InputError      a file, row and field that cannot be read
        ├── FeedError       a live feed that cannot be reached or understood
        └── StoreError      the incident store cannot be opened or written

Every message is one line an operator can act on: it names the file, row and field
where it can.

What a reader does with input it cannot use is one typed choice, :data:`OnError`
(``--on-error abort|skip``), carried out by one :class:`ErrorPolicy`: ``abort`` raises
the first :class:`InputError`; ``skip`` counts it, keeps it for the summary and logs it
(the first at INFO, the rest at DEBUG), and the reader goes on. Never silent either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Final, Literal, get_args


class SkyfenceError(Exception):
    """Base class of every error skyfence raises on purpose."""

    exit_code = 1


class UsageError(SkyfenceError):
    """The user asked for something that cannot be done as asked."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration, policy or scenario file is invalid."""


class ZoneError(UsageError):
    """An unknown zone name or an invalid zone definition."""


class DataError(SkyfenceError):
    """Input data is missing or unreadable."""

    exit_code = 1


class InputError(DataError):
    """A value in an input file cannot be used; names the file, row and field.

    ``row`` is the 1-based data row (header excluded) for tabular files, or the
    line / record number for other formats.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.reason = message
        where = []
        if file is not None:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field '{field}'")
        prefix = ": ".join([", ".join(where)]) + ": " if where else ""
        super().__init__(f"{prefix}{message}")


class FeedError(DataError):
    """A live feed cannot be reached or speaks a format we do not understand."""


# --------------------------------------------------------------------- error policy
#: What a reader does with input it cannot use (``--on-error``).
OnError = Literal["abort", "skip"]
#: the values of :data:`OnError`, in the order the command line lists them
ON_ERROR_MODES: Final[tuple[OnError, ...]] = get_args(OnError)

_log = logging.getLogger(__name__)


def on_error_mode(value: str) -> OnError:
    """``value`` checked as an :data:`OnError`; a :class:`UsageError` when it is not one.

    >>> on_error_mode("skip")
    'skip'
    >>> on_error_mode("raise")
    Traceback (most recent call last):
    ...
    skyfence.errors.UsageError: on_error 'raise': expected one of abort, skip
    """
    for mode in ON_ERROR_MODES:
        if value == mode:
            return mode
    raise UsageError(f"on_error {value!r}: expected one of {', '.join(ON_ERROR_MODES)}")


@dataclass
class ErrorPolicy:
    """How one reader treats input it cannot use, and what it skipped.

    Parameters
    ----------
    mode
        ``abort``: :meth:`reject` raises the error. ``skip``: it counts the error in
        :attr:`skipped`, keeps it in :attr:`errors` (the first ``keep``; all when None)
        and logs it on ``logger``.
    keep
        How many errors to keep for a summary.
    logger
        The reader's logger, so that a log line names the reader.

    Examples
    --------
    >>> policy = ErrorPolicy("skip")
    >>> policy.reject(InputError("unreadable value", file="a.sbs", row=3, field="lat"))
    >>> policy.skipped, str(policy.errors[0])
    (1, "a.sbs, row 3, field 'lat': unreadable value")
    >>> ErrorPolicy("abort").reject(InputError("bad", file="a.sbs", row=4))
    Traceback (most recent call last):
    ...
    skyfence.errors.InputError: a.sbs, row 4: bad
    """

    mode: OnError = "abort"
    keep: int | None = 100
    logger: logging.Logger = field(default=_log, repr=False)
    #: the errors kept, in the order they were met
    errors: list[InputError] = field(default_factory=list)
    #: rows, lines or records skipped so far
    skipped: int = 0
    _logged: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self.mode = on_error_mode(self.mode)

    def reject(self, error: InputError, count: int = 1) -> None:
        """Raise ``error`` (abort), or count ``count`` skipped items, keep and log it.

        The first error a policy skips is logged at INFO, the others at DEBUG: a source
        full of bad input says so once, and its counters say how much.
        """
        if self.mode == "abort":
            raise error
        self.skipped += count
        if self.keep is None or len(self.errors) < self.keep:
            self.errors.append(error)
        if not self._logged:
            self._logged = True
            self.logger.info("%s (skipped; further bad input is counted)", error)
        else:
            self.logger.debug("%s (skipped)", error)

    def take(self) -> tuple[int, list[InputError]]:
        """What was skipped since the last take (count, kept errors), then forget it:
        for a stream that reports batch by batch and runs for days."""
        out = (self.skipped, self.errors)
        self.skipped, self.errors = 0, []
        return out


class StoreError(DataError):
    """The incident store cannot be opened, migrated or written."""
