"""Device selection with a clear message when cuda is requested but absent."""

from __future__ import annotations

import torch

from ebm_explorer.core.errors import UserInputError


def cuda_available() -> bool:
    return torch.cuda.is_available()


def resolve_device(name: str | torch.device | None) -> torch.device:
    """Turn ``"cpu"``/``"cuda"``/``None`` into a device, refusing cuda when no GPU is present."""
    if name is None:
        return torch.device("cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserInputError("cuda requested but no CUDA GPU is available (use --device cpu)")
    if dev.type not in ("cpu", "cuda"):
        raise UserInputError(f"unsupported device {str(name)!r}: use cpu or cuda")
    return dev


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator on ``device`` seeded with ``seed``: the only source of randomness in a run."""
    gen = torch.Generator(device=torch.device(device))
    gen.manual_seed(int(seed))
    return gen
