"""Which torch device a verb runs on: ``None`` picks CUDA when present; an explicit ``cuda`` without a GPU is a
one-line error rather than torch's assertion deep inside ``Module.to``."""

from __future__ import annotations

__all__ = ("resolve_device",)


def resolve_device(device=None):
    """``None`` -> CUDA when available, else CPU; otherwise the given device (``"cuda"`` without a GPU, or a name
    torch does not know, is a ``ValueError``)."""
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device {device!r} is not a torch device name (use 'cpu' or 'cuda'): {err}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {str(device)!r} requested but torch sees no CUDA GPU on this machine; use --device cpu "
            "(or leave --device unset)"
        )
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {str(device)!r} is not supported; use 'cpu' or 'cuda'")
    return device
