"""Text analysis for search: one analyzer turns titles, descriptions and queries into terms.

Catalog text is messier than prose: ``2x4``, ``36in.``, ``1/2 in.``, ``40-Volt``, ``Batteries``,
full-width ``ＵＳＢ`` and Chinese without spaces. The analyzer

* normalises (NFKC, lower case, HTML entities such as ``&amp;``, inch/foot marks after numbers);
* segments Chinese runs with jieba (search mode, through :func:`shopmind.text.tokenize.tokenize`)
  and splits Latin runs into words and numbers, keeping fractions and decimals (``1/2``, ``2.5``)
  whole and cutting letters from digits (``2x4`` → ``2 x 4``);
* spells units one way (``inches``/``inch``/``in`` → ``in``, ``12v`` → ``12 volt``);
* strips plural endings (an S-stemmer: ``batteries`` → ``battery``, ``boxes`` → ``box``).

The same analyzer serves documents and queries, so both sides always agree.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

from shopmind.text.tokenize import tokenize

__all__ = ["Analyzer", "char_grams", "STOPWORDS"]

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN = re.compile(r"\d+(?:[./]\d+)*|[^\W\d_]+")
_INCH_MARK = re.compile(r"(\d)\s*(?:\"|''|”|″)")
_FOOT_MARK = re.compile(r"(\d)\s*(?:'|’|′)")

# Unit spellings that mean the same thing anywhere in retail; one spelling each.
_UNITS = {
    "inch": "in", "inches": "in", "feet": "ft", "foot": "ft",
    "pound": "lb", "pounds": "lb", "lbs": "lb", "ounce": "oz", "ounces": "oz",
    "gallon": "gal", "gallons": "gal", "quart": "qt", "quarts": "qt",
    "volt": "volt", "volts": "volt", "watt": "watt", "watts": "watt",
    "amp": "amp", "amps": "amp", "ampere": "amp", "amperes": "amp",
    "millimeter": "mm", "millimeters": "mm", "millimetre": "mm", "millimetres": "mm",
    "centimeter": "cm", "centimeters": "cm", "centimetre": "cm", "centimetres": "cm",
    "meter": "m", "meters": "m", "metre": "m", "metres": "m",
    "milliliter": "ml", "milliliters": "ml", "millilitre": "ml", "millilitres": "ml",
    "liter": "l", "liters": "l", "litre": "l", "litres": "l",
    "kilogram": "kg", "kilograms": "kg", "kgs": "kg", "gram": "g", "grams": "g",
    "square": "sq", "cubic": "cu", "pcs": "pc", "piece": "pc", "pieces": "pc",
    "pk": "pack", "packs": "pack", "ct": "count",
}
# One-letter units are words of their own only right after a number ("12 v", "60w").
_UNITS_AFTER_NUMBER = {"v": "volt", "w": "watt", "a": "amp", "l": "l", "g": "g", "m": "m"}
STOPWORDS = frozenset({
    "a", "an", "the", "and", "or", "of", "for", "with", "to", "on", "by", "at", "from", "s",
    "的", "和", "与", "及", "了",
})
"""Words that carry no product meaning; they still count in BM25 (where IDF mutes them) but not
in the coverage features of the ranker."""


def _stem(word: str) -> str:
    """Plural endings off (Harman's S-stemmer, with -xes/-ches/-shes/-sses/-zes handled).

    >>> [_stem(w) for w in ["batteries", "boxes", "benches", "pipes", "glass", "bus", "hoses"]]
    ['battery', 'box', 'bench', 'pipe', 'glass', 'bus', 'hose']
    """
    if len(word) <= 3 or not word.isalpha() or not word.isascii():
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith(("xes", "ches", "shes", "sses", "zes")):
        return word[:-2]
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("us", "ss", "is")):
        return word[:-1]
    return word


def char_grams(terms: Iterable[str], n: int = 3) -> list[str]:
    """Typo-tolerant sub-word features: ``n``-grams of ``#term#`` for Latin terms, characters and
    character pairs for Chinese ones (where segmentation, not spelling, is what goes wrong).

    >>> char_grams(["mower", "耳机"])
    ['#mo', 'mow', 'owe', 'wer', 'er#', '耳', '机', '耳机']
    """
    out: list[str] = []
    for term in terms:
        if _CJK_RUN.match(term):
            out.extend(term)
            out.extend(term[i:i + 2] for i in range(len(term) - 1))
            continue
        padded = f"#{term}#"
        if len(padded) <= n:
            out.append(padded)
        else:
            out.extend(padded[i:i + n] for i in range(len(padded) - n + 1))
    return out


class Analyzer:
    """Text → terms for indexing and for queries (the same both ways).

    >>> a = Analyzer()
    >>> a.terms('DEWALT 20-Volt Max Lithium-Ion Batteries (2-Pack) 1/2 in. x 36"')
    ['dewalt', '20', 'volt', 'max', 'lithium', 'ion', 'battery', '2', 'pack', '1/2', 'in', 'x', '36', 'in']
    >>> a.terms("2x4 12v 3.5gal")
    ['2', 'x', '4', '12', 'volt', '3.5', 'gal']
    >>> a.terms("iPhone 15 手机壳")
    ['iphone', '15', '手机', '壳']
    """

    def __init__(self, stem: bool = True):
        self.stem = stem
        self._cache: dict[str, str] = {}

    @staticmethod
    def normalize(text: str) -> str:
        """NFKC, lower case, HTML entities decoded, inch and foot marks spelled out."""
        if "&" in text:
            text = html.unescape(text)
        text = unicodedata.normalize("NFKC", text).lower()
        if '"' in text or "'" in text or "”" in text or "″" in text or "’" in text:
            text = _INCH_MARK.sub(r"\1 in ", text)
            text = _FOOT_MARK.sub(r"\1 ft ", text)
        return text

    def _latin(self, text: str, out: list[str], surface: list[str] | None) -> None:
        cache = self._cache
        after_number = False
        for tok in _LATIN.findall(text):
            if after_number and tok in _UNITS_AFTER_NUMBER:
                term = _UNITS_AFTER_NUMBER[tok]
                after_number = False
            else:
                term = cache.get(tok)
                if term is None:
                    term = _UNITS.get(tok) or (_stem(tok) if self.stem else tok)
                    if len(cache) < 1_000_000:
                        cache[tok] = term
                after_number = tok[0].isdigit()
            out.append(term)
            if surface is not None:
                surface.append(tok)

    def terms(self, text: str | None) -> list[str]:
        """The terms of ``text`` in order (repeats kept: BM25 counts them)."""
        return self.terms_and_words(text)[0] if text else []

    def terms_and_words(self, text: str | None) -> tuple[list[str], list[str]]:
        """The terms and, aligned with them, the words as written (lower case, before unit
        spelling and stemming) — what a spelling corrector should look at.

        >>> Analyzer().terms_and_words("Cordles drills 12v")
        (['cordle', 'drill', '12', 'volt'], ['cordles', 'drills', '12', 'v'])
        """
        if not text:
            return [], []
        text = self.normalize(text)
        out: list[str] = []
        surface: list[str] = []
        start = 0
        for match in _CJK_RUN.finditer(text):
            if match.start() > start:
                self._latin(text[start:match.start()], out, surface)
            words = tokenize(match.group(), for_search=True)
            out.extend(words)
            surface.extend(words)
            start = match.end()
        if start < len(text):
            self._latin(text[start:], out, surface)
        return out, surface

    def terms_many(self, texts: Iterable[str | None]) -> list[list[str]]:
        out = []
        for t in texts:
            if not t:
                out.append([])
                continue
            terms: list[str] = []
            text = self.normalize(t)
            if _CJK_RUN.search(text):
                terms = self.terms_and_words(t)[0]
            else:
                self._latin(text, terms, None)
            out.append(terms)
        return out
