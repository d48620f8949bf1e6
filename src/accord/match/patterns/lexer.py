"""Tokens of a STIX pattern, as the grammar's lexer (STIXPattern.g4) reads them.

ANTLR's lexer takes the longest token that matches and, between equally long ones, the rule
written first; the order of the checks below gives the same answer. Where a literal does not
fit its rule (`t'2010-13-01T00:00:00Z'`, `h'abc'`), the lexer falls back, as ANTLR's does, to
an identifier followed by a string, which the parser then rejects at the identifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from accord.match.patterns.syntax import KEYWORDS

# Token kinds. Literals keep the grammar's names, so that messages read like the grammar.
INT_POS: Final = "IntPosLiteral"
INT_NEG: Final = "IntNegLiteral"
FLOAT_POS: Final = "FloatPosLiteral"
FLOAT_NEG: Final = "FloatNegLiteral"
STRING: Final = "StringLiteral"
BOOL: Final = "BoolLiteral"
BINARY: Final = "BinaryLiteral"
HEX: Final = "HexLiteral"
TIMESTAMP: Final = "TimestampLiteral"
IDENT: Final = "identifier"
IDENT_HYPHEN: Final = "identifier with hyphen"
KEYWORD: Final = "keyword"
PUNCT: Final = "punctuation"
INVALID: Final = "invalid character"
EOF: Final = "end of pattern"

_WS: Final = (
    "[ \t\r\n\u000b\u000c\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000]+"
)
_SKIP: Final = re.compile(rf"(?:{_WS}|/\*.*?\*/|//[^\r\n]*)+", re.DOTALL)
_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_STRING: Final = re.compile(r"'(?:[^'\\]|\\['\\])*'")
_FLOAT: Final = re.compile(r"[+-]?[0-9]*\.[0-9]+")
_INT: Final = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")
_HEX: Final = re.compile(r"h'(?:[0-9A-Fa-f]{2})*'")
_B64: Final = "[A-Za-z0-9+/]"
_BINARY: Final = re.compile(rf"b'(?:{_B64}{{4}})*(?:{_B64}{{4}}|{_B64}{{3}}=|{_B64}{{2}}==)'")
_TIMESTAMP: Final = re.compile(
    r"t'[0-9]{4}-(?:0[1-9]|1[012])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z'"
)
_PUNCTUATION: Final = ("==", "!=", "<>", "<=", ">=", "=", "<", ">", ":", ".", ",", "(", ")")
_PUNCTUATION_ONE: Final = frozenset("[]*/^-+'")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    offset: int
    """0-based offset of the first character in the pattern."""


class PatternLexError(ValueError):
    pass


def tokens(pattern: str) -> list[Token]:
    """The pattern's tokens, comments and white space skipped, ending with an EOF token."""
    out: list[Token] = []
    position = 0
    length = len(pattern)
    append = out.append
    while True:
        skipped = _SKIP.match(pattern, position)
        if skipped is not None:
            position = skipped.end()
        if position >= length:
            append(Token(EOF, "", length))
            return out
        char = pattern[position]
        if char in "thb" and position + 1 < length and pattern[position + 1] == "'":
            literal = {"t": _TIMESTAMP, "h": _HEX, "b": _BINARY}[char].match(pattern, position)
            if literal is not None:
                kind = {"t": TIMESTAMP, "h": HEX, "b": BINARY}[char]
                append(Token(kind, literal.group(), position))
                position = literal.end()
                continue
        if char.isascii() and (char.isalpha() or char == "_"):
            word = _IDENTIFIER.match(pattern, position)
            assert word is not None
            text = word.group()
            if "-" in text:
                kind = IDENT_HYPHEN
            elif text in ("true", "false"):
                kind = BOOL
            elif text in KEYWORDS:
                kind = KEYWORD
            else:
                kind = IDENT
            append(Token(kind, text, position))
            position = word.end()
            continue
        if char == "'":
            string = _STRING.match(pattern, position)
            if string is not None:
                append(Token(STRING, string.group(), position))
                position = string.end()
                continue
            append(Token(PUNCT, "'", position))
            position += 1
            continue
        if char.isdigit() or char in "+-.":
            number = _FLOAT.match(pattern, position)
            if number is not None:
                text = number.group()
                append(Token(FLOAT_NEG if text[0] == "-" else FLOAT_POS, text, position))
                position = number.end()
                continue
            number = _INT.match(pattern, position)
            if number is not None:
                text = number.group()
                append(Token(INT_NEG if text[0] == "-" else INT_POS, text, position))
                position = number.end()
                continue
        for punctuation in _PUNCTUATION:
            if pattern.startswith(punctuation, position):
                append(Token(PUNCT, punctuation, position))
                position += len(punctuation)
                break
        else:
            append(Token(PUNCT if char in _PUNCTUATION_ONE else INVALID, char, position))
            position += 1
