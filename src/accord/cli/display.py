"""Printing data as text: the one seam every command's human output goes through.

Names, values, descriptions, file paths, error messages: anything that comes from data (stored
objects, files, feeds, the audit log, other users) may hold Rich markup (``[/x]`` makes Rich
raise; ``[link=...]`` would write a terminal hyperlink) or terminal control characters (ESC
starts colour, cursor and OSC sequences that rewrite the screen or the window title; BEL,
backspace and carriage return overwrite what was printed; bidi overrides reorder it).

`shown` makes such a value printable: markup escaped, and every control character (C0 but
for none, DEL, C1) and bidi or line-separator formatting character written visibly as its
Python escape (``\\x1b``, ``\\u202e``), never sent to the terminal. Commands put data through
it wherever they build markup or table cells. `SafeConsole` is the net below them: whatever
string it renders gets the same control-character treatment (our own markup has none), and a
string whose markup does not parse is printed as plain text rather than raising.
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from rich.console import Console
from rich.errors import MarkupError
from rich.markup import escape
from rich.text import Text

# C0 controls, DEL and C1 controls; bidi embeddings, overrides and isolates; the Unicode line
# and paragraph separators; the byte order mark / zero width no-break space.
_INVISIBLE: Final = (
    *range(0x00, 0x20),
    *range(0x7F, 0xA0),
    *(0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)),
    *(0x2028, 0x2029, 0xFEFF),
)


def _escape_code(code: int) -> str:
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


_VISIBLE: Final[dict[int, str]] = {code: _escape_code(code) for code in _INVISIBLE}
# Our own strings keep their line breaks and tabs; data never does (see `shown`).
_VISIBLE_KEEPING_LINES: Final[dict[int, str]] = {
    code: text for code, text in _VISIBLE.items() if code not in (0x09, 0x0A)
}


def visible(value: object) -> str:
    """``value`` as text with every control and formatting character written as its escape."""
    return str(value).translate(_VISIBLE)


def shown(value: object) -> str:
    """``value`` ready to be put into Rich markup: controls visible, markup escaped."""
    if value is None:
        return ""
    return escape(visible(value))


def plain(value: object, style: str | None = None) -> Text:
    """``value`` as a Rich Text (never parsed as markup), controls visible."""
    return Text(visible(value), style=style or "")


def print_json_human(console: Console, value: Any) -> None:
    """JSON for people, highlighted. JSON escapes C0 controls itself; a value holding another
    invisible character (C1, bidi, separators) is written with every non-ASCII character
    escaped, so that none of them reaches the terminal."""
    text = orjson.dumps(value).decode()
    risky = any(ord(char) >= 0x7F and ord(char) in _VISIBLE for char in text)
    console.print_json(data=value, ensure_ascii=risky)


class SafeConsole(Console):
    """A Console that never lets a control character through a string it renders, and prints
    a string whose markup is broken as it is, instead of raising."""

    def render_str(self, text: str, **options: Any) -> Text:
        text = text.translate(_VISIBLE_KEEPING_LINES)
        try:
            return super().render_str(text, **options)
        except MarkupError:
            options["markup"] = False
            return super().render_str(text, **options)
