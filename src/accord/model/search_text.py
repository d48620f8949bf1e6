"""Full-text search: what is indexed of an object, and how a person's search is read.

The reference of `accord.store.search_index` (the fast form: SQLite FTS5, PostgreSQL
full-text search), in the shape of `accord.model.visibility`: `matches` says in pure Python
what the store's query finds, and tests/store/test_search.py proves the two agree on both
databases.

What is indexed (`searchable_text`): an object's name, description, aliases, labels,
external ids (ATT&CK's ``T1059.001``) and the prose of notes and opinions, up to
`MAX_TEXT_CHARS` characters. Relationships and sightings are not: they hold citations more
than names, they are most of a large bundle's text (three fifths of ATT&CK's) and indexing
them would cost a fifth of an ingest; they are found through the objects they join.

Words are runs of letters and digits (`tokens`): every other character separates them, on
both databases alike (SQLite's ``unicode61`` tokenizer; on PostgreSQL the text's punctuation
becomes spaces before the ``simple`` configuration reads it, so that ``c2.example.net`` is
three words there too, not one host name). Case does not matter; accents do (PostgreSQL's
``simple`` configuration keeps them, and SQLite is told to keep them too). Nothing is stemmed:
``APT28``, ``Sofacy`` and a hash are found as written.

A search (`parse_search`) is a list of terms, all of which must be found: a word
(``mimikatz``), a word with punctuation in it, which is its words in a row (``T1059.001``,
``c2.example.net``), a quoted phrase (``"credential dumping"``), and any of these with a
trailing ``*`` for words that begin so (``cobalt*``). Nothing else is syntax: quotes that do
not pair, operators of either database (``NEAR(``, ``AND``, ``:``, ``&|!``) and other
punctuation are only word separators, so no input can reach either database as an expression
(`BadSearch` for a search with no word, or too long).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The object's properties that are read, and in which order.
TEXT_PROPERTIES = ("name", "description", "abstract", "content", "explanation")
LIST_PROPERTIES = ("aliases", "x_mitre_aliases", "labels")
UNINDEXED_TYPES = frozenset({"relationship", "sighting"})
# Longer text is indexed up to here: PostgreSQL refuses a tsvector over 1 MB, and the words
# of 100,000 characters stay below that whatever they are.
MAX_TEXT_CHARS = 100_000
# Labels longer than this are not kept for the label filter (a B-tree key has a size limit).
MAX_LABEL_CHARS = 200

MAX_SEARCH_CHARS = 1000
MAX_TERMS = 32
MAX_WORD_CHARS = 200  # PostgreSQL ignores lexemes over 2047 bytes

_WORD = re.compile(r"[^\W_]+")
# A quoted phrase (the closing quote may be missing at the end) or a run of other characters,
# either with a trailing "*".
_TERM = re.compile(r'"([^"]*)(?:"|$)(\*?)|([^\s"]+)')


class BadSearch(ValueError):
    """A search that cannot be run; the message says why, for the person who typed it."""


def searchable_text(obj: Mapping[str, Any]) -> str:
    """The text of ``obj`` that full-text search reads ("" for none)."""
    if obj.get("type") in UNINDEXED_TYPES:
        return ""
    parts: list[str] = []
    for name in TEXT_PROPERTIES:
        value = obj.get(name)
        if isinstance(value, str):
            parts.append(value)
    for name in LIST_PROPERTIES:
        values = obj.get(name)
        if isinstance(values, list):
            parts.extend(value for value in values if isinstance(value, str))
    references = obj.get("external_references")
    if isinstance(references, list):
        for reference in references:
            if isinstance(reference, dict):
                external_id = reference.get("external_id")
                if isinstance(external_id, str):
                    parts.append(external_id)
    text = "\n".join(parts)[:MAX_TEXT_CHARS]
    if "\x00" in text:  # valid in JSON, refused in PostgreSQL's text
        text = text.replace("\x00", " ")
    return text


def labels_of(obj: Mapping[str, Any]) -> tuple[str, ...]:
    """The labels of ``obj`` that the label filter finds, each once, as written."""
    values = obj.get("labels")
    if not isinstance(values, list):
        return ()
    found = dict.fromkeys(
        value for value in values if isinstance(value, str) and 0 < len(value) <= MAX_LABEL_CHARS
    )
    return tuple(found)


def tokens(text: str) -> list[str]:
    """The words of ``text`` as search compares them (lower case)."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True, slots=True)
class Term:
    """Words that must be found in a row; with ``prefix``, the last one as a beginning."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class TextSearch:
    """A parsed search: every term must be found (`parse_search`)."""

    terms: tuple[Term, ...]

    def canonical(self) -> str:
        """One text for the same search however it was typed (for cursors and links)."""
        return " ".join(
            ('"' + " ".join(term.words) + '"' if len(term.words) > 1 else term.words[0])
            + ("*" if term.prefix else "")
            for term in self.terms
        )


def parse_search(text: str) -> TextSearch:
    """Read a person's search (the syntax is in the module's docstring)."""
    if len(text) > MAX_SEARCH_CHARS:
        raise BadSearch(f"the search is longer than {MAX_SEARCH_CHARS} characters")
    terms: list[Term] = []
    for match in _TERM.finditer(text):
        phrase, phrase_star, bare = match.groups()
        if bare is not None:
            prefix = bare.endswith("*")
            words = tuple(tokens(bare))
        else:
            prefix = bool(phrase_star)
            words = tuple(tokens(phrase))
        if not words:
            continue
        if any(len(word) > MAX_WORD_CHARS for word in words):
            raise BadSearch(f"a word longer than {MAX_WORD_CHARS} characters cannot be searched")
        term = Term(words, prefix)
        if term not in terms:
            terms.append(term)
    if not terms:
        raise BadSearch("the search holds no word to look for (letters or digits)")
    if len(terms) > MAX_TERMS:
        raise BadSearch(f"a search takes at most {MAX_TERMS} terms")
    return TextSearch(tuple(terms))


def matches(search: TextSearch, text: str) -> bool:
    """Whether ``text`` (an object's `searchable_text`) holds every term of ``search``: what
    the store's index answers, in pure Python."""
    words = tokens(text)
    return all(_holds(words, term) for term in search.terms)


def _holds(words: Sequence[str], term: Term) -> bool:
    size = len(term.words)
    *whole, last = term.words
    for start in range(len(words) - size + 1):
        if list(words[start : start + size - 1]) != whole:
            continue
        found = words[start + size - 1]
        if found == last or (term.prefix and found.startswith(last)):
            return True
    return False
