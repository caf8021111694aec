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


class SASRecNet(nn.Module):
    """Item + position embeddings, ``blocks`` causal transformer blocks, a final norm.

    The output at each position is a query vector; an item's score is its dot product with
    the item's own input embedding (tied weights, as in SASRec).
    """

    def __init__(self, n_items: int, hidden: int, blocks: int, heads: int, max_len: int,
                 dropout: float):
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

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(batch × length × hidden) outputs for right-padded ``tokens``."""
        width = tokens.shape[1]
        back = lengths[:, None] - 1 - torch.arange(width, device=tokens.device)[None, :]
        x = (self.item_embedding(tokens) * math.sqrt(self.hidden)
             + self.position_embedding(back.clamp(min=0)))
        x = self.dropout(x) * (tokens > 0).unsqueeze(-1)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)

    def item_table(self) -> torch.Tensor:
        """(n_items × hidden) output embeddings, row ``i`` for item index ``i``."""
        return self.item_embedding.weight[1:]
