"""Training cost per iteration: CD, PCD and Jarzynski (ULA) at 10^4 walkers, cpu and cuda.

The baseline is a line-by-line torch port of the authors' loop (GMM.py ``stat()``, docs/algorithms.md §5,
d = 2) run in the same process: its ``U``/``dUdx``/``dUda``/``dUdz`` einsum formulas, ``logalpha1``
(which re-evaluates ``U`` and ``dUdx`` four times per step) and ``multinomial(exp(logw))``.
Our trainer is timed without and with the exact grid diagnostics (128 x 128) of every iteration.

    python bench/bench_training.py [--iterations 300] [--walkers 10000] [--out bench/bench_training.json]
    python bench/bench_training.py --methods jarzynski --iterations 8000 --no-grid   # the issue-6 figure
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import torch

from ebm_explorer.core.devices import make_generator
from ebm_explorer.core.training.diagnostics import GridDiagnostics
from ebm_explorer.core.training.experiment import ModeWeightSettings, mode_weight_target
from ebm_explorer.core.training.data import sample_mixture
from ebm_explorer.core.training.models import MixtureEnergy
from ebm_explorer.core.run_settings import TrainSettings
from ebm_explorer.core.training.trainer import Trainer


#: our method names and the authors' ``algo`` codes in GMM.py
METHODS = {"jarzynski": 0, "pcd": 1, "cd": 2}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def authors_loop(algo: int, n_iter: int, n_walk: int, device: torch.device) -> float:
    """GMM.py ``stat()`` for one run (algo 0 Jarzynski, 1 PCD, 2 CD), d = 2: returns iterations/s."""
    dim, dt, n_studs = 2, 0.1, 2
    abdt, zdt = 0.0025, 0.0125
    g = torch.Generator(device=device).manual_seed(0)
    sdt = math.sqrt(2 * dt)

    def rho(z, a, x):
        return torch.sum(torch.exp(-0.5 * torch.linalg.vector_norm(x.unsqueeze(1) - a, axis=-1) ** 2 - z), axis=-1)

    def U(z, a, x):
        return -torch.log(rho(z, a, x))

    def dUdx(z, a, x):
        e = torch.exp(-0.5 * torch.linalg.vector_norm(x.unsqueeze(1) - a, axis=-1) ** 2 - z)
        return x - (torch.einsum("ij,jk->ki", e, a) / rho(z, a, x)).transpose(0, 1)

    def dUda(z, a, x):
        e = torch.exp(-0.5 * torch.linalg.vector_norm(x.unsqueeze(1) - a, axis=-1) ** 2 - z)
        return torch.einsum("ij,ijk->jki", e, a - x.unsqueeze(1)) / rho(z, a, x)

    def dUdz(z, a, x):
        return torch.exp(-0.5 * torch.linalg.vector_norm(x.unsqueeze(1) - a, axis=-1) ** 2 - z).transpose(0, 1) / rho(z, a, x)

    def logalpha1(x, y, z, a):
        return U(z, a, x) + 0.5 * torch.sum((y - x) * dUdx(z, a, x), axis=-1) + 0.25 * dt * torch.sum(dUdx(z, a, x) ** 2, axis=-1)

    kw = dict(device=device, dtype=torch.float64)
    a0 = torch.zeros((2, dim), **kw)
    a0[0, 0], a0[1, 0] = -10, 6
    x0 = torch.cat([a0[0] + torch.randn((2500, dim), generator=g, **kw), a0[1] + torch.randn((7500, dim), generator=g, **kw)])
    ones = torch.ones(x0.shape[0], **kw)
    a = torch.zeros((n_iter, n_studs, dim), **kw)
    a[0] = 0.01 * torch.randn((n_studs, dim), generator=g, **kw)
    a[0, 0, 0], a[0, 1, 0] = -0.1, 0.1
    z = torch.zeros((n_iter, n_studs), **kw)
    zloc = torch.full((n_studs,), zdt * (10 if algo == 2 else 1), **kw)
    zloc[0] = 0
    aloc = abdt * (10 if algo == 2 else 1)
    cnorm = (2 * math.pi) ** (dim / 2)
    if algo == 0:
        logw = torch.zeros(n_walk, **kw)
        x = torch.cat([a[0, 0] + torch.randn((n_walk // 2, dim), generator=g, **kw),
                       a[0, 1] + torch.randn((n_walk - n_walk // 2, dim), generator=g, **kw)])
    else:
        x = x0[torch.multinomial(ones, n_walk, replacement=True, generator=g)]
    logz = torch.zeros(n_iter, **kw)
    logz[0] = math.log(cnorm * 2)
    logz0 = logz[0].clone()
    c0 = -torch.mean(U(torch.tensor([0.0, -math.log(3)], **kw), a0, x0)) - math.log(cnorm * 4 / 3)
    ce = torch.zeros(n_iter, **kw)
    _sync(device)
    start = time.perf_counter()
    for i in range(n_iter - 1):
        dUai, dUzi = dUda(z[i], a[i], x), dUdz(z[i], a[i], x)
        dUai0, dUzi0 = dUda(z[i], a[i], x0), dUdz(z[i], a[i], x0)
        if algo == 0:
            varian = (2 * logw).exp().mean() / (logw.exp().mean()) ** 2 - 1
            ppi = torch.exp(logw) / torch.sum(torch.exp(logw))
            a[i + 1] = a[i] + aloc * (torch.sum(dUai * ppi, axis=-1) - torch.mean(dUai0, axis=-1))
            z[i + 1] = z[i] + zloc * (torch.sum(dUzi * ppi, axis=-1) - torch.mean(dUzi0, axis=-1))
            xo = x
            x = x - dt * dUdx(z[i], a[i], x) + sdt * torch.randn(x.shape, generator=g, **kw)
            logw = logw - logalpha1(x, xo, z[i + 1], a[i + 1]) + logalpha1(xo, x, z[i], a[i])
            logz[i + 1] = logz0 + torch.log(torch.mean(torch.exp(logw)))
            if varian > 0.2:
                x = x[torch.multinomial(logw.exp(), n_walk, replacement=True, generator=g)]
                logw = logw * 0
                logz0 = logz[i + 1]
        else:
            a[i + 1] = a[i] + aloc * (torch.mean(dUai, axis=-1) - torch.mean(dUai0, axis=-1))
            z[i + 1] = z[i] + zloc * (torch.mean(dUzi, axis=-1) - torch.mean(dUzi0, axis=-1))
            x = x - dt * dUdx(z[i], a[i], x) + sdt * torch.randn(x.shape, generator=g, **kw)
            if algo == 2 and i % 4 == 0:
                x = x0[torch.multinomial(ones, n_walk, replacement=True, generator=g)]
        ce[i + 1] = torch.log(cnorm * torch.sum(torch.exp(-z[i + 1]))) + torch.mean(U(z[i + 1], a[i + 1], x0)) + c0
    _sync(device)
    return (n_iter - 1) / (time.perf_counter() - start)


def ours(method: str, n_iter: int, n_walk: int, device: torch.device, with_grid: bool) -> float:
    settings = ModeWeightSettings(walkers=n_walk)
    target = mode_weight_target(settings)
    gen = make_generator(0, device)
    data = sample_mixture(target, settings.data_size, make_generator(0), stratified=True)
    model = MixtureEnergy([[-0.1, 0.0], [0.1, 0.0]], learn_widths=False, freeze_first_z=True, box=target.box,
                          device=device)
    f = 10.0 if method == "cd" else 1.0
    cfg = TrainSettings(method=method, walkers=n_walk, step_size=0.1, lr=0.0025 * f,
                        cd_reset=4 if method == "cd" else 1, resample_threshold=1 / 1.2, resample_scheme="multinomial")
    diag = GridDiagnostics(target.box, target, 128, device=device) if with_grid else None
    trainer = Trainer(model, data, cfg, diag, generator=gen, stratified_init=True,
                      group_lr=(("means", 0.0025 * f), ("z", 0.0125 * f)))
    for _ in range(5):  # warm-up
        trainer.step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(n_iter):
        trainer.step()
    _sync(device)
    return n_iter / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--walkers", type=int, default=10_000)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--no-grid", action="store_true", help="skip the timing with grid diagnostics")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--out", default=str(Path(__file__).with_suffix(".json")))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    results: dict = {"walkers": args.walkers, "iterations": args.iterations, "torch": torch.__version__,
                     "threads": torch.get_num_threads(), "machine": platform.processor() or platform.machine(),
                     "devices": {}}
    for dev in devices:
        rows = {}
        for method in args.methods:
            base = authors_loop(METHODS[method], args.iterations + 1, args.walkers, dev)
            fast = ours(method, args.iterations, args.walkers, dev, with_grid=False)
            row = rows[method] = {"authors_it_s": base, "ours_it_s": fast, "speedup": fast / base}
            line = f"{dev.type:4s} {method:9s}: authors' loop {base:7.1f} it/s | ours {fast:7.1f} it/s (x{fast / base:.2f})"
            if not args.no_grid:
                grid = ours(method, args.iterations, args.walkers, dev, with_grid=True)
                row.update(ours_with_grid_it_s=grid, speedup_with_grid=grid / base)
                line += f" | ours + 128^2 grid diagnostics {grid:7.1f} it/s (x{grid / base:.2f})"
            print(line, flush=True)
        results["devices"][dev.type] = rows
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
