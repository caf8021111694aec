"""Clauses and words of a review, with their character offsets (the evidence spans).

Text is cut into *units* — one Chinese character or one Latin word — so one dictionary serves
Chinese, English and mixed text: 「物流」 is two units, "customer service" two, "doesn't" one
(apostrophes dropped: ``doesnt``). :class:`PhraseMatcher` finds dictionary phrases by backward
maximum matching over units (for Chinese it errs less than forward matching: 「商品质量」 gives
「质量」, not 「品质」), which needs no segmenter and runs at tens of thousands of clauses per
second in pure Python.

>>> [c.text for c in split_clauses("商品质量不错，物流速度很快，但客服服务态度一般")]
['商品质量不错', '物流速度很快', '但客服服务态度一般']
>>> [c.text for c in split_clauses("Great quality but the box arrived damaged.")]
['Great quality', 'but the box arrived damaged']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Clause", "split_clauses", "units", "find_term", "PhraseMatcher", "Match"]

T = TypeVar("T")

_UNIT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[A-Za-z0-9]+(?:['’\-][A-Za-z0-9]+)*")
_CJK = re.compile(r"[\u3400-\u9fff]")
# Hard boundaries: sentence and clause punctuation, line breaks, a dot not inside a number.
_BOUNDARY = re.compile(r"[，,。!！?？;；:：\n\r~～…、()（）【】\[\]「」\"“”]+|(?<!\d)\.|\.(?!\d)")
# Contrast words open a new clause: 「质量不错但是价格贵」, "good but slow".
_ZH_CONTRAST = re.compile(r"(?<![不只])(?:但是|但|不过|可是|然而|只是|就是|可惜)")
_EN_CONTRAST = re.compile(r"\b(?:but|however|although|though|except|whereas|yet)\b", re.I)
_EN_AND = re.compile(r"\band\b", re.I)
_SPACE_BETWEEN_CJK = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


@dataclass(frozen=True)
class Clause:
    """A clause: its text and where it is in the review (``review[start:end] == text``)."""

    text: str
    start: int
    end: int


def _cuts(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in _BOUNDARY.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    out = []
    for a, b in spans:  # spaces between Chinese characters separate phrases in Chinese reviews
        pos = a
        for m in _SPACE_BETWEEN_CJK.finditer(text, a, b):
            out.append((pos, m.start()))
            pos = m.end()
        out.append((pos, b))
    return out


def _split_at(text: str, a: int, b: int, pattern: re.Pattern, min_chars: int) -> list[tuple[int, int]]:
    """Cut [a, b) before each match of ``pattern`` that leaves ``min_chars`` on its left."""
    out, pos = [], a
    for m in pattern.finditer(text, a, b):
        if len(text[pos:m.start()].strip()) >= min_chars:
            out.append((pos, m.start()))
            pos = m.start()
    out.append((pos, b))
    return out


def _split_english_and(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """'the quality is great and delivery was fast' is two clauses; 'black and white' is not."""
    out, pos = [], a
    for m in _EN_AND.finditer(text, a, b):
        left, right = text[pos:m.start()].split(), text[m.end():b].split()
        if len(left) >= 3 and len(right) >= 3:
            out.append((pos, m.start()))
            pos = m.start()
    out.append((pos, b))
    return out


def split_clauses(text: str | None) -> list[Clause]:
    """Clauses of ``text``: cut at punctuation and before contrast words; empty ones dropped."""
    if not text:
        return []
    clauses = []
    for a, b in _cuts(text):
        if _CJK.search(text, a, b):
            parts = _split_at(text, a, b, _ZH_CONTRAST, 2)
        else:
            parts = []
            for c, d in _split_at(text, a, b, _EN_CONTRAST, 3):
                parts += _split_english_and(text, c, d)
        for c, d in parts:
            while c < d and text[c].isspace():
                c += 1
            while d > c and text[d - 1].isspace():
                d -= 1
            if c < d and _UNIT.search(text, c, d):
                clauses.append(Clause(text[c:d], c, d))
    return clauses


def _norm(unit: str) -> str:
    return unit.lower().replace("'", "").replace("’", "")


def units(text: str, start: int = 0, end: int | None = None) -> list[tuple[str, int, int]]:
    """(normalised unit, start, end) of every Chinese character and Latin word.

    >>> [u for u, _, _ in units("iPhone壳 doesn't fit")]
    ['iphone', '壳', 'doesnt', 'fit']
    """
    end = len(text) if end is None else end
    return [(_norm(m.group()), m.start(), m.end()) for m in _UNIT.finditer(text, start, end)]


def find_term(text: str, term: str) -> tuple[int, int] | None:
    """Where ``term`` first stands in ``text`` as a whole word, case-blind ("food" in "the
    food", not in "seafood"), else where it first occurs at all (Chinese has no word
    boundaries); None when it does not. The search runs on the text itself: lower-casing can
    change a text's length, and with it the span.

    >>> find_term("Seafood lovers: the FOOD is great", "food")
    (20, 24)
    >>> find_term("电池很耐用", "电池"), find_term("ok", "battery")
    ((0, 2), None)
    """
    if not term:
        return None
    quoted = re.escape(term)
    found = (re.search(rf"(?<!\w){quoted}(?!\w)", text, re.IGNORECASE)
             or re.search(quoted, text, re.IGNORECASE))
    return found.span() if found else None


def phrase_key(phrase: str) -> tuple[str, ...]:
    return tuple(u for u, _, _ in units(phrase))


@dataclass(frozen=True)
class Match(Generic[T]):
    """A dictionary phrase found in the text: unit positions, character offsets, its value."""

    first: int  # index of its first unit
    last: int  # index one past its last unit
    start: int  # character offset in the text
    end: int
    value: T


class PhraseMatcher(Generic[T]):
    """Backward maximum matching of phrases (sequences of units) in text.

    >>> m = PhraseMatcher({"物流": "L", "物流速度": "LS", "fast": "F", "品质": "Q1", "质量": "Q2"})
    >>> [(x.value, x.start, x.end) for x in m.find("物流速度很fast")]
    [('LS', 0, 4), ('F', 5, 9)]
    >>> [x.value for x in m.find("商品质量")]
    ['Q2']
    """

    def __init__(self, phrases: dict[str, T] | Iterable[tuple[str, T]]):
        items = phrases.items() if isinstance(phrases, dict) else phrases
        self._table: dict[tuple[str, ...], T] = {}
        lengths: dict[str, set[int]] = {}
        for phrase, value in items:
            key = phrase_key(phrase)
            if key:
                self._table[key] = value
                lengths.setdefault(key[-1], set()).add(len(key))
        self._lengths = {u: sorted(ls, reverse=True) for u, ls in lengths.items()}

    def find_units(self, us: list[tuple[str, int, int]]) -> list[Match[T]]:
        out, j = [], len(us)  # j: one past the last unit still to match
        table, lengths = self._table, self._lengths
        while j > 0:
            for length in lengths.get(us[j - 1][0], ()):
                if length <= j:
                    i = j - length
                    value = table.get(tuple(u for u, _, _ in us[i:j]))
                    if value is not None:
                        out.append(Match(i, j, us[i][1], us[j - 1][2], value))
                        j = i
                        break
            else:
                j -= 1
        out.reverse()
        return out

    def find(self, text: str, start: int = 0, end: int | None = None) -> list[Match[T]]:
        return self.find_units(units(text, start, end))
