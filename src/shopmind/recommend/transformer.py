"""The self-attentive sequence encoder of SASRec (Kang & McAuley 2018) as a torch module.

Sequences are right-padded with token 0 (item index ``i`` is token ``i + 1``). With a causal
mask, a real position only ever attends to earlier real positions, so padding needs no key
mask and can never produce an all-masked (NaN) attention row. Positions are counted back from
the newest item, which is what SASRec's left-padded fixed window amounts to, and lets every
batch be padded only to its own longest sequence.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SASRecNet"]


class _Block(nn.Module):
    """Pre-norm transformer block: causal self-attention, then a position-wise feed-forward."""

    def __init__(self, hidden: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.dropout_p = dropout
        self.attention_norm = nn.LayerNorm(hidden)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.attention_out = nn.Linear(hidden, hidden)
        self.ffn_norm = nn.LayerNorm(hidden)
        self.ffn = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, hidden))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape
        q, k, v = (self.qkv(self.attention_norm(x))
                   .view(batch, length, 3, self.heads, hidden // self.heads)
                   .permute(2, 0, 3, 1, 4))
        attended = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout_p if self.training else 0.0)
        x = x + self.dropout(self.attention_out(attended.transpose(1, 2).reshape(x.shape)))
        return x + self.dropout(self.ffn(self.ffn_norm(x)))

    def forward_last(self, x: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        """(batch × hidden): the block's output at position ``last`` of each row only, for
        inference. Every position still gives its key and value, but the query, the output
        projection and the feed-forward run once per row: ~3× less work than ``forward``."""
        batch, length, hidden = x.shape
        shape = (batch, -1, self.heads, hidden // self.heads)
        rows = torch.arange(batch, device=x.device)
        normed = self.attention_norm(x)
        weight, bias = self.qkv.weight, self.qkv.bias
        q = F.linear(normed[rows, last], weight[:hidden], bias[:hidden]).view(shape)
        k, v = (F.linear(normed, weight[hidden:], bias[hidden:])
                .view(batch, length, 2, self.heads, hidden // self.heads).permute(2, 0, 3, 1, 4))
        visible = torch.arange(length, device=x.device)[None, :] <= last[:, None]  # causal
        attended = F.scaled_dot_product_attention(q.transpose(1, 2), k, v,
                                                  attn_mask=visible[:, None, None, :])
        out = x[rows, last] + self.attention_out(attended.reshape(batch, hidden))
        return out + self.ffn(self.ffn_norm(out))


class SASRecNet(nn.Module):
    """Item + position embeddings, ``blocks`` causal transformer blocks, a final norm.

    The output at each position is a query vector; an item's score is its dot product with
    the item's own input embedding (tied weights, as in SASRec). With ``text_dim`` the item
    embedding is its ID embedding plus a learned projection of fixed text vectors (the
    ``text_vectors`` buffer), so an item with few events still has a meaningful vector.
    """

    def __init__(self, n_items: int, hidden: int, blocks: int, heads: int, max_len: int,
                 dropout: float, text_dim: int = 0):
        super().__init__()
        if hidden % heads:
            raise ValueError(f"hidden ({hidden}) must be a multiple of heads ({heads})")
        self.hidden = hidden
        self.item_embedding = nn.Embedding(n_items + 1, hidden, padding_idx=0)
        self.position_embedding = nn.Embedding(max_len, hidden)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(_Block(hidden, heads, dropout) for _ in range(blocks))
        self.norm = nn.LayerNorm(hidden)
        # Small initial embeddings (as SASRec's xavier init): with unit-variance rows the
        # initial logits are large and the first epochs are spent undoing them.
        for table in (self.item_embedding.weight, self.position_embedding.weight):
            nn.init.xavier_normal_(table)
        with torch.no_grad():
            self.item_embedding.weight[0].zero_()
        self.text_projection = None
        if text_dim:
            self.register_buffer("text_vectors", torch.zeros(n_items, text_dim))
            # Per item, how much of its ID embedding counts (1 by default; SASRec's
            # ``id_shrinkage`` lowers it for items with few training events).
            self.register_buffer("id_gate", torch.ones(n_items + 1))
            self.text_projection = nn.Linear(text_dim, hidden, bias=False)
            nn.init.xavier_normal_(self.text_projection.weight)

    def embeddings(self) -> torch.Tensor:
        """((n_items + 1) × hidden) item embeddings, row 0 (padding) all zero."""
        table = self.item_embedding.weight
        if self.text_projection is None:
            return table
        table = table * self.id_gate[:, None]
        text = self.text_projection(self.text_vectors)
        return table + F.pad(text, (0, 0, 1, 0))

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor,
                embeddings: torch.Tensor | None = None) -> torch.Tensor:
        """(batch × length × hidden) outputs for right-padded ``tokens``; pass
        ``embeddings()`` when it is also needed for the logits, to compute it once."""
        x = self._inputs(tokens, lengths, embeddings)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)

    def forward_last(self, tokens: torch.Tensor, lengths: torch.Tensor,
                     embeddings: torch.Tensor | None = None) -> torch.Tensor:
        """(batch × hidden): ``forward``'s output at each sequence's newest item only — the
        query a recommendation is scored with — computed without the other positions' queries
        in the last block (inference only)."""
        x = self._inputs(tokens, lengths, embeddings)
        for block in self.blocks[:-1]:
            x = block(x)
        return self.norm(self.blocks[-1].forward_last(x, (lengths - 1).clamp(min=0)))

    def _inputs(self, tokens: torch.Tensor, lengths: torch.Tensor,
                embeddings: torch.Tensor | None) -> torch.Tensor:
        embeddings = self.embeddings() if embeddings is None else embeddings
        width = tokens.shape[1]
        back = lengths[:, None] - 1 - torch.arange(width, device=tokens.device)[None, :]
        x = (embeddings[tokens] * math.sqrt(self.hidden)
             + self.position_embedding(back.clamp(min=0)))
        return self.dropout(x) * (tokens > 0).unsqueeze(-1)
