"""Torch helpers shared by every capability that trains a network (recommend, finetune).

torch is imported inside the functions: importing this module must stay free for code paths
(``shopmind --help``) that never train anything.
"""

from __future__ import annotations

__all__ = ["bf16_is_fast", "use_bf16", "bf16_autocast"]


def bf16_is_fast() -> bool:
    """Whether this CPU has native bfloat16 matrix units (AVX512-BF16 / AMX) for oneDNN."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def use_bf16(bf16: bool | None, device) -> bool:
    """Whether to train in bfloat16 on ``device``: as asked, else (``None``) on CUDA and on a
    CPU with bfloat16 units — elsewhere bfloat16 is emulated and slower than float32."""
    if bf16 is not None:
        return bool(bf16)
    return device.type == "cuda" or (device.type == "cpu" and bf16_is_fast())


def bf16_autocast(bf16: bool | None, device):
    """An autocast context running ``device``'s matrix products in bfloat16 when
    :func:`use_bf16` says so (weights, gradients and optimizer state stay float32)."""
    import torch

    return torch.autocast(device_type=device.type, dtype=torch.bfloat16,
                          enabled=use_bf16(bf16, device))
