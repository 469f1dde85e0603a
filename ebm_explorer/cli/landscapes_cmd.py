"""``ebm-explorer landscapes``: list the presets with one-line descriptions."""

from __future__ import annotations

import argparse

from ebm_explorer.core.landscapes import list_presets, make_landscape


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("landscapes", help="list preset landscapes")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    presets = list_presets()
    width = max(len(name) for name, _ in presets)
    for name, description in presets:
        b = make_landscape(name).box
        print(f"{name:<{width}}  {description}  [box {b.xmin:g}..{b.xmax:g} x {b.ymin:g}..{b.ymax:g}]")
    return 0
