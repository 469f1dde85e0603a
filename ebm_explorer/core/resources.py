"""Memory and device limits, checked before a run allocates, so a huge request fails with advice.

Nothing here imports Qt. ``psutil`` is not a dependency: free memory is the smallest of
``/proc/meminfo``'s ``MemAvailable`` (or ``os.sysconf``), what the process's cgroup (v1 or v2, the
container's limit) still allows, and what ``RLIMIT_AS`` leaves of the address space; for CUDA it is
``torch.cuda.mem_get_info``. The cost of a walker includes what the landscape really keeps per point:
:func:`landscape_bytes_per_walker` measures the tensors autograd saves for one energy evaluation on a
small batch (a long formula keeps every intermediate).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ebm_explorer.core.errors import UserInputError

__all__ = [
    "BYTES_PER_WALKER_VALUE",
    "available_memory_bytes",
    "cgroup_free_bytes",
    "rlimit_as_free_bytes",
    "landscape_bytes_per_walker",
    "estimate_walker_bytes",
    "check_walker_memory",
    "check_memory",
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


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None  # "max" (v2: no limit) -> None


def cgroup_free_bytes(root: Path = Path("/sys/fs/cgroup"), self_cgroup: Path = Path("/proc/self/cgroup")) -> int | None:
    """What the process's memory cgroup still allows (limit - usage, the tightest of its ancestors), or None.

    v2: ``memory.max`` / ``memory.current`` under the unified hierarchy; v1: ``memory.limit_in_bytes`` /
    ``memory.usage_in_bytes`` under ``memory/``. A container often sees its own cgroup as the root.
    """
    try:
        lines = self_cgroup.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        lines = []
    candidates: list[tuple[Path, str, str]] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        rel = parts[2].lstrip("/")
        if parts[0] == "0" and parts[1] == "":
            base, files = root, ("memory.max", "memory.current")
        elif "memory" in parts[1].split(","):
            base, files = root / "memory", ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        folder = base / rel if rel else base
        while True:  # the cgroup and its ancestors inside the mounted hierarchy
            candidates.append((folder, *files))
            if folder == base or base not in folder.parents:
                break
            folder = folder.parent
        candidates.append((base, *files))
    best: int | None = None
    for folder, limit_name, usage_name in candidates:
        limit = _read_int(folder / limit_name)
        if limit is None or limit >= 1 << 60:  # v1 writes a huge number for "no limit"
            continue
        usage = _read_int(folder / usage_name) or 0
        free = max(0, limit - usage)
        best = free if best is None else min(best, free)
    return best


def rlimit_as_free_bytes() -> int | None:
    """Address space ``RLIMIT_AS`` still leaves this process (limit - VmSize), or None without a limit."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return None
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    used = 0
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    used = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return max(0, soft - used)


def available_memory_bytes(device: torch.device | str = "cpu") -> int | None:
    """Free memory on ``device`` in bytes (the tightest of the machine, the cgroup and RLIMIT_AS), or None."""
    dev = torch.device(device)
    if dev.type == "cuda":
        try:
            free, _total = torch.cuda.mem_get_info(dev)
            return int(free)
        except (RuntimeError, AssertionError):
            return None
    avail = _proc_meminfo_available()
    if avail is None:
        try:
            avail = int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            avail = None
    limits = [v for v in (avail, cgroup_free_bytes(), rlimit_as_free_bytes()) if v is not None]
    return min(limits) if limits else None


#: points in the batch whose autograd footprint is measured (small: the measurement must be cheap)
_PROBE_POINTS = 64


def landscape_bytes_per_walker(landscape, dtype: torch.dtype = torch.float32) -> int:  # noqa: ANN001
    """Bytes autograd keeps per walker for one energy evaluation of ``landscape`` (measured once on a
    small batch on the cpu); the per-walker cost beyond the sampler's own arrays. 0 if it cannot run."""
    box = landscape.box
    g = torch.Generator().manual_seed(0)
    u = torch.rand((_PROBE_POINTS, 2), generator=g, dtype=torch.float64)
    x = torch.stack([box.xmin + u[:, 0] * (box.xmax - box.xmin), box.ymin + u[:, 1] * (box.ymax - box.ymin)], 1)
    seen: set[tuple[int, int]] = set()
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        key = (t.data_ptr(), t.numel())
        if key not in seen:
            seen.add(key)
            total += t.numel() * t.element_size()
        return t

    try:
        with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            xr = x.to(dtype).requires_grad_(True)
            e = landscape.energy(xr)
            total += e.numel() * e.element_size()
    except Exception:  # noqa: BLE001 - a landscape that cannot run here is refused elsewhere, with its reason
        return 0
    # the backward pass holds gradient buffers about as large as the saved tensors (measured: peak RSS
    # per walker of a 1,500-character formula is 1.5x the saved bytes), so count them twice
    return int(2 * total / _PROBE_POINTS)


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
                        extra_per_walker: int = 0, available: int | None = None, landscape=None) -> int:  # noqa: ANN001
    """Refuse (UserInputError with a suggestion) when ``n_walkers`` cannot fit; returns the estimate.
    ``landscape``: add what its energy really costs per walker (:func:`landscape_bytes_per_walker`)."""
    if landscape is not None:
        dt = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        extra_per_walker += landscape_bytes_per_walker(landscape, dt)
    need = estimate_walker_bytes(n_walkers, dtype, extra_per_walker)
    avail = available_memory_bytes(device) if available is None else available
    if avail is not None and need > MEMORY_FRACTION * avail:
        dev = torch.device(device).type
        k = _suggest(n_walkers, need / max(n_walkers, 1), MEMORY_FRACTION * avail)
        raise UserInputError(
            f"{n_walkers:.3g} walkers need ~{format_bytes(need)} but {dev} has {format_bytes(avail)} free: "
            f"try {k:.0e} walkers".replace("e+0", "e"))
    return need


def check_memory(need: int, what: str, suggestion: str, device: torch.device | str = "cpu",
                 available: int | None = None) -> None:
    """Refuse ``need`` bytes (for ``what``) above the usable share of free memory, with ``suggestion``."""
    avail = available_memory_bytes(device) if available is None else available
    if avail is not None and need > MEMORY_FRACTION * avail:
        raise UserInputError(f"{what}: ~{format_bytes(need)} needed but {torch.device(device).type} has "
                             f"{format_bytes(avail)} free: {suggestion}")


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
    from ebm_explorer.core.limits import check_device_name

    dev = torch.device("cpu" if name is None else check_device_name(str(name)))
    if dev.type == "cuda" and not torch.cuda.is_available():
        return torch.device("cpu"), "cuda requested but no CUDA GPU is available: running on cpu instead"
    if dev.type not in ("cpu", "cuda"):
        raise UserInputError(f"unsupported device {str(name)!r}: use cpu or cuda")
    return dev, None
