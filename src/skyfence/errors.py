"""Errors raised by skyfence, rooted in one base class.

::

    SkyfenceError
    ├── UsageError          a wrong option or argument (exit code 2)
    │   ├── ConfigError     a bad configuration or policy file
    │   └── ZoneError       an unknown zone name or a bad zone definition
    └── DataError           bad input data (exit code 1)
        ├── InputError      a file, row and field that cannot be read
        └── FeedError       a live feed that cannot be reached or understood

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


#: longest rendering of a bad value in a message; longer ones end with an ellipsis
MAX_SHOWN_CHARS = 60


def show_value(value: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """A bad value as a message shows it: plain Python, one line, at most ``limit`` chars.

    numpy scalars print as the Python number they hold (``95.0``, not
    ``np.float64(95.0)``) and a value too long to read is cut with an ellipsis, so an
    error stays one readable line whatever the input holds.

    Examples
    --------
    >>> import numpy as np
    >>> show_value(np.float64(95.0))
    '95.0'
    >>> show_value("x" * 100)[-3:]
    'xx…'
    >>> len(show_value("x" * 10_000_000))
    60
    """
    import contextlib

    item = getattr(value, "item", None)
    if item is not None and callable(item) and getattr(value, "ndim", None) == 0:
        with contextlib.suppress(TypeError, ValueError):  # else shown as it is
            value = item()
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value[: limit * 4])
    elif isinstance(value, str):
        value = value[: limit * 4]
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(message: str, limit: int = 500) -> str:
    """``message`` as one line of at most ``limit`` characters (the last defence of the CLI)."""
    flat = " ".join(message.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
