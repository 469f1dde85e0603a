"""Device selection with a clear message when cuda is requested but absent."""

from __future__ import annotations

import torch

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.limits import MAX_SEED, check_device_name


def cuda_available() -> bool:
    return torch.cuda.is_available()


def resolve_device(name: str | torch.device | None) -> torch.device:
    """Turn ``"cpu"``/``"cuda"``/``None`` into a device, refusing cuda when no GPU is present."""
    if name is None:
        return torch.device("cpu")
    dev = torch.device(check_device_name(str(name)))
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserInputError("cuda requested but no CUDA GPU is available (use --device cpu)")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise UserInputError(f"{dev} requested but this machine has {torch.cuda.device_count()} CUDA GPU(s)")
    return dev


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator on ``device`` seeded with ``seed``: the only source of randomness in a run."""
    gen = torch.Generator(device=torch.device(device))
    gen.manual_seed(int(seed) % (MAX_SEED + 1))  # derived seeds (seed + 1, ...) stay in torch's range
    return gen
