"""Small helpers for the words of messages."""

from __future__ import annotations

# Words that start with a vowel letter but the sound of "you": "a URL", "a unique id".
_YOU: tuple[str, ...] = ("uni", "uri", "url", "usa", "use", "usu", "uu")


def with_article(word: str) -> str:
    """``word`` with its indefinite article: "an analyst", "an indicator", "a sensor"."""
    lowered = word.lower()
    vowel = lowered[:1] in ("a", "e", "i", "o", "u") and not lowered.startswith(_YOU)
    return f"{'an' if vowel else 'a'} {word}"
