"""Entry point of ``ebm-explorer``: dispatches sub-commands, turns user errors into exit status 2."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("ebm-explorer: under construction", file=sys.stderr)
    return 2
