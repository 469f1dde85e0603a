"""``ebm-explorer experiment mode-weights``: the authors' Gaussian-mixture experiment (docs/algorithms.md §5) in 2-D.

Runs CD, PCD and Jarzynski for each seed, then writes to ``--out``: ``mode_weights.csv`` and
``mode_weights.md`` (final mass of the -10 mode, exact KL, log Z estimate error, time),
``mode_weights.png`` (mass of the first mode vs iteration, true mass dashed; exact KL vs iteration)
and ``mode_weights_histories.npz`` (every ``history_*`` array, keyed by method and seed).

Ctrl-C or SIGTERM stops at the next iteration: the tables and the plot then hold the runs finished, the
npz also the shorter histories of the run under way (its meta says which and how far), exit status 130.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

from ebm_explorer import __version__
from ebm_explorer.cli.common import ranged_int, seed_int
from ebm_explorer.cli.interrupt import EXIT_INTERRUPTED, stop_on_signals
from ebm_explorer.core.atomic import atomic_open, atomic_path, save_npz_atomic
from ebm_explorer.core.safe_io import printable
from ebm_explorer.core.training.experiment import (
    TRUE_FIRST_MASS,
    ModeWeightRun,
    ModeWeightSettings,
    run_mode_weight_method,
    summarize,
)

METHODS = ("cd", "pcd", "jarzynski")
COLORS = {"cd": "tab:orange", "pcd": "tab:red", "jarzynski": "tab:blue"}
#: the columns of mode_weights.csv (one row per finished run)
FIELDS = ("method", "seed", "final_mass_first_mode", "final_basin_mass_first_mode", "final_kl_exact",
          "log_z_est_error", "resamplings", "mean_1_x", "mean_2_x", "seconds")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "experiment", help="reproduce a paper experiment (mode-weights)",
        description="Reproduce the Gaussian-mixture mode-weight experiment of Carbone et al. (NeurIPS 2023) "
                    "in 2-D: CD, PCD and Jarzynski training on two modes with masses 1/4 and 3/4 "
                    "(docs/algorithms.md §5). The full run (10^4 walkers, 8000 iterations, 3 methods) takes "
                    "minutes per seed: about 2 on 2 idle cores, 15 measured on 2 busy cores (load 18); "
                    "--iterations and --walkers make it shorter.")
    parser.add_argument("name", choices=["mode-weights"], help="which experiment")
    parser.add_argument("--out", default="experiment_mode_weights", metavar="DIR",
                        help="output folder, created if needed (default: experiment_mode_weights in the current "
                             "folder): mode_weights.csv/.md/.png and mode_weights_histories.npz")
    parser.add_argument("--seeds", nargs="+", type=seed_int, default=[0], metavar="S",
                        help="one run of each method per seed (default: 0)")
    parser.add_argument("--iterations", type=ranged_int("iterations"), default=ModeWeightSettings.iterations,
                        help=f"iterations per run (default {ModeWeightSettings.iterations})")
    parser.add_argument("--walkers", type=ranged_int("walkers"), default=ModeWeightSettings.walkers,
                        help=f"walkers (default {ModeWeightSettings.walkers})")
    parser.add_argument("--resampling", choices=["systematic", "multinomial"], default="systematic",
                        help="Jarzynski resampling scheme (default systematic; the authors' script GMM.py uses "
                             "multinomial)")
    parser.set_defaults(func=run)


def _rows(runs: list[ModeWeightRun]) -> list[dict]:
    rows = []
    for r in runs:
        h = r.history
        err = h["history_log_z_est"][-1] - h["history_log_z_exact"][-1]
        rows.append({
            "method": r.method, "seed": r.seed,
            "final_mass_first_mode": float(r.first_mass[-1]),
            "final_basin_mass_first_mode": float(h["history_mode_weights"][-1, 0]),
            "final_kl_exact": float(h["history_kl"][-1]),
            "log_z_est_error": float(err),
            "resamplings": int(h["history_resample_count"][-1]),
            "mean_1_x": float(r.final_means[0, 0]), "mean_2_x": float(r.final_means[1, 0]),
            "seconds": round(r.seconds, 2),
        })
    return rows


def _markdown(rows: list[dict], settings: ModeWeightSettings, seeds: list[int]) -> str:
    lines = [
        f"# Mode-weight experiment (2-D, {settings.iterations} iterations, {settings.walkers} walkers, seeds {seeds})",
        "",
        f"True mass of the -10 mode: {TRUE_FIRST_MASS}. Values: mean ± half-range over seeds (the error bar of the authors' script GMM.py).",
        "",
        "| method | final mass of -10 mode | final exact KL | log Z est. - exact | resamplings | s / run |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for method in METHODS:
        sel = [r for r in rows if r["method"] == method]
        if not sel:
            continue
        m, dm = summarize([r["final_mass_first_mode"] for r in sel])
        k, dk = summarize([r["final_kl_exact"] for r in sel])
        z, dz = summarize([r["log_z_est_error"] for r in sel])
        n, _ = summarize([r["resamplings"] for r in sel])
        t, _ = summarize([r["seconds"] for r in sel])
        zs = "n/a" if method != "jarzynski" else f"{z:+.4f} ± {dz:.4f}"
        lines.append(f"| {method} | {m:.4f} ± {dm:.4f} | {k:.4f} ± {dk:.4f} | {zs} | {n:.1f} | {t:.1f} |")
    lines += ["", "Per run:", "", "| method | seed | mass | KL | log Z err | resamplings | means x |",
              "|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        err = "n/a" if r["method"] != "jarzynski" else f"{r['log_z_est_error']:+.4f}"
        lines.append(f"| {r['method']} | {r['seed']} | {r['final_mass_first_mode']:.4f} | {r['final_kl_exact']:.4f} "
                     f"| {err} | {r['resamplings']} | ({r['mean_1_x']:.2f}, {r['mean_2_x']:.2f}) |")
    return "\n".join(lines) + "\n"


def _plot(runs: list[ModeWeightRun], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for method in METHODS:
        sel = [r for r in runs if r.method == method]
        for i, r in enumerate(sel):
            it = np.arange(1, len(r.first_mass) + 1)
            label = method if i == 0 else None
            ax1.plot(it, r.first_mass, color=COLORS[method], lw=1, alpha=0.8, label=label)
            kl = r.history["history_kl"]
            ok = np.isfinite(kl)
            ax2.plot(it[ok], kl[ok], color=COLORS[method], lw=1, alpha=0.8, label=label)
    ax1.axhline(TRUE_FIRST_MASS, color="k", ls="--", lw=1, label="true mass")
    ax1.set(xlabel="iteration", ylabel="mass of the -10 mode", ylim=(-0.02, 0.6), title="learned mode weight")
    ax2.set(xlabel="iteration", ylabel="KL(data || model), exact on grid", yscale="symlog", title="exact KL")
    ax2.axhline(0.0, color="k", lw=0.5)
    for ax in (ax1, ax2):
        ax.legend(frameon=False)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    settings = ModeWeightSettings(iterations=args.iterations, walkers=args.walkers, resampling=args.resampling)
    out = Path(args.out)
    runs: list[ModeWeightRun] = []
    partial: ModeWeightRun | None = None  # the run a signal stopped part-way
    with stop_on_signals() as stop:  # Ctrl-C / SIGTERM: stop at the next iteration, write what is finished
        for seed in args.seeds:
            for method in METHODS:
                if stop():
                    break
                r = run_mode_weight_method(method, seed, settings, should_stop=stop)
                if stop():
                    partial = r
                    break
                runs.append(r)
                print(f"seed {seed} {method:9s}: mass of -10 mode {r.first_mass[-1]:.4f} (true {TRUE_FIRST_MASS}), "
                      f"exact KL {r.history['history_kl'][-1]:.4f}, {r.seconds:.1f} s", flush=True)
    rows = _rows(runs)
    with atomic_open(out / "mode_weights.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    with atomic_open(out / "mode_weights.md", "w") as fh:
        fh.write(_markdown(rows, settings, list(args.seeds)))
    kept = runs + ([partial] if partial is not None and len(partial.first_mass) else [])
    arrays = {f"{r.method}_seed{r.seed}_{k}": v for r in kept for k, v in r.history.items()}
    meta: dict = {"settings": settings.__dict__, "seeds": list(args.seeds), "version": __version__}
    if stop():
        meta.update(interrupted=stop.name, finished=[f"{r.method}_seed{r.seed}" for r in runs],
                    partial=None if partial is None else {"run": f"{partial.method}_seed{partial.seed}",
                                                          "iterations_done": len(partial.first_mass)})
    arrays["meta"] = np.array(json.dumps(meta))
    save_npz_atomic(out / "mode_weights_histories.npz", **arrays)
    _plot(runs, out / "mode_weights.png")
    if stop():
        how_far = "" if partial is None else (f"; {partial.method} seed {partial.seed} stopped after "
                                              f"{len(partial.first_mass):,} of {settings.iterations:,} iterations")
        print(f"interrupted by {stop.name} after {len(runs)} of {len(args.seeds) * len(METHODS)} runs{how_far}: "
              f"wrote the results so far to {printable(out)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"wrote {printable(out)}/mode_weights.csv, .md, .png and mode_weights_histories.npz")
    return 0
