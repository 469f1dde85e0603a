"""``ebm-explorer run SCENE --out DIR``: run a scene without a screen and write its files.

SCENE is a scene TOML file or a built-in scene (number 1-5, name, or ``default``). DIR receives the
scene, per-run trajectories (NPZ + long CSV) and metrics (CSV), PNG/SVG figures and, with
``--record``, an animated GIF and MP4 of the landscape view.
"""

from __future__ import annotations

import argparse
import sys

from ebm_explorer.cli.common import positive_float, positive_int
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.scenes.builtin import resolve_scene
from ebm_explorer.scenes.headless import DEFAULT_MAX_WALKERS, OUTPUT_FORMATS, run_scene_to_dir


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("run", help="run a scene headless and write trajectories, metrics, figures",
                            description=__doc__.splitlines()[0])
    parser.add_argument("scene", metavar="SCENE", help="scene TOML file, or a built-in scene number/name")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory (created if needed)")
    parser.add_argument("--steps", type=positive_int, metavar="K",
                        help="sampler steps / training iterations per run (default: the scene's)")
    parser.add_argument("--record", action="store_true", help="also write animation.gif and animation.mp4")
    parser.add_argument("--format", dest="formats", metavar="FMT", default="npz,csv,png,svg",
                        help=f"comma-separated outputs among {','.join(OUTPUT_FORMATS)} (default npz,csv,png,svg)")
    parser.add_argument("--record-every", type=positive_int, metavar="M",
                        help="record walkers and metrics every M steps (default: about 100 records per run)")
    parser.add_argument("--max-walkers", type=positive_int, default=DEFAULT_MAX_WALKERS, metavar="W",
                        help=f"walkers recorded per run (default {DEFAULT_MAX_WALKERS})")
    parser.add_argument("--dpi", type=positive_float, default=150.0, help="PNG resolution (default 150)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    formats = tuple(f.strip().lower() for f in args.formats.split(",") if f.strip())
    bad = [f for f in formats if f not in OUTPUT_FORMATS]
    if bad or not formats:
        raise UserInputError(f"--format: unknown {bad[0]!r}" if bad else "--format: give at least one format")
    scene, warnings = resolve_scene(args.scene)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    written = run_scene_to_dir(scene, args.out, steps=args.steps, record=args.record, formats=formats,
                               record_every=args.record_every, max_walkers=args.max_walkers, dpi=args.dpi)
    print(f"{scene.title}: wrote {len(written)} files to {args.out}")
    for p in written:
        print(f"  {p.name}")
    return 0
