"""Tokenisation for Chinese, English and mixed text: jieba words, lower-cased Latin words, n-grams.

jieba keeps Latin words and numbers whole inside Chinese text, so one tokenizer serves zh, en and
mixed queries like "iPhone 15 手机壳".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

__all__ = ["tokenize", "tokenize_many", "char_ngrams", "segment"]

_WORD = re.compile(r"[\w\u3400-\u9fff]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff]")
_jieba = None


def _segmenter():
    """jieba, imported and initialised once (it prints to the log on first use)."""
    global _jieba
    if _jieba is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba = jieba
    return _jieba


def tokenize(text: str | None, for_search: bool = False) -> list[str]:
    """Words of ``text``, lower-cased, punctuation dropped.

    ``for_search`` also emits the shorter words inside long Chinese words (jieba's search mode),
    which raises keyword recall.

    >>> tokenize("Wireless Earbuds, 2 pairs!")
    ['wireless', 'earbuds', '2', 'pairs']
    >>> tokenize("iPhone 15 手机壳")
    ['iphone', '15', '手机', '壳']
    """
    if not text:
        return []
    if not _CJK.search(text):
        return [w.lower() for w in _WORD.findall(text)]
    jieba = _segmenter()
    words = jieba.cut_for_search(text) if for_search else jieba.cut(text)
    return [w.lower() for w in words if _WORD.fullmatch(w)]


def segment(text: str) -> list[str]:
    """jieba's pieces of ``text`` with punctuation and spaces kept: joined, they give it back.

    >>> segment("质量不错，good!")
    ['质量', '不错', '，', 'good', '!']
    """
    return _segmenter().lcut(text, HMM=False)


def tokenize_many(texts: Iterable[str | None], for_search: bool = False) -> list[list[str]]:
    return [tokenize(t, for_search) for t in texts]


def char_ngrams(text: str | None, n_min: int = 1, n_max: int = 3) -> list[str]:
    """Character n-grams of the lower-cased text with spaces squeezed (typo-tolerant features).

    >>> char_ngrams("好评!", 1, 2)
    ['好', '评', '!', '好评', '评!']
    """
    if not text:
        return []
    s = re.sub(r"\s+", " ", text.lower()).strip()
    return [s[i:i + n] for n in range(n_min, n_max + 1) for i in range(len(s) - n + 1)]
