"""Text for a terminal: nothing from a file may drive it.

Messages of the command line name columns, file names and header fields (an age stanza type,
for example). Written as they are, an ``ESC [`` sequence in such a field would recolour or clear
the terminal, set its title, or hide text behind a carriage return. :func:`printable` removes
every control character except newline and tab, and the bidirectional overrides that reorder
what is shown; :class:`PrintableStream` applies it to everything written to a stream.
"""

from __future__ import annotations

import io
import re
from typing import TextIO

__all__ = ["PrintableStream", "printable"]

# C0 controls except \t and \n, DEL, C1 controls (\x9b is a one-byte CSI), and the Unicode
# bidirectional embeddings, overrides and isolates.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    r"""Remove the characters a terminal would interpret rather than show.

    Parameters
    ----------
    text : str
        Text about to be printed.

    Returns
    -------
    str
        ``text`` without control characters other than newline and tab, and without
        bidirectional override characters. Everything else is kept as it was.

    Examples
    --------
    >>> printable("type \x1b[31mred\x1b[0m\n")
    'type [31mred[0m\n'
    """
    return _UNPRINTABLE.sub("", text)


class PrintableStream(io.TextIOBase):
    """A text stream that passes everything written through :func:`printable`.

    Parameters
    ----------
    stream : TextIO
        Where the cleaned text goes (standard output or error, or a buffer in tests).
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        """Write ``text`` without its control characters; returns ``len(text)``."""
        self._stream.write(printable(text))
        return len(text)

    def flush(self) -> None:
        """Flush the underlying stream."""
        self._stream.flush()

    def isatty(self) -> bool:
        """Whether the underlying stream is a terminal."""
        return bool(getattr(self._stream, "isatty", lambda: False)())

    def writable(self) -> bool:
        """Always true."""
        return True
