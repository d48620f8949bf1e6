"""A recursive-descent parser for STIX patterning (STIX 2.1 section 9, STIXPattern.g4).

Why not the OASIS ANTLR parser (`stix2patterns`)? It costs about a millisecond per pattern and
recurses in Python on nesting; compiling 100,000 indicators must take seconds, and a hostile
pattern of 10,000 parentheses must be a clear error, not a RecursionError. This parser accepts
the same language: tests run it beside `stix2patterns` on every pattern in ../shared/data and
on generated ones, and compare accept/reject.

STIX 2.0 differs in one rule: `EXISTS` takes no `NOT`.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import Final, NoReturn

from accord.match.patterns import lexer
from accord.match.patterns.errors import PatternSyntaxError
from accord.match.patterns.lexer import Token
from accord.match.patterns.syntax import (
    Bracket,
    Comparison,
    ComparisonExpression,
    ComparisonJoin,
    IndexStep,
    KeyStep,
    LiteralKind,
    LiteralValue,
    ObjectPath,
    ObservationExpression,
    ObservationJoin,
    PathStep,
    Qualified,
    Repeats,
    StartStop,
    Within,
)
from accord.match.patterns.timestamps import parse_timestamp

MAX_PATTERN_LENGTH: Final = 100_000
"""Longer patterns are refused before they are read. The longest real indicator patterns
in ../shared/data are a few kilobytes (long OR lists of hashes)."""
MAX_DEPTH: Final = 100
"""Nesting of parentheses and brackets beyond this is refused (the grammar has no limit;
no real pattern comes near)."""
MAX_COMPARISONS: Final = 10_000
"""Property tests in one pattern (the most in ../shared/data: 29, a list of hashes; the
length limit allows about 1,700 ORed MD5 hashes)."""
MAX_BRACKETS: Final = 100
"""Observation expressions (`[...]`) in one pattern (the most in ../shared/data: 1)."""
MAX_INSTANCES: Final = 10_000
"""Observations one match may bind (REPEATS multiplies): `[a] REPEATS 100000 TIMES` is
refused rather than evaluated."""

_ORDER_OPERATORS: Final = frozenset({"<", ">", "<=", ">="})
_EQUALITY: Final = {"=": "=", "==": "=", "!=": "!=", "<>": "!="}
_ORDERABLE: Final[dict[str, LiteralKind]] = {
    lexer.INT_POS: "int",
    lexer.INT_NEG: "int",
    lexer.FLOAT_POS: "float",
    lexer.FLOAT_NEG: "float",
    lexer.STRING: "string",
    lexer.BINARY: "binary",
    lexer.HEX: "hex",
    lexer.TIMESTAMP: "timestamp",
}


def string_value(text: str) -> str:
    """The value of a StringLiteral token: quotes removed, `\\'` and `\\\\` unescaped."""
    inner = text[1:-1]
    if "\\" not in inner:
        return inner
    out: list[str] = []
    position = 0
    while position < len(inner):
        char = inner[position]
        if char == "\\":
            position += 1
            char = inner[position]
        out.append(char)
        position += 1
    return "".join(out)


class _Parser:
    def __init__(self, pattern: str, stix_version: str) -> None:
        self.pattern = pattern
        self.tokens = lexer.tokens(pattern)
        self.position = 0
        self.depth = 0
        self.comparisons = 0
        self.brackets = 0
        self.v20 = stix_version == "2.0"

    # --- tokens -------------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.tokens[self.position]
        if token.kind != lexer.EOF:
            self.position += 1
        return token

    def at(self, text: str) -> bool:
        token = self.tokens[self.position]
        return token.text == text and token.kind in (lexer.PUNCT, lexer.KEYWORD)

    def where(self, token: Token) -> tuple[int, int]:
        line = self.pattern.count("\n", 0, token.offset) + 1
        start = self.pattern.rfind("\n", 0, token.offset) + 1
        return line, token.offset - start + 1

    def where_of(self, token: Token) -> tuple[int, int]:
        """(column, line) of a token, in the order Comparison takes them."""
        line, column = self.where(token)
        return column, line

    def column(self, token: Token) -> int:
        return self.where(token)[1]

    def meaningless(self, message: str, token: Token) -> NoReturn:
        line, column = self.where(token)
        raise PatternSyntaxError(message, line=line, column=column, grammatical=False)

    def fail(self, expected: str, token: Token | None = None) -> NoReturn:
        token = token or self.token
        found = "the end of the pattern" if token.kind == lexer.EOF else repr(token.text[:40])
        line, column = self.where(token)
        raise PatternSyntaxError(f"expected {expected}, found {found}", line=line, column=column)

    def expect(self, text: str, expected: str | None = None) -> Token:
        if not self.at(text):
            self.fail(expected or repr(text))
        return self.advance()

    def nest(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            line, column = self.where(token)
            raise PatternSyntaxError(
                f"nested more than {MAX_DEPTH} levels deep", line=line, column=column
            )

    # --- observation expressions ----------------------------------------------------------

    def pattern_expression(self) -> ObservationExpression:
        if self.token.kind == lexer.EOF:
            self.fail("'[' or '(' to begin an observation expression")
        expression = self.followed_by()
        if self.token.kind != lexer.EOF:
            self.fail("AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern")
        return expression

    def followed_by(self) -> ObservationExpression:
        left = self.observation_or()
        while self.at("FOLLOWEDBY"):
            self.advance()
            left = ObservationJoin("FOLLOWEDBY", left, self.observation_or())
        return left

    def observation_or(self) -> ObservationExpression:
        left = self.observation_and()
        while self.at("OR"):
            self.advance()
            left = ObservationJoin("OR", left, self.observation_and())
        return left

    def observation_and(self) -> ObservationExpression:
        left = self.observation()
        while self.at("AND"):
            self.advance()
            left = ObservationJoin("AND", left, self.observation())
        return left

    def observation(self) -> ObservationExpression:
        token = self.token
        expression: ObservationExpression
        if self.at("["):
            self.nest(token)
            self.brackets += 1
            if self.brackets > MAX_BRACKETS:
                self.meaningless(f"more than {MAX_BRACKETS} observation expressions", token)
            self.advance()
            expression = Bracket(self.comparison_or(), self.column(token))
            self.expect("]", "AND, OR or ']'")
            self.depth -= 1
        elif self.at("("):
            self.nest(token)
            self.advance()
            expression = self.followed_by()
            self.expect(")", "AND, OR, FOLLOWEDBY, a qualifier or ')'")
            self.depth -= 1
        else:
            self.fail("'[' or '(' to begin an observation expression")
        while True:
            qualifier = self.token
            if self.at("WITHIN"):
                self.advance()
                amount = self.advance()
                if amount.kind not in (lexer.INT_POS, lexer.FLOAT_POS):
                    self.fail("a positive number of seconds after WITHIN", amount)
                self.expect("SECONDS")
                seconds = float(amount.text)
                if seconds <= 0:
                    self.meaningless("WITHIN needs a number of seconds above 0", amount)
                expression = Qualified(expression, Within(seconds, self.column(qualifier)))
            elif self.at("REPEATS"):
                self.advance()
                count = self.advance()
                if count.kind != lexer.INT_POS:
                    self.fail("a whole number after REPEATS", count)
                self.expect("TIMES")
                times = int(count.text)
                if times < 1:
                    self.meaningless("REPEATS needs a count of at least 1", count)
                if times > MAX_INSTANCES:
                    self.meaningless(f"REPEATS more than {MAX_INSTANCES:,} times", count)
                expression = Qualified(expression, Repeats(times, self.column(qualifier)))
            elif self.at("START"):
                self.advance()
                start = self.timestamp_token("a timestamp t'...' after START")
                self.expect("STOP")
                stop = self.timestamp_token("a timestamp t'...' after STOP")
                expression = Qualified(expression, StartStop(start, stop, self.column(qualifier)))
            else:
                return expression

    def timestamp_token(self, expected: str) -> datetime.datetime:
        token = self.advance()
        if token.kind != lexer.TIMESTAMP:
            self.fail(expected, token)
        return self.timestamp(token)

    def timestamp(self, token: Token) -> datetime.datetime:
        try:
            return parse_timestamp(token.text[2:-1])
        except ValueError:
            self.meaningless(f"{token.text} is not a real date and time", token)

    # --- comparison expressions ------------------------------------------------------------

    def comparison_or(self) -> ComparisonExpression:
        left = self.comparison_and()
        while self.at("OR"):
            self.advance()
            left = ComparisonJoin("OR", left, self.comparison_and())
        return left

    def comparison_and(self) -> ComparisonExpression:
        left = self.property_test()
        while self.at("AND"):
            self.advance()
            left = ComparisonJoin("AND", left, self.property_test())
        return left

    def property_test(self) -> ComparisonExpression:
        token = self.token
        if self.at("("):
            self.nest(token)
            self.advance()
            inner = self.comparison_or()
            self.expect(")", "AND, OR or ')'")
            self.depth -= 1
            return inner
        if self.at("EXISTS") or (not self.v20 and self.at("NOT")):
            negated = False
            if self.at("NOT"):
                self.advance()
                negated = True
            self.expect("EXISTS")
            path = self.object_path()
            return Comparison(path, "EXISTS", negated, None, None, *self.where_of(token))
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            self.meaningless(f"more than {MAX_COMPARISONS:,} comparisons", token)
        path = self.object_path()
        negated = False
        if self.at("NOT"):
            self.advance()
            negated = True
        operator_token = self.advance()
        operator = operator_token.text
        if operator_token.kind == lexer.PUNCT and operator in _EQUALITY:
            kind, value = self.literal(allow_bool=True)
            return Comparison(
                path, _EQUALITY[operator], negated, value, kind, *self.where_of(token)
            )
        if operator_token.kind == lexer.PUNCT and operator in _ORDER_OPERATORS:
            kind, value = self.literal(allow_bool=False)
            return Comparison(path, operator, negated, value, kind, *self.where_of(token))
        if operator_token.kind == lexer.KEYWORD and operator == "IN":
            set_kind, values = self.set_literal()
            return Comparison(path, "IN", negated, values, set_kind, *self.where_of(token))
        if operator_token.kind == lexer.KEYWORD and operator in (
            "LIKE",
            "MATCHES",
            "ISSUBSET",
            "ISSUPERSET",
        ):
            literal = self.advance()
            if literal.kind != lexer.STRING:
                self.fail(f"a string '...' after {operator}", literal)
            value = string_value(literal.text)
            return Comparison(path, operator, negated, value, "string", *self.where_of(token))
        self.fail(
            "an operator (=, !=, <, >, <=, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)",
            operator_token,
        )

    def object_path(self) -> ObjectPath:
        start = self.token
        type_token = self.advance()
        if type_token.kind not in (lexer.IDENT, lexer.IDENT_HYPHEN):
            self.fail("an object path such as file:name", type_token)
        self.expect(":", "':' after the object type")
        first = self.advance()
        steps: list[PathStep] = []
        if first.kind == lexer.IDENT:
            steps.append(KeyStep(first.text))
        elif first.kind == lexer.STRING:
            steps.append(KeyStep(string_value(first.text)))
        else:
            self.fail("a property name after ':' (quote names with '-' or '.')", first)
        while True:
            if self.at("."):
                self.advance()
                key = self.advance()
                if key.kind == lexer.IDENT:
                    steps.append(KeyStep(key.text))
                elif key.kind == lexer.STRING:
                    steps.append(KeyStep(string_value(key.text)))
                else:
                    self.fail("a property name after '.' (quote names with '-' or '.')", key)
            elif self.at("["):
                self.advance()
                index = self.advance()
                if index.kind in (lexer.INT_POS, lexer.INT_NEG):
                    steps.append(IndexStep(int(index.text)))
                elif index.kind == lexer.PUNCT and index.text == "*":
                    steps.append(IndexStep(None))
                else:
                    self.fail("a list index or '*'", index)
                self.expect("]", "']' after the list index")
            else:
                return ObjectPath(type_token.text, tuple(steps), self.column(start))

    # --- literals --------------------------------------------------------------------------

    def literal(self, *, allow_bool: bool) -> tuple[LiteralKind, LiteralValue]:
        token = self.advance()
        if token.kind == lexer.BOOL and allow_bool:
            return "bool", token.text == "true"
        orderable = _ORDERABLE.get(token.kind)
        if orderable is None:
            self.fail("a literal value (a string, number, boolean, b'', h'' or t'')", token)
        return orderable, self.literal_value(orderable, token)

    def literal_value(self, kind: LiteralKind, token: Token) -> LiteralValue:
        text = token.text
        if kind == "string":
            return string_value(text)
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "binary":
            return base64.standard_b64decode(text[2:-1])
        if kind == "hex":
            return binascii.a2b_hex(text[2:-1])
        return self.timestamp(token)

    def set_literal(self) -> tuple[LiteralKind | None, tuple[LiteralValue, ...]]:
        opening = self.expect("(", "'(' to begin the set after IN")
        values: list[LiteralValue] = []
        kinds: list[LiteralKind] = []
        if self.at(")"):
            self.advance()
            return None, ()
        while True:
            kind, value = self.literal(allow_bool=True)
            kinds.append(kind)
            values.append(value)
            if self.at(")"):
                self.advance()
                break
            self.expect(",", "',' or ')' in the set")
        # As the OASIS matcher: members of one Python type, or numbers (1 and 1.0 are equal).
        types = {type(value) for value in values}
        if len(types) > 1 and not types <= {int, float}:
            self.meaningless("the members of a set must all be of one type", opening)
        return kinds[0], tuple(values)


def parse(pattern: str, stix_version: str = "2.1") -> ObservationExpression:
    """The syntax tree of `pattern` read with the grammar of STIX `stix_version`.

    Raises `PatternSyntaxError` naming the line and column of the first problem.
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternSyntaxError(
            f"the pattern is {len(pattern):,} characters long; at most "
            f"{MAX_PATTERN_LENGTH:,} are read",
            line=pattern.count("\n", 0, MAX_PATTERN_LENGTH) + 1,
            column=MAX_PATTERN_LENGTH + 1 - (pattern.rfind("\n", 0, MAX_PATTERN_LENGTH) + 1),
        )
    tree = _Parser(pattern, stix_version).pattern_expression()
    if instances(tree) > MAX_INSTANCES:
        raise PatternSyntaxError(
            f"a match would bind more than {MAX_INSTANCES:,} observations (REPEATS)",
            line=1,
            column=1,
            grammatical=False,
        )
    return tree


def instances(expression: ObservationExpression) -> int:
    """How many observation instances one binding of `expression` holds."""
    if isinstance(expression, Bracket):
        return 1
    if isinstance(expression, Qualified):
        inner = instances(expression.expression)
        if isinstance(expression.qualifier, Repeats):
            return inner * expression.qualifier.times
        return inner
    return instances(expression.left) + instances(expression.right)
