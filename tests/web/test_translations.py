"""Every string of the portal is translated: the Spanish catalogue holds a translation of each
message the templates and page modules use today (extracted here with Babel, as `make
messages` does), with the same placeholders. A new string without its translation fails."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "src" / "accord" / "web"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "ngettext": (1, 2), "gettext": None}


def _used() -> set[str]:
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), METHODS, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_spanish_is_complete() -> None:
    with (WEB / "locale" / "es" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="es")
    missing = []
    mismatched = []
    for message_id in sorted(_used()):
        entry = catalog.get(message_id)
        strings = entry.string if entry is not None else None
        translated = [s for s in strings if s] if isinstance(strings, tuple) else [strings]
        if entry is None or not all(translated) or not translated:
            missing.append(message_id)
            continue
        wanted = set(PLACEHOLDER.findall(message_id)) - {"num"}
        for text in translated:
            if set(PLACEHOLDER.findall(str(text))) - {"num"} != wanted:
                mismatched.append(message_id)
    assert not missing, (
        f"{len(missing)} strings have no Spanish translation (make messages): {missing[:10]}"
    )
    assert not mismatched, f"placeholders differ in: {mismatched}"
