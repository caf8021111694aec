"""Language detection for the two languages shopmind serves (Chinese and English).

A shop's text is either Chinese, English, or a mix; the share of CJK characters among letters
decides, which is exact for the zh/en question and needs no model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

__all__ = ["detect_language", "detect_languages"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str | None) -> str | None:
    """Return ``"zh"``, ``"en"`` or ``None`` (no letters at all).

    >>> detect_language("物流很快，质量不错")
    'zh'
    >>> detect_language("Fast shipping, great quality")
    'en'
    >>> detect_language("iPhone 15 手机壳 透明")
    'zh'
    >>> detect_language("1234") is None
    True
    """
    if not text:
        return None
    cjk = len(_CJK.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text)) if _LATIN.search(text) else 0
    if cjk == 0 and latin_words == 0:
        return None
    # One Chinese character carries about a word's meaning: compare characters to words.
    return "zh" if cjk >= latin_words else "en"


def detect_languages(texts: Iterable[str | None]) -> np.ndarray:
    """Batch form of :func:`detect_language`; returns an object array."""
    return np.array([detect_language(t) for t in texts], dtype=object)
