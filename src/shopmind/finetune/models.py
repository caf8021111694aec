"""Where encoders come from and where they run: model paths, torch, devices, parameter counts.

Model hubs are unreachable here, so a model is either the packaged MiniLM (by its package name)
or a local Hugging Face model directory — one saved by ``save_pretrained``, a classifier this
package fine-tuned, or an encoder :mod:`~shopmind.finetune.pretrain` trained from scratch.
"""

from __future__ import annotations

import os
from pathlib import Path

from shopmind.errors import ConfigError, MissingDependencyError
from shopmind.text.encoders import PACKAGED_MINILM, PACKAGED_MODELS, packaged_model_path

__all__ = ["PACKAGED_MINILM", "resolve_model_path", "load_tokenizer", "torch_and_transformers",
           "pick_device", "count_parameters", "load_sequence_classifier", "load_classifier",
           "load_saved_classifier", "POOLINGS"]

POOLINGS = ("cls", "mean", "mean+pair")
"""How a classifier reads the encoder: ``"cls"`` — the model's own sequence-classification head
(the ``[CLS]`` state through its pooler); ``"mean"`` — the token states averaged
(:class:`~shopmind.finetune.pooled.MeanPooledClassifier`); ``"mean+pair"`` — that and, beside
it, the mean of the second text's states (for sentence pairs such as (sentence, aspect term))."""


def resolve_model_path(model: str | os.PathLike) -> str:
    """The local directory of ``model``: a packaged encoder by name, or a model directory."""
    model = str(model)
    packaged = packaged_model_path(model)
    if packaged is not None:
        return str(packaged)
    if not Path(model).is_dir():
        raise ConfigError(f"model {model!r} is neither one of {PACKAGED_MODELS} nor a local model "
                          f"directory; model hubs are not used here, so pass the folder of a "
                          f"saved model (e.g. one `shopmind pretrain` wrote)")
    if not (Path(model) / "config.json").is_file():
        raise ConfigError(f"{model} is not a Hugging Face model directory (config.json is "
                          f"missing)")
    return model


def load_tokenizer(model: str | os.PathLike):
    """The tokenizer of ``model`` (as :func:`resolve_model_path` finds it)."""
    return torch_and_transformers()[1].AutoTokenizer.from_pretrained(resolve_model_path(model))


def torch_and_transformers():
    """Both modules, imported on first use (they take seconds to import)."""
    try:
        import torch
        import transformers
    except ImportError as exc:  # pragma: no cover - both are core dependencies
        raise MissingDependencyError("transformers", "Fine-tuning") from exc
    # never try to reach a model hub: everything is local here
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()  # no bars on every save_pretrained
    return torch, transformers


def pick_device(device: str | None = None):
    """``device`` as given, else CUDA when present, else the CPU."""
    torch, _ = torch_and_transformers()
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


def count_parameters(net) -> tuple[int, int]:
    """(trainable, total) parameter counts of a torch module."""
    trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in net.parameters())


def load_sequence_classifier(path: str, num_labels: int):
    """A sequence-classification model from ``path`` and the modules it had to initialise.

    Its weights are float32 whatever the checkpoint stores (a float16 one: trained and
    run in float32 here, see ``FineTunedClassifier``'s ``save_dtype``).

    The second value names the modules whose weights were not in ``path`` (the new classifier
    head, and the pooler of an encoder pre-trained without one): LoRA must train and save
    those in full, or a reloaded model would start them from different random values.
    """
    torch, transformers = torch_and_transformers()
    net, info = transformers.AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=num_labels, output_loading_info=True, dtype=torch.float32)
    fresh = sorted({key.rsplit(".", 1)[0] for key in info.get("missing_keys", [])})
    return net, fresh


def load_classifier(path: str, num_labels: int, pooling: str = "cls"):
    """A classifier over the encoder at ``path`` pooled as ``pooling`` (see :data:`POOLINGS`),
    and the modules it had to initialise (as :func:`load_sequence_classifier`)."""
    if pooling not in POOLINGS:
        raise ConfigError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
    if pooling == "cls":
        return load_sequence_classifier(path, num_labels)
    torch_and_transformers()  # first: it keeps transformers off the model hub
    from shopmind.finetune.pooled import MeanPooledClassifier, load_encoder

    return (MeanPooledClassifier(load_encoder(path), num_labels, pair=pooling == "mean+pair"),
            ["classifier"])


def load_saved_classifier(path: str, num_labels: int, pooling: str = "cls"):
    """A classifier saved whole (not as an adapter) by :class:`FineTunedClassifier`."""
    if pooling == "cls":
        torch, transformers = torch_and_transformers()
        return transformers.AutoModelForSequenceClassification.from_pretrained(
            path, dtype=torch.float32)
    net, _ = load_classifier(path, num_labels, pooling)
    return net.load_head(path)
