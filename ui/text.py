"""Showing strings that come from a file or a user (column names, file names, parsed headers,
cell values, error messages that name columns) without letting them act as markdown.

Streamlit renders titles, captions, alerts, widget labels and tooltips as GitHub-flavoured
markdown: a column named ``![](http://host/x.png)`` would make the browser fetch the image,
``[Update](https://evil.example)`` would become a live link, and even a bare
``https://evil.example``, ``www.evil.example`` or ``user@host.example`` would be linked.

:func:`md` puts a backslash before every character that opens a markdown construct inline:
``\\ ` * _ [ ] < > # | ~ $ &`` (CommonMark lets a backslash escape any ASCII punctuation).
``!``, ``(`` and ``)`` make an image or a link only next to a bracket, which is escaped, so they
stay as they are and messages read the same in the page source. A leading ``-``, ``+``, ``=`` or
``1.`` would start a list or heading, so it is escaped too, and line breaks become spaces. Bare
web and e-mail addresses are linked after escapes are resolved (the GFM autolink pass works on
the parsed text), so :func:`md` also puts an invisible word joiner (U+2060) inside ``www.``,
``http:``/``https:`` and before ``@``, which stops the autolink without changing what the
reader sees.

Plotly charts are not markdown but render a small HTML subset in titles, axis and tick labels,
legend entries, annotations and hover text (``<a href>``, ``<b>``, ``<br>`` …), and hover
templates substitute ``%{...}``. :func:`plot_label` HTML-escapes a name or value for a chart and
writes ``%`` as an entity, which plotly shows as the character without substituting anything.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~$&])")
_LINE_START = re.compile(r"^(\s*(?:\d+)?)([-+=.)])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_AUTOLINK = re.compile(r"(?i)(?<=w)(?=ww\.)|(?<=http)(?=s?:)|(?=@)")
WORD_JOINER = "\u2060"


def md(text: object) -> str:
    r"""Escape ``text`` so markdown shows it literally, on one line.

    Parameters
    ----------
    text : object
        Anything; it is converted with ``str``.

    Returns
    -------
    str
        The text with a backslash before each markdown special character, a word joiner
        inside anything that would autolink, line breaks turned into spaces and other control
        characters removed.

    Examples
    --------
    >>> print(md("![](pixel.png)[Update](x.html) **bold** `code`"))
    !\[\](pixel.png)\[Update\](x.html) \*\*bold\*\* \`code\`
    >>> md("www.example.org").replace(WORD_JOINER, "<WJ>")
    'w<WJ>ww.example.org'
    >>> print(md("- item"), md("1. first"))
    \- item 1\. first
    >>> print(md("age_group"))
    age\_group
    """
    one_line = _CONTROL.sub("", _LINE_BREAKS.sub(" ", str(text)))
    unlinked = _AUTOLINK.sub(WORD_JOINER, one_line)
    escaped = _SPECIAL.sub(r"\\\1", unlinked)
    return _LINE_START.sub(r"\1\\\2", escaped)


def md_list(items: Iterable[object]) -> str:
    """Escaped items joined with ", " (for messages that list column names)."""
    return ", ".join(md(i) for i in items)


def plot_label(text: object) -> str:
    """Escape ``text`` for a plotly chart: title, axis or tick label, legend entry, hover text.

    Parameters
    ----------
    text : object
        Anything; it is converted with ``str``.

    Returns
    -------
    str
        The text, HTML-escaped on one line, with ``%`` written as ``&#37;`` so a hover template
        does not read ``%{...}`` in it; plotly shows the entities as the characters they stand
        for.

    Examples
    --------
    >>> print(plot_label('<a href="https://evil.example">x</a> %{y}'))
    &lt;a href=&quot;https://evil.example&quot;&gt;x&lt;/a&gt; &#37;{y}
    >>> print(plot_label("age_group"))
    age_group
    """
    one_line = _CONTROL.sub("", _LINE_BREAKS.sub(" ", str(text)))
    return html.escape(one_line).replace("%", "&#37;")


def plot_labels(items: Iterable[object]) -> list[str]:
    """:func:`plot_label` of each item, in order."""
    return [plot_label(i) for i in items]


def file_size(n_bytes: float) -> str:
    """A byte count as people read it: ``"812 bytes"``, ``"13.0 KB"`` (1 KB = 1024 bytes).

    Examples
    --------
    >>> file_size(812), file_size(13_312), file_size(5 * 1024**5)
    ('812 bytes', '13.0 KB', '5,120.0 TB')
    """
    for unit in ("bytes", "KB", "MB", "GB"):
        if n_bytes < 1024:
            return f"{n_bytes:,.0f} {unit}" if unit == "bytes" else f"{n_bytes:,.1f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:,.1f} TB"
