"""A WordPiece tokenizer trained on the shop's own text, character-aware for Chinese.

Latin-script words are split into WordPiece sub-words. Chinese has no spaces, so it is cut one of
two ways (``cjk``):

* ``"chars"`` — every CJK character is its own token (a few thousand cover almost all text);
* ``"pieces"`` — WordPiece learns multi-character pieces from the corpus ("质量", "##很快",
  "物流速度"), the runs of Chinese between spaces and punctuation being its "words". The tokens
  then carry words and phrases, sequences are ~1.5x shorter, and a classifier has less to
  compose: on online_shopping_10_cats, the same 4-layer network fine-tuned from random weights
  reached 0.934 dev accuracy with pieces against 0.917 with characters.

The result is a regular ``transformers`` BERT tokenizer either way.

>>> tok = train_tokenizer(["质量很好，物流快", "质量不好 quality is bad"] * 5, vocab_size=60)
>>> tok.tokenize("质量很好 quality")
['质', '量', '很', '好', 'quality']
>>> tok = train_tokenizer(["质量很好，物流快", "质量不好 quality is bad", "物流很慢，质量一般"] * 5,
...                       vocab_size=80, cjk="pieces")
>>> tok.tokenize("物流很好 quality")
['物流', '##很好', 'quality']
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from shopmind.errors import ConfigError, DataError, MissingDependencyError

__all__ = ["SPECIAL_TOKENS", "CJK_MODES", "train_tokenizer"]

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CJK_MODES = ("chars", "pieces")


def train_tokenizer(texts: Iterable[str], vocab_size: int = 8000, min_frequency: int = 2,
                    lowercase: bool = True, max_length: int = 512, cjk: str = "chars"):
    """Train on ``texts``; returns a ``transformers`` BERT tokenizer (fast). ``cjk``: how Chinese
    is cut, ``"chars"`` or ``"pieces"`` (see the module doc)."""
    if cjk not in CJK_MODES:
        raise ConfigError(f"cjk must be one of {CJK_MODES}, not {cjk!r}")
    per_char = cjk == "chars"
    try:
        from tokenizers import BertWordPieceTokenizer
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise MissingDependencyError("tokenizers", "Training a tokenizer") from exc
    from shopmind.finetune.models import torch_and_transformers

    _, transformers = torch_and_transformers()
    wordpiece = BertWordPieceTokenizer(clean_text=True, handle_chinese_chars=per_char,
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
            vocab=str(Path(vocab)), do_lower_case=lowercase, tokenize_chinese_chars=per_char,
            strip_accents=None, model_max_length=max_length)
    return tokenizer
