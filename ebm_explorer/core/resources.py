"""Memory and device limits, checked before a run allocates, so a huge request fails with advice.

Nothing here imports Qt. ``psutil`` is not a dependency: free memory comes from ``/proc/meminfo``
(``MemAvailable``) or ``os.sysconf``, and for CUDA from ``torch.cuda.mem_get_info``.
"""

from __future__ import annotations

import os

import torch

from ebm_explorer.core.errors import UserInputError

__all__ = [
    "BYTES_PER_WALKER_VALUE",
    "available_memory_bytes",
    "estimate_walker_bytes",
    "check_walker_memory",
    "is_out_of_memory",
    "out_of_memory_message",
    "device_with_fallback",
    "format_bytes",
]

#: per walker a sampler step holds position, energy, gradient, proposal, noise, momentum and the
#: energy function's temporaries (a mixture's (N, M, 2) differences): about this many values each
BYTES_PER_WALKER_VALUE = 96
#: refuse a run whose estimate exceeds this fraction of the free memory (the OS, Qt and torch need the rest)
MEMORY_FRACTION = 0.6


def format_bytes(n: float) -> str:
    """``1.5 GB``-style text (decimal units, as users read them)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def _proc_meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def available_memory_bytes(device: torch.device | str = "cpu") -> int | None:
    """Free memory on ``device`` in bytes, or None where it cannot be known."""
    dev = torch.device(device)
    if dev.type == "cuda":
        try:
            free, _total = torch.cuda.mem_get_info(dev)
            return int(free)
        except (RuntimeError, AssertionError):
            return None
    avail = _proc_meminfo_available()
    if avail is not None:
        return avail
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def estimate_walker_bytes(n_walkers: int, dtype: torch.dtype | str = torch.float32, extra_per_walker: int = 0) -> int:
    """Rough peak memory of a run with ``n_walkers`` walkers (sampler step plus display copies)."""
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype)
    itemsize = torch.empty((), dtype=dtype).element_size()
    return int(n_walkers) * (BYTES_PER_WALKER_VALUE * itemsize + int(extra_per_walker))


def _suggest(n_walkers: int, per_walker: float, budget: float) -> int:
    """The largest power of ten of walkers that fits ``budget`` (at least 1)."""
    fit = max(1.0, budget / max(per_walker, 1.0))
    k = 1
    while k * 10 <= fit and k * 10 < n_walkers:
        k *= 10
    return k


def check_walker_memory(n_walkers: int, device: torch.device | str = "cpu", dtype: torch.dtype | str = torch.float32,
                        extra_per_walker: int = 0, available: int | None = None) -> int:
    """Refuse (UserInputError with a suggestion) when ``n_walkers`` cannot fit; returns the estimate."""
    need = estimate_walker_bytes(n_walkers, dtype, extra_per_walker)
    avail = available_memory_bytes(device) if available is None else available
    if avail is not None and need > MEMORY_FRACTION * avail:
        dev = torch.device(device).type
        k = _suggest(n_walkers, need / max(n_walkers, 1), MEMORY_FRACTION * avail)
        raise UserInputError(
            f"{n_walkers:.3g} walkers need ~{format_bytes(need)} but {dev} has {format_bytes(avail)} free: "
            f"try {k:.0e} walkers".replace("e+0", "e"))
    return need


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CPU and CUDA allocation failures (torch raises several kinds)."""
    if isinstance(exc, MemoryError):
        return True
    oom = getattr(torch, "OutOfMemoryError", None)
    if oom is not None and isinstance(exc, oom):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(
        s in text for s in ("out of memory", "not enough memory", "can't allocate memory", "defaultcpuallocator"))


def out_of_memory_message(exc: BaseException, n_walkers: int | None = None, device: str = "cpu") -> str:
    """What the user sees after an allocation failure: what happened and how many walkers to try."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if n_walkers:
        avail = available_memory_bytes(device)
        need = estimate_walker_bytes(n_walkers)
        k = _suggest(n_walkers, need / n_walkers, MEMORY_FRACTION * avail) if avail else max(1, n_walkers // 10)
        return (f"out of memory on {device} with {n_walkers:,} walkers (~{format_bytes(need)} needed): "
                f"try {k:,} walkers ({first[:120]})")
    return f"out of memory: use fewer walkers ({first[:120]})"


def device_with_fallback(name: str | torch.device | None) -> tuple[torch.device, str | None]:
    """The device to use and a notice when cuda was asked for but is absent (the GUI falls back to cpu;
    the CLI keeps refusing through :func:`ebm_explorer.core.devices.resolve_device`)."""
    dev = torch.device("cpu" if name is None else name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        return torch.device("cpu"), "cuda requested but no CUDA GPU is available: running on cpu instead"
    if dev.type not in ("cpu", "cuda"):
        raise UserInputError(f"unsupported device {str(name)!r}: use cpu or cuda")
    return dev, None
