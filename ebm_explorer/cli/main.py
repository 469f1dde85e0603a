"""Entry point of ``ebm-explorer``: dispatches sub-commands, turns user errors into exit status 2.

Each command lives in its own module exposing ``register(subparsers)``, which adds a parser and sets
``func=run`` where ``run(args) -> int``. A :class:`UserInputError` anywhere becomes a one-line message
on stderr and exit status 2, never a traceback. With no command the desktop app opens.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ebm_explorer import __version__
from ebm_explorer.core.errors import NumericalError, UserInputError

#: command modules, in the order ``--help`` lists them
COMMAND_MODULES = (
    "ebm_explorer.cli.landscapes_cmd",
    "ebm_explorer.cli.sample_cmd",
    "ebm_explorer.cli.reference_cmd",
    "ebm_explorer.cli.train_cmd",
    "ebm_explorer.cli.experiment_cmd",
    "ebm_explorer.cli.gui_cmd",
    "ebm_explorer.cli.screenshot_cmd",
    "ebm_explorer.cli.run_cmd",
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments as a one-line message with status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ebm-explorer", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ebm-explorer {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
        if args.command is None:
            args = parser.parse_args(["gui"])
    except SystemExit as exc:  # --help, --version, or a bad argument (already printed)
        return int(exc.code or 0)
    try:
        return int(args.func(args) or 0)
    except (UserInputError, NumericalError) as exc:
        print(f"ebm-explorer {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ebm-explorer {args.command}: interrupted", file=sys.stderr)
        return 130
