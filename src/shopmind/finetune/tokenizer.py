"""A WordPiece tokenizer trained on the shop's own text, character-aware for Chinese.

Every CJK character is its own token (Chinese has no spaces and a few thousand characters cover
almost all text, so characters are the robust unit for a small corpus); Latin-script words are
split into WordPiece sub-words. The result is a regular ``transformers`` BERT tokenizer.

>>> tok = train_tokenizer(["质量很好，物流快", "质量不好 quality is bad"] * 5, vocab_size=60)
>>> tok.tokenize("质量很好 quality")
['质', '量', '很', '好', 'quality']
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from shopmind.errors import DataError, MissingDependencyError

__all__ = ["SPECIAL_TOKENS", "train_tokenizer"]

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_tokenizer(texts: Iterable[str], vocab_size: int = 8000, min_frequency: int = 2,
                    lowercase: bool = True, max_length: int = 512):
    """Train on ``texts``; returns a ``transformers`` BERT tokenizer (fast)."""
    try:
        from tokenizers import BertWordPieceTokenizer
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise MissingDependencyError("tokenizers", "Training a tokenizer") from exc
    from shopmind.finetune.models import torch_and_transformers

    _, transformers = torch_and_transformers()
    wordpiece = BertWordPieceTokenizer(clean_text=True, handle_chinese_chars=True,
                                       strip_accents=None, lowercase=lowercase)
    # the alphabet limit must cover every character worth keeping: Chinese needs thousands
    wordpiece.train_from_iterator(iter(texts), vocab_size=vocab_size,
                                  min_frequency=min_frequency, limit_alphabet=vocab_size,
                                  special_tokens=SPECIAL_TOKENS, show_progress=False)
    if wordpiece.get_vocab_size() <= len(SPECIAL_TOKENS):
        raise DataError("the corpus is empty: a tokenizer needs some text to learn from")
    with tempfile.TemporaryDirectory() as tmp:
        vocab = wordpiece.save_model(tmp)[0]
        tokenizer = transformers.BertTokenizerFast(
            vocab=str(Path(vocab)), do_lower_case=lowercase, tokenize_chinese_chars=True,
            strip_accents=None, model_max_length=max_length)
    return tokenizer
