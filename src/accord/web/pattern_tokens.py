"""A STIX pattern cut into coloured pieces for the object page, by the OASIS grammar's own
lexer (`stix2patterns`, the ANTLR grammar of STIX 2.1 section 9, which
`accord.model.patterns` parses with): object paths, operators, literals and qualifiers each
get a class. The pieces joined give the pattern back exactly, spaces included: what the
lexer cannot read is a plain piece, shown as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# Token names of the grammar -> the class of their piece (CSS `.pt-<class>`).
_CLASSES = {
    "LBRACK": "bracket",
    "RBRACK": "bracket",
    "LPAREN": "paren",
    "RPAREN": "paren",
    "COMMA": "paren",
    "IdentifierWithoutHyphen": "path",
    "IdentifierWithHyphen": "path",
    "COLON": "path",
    "DOT": "path",
    "ASTERISK": "path",
    "StringLiteral": "string",
    "TimestampLiteral": "timestamp",
    "HexLiteral": "binary",
    "BinaryLiteral": "binary",
    "IntPosLiteral": "number",
    "IntNegLiteral": "number",
    "FloatPosLiteral": "number",
    "FloatNegLiteral": "number",
    "BoolLiteral": "literal",
    "TRUE": "literal",
    "FALSE": "literal",
    "QUOTE": "plain",  # an unclosed quote: the rest does not read as a string
    "InvalidCharacter": "plain",
    "AND": "boolean",
    "OR": "boolean",
    "FOLLOWEDBY": "boolean",
    "WITHIN": "qualifier",
    "SECONDS": "qualifier",
    "REPEATS": "qualifier",
    "TIMES": "qualifier",
    "START": "qualifier",
    "STOP": "qualifier",
}
MAX_PATTERN = 100_000  # characters coloured; a longer pattern is shown plain


@dataclass(frozen=True, slots=True)
class Piece:
    text: str
    kind: str  # a class of _CLASSES, "operator", or "plain" (spaces, what the lexer skips)


@lru_cache(maxsize=512)
def pattern_pieces(pattern: str) -> tuple[Piece, ...]:
    if len(pattern) > MAX_PATTERN:
        return (Piece(pattern, "plain"),)
    # Imported here: ANTLR and the generated lexer take a while to import (as in
    # accord.model.patterns), and only the object page of an indicator needs them.
    from antlr4 import InputStream  # type: ignore[import-untyped]
    from stix2patterns.v21.grammars.STIXPatternLexer import STIXPatternLexer

    lexer = STIXPatternLexer(InputStream(pattern))
    lexer.removeErrorListeners()  # it would print to stderr; what it skips stays plain text
    tokens = lexer.getAllTokens()
    names = lexer.symbolicNames
    pieces: list[Piece] = []
    at = 0
    for token in tokens:
        if token.start > at:  # what the lexer skips: spaces
            pieces.append(Piece(pattern[at : token.start], "plain"))
        name = names[token.type] if 0 <= token.type < len(names) else ""
        pieces.append(Piece(pattern[token.start : token.stop + 1], _CLASSES.get(name, "operator")))
        at = token.stop + 1
    if at < len(pattern):
        pieces.append(Piece(pattern[at:], "plain"))
    return tuple(pieces)
