"""``ebm-explorer reference``: the exact grid reference of a landscape (log Z, density, modes)."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from ebm_explorer import __version__
from ebm_explorer.cli.common import add_landscape_args, landscape_from_args, ranged_int, require_suffix
from ebm_explorer.cli.interrupt import EXIT_INTERRUPTED, Interrupted, interrupt_at_once
from ebm_explorer.cli.sample_cmd import _spec_or_name
from ebm_explorer.cli.outputs import check_output_file
from ebm_explorer.core.atomic import save_npz_atomic
from ebm_explorer.core.resources import check_memory
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.reference import compute_reference
from ebm_explorer.core.safe_io import printable

#: beyond this the (R, R) float64 grid and its basin bookkeeping stop being interactive
MAX_RESOLUTION = 4096


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reference", help="exact log Z, density, moments and mode weights on a grid")
    add_landscape_args(p)
    p.add_argument("--resolution", type=ranged_int("resolution"), default=256)
    p.add_argument("--out", metavar="FILE.npz", required=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = check_output_file(require_suffix(args.out, ".npz", "--out"))
    if not 8 <= args.resolution <= MAX_RESOLUTION:
        raise UserInputError(f"--resolution must be between 8 and {MAX_RESOLUTION}, got {args.resolution}")
    land = landscape_from_args(args)
    check_output_file(out)  # never over the landscape file just read
    check_memory(args.resolution ** 2 * 8 * 8, f"a {args.resolution}^2 reference grid", "lower --resolution")
    try:  # one grid computation: a part of it is worth nothing, so a signal stops it where it is
        with interrupt_at_once():
            ref = compute_reference(land, land.box, resolution=args.resolution)
            meta = {"version": __version__, "command": "reference", "landscape": _spec_or_name(land),
                    "beta": args.beta, "resolution": args.resolution, "warnings": ref.warnings}
            save_npz_atomic(
                out, log_z=np.float64(ref.log_z), density=ref.density, energy=ref.energy,
                box=np.array(land.box.as_tuple()), xs=ref.xs, ys=ref.ys, mean=ref.mean, cov=ref.cov,
                marginal_x=ref.marginal_x, marginal_y=ref.marginal_y, mean_energy=np.float64(ref.mean_energy),
                basins=ref.basins, minima=ref.minima, mode_weights=ref.mode_weights,
                edge_mass=np.float64(ref.edge_mass), meta=json.dumps(meta),
            )
    except Interrupted as exc:
        print(f"interrupted by {exc.name}: nothing written to {printable(out)} (a reference grid is computed "
              "whole or not at all)", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(ref.summary())
    print(f"wrote {printable(out)}")
    return 0
