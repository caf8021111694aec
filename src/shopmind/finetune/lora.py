"""LoRA adapters (peft) on a sequence classifier: wrap, reload, merge.

Low-rank updates go into the attention and feed-forward projections; the classifier head — and
any module the base checkpoint did not hold, such as the pooler of an encoder pre-trained here —
is trained in full and saved with the adapter (``modules_to_save``), so an adapter directory
plus the base model reproduces the fine-tuned classifier exactly. (A mean-pooled classifier,
:mod:`shopmind.finetune.pooled`, keeps its head outside peft and saves it beside the adapter.)
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

from shopmind.errors import MissingDependencyError

__all__ = ["DEFAULT_TARGETS", "add_lora", "load_lora", "merge_lora"]

DEFAULT_TARGETS = ("query", "key", "value", "dense")
"""BERT-family projection names (attention q/k/v and output, feed-forward in and out)."""


def _peft():
    try:
        import peft
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise MissingDependencyError("peft", "LoRA fine-tuning") from exc
    return peft


@contextmanager
def _quiet_peft():
    """peft 0.21 reads ``is_gradient_checkpointing``, which transformers 5 deprecates with a
    FutureWarning on every wrap; the attribute still works, so the warning says nothing to us."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*",
                                category=FutureWarning)
        yield


def _target_names(net, targets, keep_whole: list[str]) -> list[str]:
    """Full names of the linear layers to adapt, leaving out those trained whole."""
    import torch

    names = []
    for name, module in net.named_modules():
        if not isinstance(module, torch.nn.Linear) or name.rsplit(".", 1)[-1] not in targets:
            continue
        if any(name == k or name.startswith(k + ".") for k in keep_whole):
            continue
        names.append(name)
    return names


def add_lora(net, fresh_modules: list[str], r: int = 8, alpha: int = 16, dropout: float = 0.1,
             targets=None):
    """``net`` wrapped by peft with LoRA adapters; only adapters and fresh modules train.

    ``fresh_modules`` are the modules the base checkpoint lacked (see
    :func:`~shopmind.finetune.models.load_classifier`), the classifier head among them. A
    :class:`~shopmind.finetune.pooled.MeanPooledClassifier` gets the adapters in its encoder;
    its head, outside peft, trains in full.
    """
    peft = _peft()
    targets = set(targets or DEFAULT_TARGETS)
    if _is_pooled(net):
        config = peft.LoraConfig(task_type=peft.TaskType.FEATURE_EXTRACTION, r=r,
                                 lora_alpha=alpha, lora_dropout=dropout,
                                 target_modules=_target_names(net.encoder, targets, []))
        with _quiet_peft():
            net.encoder = peft.get_peft_model(net.encoder, config)
        return net
    keep_whole = sorted(set(fresh_modules) | {"classifier"})
    keep_whole = [m for m in keep_whole if any(n == m for n, _ in net.named_modules())]
    names = _target_names(net, targets, keep_whole)
    config = peft.LoraConfig(task_type=peft.TaskType.SEQ_CLS, r=r, lora_alpha=alpha,
                             lora_dropout=dropout, target_modules=names or None,
                             modules_to_save=keep_whole)
    with _quiet_peft():
        return peft.get_peft_model(net, config)


def load_lora(base_net, path: str):
    """A saved adapter (with its whole-trained modules) applied to a freshly loaded base."""
    peft = _peft()
    with _quiet_peft():
        if _is_pooled(base_net):
            base_net.encoder = peft.PeftModel.from_pretrained(base_net.encoder, path)
            return base_net.load_head(path)
        return peft.PeftModel.from_pretrained(base_net, path)


def merge_lora(net):
    """A plain transformers model with the adapters folded into its weights (a copy)."""
    import copy

    with _quiet_peft():
        if _is_pooled(net):
            return net.with_encoder(copy.deepcopy(net.encoder).merge_and_unload())
        return copy.deepcopy(net).merge_and_unload()


def _is_pooled(net) -> bool:
    from shopmind.finetune.pooled import MeanPooledClassifier

    return isinstance(net, MeanPooledClassifier)
