"""A fine-tuned encoder as a classifier: full fine-tuning or LoRA, save/load, merged export.

One estimator serves single texts and sentence pairs: ``pairs`` is an optional second text per
row (aspect term, query, second question), encoded BERT-style as ``[CLS] text [SEP] pair [SEP]``.

A saved classifier is a directory: the model (full) or the adapter with its classifier head
(LoRA), the tokenizer, and ``shopmind.json`` (parameters, classes, training report). A LoRA
directory needs its base model at load time; :meth:`FineTunedClassifier.export_merged` writes a
self-contained model with the adapters folded in.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from shopmind.errors import ConfigError, DataError, NotFittedError
from shopmind.evaluate import classification_metrics
from shopmind.finetune.data import as_text_list, balanced_class_weights, encode_labels
from shopmind.finetune.lora import add_lora, load_lora, merge_lora
from shopmind.finetune.models import (
    PACKAGED_MINILM,
    count_parameters,
    load_classifier,
    load_saved_classifier,
    load_tokenizer,
    pick_device,
    resolve_model_path,
    torch_and_transformers,
)
from shopmind.finetune.trainer import TrainingSplit, predict_logits, train_classifier

__all__ = ["FineTunedClassifier"]

_KIND = "FineTunedClassifier"
_SAVE_DTYPES = ("float32", "float16")


def _jsonable(values) -> list:
    return [v.item() if isinstance(v, np.generic) else v for v in values]


class FineTunedClassifier:
    """Fine-tune ``model`` (the packaged MiniLM or a local model directory) to classify texts.

    Parameters: ``lora`` (train rank-``lora_r`` adapters and the head instead of every
    weight), ``epochs``, ``lr``, ``batch_size``, ``max_length`` (tokens), ``warmup`` (share of
    the run), ``weight_decay``, ``class_weight`` (``None`` or ``"balanced"``), ``patience``
    and ``eval_every`` (early stopping on the dev split given to :meth:`fit`), ``max_minutes``
    (wall-clock budget; the learning rate decays to zero within it), ``seed``, ``device``
    (default: CUDA when present), ``threads`` (CPU threads for torch) and ``bf16`` (train with
    bfloat16 matrix products; ``None``: where that is fast — CUDA, or a CPU with bfloat16 units;
    weights stay float32 and saved models are the same either way). ``distill`` is the share
    of the loss that follows a teacher's probabilities when :meth:`fit` gets ``teacher_proba``
    (knowledge distillation: a stronger model's soft labels carry which texts are ambiguous or
    mislabelled). ``pooling`` is how the encoder is read (:data:`~shopmind.finetune.models.POOLINGS`):
    ``"cls"``, the checkpoint's own classification head, or ``"mean"``, the token states averaged —
    what a sentence-transformers encoder such as the packaged MiniLM was trained for.
    ``adversarial`` > 0 (an embedding-space distance per text: 0.2 is about 4 % of the norm of a
    short text's MiniLM word embeddings) also trains on each batch with its word embeddings
    perturbed against the model (:mod:`shopmind.finetune.adversarial`; twice the time per step).
    ``save_dtype`` is how a fully fine-tuned model's weights are written by :meth:`save` and
    :meth:`export_merged`: ``"float32"``, or ``"float16"`` — half the disk (a MiniLM: 44 MB
    instead of 87), read back into float32, its probabilities a rounding off the saved model's
    (LoRA adapters are small and always stay float32). ``average`` > 0 scores and keeps a moving
    average of the weights over about that many epochs instead of the last step's weights
    (see :func:`~shopmind.finetune.trainer.train_classifier`). ``rdrop`` > 0 also keeps the
    predictions of two dropout masks together (R-Drop; twice the time per step, ibid.);
    ``layer_decay`` < 1 lowers the learning rate layer by layer down the encoder (ibid.).

    Learned state: ``classes_``, ``report_`` (loss curve, seconds per epoch, dev history),
    ``trainable_parameters_``, ``total_parameters_``.
    """

    def __init__(self, model: str | os.PathLike = PACKAGED_MINILM, lora: bool = False,
                 epochs: float = 3.0, lr: float | None = None, batch_size: int = 16,
                 max_length: int = 128, warmup: float = 0.1, weight_decay: float = 0.01,
                 class_weight: str | None = None, patience: int | None = 2,
                 eval_every: int | None = None, max_minutes: float | None = None,
                 lora_r: int = 8, lora_alpha: int = 16, lora_dropout: float = 0.1,
                 seed: int = 0, device: str | None = None, threads: int | None = None,
                 bf16: bool | None = None, distill: float = 0.5, pooling: str = "cls",
                 adversarial: float = 0.0, save_dtype: str = "float32", average: float = 0.0,
                 rdrop: float = 0.0, layer_decay: float = 1.0):
        self.model = model
        self.lora = lora
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.max_length = max_length
        self.warmup = warmup
        self.weight_decay = weight_decay
        self.class_weight = class_weight
        self.patience = patience
        self.eval_every = eval_every
        self.max_minutes = max_minutes
        self.lora_r = lora_r
        self.lora_alpha = lora_alpha
        self.lora_dropout = lora_dropout
        self.seed = seed
        self.device = device
        self.threads = threads
        self.bf16 = bf16
        self.distill = distill
        self.pooling = pooling
        self.adversarial = adversarial
        self.save_dtype = save_dtype
        self.average = average
        self.rdrop = rdrop
        self.layer_decay = layer_decay

    _PARAMS = ("model", "lora", "epochs", "lr", "batch_size", "max_length", "warmup",
               "weight_decay", "class_weight", "patience", "eval_every", "max_minutes",
               "lora_r", "lora_alpha", "lora_dropout", "seed", "device", "threads", "bf16",
               "distill", "pooling", "adversarial", "save_dtype", "average", "rdrop",
               "layer_decay")

    def get_params(self) -> dict:
        return {k: (str(getattr(self, k)) if k == "model" else getattr(self, k))
                for k in self._PARAMS}

    @property
    def learning_rate_(self) -> float:
        """``lr``, else the usual rate for the mode: 5e-4 for LoRA, 5e-5 for full fine-tuning."""
        return self.lr if self.lr is not None else (5e-4 if self.lora else 5e-5)

    # ----------------------------------------------------------------------------- training

    def _split(self, texts, labels, pairs, what: str) -> TrainingSplit:
        texts = as_text_list(texts, f"{what} texts")
        pairs = None if pairs is None else as_text_list(pairs, f"{what} pairs")
        if pairs is not None and len(pairs) != len(texts):
            raise DataError(f"{what}: {len(texts)} texts but {len(pairs)} pairs")
        if len(labels) != len(texts):
            raise DataError(f"{what}: {len(texts)} texts but {len(labels)} labels")
        return TrainingSplit(texts, pairs, np.asarray(labels, dtype=object))

    def _codes(self, labels: np.ndarray, what: str) -> np.ndarray:
        index = {str(c): i for i, c in enumerate(self.classes_)}
        codes = np.empty(len(labels), dtype=np.int64)
        for i, v in enumerate(labels):
            if str(v) not in index:
                raise DataError(f"{what} label {v!r} at row {i} is not among the training "
                                f"classes {list(self.classes_)}")
            codes[i] = index[str(v)]
        return codes

    @property
    def tokenizer_(self):
        """The tokenizer the fitted (or loaded) model reads its texts with."""
        if not hasattr(self, "_tokenizer"):
            raise NotFittedError("this FineTunedClassifier is not fitted; call fit() or load()")
        return self._tokenizer

    def check_params(self) -> None:
        """Refuse out-of-range training settings before any work: :meth:`fit` calls it, and so
        may a caller that does something long (pre-training) before fitting."""
        if self.class_weight not in (None, "balanced"):
            raise ConfigError(f"class_weight must be None or 'balanced', not {self.class_weight!r}")
        if not self.adversarial >= 0:
            raise ConfigError(f"adversarial is an embedding-space distance >= 0 (0 turns it off; "
                              f"about 0.2 for MiniLM), not {self.adversarial!r}")
        if not self.average >= 0:
            raise ConfigError(f"average is a number of epochs >= 0 (0 turns it off), "
                              f"not {self.average!r}")
        if not 0 < self.layer_decay <= 1:
            raise ConfigError(f"layer_decay is a factor per layer in (0, 1] (1 turns it off), "
                              f"not {self.layer_decay!r}")
        if not self.rdrop >= 0:
            raise ConfigError(f"rdrop is the weight of the two dropout passes' divergence >= 0 "
                              f"(0 turns it off; 1 is usual), not {self.rdrop!r}")
        self._check_save_dtype()

    def fit(self, texts, labels, pairs=None, dev: tuple | None = None,
            progress: Callable[[dict], None] | None = None,
            teacher_proba=None) -> FineTunedClassifier:
        """Fine-tune on ``texts`` (and ``pairs``) with ``labels``.

        ``dev`` is ``(texts, labels)`` or ``(texts, labels, pairs)``: scored during training
        for early stopping and best-weights selection. ``teacher_proba`` (rows × classes, columns
        in the sorted order ``classes_`` will have) are a teacher's probabilities for the training
        rows, learnt from with weight ``distill``; give out-of-fold ones (a teacher scoring its own
        training rows is over-confident).
        """
        torch, _ = torch_and_transformers()
        self.check_params()
        train = self._split(texts, labels, pairs, "training")
        self.classes_, y = encode_labels(train.y)
        train.y = y
        if teacher_proba is not None:
            train.soft = self._teacher(teacher_proba, len(y))
        dev_split = None
        if dev is not None:
            dev_split = self._split(dev[0], dev[1], dev[2] if len(dev) > 2 else None, "dev")
            dev_split.y = self._codes(dev_split.y, "dev")
        if self.threads:
            torch.set_num_threads(self.threads)
        torch.manual_seed(self.seed)
        self._tokenizer = load_tokenizer(self.model)
        net, fresh = load_classifier(resolve_model_path(self.model), len(self.classes_),
                                     self.pooling)
        if self.lora:
            net = add_lora(net, fresh, r=self.lora_r, alpha=self.lora_alpha,
                           dropout=self.lora_dropout)
        net.to(pick_device(self.device))
        self._limit_length(net)
        self.trainable_parameters_, self.total_parameters_ = count_parameters(net)
        weights = (balanced_class_weights(y, len(self.classes_))
                   if self.class_weight == "balanced" else None)
        self.report_ = train_classifier(
            net, self._tokenizer, train, n_classes=len(self.classes_), dev=dev_split,
            epochs=self.epochs, lr=self.learning_rate_, batch_size=self.batch_size,
            max_length=self.max_length_, warmup=self.warmup, weight_decay=self.weight_decay,
            class_weight=weights, patience=self.patience, eval_every=self.eval_every,
            max_seconds=self.max_minutes * 60 if self.max_minutes else None, seed=self.seed,
            bf16=self.bf16, distill=self.distill, adversarial=self.adversarial,
            average=self.average, rdrop=self.rdrop, layer_decay=self.layer_decay,
            progress=progress)
        self._net = net
        return self

    def _teacher(self, proba, n: int) -> np.ndarray:
        if not 0 <= self.distill <= 1:
            raise ConfigError(f"distill is a share of the loss in [0, 1], got {self.distill}")
        proba = np.asarray(proba, dtype=np.float64)
        k = len(self.classes_)
        if proba.shape != (n, k):
            raise DataError(f"teacher_proba has shape {proba.shape}; expected ({n}, {k}): one row "
                            f"per training text, one column per class {list(self.classes_)}")
        sums = proba.sum(axis=1)
        bad = np.flatnonzero((proba < 0).any(axis=1) | (np.abs(sums - 1) > 1e-3))
        if len(bad):
            raise DataError(f"teacher_proba row {bad[0]} is not a probability distribution "
                            f"(values {proba[bad[0]].tolist()}); give probabilities that sum to 1")
        return proba / sums[:, None]

    def _limit_length(self, net) -> None:
        """Inputs are cut to ``max_length`` tokens, and never beyond the positions the encoder
        has (a small pre-trained one may have only 128)."""
        positions = getattr(net.config, "max_position_embeddings", None) or self.max_length
        self.max_length_ = min(self.max_length, positions)

    # ---------------------------------------------------------------------------- inference

    def _check_fitted(self) -> None:
        if not hasattr(self, "_net"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted; call fit() or load()")

    def decision_function(self, texts, pairs=None) -> np.ndarray:
        """Raw class scores (logits), one column per class in ``classes_`` order."""
        self._check_fitted()
        texts = as_text_list(texts)
        pairs = None if pairs is None else as_text_list(pairs, "pairs")
        if pairs is not None and len(pairs) != len(texts):
            raise DataError(f"{len(texts)} texts but {len(pairs)} pairs")
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return predict_logits(self._net, self._tokenizer, texts, pairs, self.batch_size * 2,
                              self.max_length_)

    def predict_proba(self, texts, pairs=None) -> np.ndarray:
        logits = self.decision_function(texts, pairs)
        if not len(logits):
            return logits
        z = np.exp(logits - logits.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def predict(self, texts, pairs=None) -> np.ndarray:
        logits = self.decision_function(texts, pairs)
        return self.classes_[np.argmax(logits, axis=1)] if len(logits) else \
            np.array([], dtype=object)

    def evaluate(self, texts, labels, pairs=None) -> dict:
        """Accuracy and macro-F1 (:func:`shopmind.evaluate.classification_metrics`)."""
        predicted = self.predict(texts, pairs)
        return classification_metrics(np.asarray(labels, dtype=object).astype(str),
                                      predicted.astype(str))

    # ------------------------------------------------------------------------ persistence

    def _meta(self, lora: bool) -> dict:
        report = asdict(self.report_) if hasattr(self, "report_") else None
        return {"kind": _KIND, "params": {**self.get_params(), "lora": lora},
                "classes": _jsonable(self.classes_), "report": report,
                "trainable_parameters": getattr(self, "trainable_parameters_", None),
                "total_parameters": getattr(self, "total_parameters_", None)}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the classifier to ``path`` (a LoRA one as its adapter; see the module doc)."""
        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (self._net if self.lora else self._net_to_save(self._net)).save_pretrained(path)
        self._tokenizer.save_pretrained(path)
        (path / "shopmind.json").write_text(json.dumps(self._meta(self.lora), indent=1))
        return path

    def export_merged(self, path: str | os.PathLike) -> Path:
        """Write a self-contained model (LoRA folded into the weights) that loads without peft
        or its base, as this class (or, pooled ``"cls"``, as any transformers sequence classifier)."""
        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self._net_to_save(merge_lora(self._net) if self.lora else self._net).save_pretrained(path)
        self._tokenizer.save_pretrained(path)
        (path / "shopmind.json").write_text(json.dumps(self._meta(False), indent=1))
        return path

    def _check_save_dtype(self) -> None:
        if self.save_dtype not in _SAVE_DTYPES:
            raise ConfigError(f"save_dtype must be one of {_SAVE_DTYPES}, not {self.save_dtype!r}")

    def _net_to_save(self, net):
        """``net`` itself, or a float16 copy of it (the served model stays float32)."""
        self._check_save_dtype()
        if self.save_dtype == "float32":
            return net
        torch, _ = torch_and_transformers()
        return copy.deepcopy(net).to(torch.float16)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | None = None) -> FineTunedClassifier:
        torch, transformers = torch_and_transformers()
        path = Path(path)
        meta_file = path / "shopmind.json"
        if not meta_file.is_file():
            raise DataError(f"no saved {cls.__name__} at {path} (shopmind.json is missing)")
        meta = json.loads(meta_file.read_text())
        if meta.get("kind") != _KIND:
            raise DataError(f"{path} holds a {meta.get('kind')}, not a {cls.__name__}")
        model = cls(**{**meta["params"], **({"device": device} if device else {})})
        model.classes_ = np.array(meta["classes"], dtype=object)
        model._tokenizer = transformers.AutoTokenizer.from_pretrained(str(path))
        if model.lora:
            base, _ = load_classifier(resolve_model_path(model.model), len(model.classes_),
                                      model.pooling)
            net = load_lora(base, str(path))
        else:
            net = load_saved_classifier(str(path), len(model.classes_), model.pooling)
        net.to(pick_device(model.device)).eval()
        model._limit_length(net)
        model._net = net
        model.trainable_parameters_ = meta.get("trainable_parameters")
        model.total_parameters_ = meta.get("total_parameters")
        return model
