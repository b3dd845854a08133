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
"""

from __future__ import annotations


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


class StoreError(DataError):
    """The incident store cannot be opened, migrated or written."""
