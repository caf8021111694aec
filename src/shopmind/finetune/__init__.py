"""Fine-tuning and domain pre-training of transformer encoders.

* :class:`FineTunedClassifier` — full or LoRA fine-tuning of the packaged MiniLM or any local
  Hugging Face encoder, for single texts or sentence pairs; early stopping on a dev split,
  class weights, save/load, batch inference, merged export.
* :class:`MaskedLMPretrainer` — a character-aware tokenizer and a small BERT encoder trained
  from scratch by masked-language modelling on the shop's own text; the output directory is a
  model :class:`FineTunedClassifier` accepts.
* :func:`train_tokenizer`, :func:`read_corpus` — the pieces, for use on their own.

Both use CUDA when it is present. ``shopmind finetune`` and ``shopmind pretrain`` run them from
the command line.
"""

from importlib import import_module

__all__ = ["FineTunedClassifier", "MaskedLMPretrainer", "train_tokenizer", "read_corpus",
           "read_table", "PACKAGED_MINILM"]

# imported on first use: pandas and scipy take seconds, and `shopmind --help` registers the
# commands of this package without needing any of them
_HOMES = {"FineTunedClassifier": "classifier", "MaskedLMPretrainer": "pretrain",
          "train_tokenizer": "tokenizer", "read_corpus": "corpus", "read_table": "corpus",
          "PACKAGED_MINILM": "models"}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"shopmind.finetune.{_HOMES[name]}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
