"""Property tests: what `value OP literal` means, for every operator and pair of types.

The meaning follows the OASIS matcher (`stix2matcher`, the reference implementation the
conformance vectors were recorded from), including its edges:

- values compare only within a type (int with float, binary with string of code points
  below 256); `=` between other types is false, so `!=` is true, and an ordering is false
  (and stays false under NOT);
- a timestamp literal reads a string value as a timestamp, and a string that is not one is
  an error, not a mismatch;
- LIKE and MATCHES compare NFC-normalised text; MATCHES searches, LIKE matches the whole;
- a value of a property named `*_hex` or `*_bin` is binary.

Regular expressions run on the `regex` module with a time limit, so that a catastrophic one
is an error after `REGEX_TIMEOUT` seconds, never a worker that hangs.
"""

from __future__ import annotations

import datetime
import ipaddress
import operator
import socket
import struct
import unicodedata
from collections.abc import Callable
from typing import Any, Final

import regex

from accord.match.patterns.errors import PatternEvaluationError
from accord.match.patterns.syntax import Comparison
from accord.match.patterns.timestamps import parse_timestamp

Predicate = Callable[[Any], bool]

REGEX_TIMEOUT: Final = 0.25
"""Seconds one regular expression may run on one value."""


def _cmp(a: Any, b: Any) -> int:
    return int(a > b) - int(a < b)


def _text_as_bytes(text: str) -> bytes | None:
    """A string as the binary it names (code points below 256), or None if it cannot be."""
    if all(ord(char) < 256 for char in text):
        return bytes(ord(char) for char in text)
    return None


def _bin_str_equals(a: Any, b: Any) -> bool:
    text, binary = (a, b) if isinstance(a, str) else (b, a)
    as_bytes = _text_as_bytes(text)
    return as_bytes is not None and as_bytes == binary


def _bin_str_compare(a: Any, b: Any) -> int:
    if isinstance(a, str):
        as_bytes = _text_as_bytes(a)
        if as_bytes is None:
            raise ValueError(a)
        return _cmp(as_bytes, b)
    as_bytes = _text_as_bytes(b)
    if as_bytes is None:
        raise ValueError(b)
    return _cmp(a, as_bytes)


_EQUAL: Final[dict[type, dict[type, Callable[[Any, Any], bool]]]] = {
    int: {int: operator.eq, float: operator.eq},
    float: {float: operator.eq},
    bytes: {bytes: operator.eq, str: _bin_str_equals},
    str: {str: operator.eq},
    bool: {bool: operator.eq},
    datetime.datetime: {datetime.datetime: operator.eq},
}
_ORDER: Final[dict[type, dict[type, Callable[[Any, Any], int]]]] = {
    int: {int: _cmp, float: _cmp},
    float: {float: _cmp},
    bytes: {bytes: _cmp, str: _bin_str_compare},
    str: {str: _cmp},
    datetime.datetime: {datetime.datetime: _cmp},
}


def _symmetric(table: dict[type, dict[type, Any]], a: type, b: type) -> Any:
    return table.get(a, {}).get(b) or table.get(b, {}).get(a)


def _as_timestamp(value: str) -> datetime.datetime:
    try:
        return parse_timestamp(value)
    except ValueError:
        raise PatternEvaluationError(f"invalid timestamp in the data: {value!r}") from None


def _equality(test: Comparison) -> Predicate:
    literal = test.value
    flip = (test.operator == "!=") != test.negated
    literal_type = type(literal)
    if literal_type is str:
        # The common case, written out: a string equals only a string (or binary).
        def string_equal(value: Any) -> bool:
            kind = type(value)
            if kind is str:
                return bool(value == literal) != flip
            if kind is bytes:
                return _bin_str_equals(value, literal) != flip
            return flip

        return string_equal
    is_timestamp = literal_type is datetime.datetime

    def equal(value: Any) -> bool:
        if is_timestamp and isinstance(value, str):
            value = _as_timestamp(value)
        function = _symmetric(_EQUAL, literal_type, type(value))
        result = function(value, literal) if function is not None else False
        return bool(result) != flip

    return equal


_ORDER_TESTS: Final[dict[str, Callable[[int], bool]]] = {
    "<": lambda result: result < 0,
    ">": lambda result: result > 0,
    "<=": lambda result: result <= 0,
    ">=": lambda result: result >= 0,
}


def _order(test: Comparison) -> Predicate:
    literal = test.value
    literal_type = type(literal)
    is_timestamp = literal_type is datetime.datetime
    holds = _ORDER_TESTS[test.operator]
    negated = test.negated

    def order(value: Any) -> bool:
        if is_timestamp and isinstance(value, str):
            value = _as_timestamp(value)
        function = _symmetric(_ORDER, literal_type, type(value))
        if function is None:
            return False  # not comparable: false, and NOT does not make it true
        try:
            result = holds(function(value, literal))
        except ValueError:
            result = False
        return result != negated

    return order


def _membership(test: Comparison) -> Predicate:
    members = test.value
    assert isinstance(members, tuple)
    literal_set = set(members)
    of_timestamps = bool(members) and isinstance(members[0], datetime.datetime)
    negated = test.negated

    def member(value: Any) -> bool:
        if of_timestamps and isinstance(value, str):
            value = _as_timestamp(value)
        try:
            result = value in literal_set
        except TypeError:  # a list or an object: in no set of literals
            result = False
        return result != negated

    return member


def like_to_regex(like: str) -> str:
    """The regular expression of a LIKE operand: `%` any run, `_` any one character."""
    out = ["^"]
    for char in like:
        if char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(char if char.isalnum() else "\\" + char)
    out.append("$")
    return "".join(out)


def _compile(expression: str, test: Comparison) -> Any:
    try:
        return regex.compile(expression, regex.VERSION0)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        raise PatternEvaluationError(
            f"{test.where()}: {test.operator} operand is not a valid regular expression: {exc}"
        ) from None


def _run(search: Callable[..., Any], value: Any, test: Comparison) -> bool:
    try:
        return search(value, timeout=REGEX_TIMEOUT) is not None
    except TimeoutError:
        raise PatternEvaluationError(
            f"{test.where()}: the {test.operator} expression ran longer than "
            f"{REGEX_TIMEOUT} s on one value and was stopped"
        ) from None


def _like(test: Comparison) -> Predicate:
    operand = unicodedata.normalize("NFC", str(test.value))
    expression = like_to_regex(operand)
    compiled = _compile(expression, test)
    binary_ok = all(ord(char) < 256 for char in expression)
    negated = test.negated

    def like(value: Any) -> bool:
        if isinstance(value, bytes) and binary_ok:
            try:
                value = value.decode("utf8")
            except UnicodeDecodeError:
                raise PatternEvaluationError(
                    f"{test.where()}: a binary value is not UTF-8 text for LIKE"
                ) from None
        if isinstance(value, str):
            result = _run(compiled.match, unicodedata.normalize("NFC", value), test)
        else:
            result = False
        return result != negated

    return like


def _matches(test: Comparison) -> Predicate:
    expression = unicodedata.normalize("NFC", str(test.value))
    compiled = _compile(expression, test)
    as_bytes = _text_as_bytes(expression)
    compiled_binary = None
    if as_bytes is not None:
        try:
            compiled_binary = regex.compile(as_bytes, regex.VERSION0)
        except (regex.error, ValueError, OverflowError, RecursionError):
            compiled_binary = None
    negated = test.negated

    def matches(value: Any) -> bool:
        if isinstance(value, str):
            result = _run(compiled.search, unicodedata.normalize("NFC", value), test)
        elif isinstance(value, bytes) and compiled_binary is not None:
            result = _run(compiled_binary.search, value, test)
        else:
            result = False
        return result != negated

    return matches


# --- networks -----------------------------------------------------------------------------


def _ipv4(text: str) -> int:
    try:
        packed = socket.inet_aton(text)
    except (OSError, ValueError):
        raise PatternEvaluationError(f"invalid IPv4 address: {text!r}") from None
    return int(struct.unpack(">I", packed)[0])


def network_of(text: str, *, address_allowed: bool) -> tuple[int, int, int]:
    """(version, first address as an integer, prefix length) of an address or CIDR.

    IPv4 reads as the OASIS matcher reads it (`inet_aton`, prefix 1 to 32); IPv6 (which the
    matcher does not know) through `ipaddress`, strict: host bits must be zero."""
    address, slash, prefix_text = text.partition("/")
    if not slash and not address_allowed:
        raise PatternEvaluationError(f"invalid CIDR subnet: {text!r}")
    if ":" in address:
        try:
            network = ipaddress.IPv6Network(text if slash else f"{text}/128", strict=False)
        except ValueError:
            raise PatternEvaluationError(f"invalid IPv6 address or subnet: {text!r}") from None
        return 6, int(network.network_address), network.prefixlen
    if not slash:
        return 4, _ipv4(address), 32
    if not prefix_text.isdigit() or not 1 <= int(prefix_text) <= 32:
        raise PatternEvaluationError(f"invalid CIDR subnet: {text!r}")
    return 4, _ipv4(address), int(prefix_text)


def network_contains(container: str, containee: str) -> bool:
    """Whether the network `container` (CIDR) holds the address or network `containee`."""
    version, outer, outer_prefix = network_of(container, address_allowed=False)
    inner_version, inner, inner_prefix = network_of(containee, address_allowed=True)
    if version != inner_version or outer_prefix > inner_prefix:
        return False
    bits = 32 if version == 4 else 128
    mask = ((1 << outer_prefix) - 1) << (bits - outer_prefix)
    return (inner & mask) == (outer & mask)


def _subset(test: Comparison) -> Predicate:
    literal = str(test.value)
    negated = test.negated
    superset = test.operator == "ISSUPERSET"

    def subset(value: Any) -> bool:
        if isinstance(value, str):
            result = (
                network_contains(value, literal) if superset else network_contains(literal, value)
            )
        else:
            result = False
        return result != negated

    return subset


_BUILDERS: Final[dict[str, Callable[[Comparison], Predicate]]] = {
    "=": _equality,
    "!=": _equality,
    "<": _order,
    ">": _order,
    "<=": _order,
    ">=": _order,
    "IN": _membership,
    "LIKE": _like,
    "MATCHES": _matches,
    "ISSUBSET": _subset,
    "ISSUPERSET": _subset,
}


def predicate(test: Comparison) -> Predicate:
    """The function that says whether one selected value passes `test` (not EXISTS)."""
    return _BUILDERS[test.operator](test)
