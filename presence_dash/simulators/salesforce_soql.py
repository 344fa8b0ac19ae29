"""Salesforce ids and the SOQL subset the Salesforce simulator understands.

A recursive-descent parser and type checker over the `AuthSession` object: unknown fields,
wrong literal types and bad operators are errors with the `errorCode` Salesforce would send
(`INVALID_FIELD`, `INVALID_TYPE`, `MALFORMED_QUERY`, `INVALID_QUERY_FILTER_OPERATOR`), so an
adapter that sends a query Salesforce would refuse fails against the simulator too.
Part of the simulator: shares no code with the adapter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_SOQL_CHARS = 100_000
ID_CHARS = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# AuthSession's readable fields and their SOQL types (Salesforce object reference). There is
# no LoginTime: that is LoginHistory's, so asking AuthSession for it is INVALID_FIELD, as in
# Salesforce. (The real object has a few more, e.g. LoginHistoryId, that the dashboard needs not.)
FIELDS = {
    "Id": "id",
    "UsersId": "id",
    "CreatedDate": "datetime",
    "LastModifiedDate": "datetime",
    "NumSecondsValid": "int",
    "SessionType": "string",
    "LoginType": "string",
    "SourceIp": "string",
    "UserType": "string",
    "SessionSecurityLevel": "string",
    "ParentId": "id",
    "IsCurrent": "boolean",
}
FIELD_NAMES = {name.lower(): name for name in FIELDS}


# -- Salesforce ids --------------------------------------------------------------------------


def id18(id15: str) -> str:
    """The case-safe 18-character form of a 15-character id (three checksum characters, one
    per five-character chunk, encoding which characters are upper case)."""
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, c in enumerate(id15[start : start + 5]) if "A" <= c <= "Z")
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return id15 + suffix


def make_id(prefix: str, n: int) -> str:
    """A valid 18-character id with a 3-character key prefix (005 user, 0Ak AuthSession)."""
    digits = ""
    for _ in range(6):
        n, rest = divmod(n, 62)
        digits = BASE62[rest] + digits
    return id18(f"{prefix}5g0000{digits}")


def normalize_id(value: str) -> str | None:
    """15 or 18 characters -> the 18-character id; None if it is no id at all."""
    if not ID_CHARS.match(value):
        return None
    return id18(value) if len(value) == 15 else value


# -- SOQL ------------------------------------------------------------------------------------


class SoqlError(Exception):
    def __init__(self, code: str, message: str, pos: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.pos = code, message, pos


TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<datetime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?(?:Z|[+-]\d\d:\d\d))
    |(?P<date>\d{4}-\d\d-\d\d)
    |(?P<number>\d+(?:\.\d+)?)
    |(?P<string>'(?:[^'\\]|\\.)*')
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),])""",
    re.X,
)
KEYWORDS = {"select", "from", "where", "and", "or", "in", "order", "by", "asc", "desc", "limit"}
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


@dataclass(frozen=True)
class Tok:
    kind: str  # datetime | date | number | string | name | keyword | op | punct | end
    text: str
    pos: int


@dataclass(frozen=True)
class Comparison:
    field: str
    op: str  # = != < <= > >= IN
    values: tuple[Any, ...]
    pos: int


@dataclass(frozen=True)
class Junction:
    kind: str  # "and" | "or"
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Soql:
    fields: tuple[tuple[str, int], ...]
    sobject: tuple[str, int]
    where: Any
    order: tuple[tuple[str, bool, int], ...]  # field, descending, position
    limit: int | None


def tokenize(text: str) -> list[Tok]:
    tokens, pos = [], 0
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if match is None:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text[pos]}'", pos)
        kind = match.lastgroup or ""
        if kind != "ws":
            word = match.group().lower()
            tokens.append(Tok("keyword" if word in KEYWORDS else kind, match.group(), pos))
        pos = match.end()
    return [*tokens, Tok("end", "", len(text))]


class Parser:
    """Recursive descent over the subset: SELECT f[, f] FROM o [WHERE cond] [ORDER BY f
    [ASC|DESC][, ...]] [LIMIT n], where cond joins comparisons with AND or OR (mixing the
    two needs parentheses, as in Salesforce)."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Tok:
        return self.tokens[self.i]

    def take(self) -> Tok:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, tok: Tok | None = None) -> SoqlError:
        tok = tok or self.peek()
        shown = tok.text or "EOF"
        return SoqlError("MALFORMED_QUERY", f"unexpected token: '{shown}'", tok.pos)

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok.kind == "keyword" and tok.text.lower() == word:
            self.i += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.keyword(word):
            raise self.fail()

    def punct(self, char: str) -> bool:
        if self.peek().kind == "punct" and self.peek().text == char:
            self.i += 1
            return True
        return False

    def name(self) -> tuple[str, int]:
        tok = self.take()
        if tok.kind != "name":
            raise self.fail(tok)
        return tok.text, tok.pos

    def parse(self) -> Soql:
        self.expect("select")
        fields = [self.name()]
        while self.punct(","):
            fields.append(self.name())
        self.expect("from")
        sobject = self.name()
        where = self.condition() if self.keyword("where") else None
        order: list[tuple[str, bool, int]] = []
        if self.keyword("order"):
            self.expect("by")
            while True:
                name, pos = self.name()
                descending = self.keyword("desc")
                if not descending:
                    self.keyword("asc")
                order.append((name, descending, pos))
                if not self.punct(","):
                    break
        limit = None
        if self.keyword("limit"):
            tok = self.take()
            if tok.kind != "number" or not tok.text.isdigit():
                raise self.fail(tok)
            limit = int(tok.text)
        if self.peek().kind != "end":
            raise self.fail()
        return Soql(tuple(fields), sobject, where, tuple(order), limit)

    def condition(self) -> Any:
        parts = [self.term()]
        joiner = None
        while self.peek().kind == "keyword" and self.peek().text.lower() in ("and", "or"):
            word = self.take()
            if joiner not in (None, word.text.lower()):
                raise SoqlError(
                    "MALFORMED_QUERY",
                    f"unexpected token: '{word.text}' (use parentheses to mix AND and OR)",
                    word.pos,
                )
            joiner = word.text.lower()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Junction(joiner or "and", tuple(parts))

    def term(self) -> Any:
        if self.punct("("):
            inner = self.condition()
            if not self.punct(")"):
                raise self.fail()
            return inner
        name, pos = self.name()
        if self.keyword("in"):
            if not self.punct("("):
                raise self.fail()
            values = [self.value()]
            while self.punct(","):
                values.append(self.value())
            if not self.punct(")"):
                raise self.fail()
            return Comparison(name, "IN", tuple(values), pos)
        op = self.take()
        if op.kind != "op":
            raise self.fail(op)
        return Comparison(name, "!=" if op.text == "<>" else op.text, (self.value(),), pos)

    def value(self) -> Tok:
        tok = self.take()
        if tok.kind in ("string", "datetime", "date", "number"):
            return tok
        if tok.kind == "name" and tok.text.lower() in ("true", "false", "null"):
            return tok
        raise self.fail(tok)


def compile_soql(text: str) -> Soql:
    """Parse and type-check a statement against AuthSession; raises SoqlError with the
    errorCode Salesforce would send (MALFORMED_QUERY, INVALID_TYPE, INVALID_FIELD, ...)."""
    if len(text) > MAX_SOQL_CHARS:
        raise SoqlError(
            "MALFORMED_QUERY",
            f"query is too long: SOQL statements cannot be longer than {MAX_SOQL_CHARS:,} "
            "characters",
        )
    parsed = Parser(text).parse()
    sobject, pos = parsed.sobject
    if sobject.lower() != "authsession":
        raise SoqlError(
            "INVALID_TYPE",
            f"sObject type '{sobject}' is not supported. If you are attempting to use a custom "
            "object, be sure to append the '__c' after the entity name. Please reference your "
            "WSDL or the describe call for the appropriate names.",
            pos,
        )
    fields = tuple((_field(name, pos), pos) for name, pos in parsed.fields)
    seen: set[str] = set()
    for name, pos in fields:
        if name in seen:
            raise SoqlError("MALFORMED_QUERY", f"duplicate field selected: {name}", pos)
        seen.add(name)
    order = tuple((_field(name, pos), desc, pos) for name, desc, pos in parsed.order)
    where = _typed(parsed.where) if parsed.where is not None else None
    return Soql(fields, ("AuthSession", pos), where, order, parsed.limit)


def _field(name: str, pos: int) -> str:
    known = FIELD_NAMES.get(name.lower())
    if known is None:
        raise SoqlError(
            "INVALID_FIELD",
            f"No such column '{name}' on entity 'AuthSession'. If you are attempting to use a "
            "custom field, be sure to append the '__c' after the custom field name. Please "
            "reference your WSDL or the describe call for the appropriate names.",
            pos,
        )
    return known


def _typed(node: Any) -> Any:
    """Resolve field names and turn literal tokens into values of the field's type."""
    if isinstance(node, Junction):
        return Junction(node.kind, tuple(_typed(p) for p in node.parts))
    name = _field(node.field, node.pos)
    kind = FIELDS[name]
    if kind in ("id", "boolean") and node.op in ("<", "<=", ">", ">="):
        raise SoqlError(
            "INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on {kind} field: {name}", node.pos
        )
    return Comparison(name, node.op, tuple(_literal(name, kind, t) for t in node.values), node.pos)


def _literal(name: str, kind: str, tok: Tok) -> Any:
    if tok.kind == "name" and tok.text.lower() == "null":
        return None
    wrong = SoqlError(
        "INVALID_FIELD",
        f"value of filter criterion for field '{name}' must be of type {_type_word(kind)}"
        + (" and should not be enclosed in quotes" if kind not in ("id", "string") else ""),
        tok.pos,
    )
    if kind in ("id", "string"):
        if tok.kind != "string":
            raise wrong
        text = re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(1)), tok.text[1:-1])
        if kind == "string":
            return text.casefold()  # SOQL string comparisons ignore case
        normal = normalize_id(text)
        if normal is None:
            raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {text}", tok.pos)
        return normal.casefold()
    if kind == "datetime":
        if tok.kind != "datetime":
            raise wrong
        return parse_datetime(tok.text)
    if kind == "int":
        if tok.kind != "number" or not tok.text.isdigit():
            raise wrong
        return int(tok.text)
    if tok.kind != "name" or tok.text.lower() not in ("true", "false"):
        raise wrong
    return tok.text.lower() == "true"


def _type_word(kind: str) -> str:
    return {"id": "id", "string": "string", "datetime": "dateTime", "int": "int"}.get(
        kind, "boolean"
    )


def parse_datetime(text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise SoqlError("MALFORMED_QUERY", f"invalid dateTime: {text}") from None
