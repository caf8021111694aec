"""A classifier that reads an encoder the way sentence-transformers are trained to be read:
the token states averaged under the attention mask, then dropout and one linear layer.

``AutoModelForSequenceClassification`` reads the ``[CLS]`` token through the checkpoint's
pooler instead. The packaged MiniLM (all-MiniLM-L6-v2) was trained with mean pooling: its
``[CLS]`` state and pooler were not trained to carry the sentence, and a few thousand labelled
rows teach them little. On SemEval-14 aspect polarity (LoRA, seeds 0 and 1, same dev rows)
mean pooling scored restaurants 0.819 / 0.807 against 0.799 / 0.805 through the pooler, laptops
0.773 / 0.746 against 0.746 / 0.773; five mean-pooled models averaged: 0.8223 / 0.7743 (≤ 10
epochs), 0.8268 / 0.7759 (≤ 15), up from three pooler-read ones' 0.8098 / 0.7586.

With ``pair=True`` the head also reads the mean of the second text's tokens (``token_type_ids``
1: the aspect term of a (sentence, term) pair), beside the mean of all: through attention those
states have read the sentence *for that term*, which a mean over the whole pair blurs when a
sentence speaks of two aspects (the idea of target pooling, TD-BERT, Gao et al. 2019). A single
text has no second segment; its pair mean is the mean of all again. On the packaged MiniLM it did
not pay where we measured it (``benchmarks/aspect_recipes.py``, SemEval-14 dev splits, 3 models
averaged, every weight at 1e-4): laptops 0.7966 against 0.8052 for the plain mean, restaurants
0.8081 against 0.8137; with patience 3 instead of 2, laptops 0.7966 and restaurants 0.8395 — a
gain on one set only, by three models — so the aspect-term recipe keeps ``"mean"``. Those dev
splits held pairs, whose sentences were trained on under other aspects (which rewards reading
the sentence, not the term); with folds of whole sentences and the R-Drop recipe it still did not
pay: laptops 3-fold out of fold 0.7603 against 0.7663 (``aspect-recipes-cv-laptops.json``).

A saved one is the encoder's own directory (``save_pretrained``: full weights, or the LoRA
adapter) plus :data:`HEAD_FILE`, the linear layer.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel
from transformers.modeling_outputs import SequenceClassifierOutput

__all__ = ["MeanPooledClassifier", "load_encoder", "HEAD_FILE"]

HEAD_FILE = "mean_pooled_head.safetensors"


def load_encoder(path: str):
    """The bare encoder at ``path`` in float32 (whatever the checkpoint stores), without a
    pooler where the architecture lets us leave it out (it would be computed and never read)."""
    try:
        return AutoModel.from_pretrained(path, add_pooling_layer=False, dtype=torch.float32)
    except TypeError:  # an architecture without the option
        return AutoModel.from_pretrained(path, dtype=torch.float32)


class MeanPooledClassifier(torch.nn.Module):
    """``encoder`` (a transformers model, or a peft-wrapped one) + a mean-pooled linear head.

    Called like a transformers sequence classifier: ``net(input_ids=…, attention_mask=…, …)``
    returns an output whose ``logits`` are rows × classes.
    """

    def __init__(self, encoder, n_classes: int, dropout: float = 0.1, pair: bool = False):
        super().__init__()
        self.encoder = encoder
        self.pair = pair
        self.dropout = torch.nn.Dropout(dropout)
        width = encoder.config.hidden_size * (2 if pair else 1)
        self.classifier = torch.nn.Linear(width, n_classes)

    @property
    def config(self):
        return self.encoder.config

    def get_input_embeddings(self):
        return self.encoder.get_input_embeddings()

    def forward(self, input_ids, attention_mask, **inputs):
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              **inputs).last_hidden_state
        pooled = _masked_mean(states, attention_mask)
        if self.pair:
            segment = inputs.get("token_type_ids")
            second = attention_mask if segment is None else attention_mask * segment
            # a row without a second text reads the mean of all twice
            second = torch.where(second.sum(dim=1, keepdim=True) > 0, second, attention_mask)
            pooled = torch.cat([pooled, _masked_mean(states, second)], dim=1)
        return SequenceClassifierOutput(logits=self.classifier(self.dropout(pooled)))

    def save_pretrained(self, path: str | Path) -> None:
        self.encoder.save_pretrained(path)
        save_file({k: v.detach().contiguous().cpu() for k, v in self.classifier.state_dict().items()},
                  str(Path(path) / HEAD_FILE))

    def load_head(self, path: str | Path) -> MeanPooledClassifier:
        self.classifier.load_state_dict(load_file(str(Path(path) / HEAD_FILE)))
        return self

    def with_encoder(self, encoder) -> MeanPooledClassifier:
        """A copy of this classifier (same head weights) around another encoder."""
        twin = MeanPooledClassifier(encoder, self.classifier.out_features, self.dropout.p,
                                    self.pair)
        twin.classifier = copy.deepcopy(self.classifier)
        return twin


def _masked_mean(states, mask):
    weights = mask.unsqueeze(-1).to(states.dtype)
    return (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
