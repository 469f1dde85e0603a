"""``ebm-explorer run SCENE --out DIR``: run a scene without a screen and write its files.

SCENE is a scene TOML file or a built-in scene (number 1-5, name, or ``default``). DIR receives the
scene, per-run trajectories (NPZ + long CSV) and metrics (CSV), PNG/SVG figures and, with
``--record``, an animated GIF and MP4 of the landscape view.
"""

from __future__ import annotations

import argparse
import sys

from ebm_explorer.cli.common import ranged_float, ranged_int
from ebm_explorer.cli.interrupt import EXIT_INTERRUPTED, stop_on_signals
from ebm_explorer.cli.outputs import check_output_dir, record_run_outputs
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.safe_io import printable
from ebm_explorer.scenes.builtin import resolve_scene
from ebm_explorer.scenes.headless import DEFAULT_MAX_WALKERS, OUTPUT_FORMATS, run_scene_to_dir


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run a scene headless and write trajectories, metrics, figures",
                            description=__doc__.splitlines()[0])
    parser.add_argument("scene", metavar="SCENE", help="scene TOML file, or a built-in scene number/name")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory (created if needed)")
    parser.add_argument("--steps", type=ranged_int("steps"), metavar="K",
                        help="sampler steps / training iterations per run (default: the scene's)")
    parser.add_argument("--record", action="store_true", help="also write animation.gif and animation.mp4")
    parser.add_argument("--force", action="store_true",
                        help="write into a folder that holds other files (never over the scene being run)")
    parser.add_argument("--format", dest="formats", metavar="FMT", default="npz,csv,png,svg",
                        help=f"comma-separated outputs among {','.join(OUTPUT_FORMATS)} (default npz,csv,png,svg)")
    parser.add_argument("--record-every", type=ranged_int("record_every"), metavar="M",
                        help="record walkers and metrics every M steps (default: about 100 records per run)")
    parser.add_argument("--max-walkers", type=ranged_int("max_walkers"), default=DEFAULT_MAX_WALKERS, metavar="W",
                        help=f"walkers recorded per run (default {DEFAULT_MAX_WALKERS})")
    parser.add_argument("--dpi", type=ranged_float("dpi"), default=150.0, help="PNG resolution (default 150)")
    parser.set_defaults(func=run)


def _names_written(n_runs: int) -> list[str]:
    """Every file name ``run`` may write into its folder (checked against the command's inputs)."""
    names = ["scene.toml", "fisher_kl.csv", "animation.gif", "animation.mp4"]
    names += [f"{fig}.{ext}" for fig in ("landscape", "metrics", "fisher_kl") for ext in ("png", "svg")]
    for i in range(1, n_runs + 1):
        names += [f"run{i}_trajectory.npz", f"run{i}_trajectory.csv", f"run{i}_metrics.csv"]
    return names


def _refuse_unnormalisable(scene) -> None:  # noqa: ANN001 - Scene
    """A scene whose energy cannot be normalised in its box is refused, as by ``sample`` and the app."""
    from ebm_explorer.core.reference import compute_reference
    from ebm_explorer.core.verdict import explain_landscape
    from ebm_explorer.scenes.headless import REFERENCE_RESOLUTION, scene_landscape

    land = scene_landscape(scene)
    verdict = explain_landscape(compute_reference(land, land.box, REFERENCE_RESOLUTION), land)
    if verdict.action == "refuse":
        raise UserInputError(f"scene [landscape]: {verdict.message.replace('widen the box', 'widen its box')}")


def run(args: argparse.Namespace) -> int:
    formats = tuple(f.strip().lower() for f in args.formats.split(",") if f.strip())
    bad = [f for f in formats if f not in OUTPUT_FORMATS]
    if bad or not formats:
        raise UserInputError(f"--format: unknown {printable(bad[0], 40)!r}" if bad else "--format: give at least one format")
    scene, warnings = resolve_scene(args.scene)
    out = check_output_dir(args.out, _names_written(len(scene.runs)), force=args.force)
    _refuse_unnormalisable(scene)
    for w in warnings:
        print(f"warning: {printable(w)}", file=sys.stderr)
    title = printable(scene.title, 80)
    with stop_on_signals() as stop:
        written = run_scene_to_dir(scene, out, steps=args.steps, record=args.record, formats=formats,
                                   record_every=args.record_every, max_walkers=args.max_walkers, dpi=args.dpi,
                                   stop=stop)
        record_run_outputs(out, written)
    if stop():
        print(f"{title}: interrupted by {stop.name}: wrote what was recorded so far, {len(written)} files to "
              f"{printable(out)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"{title}: wrote {len(written)} files to {printable(out)}")
    for p in written:
        print(f"  {printable(p.name)}")
    return 0
