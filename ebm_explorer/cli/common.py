"""Argument pieces shared by several commands (landscape choice, device, seed, numbers)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.limits import RANGES, check_device_name, check_seed
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


def ranged_int(name: str):
    """An argparse ``type`` for the integer setting ``name`` of :data:`ebm_explorer.core.limits.RANGES`
    (``1e6`` is read as 1000000; the range is checked before anything runs)."""
    lo, hi = RANGES[name]

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected an integer, got {text[:40]!r}") from None
            if not (math.isfinite(f) and f.is_integer()):
                raise argparse.ArgumentTypeError(f"expected an integer, got {text[:40]!r}") from None
            value = int(f)
        if not lo <= value <= hi:
            shown = f"{value:,}" if abs(value) < 10**30 else f"a {len(str(abs(value)))}-digit number"
            raise argparse.ArgumentTypeError(f"must be in [{lo:,}, {hi:,}], got {shown}")
        return value

    parse.__name__ = name
    return parse


def ranged_float(name: str):
    """An argparse ``type`` for the float setting ``name`` of :data:`ebm_explorer.core.limits.RANGES`."""
    lo, hi = RANGES[name]

    def parse(text: str) -> float:
        value = finite_float(text)
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be in [{lo:g}, {hi:g}], got {text[:40]!r}")
        return value

    parse.__name__ = name
    return parse


def seed_int(text: str) -> int:
    """A seed: an integer in [0, 2**63 - 1]."""
    try:
        return check_seed(int(text))
    except ValueError as exc:  # int() of a non-number, or UserInputError (a ValueError)
        msg = str(exc) if isinstance(exc, UserInputError) else f"expected an integer, got {text[:40]!r}"
        raise argparse.ArgumentTypeError(msg) from None


def device_name(text: str) -> str:
    """``cpu``, ``cuda`` or ``cuda:N``."""
    try:
        return check_device_name(text)
    except UserInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    parser.add_argument("--beta", type=ranged_float("beta"), default=1.0, help="inverse temperature (default 1)")


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
    parser.add_argument("--seed", type=seed_int, default=0, help="random seed in [0, 2**63 - 1] (default 0)")
    parser.add_argument("--device", type=device_name, default="cpu", help="cpu, cuda or cuda:N (default cpu)")


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
