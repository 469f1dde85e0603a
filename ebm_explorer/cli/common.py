"""Argument pieces shared by several commands (landscape choice, device, seed, numbers)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes import (
    FormulaError,
    FormulaLandscape,
    Landscape,
    Tempered,
    load_landscape_file,
    make_landscape,
)
from ebm_explorer.core.types import Box

#: the landscape every command and the app start on when none is given
DEFAULT_LANDSCAPE = "gmm"


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def add_landscape_args(parser: argparse.ArgumentParser) -> None:
    """``--landscape NAME|FILE.toml | --formula EXPR [--box ...]`` and ``--beta``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--landscape", metavar="NAME|FILE.toml",
                       help=f"preset name (see `ebm-explorer landscapes`) or a landscape TOML file "
                            f"(default: {DEFAULT_LANDSCAPE})")
    group.add_argument("--formula", metavar="EXPR",
                       help="your own energy U(x, y), e.g. '(x**2-1)**2 + 0.5*y**2' or '-(x**2+y**2)' "
                            "(a leading minus sign is fine); default box -3 3 -3 3")
    parser.add_argument("--box", nargs=4, type=finite_float, metavar=("XMIN", "XMAX", "YMIN", "YMAX"),
                        help="plotting / reference box (default: the landscape's own)")
    parser.add_argument("--beta", type=positive_float, default=1.0, help="inverse temperature (default 1)")


def landscape_from_args(args: argparse.Namespace) -> Landscape:
    """Build the landscape the arguments name, tempered by ``--beta`` and boxed by ``--box``."""
    box = Box.from_sequence(args.box) if args.box else None
    if args.formula is not None:
        try:
            land: Landscape = FormulaLandscape(args.formula, box or Box(-3.0, 3.0, -3.0, 3.0))
        except FormulaError as exc:  # name the formula: the column is counted in it
            raise FormulaError(f"--formula {args.formula!r}: {exc}", exc.position) from None
    else:
        name = args.landscape or DEFAULT_LANDSCAPE
        if name.endswith(".toml") or Path(name).suffix:
            land = load_landscape_file(name)
        else:
            land = make_landscape(name)
        if box is not None:
            land.box = box
    return Tempered(land, args.beta) if args.beta != 1.0 else land


def add_device_seed_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")


def require_suffix(path: str, suffix: str, flag: str) -> Path:
    out = Path(path)
    if out.suffix.lower() != suffix:
        raise UserInputError(f"{flag} must name a {suffix} file, got {path!r}")
    return out


def refuse_unnormalisable(reference, landscape) -> None:  # noqa: ANN001 - GridReference, Landscape
    """Refuse a run on an energy that is not normalisable in its box, as the app does (same verdict)."""
    from ebm_explorer.core.verdict import explain_landscape

    verdict = explain_landscape(reference, landscape)
    if verdict.action == "refuse":
        raise UserInputError(verdict.message.replace("widen the box", "widen the box (--box)"))
