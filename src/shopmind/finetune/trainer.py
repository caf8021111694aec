"""The fine-tuning loop: AdamW with warm-up and linear decay, length-bucketed batches, optional
class weights, a step and wall-clock budget, and early stopping on a dev split.

The dev split is scored with :func:`shopmind.evaluate.classification_metrics`; the best
evaluation's weights are restored at the end, so a model that overfits late is not the one kept.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from shopmind.evaluate import classification_metrics
from shopmind.finetune.adversarial import adversarial_backward
from shopmind.finetune.data import input_lengths, length_batches, tokenize_rows
from shopmind.finetune.models import torch_and_transformers
from shopmind.finetune.schedule import Budget
from shopmind.torch_utils import bf16_autocast, use_bf16

__all__ = ["TrainingSplit", "TrainingReport", "WeightAverage", "train_classifier", "predict_logits"]


@dataclass
class TrainingSplit:
    """Texts (and optional second texts) with integer label codes."""

    texts: Sequence[str]
    pairs: Sequence[str] | None
    y: np.ndarray
    soft: np.ndarray | None = None
    """A teacher's class probabilities per row (knowledge distillation), or None."""


@dataclass
class TrainingReport:
    loss_curve: list[float] = field(default_factory=list)
    """Mean training loss of each (possibly partial) epoch."""
    epoch_seconds: list[float] = field(default_factory=list)
    dev_history: list[dict] = field(default_factory=list)
    """One entry per dev evaluation: step, epoch, loss and the metrics."""
    best_step: int | None = None
    steps: int = 0
    seconds: float = 0.0
    stopped_by: str = "epochs"
    bf16: bool = False
    """Whether training ran its matrix products in bfloat16."""


def _snapshot(params: list) -> dict:
    """A detached copy of each named parameter."""
    return {n: p.detach().clone() for n, p in params}


def _load(params: list, values: dict) -> None:
    """Write ``values`` (a :func:`_snapshot`) into the named parameters, in place."""
    torch, _ = torch_and_transformers()
    with torch.no_grad():
        for n, p in params:
            p.copy_(values[n])


class WeightAverage:
    """An exponential moving average of ``params`` (``(name, tensor)`` pairs) over about
    ``span`` updates; early on it follows the weights closely, as there is little to average."""

    def __init__(self, params: list, span: float):
        self.params = params
        self.decay = 1.0 - 1.0 / max(float(span), 1.0)
        self.updates = 0
        self.values = _snapshot(params)

    def update(self) -> None:
        torch, _ = torch_and_transformers()
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        with torch.no_grad():
            for n, p in self.params:
                self.values[n].lerp_(p.detach(), 1.0 - decay)

    @contextmanager
    def applied(self) -> Iterator[None]:
        """The averaged weights in the model for the block, its own weights back after."""
        live = _snapshot(self.params)
        _load(self.params, self.values)
        try:
            yield
        finally:
            _load(self.params, live)


_LAYER = re.compile(r"\.layers?\.(\d+)\.")


def _param_groups(named: list, weight_decay: float, layer_decay: float) -> list[dict]:
    """AdamW groups: no weight decay on biases and layer norms; with ``layer_decay`` < 1 the
    rate of encoder layer i of L scaled by layer_decay ** (L - i), the embeddings' by
    layer_decay ** (L + 1), the rest (the head) unscaled."""
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    layers = [int(m.group(1)) for n, _ in named if (m := _LAYER.search(n))]
    top = max(layers, default=-1) + 1

    def depth(name: str) -> int:
        found = _LAYER.search(name)
        return int(found.group(1)) + 1 if found else 0 if "embeddings" in name else top + 1

    groups: dict[tuple, dict] = {}
    for name, param in named:
        decays = not name.endswith(no_decay)
        scale = layer_decay ** (top + 1 - depth(name))
        group = groups.setdefault((decays, scale), {
            "params": [], "weight_decay": weight_decay if decays else 0.0, "lr_scale": scale})
        group["params"].append(param)
    return list(groups.values())


def _symmetric_kl(a, b):
    """The mean over rows of KL(p_a || p_b) + KL(p_b || p_a), halved, for two batches of
    logits."""
    import torch

    log_a, log_b = torch.log_softmax(a, dim=1), torch.log_softmax(b, dim=1)
    return ((log_a.exp() - log_b.exp()) * (log_a - log_b)).sum(dim=1).mean() / 2


def predict_logits(net, tokenizer, texts: Sequence[str], pairs: Sequence[str] | None,
                   batch_size: int, max_length: int) -> np.ndarray:
    """Class scores of every row, in input order (batched by length, no gradients)."""
    torch, _ = torch_and_transformers()
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    out = None
    # bfloat16 inference on CUDA only: on the CPU a saved, reloaded or LoRA-merged classifier
    # must score the same to 1e-5.
    with torch.inference_mode(), bf16_autocast(device.type == "cuda", device):
        for rows in length_batches(input_lengths(texts, pairs), batch_size):
            batch = {k: v.to(device) for k, v in
                     tokenize_rows(tokenizer, texts, pairs, rows, max_length).items()}
            logits = net(**batch).logits.float().cpu().numpy()
            if out is None:
                out = np.zeros((len(texts), logits.shape[1]))
            out[rows] = logits
    net.train(was_training)
    return out if out is not None else np.zeros((0, 0))


def _evaluate(net, tokenizer, dev: TrainingSplit, batch_size: int, max_length: int,
              loss_fn) -> dict:
    torch, _ = torch_and_transformers()
    logits = predict_logits(net, tokenizer, dev.texts, dev.pairs, batch_size, max_length)
    loss = float(loss_fn(torch.from_numpy(logits).float(), torch.from_numpy(dev.y)).item())
    metrics = classification_metrics(dev.y, np.argmax(logits, axis=1))
    return {"loss": round(loss, 5), **{k: round(v, 5) for k, v in metrics.items()}}


def train_classifier(net, tokenizer, train: TrainingSplit, *, n_classes: int,
                     dev: TrainingSplit | None = None, epochs: float = 3.0, lr: float = 5e-5,
                     batch_size: int = 16, max_length: int = 128, warmup: float = 0.1,
                     weight_decay: float = 0.01, class_weight: np.ndarray | None = None,
                     patience: int | None = 2, eval_every: int | None = None,
                     max_seconds: float | None = None, metric: str = "accuracy", seed: int = 0,
                     bf16: bool | None = None, distill: float = 0.0, adversarial: float = 0.0,
                     average: float = 0.0, rdrop: float = 0.0, layer_decay: float = 1.0,
                     progress: Callable[[dict], None] | None = None) -> TrainingReport:
    """Fine-tune ``net`` in place on ``train``; returns what happened.

    ``eval_every`` steps (default: once per epoch) the dev split is scored; training stops after
    ``patience`` evaluations without a better ``metric`` (ties go to the lower dev loss), and
    the best weights are put back. ``progress`` receives a dict after every step. ``bf16``
    runs the training steps' matrix products in bfloat16 (see :func:`shopmind.torch_utils.use_bf16`;
    the loss, weights and optimizer state stay float32). With ``train.soft`` (a teacher's
    probabilities) the loss is ``(1 - distill)`` × cross-entropy with the labels + ``distill`` ×
    cross-entropy with the teacher's probabilities. ``adversarial`` > 0 also learns every batch
    with its word embeddings perturbed that far against the model
    (:func:`shopmind.finetune.adversarial.adversarial_backward`).

    ``rdrop`` > 0 (R-Drop) runs every batch through the network twice, under two dropout masks,
    and adds ``rdrop`` × the symmetric KL divergence between the two predictions to their mean
    cross-entropy: the model learns to answer the same whichever units dropout removes.

    ``layer_decay`` < 1 scales each encoder layer's learning rate by that factor per layer below
    the head (the embeddings lowest): general features low in the network change least.

    ``average`` > 0 keeps an exponential moving average of the weights spanning about that many
    epochs, and it — not the weights of the last step — is what the dev split scores and what is
    kept: early stopping halts while the learning rate is still high, where a single step's
    weights swing with the batch just seen.
    """
    torch, _ = torch_and_transformers()
    device = next(net.parameters()).device
    rng = np.random.default_rng(seed)
    weight = None if class_weight is None else torch.tensor(class_weight, dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    loss_on_device = torch.nn.CrossEntropyLoss(
        weight=None if weight is None else weight.to(device))
    lengths = input_lengths(train.texts, train.pairs)
    steps_per_epoch = math.ceil(len(train.texts) / batch_size)
    budget = Budget(int(round(epochs * steps_per_epoch)), max_seconds, warmup)
    trainable = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW(_param_groups(trainable, weight_decay, layer_decay), lr=lr)
    target = torch.from_numpy(np.asarray(train.y, dtype=np.int64))
    soft = None if train.soft is None or not distill else \
        torch.from_numpy(np.asarray(train.soft, dtype=np.float32))
    report = TrainingReport(bf16=use_bf16(bf16, device))
    best: tuple | None = None
    best_state: dict | None = None
    evals_since_best = 0
    averaged = WeightAverage(trainable, average * steps_per_epoch) if average else None

    def evaluate(step: int, epoch: float) -> bool:
        """Scores the dev split; True when patience is exhausted."""
        nonlocal best, best_state, evals_since_best
        with averaged.applied() if averaged else nullcontext():
            scores = _evaluate(net, tokenizer, dev, batch_size * 2, max_length, loss_fn)
            key = (scores[metric], -scores["loss"])
            improved = best is None or key > best
            if improved:  # the weights just scored: the average's, when there is one
                best_state = _snapshot(trainable)
        report.dev_history.append({"step": step, "epoch": round(epoch, 3), **scores})
        if improved:
            best, evals_since_best, report.best_step = key, 0, step
        else:
            evals_since_best += 1
        return patience is not None and evals_since_best >= patience

    def loss_of(batch: dict, rows) -> object:
        with bf16_autocast(report.bf16, device):
            logits = net(**batch).logits.float()
        y = target[rows].to(device)
        loss = loss_on_device(logits, y)
        if rdrop:
            with bf16_autocast(report.bf16, device):
                again = net(**batch).logits.float()
            loss = (loss + loss_on_device(again, y)) / 2 + rdrop * _symmetric_kl(logits, again)
        if soft is None:
            return loss
        teacher = -(soft[rows].to(device) * torch.log_softmax(logits, dim=1))
        return (1 - distill) * loss + distill * teacher.sum(dim=1).mean()

    step = 0
    net.train()
    stop = False
    while not stop and not budget.done(step):
        started, losses = time.perf_counter(), []
        for rows in length_batches(lengths, batch_size, rng):
            if budget.done(step):
                break
            rate = lr * budget.lr_factor(step)
            for group in opt.param_groups:
                group["lr"] = rate * group["lr_scale"]
            batch = {k: v.to(device) for k, v in
                     tokenize_rows(tokenizer, train.texts, train.pairs, rows, max_length).items()}
            batch_loss = partial(loss_of, batch, rows)
            if adversarial:
                loss = adversarial_backward(net, batch_loss, adversarial)
            else:
                loss = batch_loss()
                loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in trainable], 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            if averaged:
                averaged.update()
            losses.append(loss.item())
            step += 1
            if progress is not None:
                progress({"step": step, "total": budget.total_steps,
                          "progress": budget.progress(step), "loss": losses[-1],
                          "lr": rate})
            if dev is not None and eval_every and step % eval_every == 0:
                if evaluate(step, step / steps_per_epoch):
                    stop = True
                    break
        report.epoch_seconds.append(time.perf_counter() - started)
        report.loss_curve.append(float(np.mean(losses)) if losses else float("nan"))
        at_epoch_end = not eval_every and not stop
        if dev is not None and at_epoch_end and evaluate(step, step / steps_per_epoch):
            stop = True
    if dev is not None and (not report.dev_history or report.dev_history[-1]["step"] != step):
        evaluate(step, step / steps_per_epoch)
    if stop:
        report.stopped_by = "early stopping"
    elif budget.max_seconds and budget.elapsed() >= budget.max_seconds:
        report.stopped_by = "time budget"
    if best_state is None and averaged:
        best_state = averaged.values
    if best_state is not None:
        _load(trainable, best_state)
    net.eval()
    report.steps, report.seconds = step, budget.elapsed()
    return report
