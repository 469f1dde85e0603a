"""Walker throughput of MH / ULA / MALA / HMC against a naive eager-torch baseline, same run, same energy.

The baseline is what one writes first: a ULA step whose gradient comes from autograd of a
logsumexp 8-Gaussian-mixture energy written inline. It is compared with our ULA on the
``eight_gaussians`` preset (same mixture, analytic gradient, cached between steps). MH, MALA and HMC
are compared per gradient evaluation (HMC does L per step; MH keeps the gradient current too).

    python bench/bench_samplers.py                       # N = 1e3 ... 1e6 on cpu (+ cuda if present)
    python bench/bench_samplers.py --sizes 1e3 1e4 --steps 50 --json bench.json
    python bench/bench_samplers.py --sizes 1e5 --threads 1 --compile     # + fused (torch.compile) steps

``--landscapes`` instead compares, preset by preset, the hand-written fast gradient with the generic
autograd path of the same energy (``Landscape.energy_and_grad``) and with the naive baseline, all in
the same process, for the samplers given by ``--samplers`` (default ULA):

    python bench/bench_samplers.py --landscapes all --sizes 1e5 --threads 1 --json fast_paths.json
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from datetime import datetime, timezone
from typing import Callable

import torch

from ebm_explorer import __version__
from ebm_explorer.core.landscapes import PRESETS, Landscape, make_landscape
from ebm_explorer.core.samplers import SAMPLERS, Sampler, SamplerParams, compiled_sampler, initial_positions

STEP_SIZE = {"mh": 0.5, "ula": 0.01, "mala": 0.01, "hmc": 0.05}


def baseline_ula(landscape, device: torch.device, dtype: torch.dtype, h: float) -> Callable:
    """Eager ULA on the same mixture: energy written inline, gradient by autograd every step."""
    logw = torch.log(torch.as_tensor(landscape.weights, device=device, dtype=dtype))  # (M,)
    means = torch.as_tensor(landscape.means, device=device, dtype=dtype)  # (M, 2)
    prec = torch.linalg.inv(torch.as_tensor(landscape.covs, device=device, dtype=dtype))  # (M, 2, 2)
    log_norm = -math.log(2 * math.pi) - 0.5 * torch.logdet(torch.as_tensor(landscape.covs, device=device, dtype=dtype))

    def energy(x):
        diff = x[:, None, :] - means  # (N, M, 2)
        quad = torch.einsum("nma,mab,nmb->nm", diff, prec, diff)
        return -torch.logsumexp(logw + log_norm - 0.5 * quad, dim=1)

    def step(generator, x):
        x = x.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(energy(x).sum(), x)
        noise = torch.randn(x.shape, generator=generator, device=device, dtype=dtype)
        return (x - h * grad + math.sqrt(2 * h) * noise).detach()

    return step


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, fn: Callable[[], None], steps: int, rounds: int) -> float:
    """Best of ``rounds`` timings of ``steps`` calls: the minimum is the least disturbed by other load."""
    fn()  # warm-up: allocator, kernels, caches
    best = math.inf
    for _ in range(rounds):
        sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best


def variants(name: str, compile: bool) -> list[tuple[str, Sampler]]:
    """The eager sampler, plus its fused (torch.compile) step when asked for."""
    eager = SAMPLERS[name]
    return [(name, eager)] + ([(f"{name}+compile", compiled_sampler(eager))] if compile else [])


def bench_one(device: torch.device, dtype: torch.dtype, n: int, steps: int, leapfrog: int, rounds: int,
              compile: bool = False) -> list[dict]:
    landscape = make_landscape("eight_gaussians")
    gen = torch.Generator(device=device).manual_seed(0)
    x0 = initial_positions("gaussian", n, landscape.box, gen, device, dtype)
    rows = []

    base_step = baseline_ula(landscape, device, dtype, STEP_SIZE["ula"])
    box = {"x": x0}

    def run_base():
        box["x"] = base_step(gen, box["x"])

    secs = timed(device, run_base, steps, rounds)
    base_rate = n * steps / secs
    rows.append(dict(method="baseline-ula", steps=steps, seconds=secs, walker_steps_per_s=base_rate,
                     grad_evals_per_s=base_rate, vs_baseline=1.0))

    for name in SAMPLERS:
        params = SamplerParams(step_size=STEP_SIZE[name], leapfrog_steps=leapfrog)
        grads_per_step = leapfrog if name == "hmc" else 1
        k = max(1, math.ceil(steps / grads_per_step))  # the same number of gradient evaluations for all
        for label, sampler in variants(name, compile):
            holder = {"s": sampler.init(x0, landscape)}

            def run_ours():
                holder["s"] = sampler.step(gen, holder["s"], landscape, params)[0]

            secs = timed(device, run_ours, k, rounds)
            rate = n * k / secs
            rows.append(dict(method=label, steps=k, seconds=secs, walker_steps_per_s=rate,
                             grad_evals_per_s=rate * grads_per_step, vs_baseline=rate * grads_per_step / base_rate))
    for r in rows:
        r.update(device=str(device), n=n)
    return rows


class AutogradPath:
    """A landscape forced onto the generic path: its energy differentiated by autograd every call."""

    def __init__(self, land: Landscape) -> None:
        self.land = land

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return self.land.energy(x)

    def energy_and_grad(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return Landscape.energy_and_grad(self.land, x)


def bench_landscapes(
    device: torch.device, dtype: torch.dtype, n: int, steps: int, leapfrog: int, rounds: int,
    names: list[str], samplers: list[str], compile: bool = False,
) -> list[dict]:
    """Per preset and sampler: fast path vs autograd path vs the naive baseline, gradient evaluations/s."""
    gen = torch.Generator(device=device).manual_seed(0)
    mixture = make_landscape("eight_gaussians")
    base_step = baseline_ula(mixture, device, dtype, STEP_SIZE["ula"])
    box = {"x": initial_positions("gaussian", n, mixture.box, gen, device, dtype)}

    def run_base():
        box["x"] = base_step(gen, box["x"])

    base_rate = n * steps / timed(device, run_base, steps, rounds)
    rows = [dict(method="baseline-ula", landscape="eight_gaussians", grad_evals_per_s=base_rate)]
    for name in names:
        land = make_landscape(name)
        x0 = initial_positions("gaussian", n, land.box, gen, device, dtype)
        for sname in samplers:
            sampler = SAMPLERS[sname]
            params = SamplerParams(step_size=STEP_SIZE[sname] * land.box.width / 6.0, leapfrog_steps=leapfrog)
            grads_per_step = leapfrog if sname == "hmc" else 1
            k = max(1, math.ceil(steps / grads_per_step))
            rates = {}
            paths = [("fast", sampler, land), ("autograd", sampler, AutogradPath(land))]
            if compile:
                paths.append(("compiled", compiled_sampler(sampler), land))
            for path, smp, fn in paths:
                holder = {"s": smp.init(x0, fn)}

                def run_ours():
                    holder["s"] = smp.step(gen, holder["s"], fn, params)[0]

                rates[path] = n * k * grads_per_step / timed(device, run_ours, k, rounds)
            row = dict(
                method=sname, landscape=name, grad_evals_per_s=rates["fast"],
                autograd_grad_evals_per_s=rates["autograd"], fast_vs_autograd=rates["fast"] / rates["autograd"],
                vs_baseline=rates["fast"] / base_rate, autograd_vs_baseline=rates["autograd"] / base_rate,
            )
            if compile:
                row.update(compiled_grad_evals_per_s=rates["compiled"], compiled_vs_baseline=rates["compiled"] / base_rate)
            rows.append(row)
    for r in rows:
        r.update(device=str(device), n=n, steps=steps)
    return rows


def default_steps(n: int) -> int:
    """Enough steps to time reliably, few enough to keep the whole default run to a minute or two."""
    return int(min(50, max(3, 1e6 // n)))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e3, 1e4, 1e5, 1e6], help="walker counts N")
    ap.add_argument("--steps", type=int, default=None, help="gradient evaluations per measurement (default: by N)")
    ap.add_argument("--rounds", type=int, default=3, help="timing rounds per measurement; the best is kept")
    ap.add_argument("--leapfrog", type=int, default=5, help="HMC leapfrog steps L")
    ap.add_argument("--devices", nargs="+", default=None, help="cpu and/or cuda (default: cpu, plus cuda if present)")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--compile", action="store_true",
                    help="also time each sampler's fused step (torch.compile; compile time not counted)")
    ap.add_argument("--landscapes", nargs="+", default=None,
                    help="compare fast vs autograd path on these presets ('all' = every preset)")
    ap.add_argument("--samplers", nargs="+", default=["ula"], choices=list(SAMPLERS),
                    help="samplers for --landscapes (default: ula)")
    args = ap.parse_args(argv)
    if args.landscapes == ["all"]:
        args.landscapes = list(PRESETS)
    for name in args.landscapes or []:
        if name not in PRESETS:
            ap.error(f"unknown landscape {name!r}; presets: {', '.join(PRESETS)}")

    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    dtype = getattr(torch, args.dtype)
    rows = []
    if args.landscapes:
        print(f"{'device':6} {'N':>9} {'landscape':>22} {'sampler':>7} {'fast grad/s':>12} {'autograd/s':>11} "
              f"{'fast/autograd':>13} {'fast/baseline':>13} {'autograd/baseline':>17}"
              + (f" {'compiled/baseline':>17}" if args.compile else ""))
    else:
        print(f"{'device':6} {'N':>9} {'method':>13} {'steps':>6} {'walker-steps/s':>15} {'grad-evals/s':>13} {'x baseline':>10}")
    for dev_name in devices:
        device = torch.device(dev_name)
        if device.type == "cuda" and not torch.cuda.is_available():
            print("cuda: not available, skipped")
            continue
        for n in (int(s) for s in args.sizes):
            if args.landscapes:
                steps = args.steps or default_steps(n)
                for r in bench_landscapes(device, dtype, n, steps, args.leapfrog, args.rounds, args.landscapes, args.samplers,
                                          args.compile):
                    rows.append(r)
                    if r["method"] == "baseline-ula":
                        print(f"{r['device']:6} {n:>9} {'baseline (8 Gaussians)':>22} {'ula':>7} {r['grad_evals_per_s']:>12.3e}", flush=True)
                        continue
                    print(f"{r['device']:6} {n:>9} {r['landscape']:>22} {r['method']:>7} {r['grad_evals_per_s']:>12.3e} "
                          f"{r['autograd_grad_evals_per_s']:>11.3e} {r['fast_vs_autograd']:>13.2f} {r['vs_baseline']:>13.2f} "
                          f"{r['autograd_vs_baseline']:>17.2f}"
                          + (f" {r['compiled_vs_baseline']:>17.2f}" if args.compile else ""), flush=True)
                continue
            for r in bench_one(device, dtype, n, args.steps or default_steps(n), args.leapfrog, args.rounds, args.compile):
                rows.append(r)
                print(f"{r['device']:6} {n:>9} {r['method']:>13} {r['steps']:>6} {r['walker_steps_per_s']:>15.3e} "
                      f"{r['grad_evals_per_s']:>13.3e} {r['vs_baseline']:>10.2f}", flush=True)
    if args.json:
        meta = dict(
            version=__version__, torch=torch.__version__, dtype=args.dtype, threads=torch.get_num_threads(),
            leapfrog=args.leapfrog, rounds=args.rounds, compile=args.compile, cpu=platform.processor() or platform.machine(), python=platform.python_version(),
            cuda=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            landscapes=args.landscapes or ["eight_gaussians"], samplers=args.samplers if args.landscapes else list(SAMPLERS),
        )
        with open(args.json, "w") as fh:
            json.dump(dict(meta=meta, results=rows), fh, indent=1)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
