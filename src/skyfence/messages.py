"""How error messages show what was wrong: one line, bad values cut short.

Every :class:`~skyfence.errors.SkyfenceError` message is one line an operator reads;
a value taken from the input may be anything (a 10 MB field, a numpy scalar, bytes),
so messages show it through :func:`show_value`, and the command line prints every
message through :func:`one_line` as the last defence.
"""

from __future__ import annotations

__all__ = ["MAX_SHOWN_CHARS", "one_line", "show_value"]

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
