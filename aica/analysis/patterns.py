"""Regex criteria: written in Python ``re`` syntax, matched by RE2 in linear time.

A backtracking engine takes exponential time on patterns such as ``(.|.)*#`` and froze the
whole process; RE2 never backtracks. Its ``\\w`` and ``\\b`` are ASCII-only, though, while
criteria are written for Russian and English, so a pattern is translated from Python's own
parse tree: word, digit and space classes become Unicode classes, and each word boundary
becomes a marker character that :meth:`Pattern.spans` inserts into the text at every Python
``\\b`` position (every other atom may step over one). The matches are Python's.

Backreferences, lookaround, atomic groups, possessive repeats, conditionals, ``\\B`` and
inline flags other than ``i`` and ``x`` have no linear-time translation: :func:`compile_pattern`
refuses them with :class:`PatternError`.
"""

from __future__ import annotations

import importlib
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import re2

_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

_MARK = "\x01"
"""Stands for a word boundary in the searched text (a control character transcripts lack)."""
_MARK_RE = r"\x01"
_SKIP = _MARK_RE + "?"
_WORD = r"\p{L}\p{N}_"
_SPACE = r"\s\p{Z}"
_LINEAR_ONLY = "has no linear-time form"
_UNSUPPORTED = {
    "GROUPREF": "backreferences",
    "GROUPREF_EXISTS": "conditional groups",
    "ASSERT": "lookahead/lookbehind",
    "ASSERT_NOT": "negative lookahead/lookbehind",
    "ATOMIC_GROUP": "atomic groups",
    "POSSESSIVE_REPEAT": "possessive repeats",
}
_CLASS = {  # inside a character class, as a positive set
    "CATEGORY_WORD": _WORD,
    "CATEGORY_DIGIT": r"\p{Nd}",
    "CATEGORY_SPACE": _SPACE,
}
_NEGATED = {
    "CATEGORY_NOT_WORD": _WORD,
    "CATEGORY_NOT_DIGIT": r"\p{Nd}",
    "CATEGORY_NOT_SPACE": _SPACE,
}
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
_OPTIONS.case_sensitive = False


class PatternError(ValueError):
    """A pattern that is not valid, or that cannot be matched in linear time."""


@dataclass(frozen=True)
class Pattern:
    pattern: str
    """As the criterion was written."""
    _compiled: Any

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        """``(start, end)`` of each non-empty match in ``text``, as Python's ``re.finditer``
        finds them (case-insensitively)."""
        marked, marks = _marked(text)
        for match in self._compiled.finditer(marked):
            start, end = match.span()
            start -= bisect_right(marks, start - 1)
            end -= bisect_right(marks, end - 1)
            if end > start:
                yield start, end


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Pattern:
    try:
        parsed = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise PatternError(f"invalid regex: {exc}") from None
    if parsed.state.flags & ~(re.IGNORECASE | re.VERBOSE | re.UNICODE):
        raise PatternError("inline flags other than (?i) and (?x) are not supported")
    try:
        return Pattern(pattern, re2.compile(_sequence(parsed), _OPTIONS))
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise PatternError(f"invalid regex: {detail}") from None
    except RecursionError:
        raise PatternError("invalid regex: nested too deeply") from None


def _marked(text: str) -> tuple[str, list[int]]:
    """``text`` with a marker at each word boundary, and the markers' positions in it."""
    text = text.replace(_MARK, " ")
    pieces: list[str] = []
    marks: list[int] = []
    last = 0
    for found in re.finditer(r"\b", text):
        at = found.start()
        pieces.append(text[last:at])
        marks.append(at + len(marks))
        pieces.append(_MARK)
        last = at
    pieces.append(text[last:])
    return "".join(pieces), marks


def _sequence(items: Any) -> str:
    out: list[str] = []
    for op, arg in items:
        piece = _item(str(op), arg)
        if piece == _MARK_RE and out and out[-1] == _MARK_RE:
            continue  # \b\b is one boundary
        out.append(piece)
    return "".join(out)


def _item(op: str, arg: Any) -> str:
    if op in _UNSUPPORTED:
        raise PatternError(f"{_UNSUPPORTED[op]} are not supported: the pattern {_LINEAR_ONLY}")
    if op == "LITERAL":
        return _char(arg) + _SKIP
    if op == "NOT_LITERAL":
        return f"[^{_char(arg)}{_MARK_RE}]" + _SKIP
    if op == "ANY":
        return rf"[^\n{_MARK_RE}]" + _SKIP
    if op == "IN":
        return _class(arg) + _SKIP
    if op == "CATEGORY":
        return _class([(_c.CATEGORY, arg)]) + _SKIP
    if op == "BRANCH":
        return "(?:" + "|".join(_sequence(alt) for alt in arg[1]) + ")"
    if op == "SUBPATTERN":
        _group, add_flags, del_flags, sub = arg
        if (add_flags | del_flags) & ~(re.IGNORECASE | re.VERBOSE | re.UNICODE):
            raise PatternError("inline flags other than (?i) and (?x) are not supported")
        case = "-i" if del_flags & re.IGNORECASE else ""  # (?-i:...) is case-sensitive
        return f"(?{case}:" + _sequence(sub) + ")"
    if op in ("MAX_REPEAT", "MIN_REPEAT"):
        low, high, sub = arg
        bound = "" if high == _c.MAXREPEAT else str(high)
        lazy = "?" if op == "MIN_REPEAT" else ""
        return f"(?:{_sequence(sub)}){{{low},{bound}}}{lazy}"
    if op == "AT":
        return _anchor(str(arg))
    raise PatternError(f"{op.lower()} is not supported")


def _anchor(at: str) -> str:
    if at == "AT_BOUNDARY":
        return _MARK_RE
    if at in ("AT_BEGINNING", "AT_BEGINNING_STRING"):
        return r"\A" + _SKIP
    if at in ("AT_END", "AT_END_STRING"):
        return r"\z"
    raise PatternError(r"\B (not at a word boundary) is not supported")


def _class(items: Any) -> str:
    """A character class that never takes a boundary marker."""
    parts: list[str] = []
    negate = False
    for op, arg in items:
        op, arg = str(op), arg
        if op == "NEGATE":
            negate = True
        elif op == "LITERAL":
            parts.append(_char(arg))
        elif op == "RANGE":
            parts.append(f"{_char(arg[0])}-{_char(arg[1])}")
        elif op == "CATEGORY" and str(arg) in _CLASS:
            parts.append(_CLASS[str(arg)])
        elif op == "CATEGORY" and str(arg) in _NEGATED and len(items) == 1:
            negate, parts = True, [_NEGATED[str(arg)]]
        else:
            raise PatternError(r"\W, \D or \S inside a [...] set with other members")
    if negate:
        return "[^" + "".join(parts) + _MARK_RE + "]"
    return "[" + "".join(parts) + "]"


def _char(code: int) -> str:
    return f"\\x{{{code:x}}}"
