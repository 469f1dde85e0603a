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
from ebm_explorer.core.safe_io import forget_files_read, printable
from ebm_explorer.core.threads import available_cores, choose_threads, set_compute_threads

#: what ``ebm-explorer --help`` opens with (for users)
DESCRIPTION = """\
EBM Explorer: see how energy-based models behave in 2-D. Landscapes, walkers (MH, ULA, MALA,
HMC), CD / PCD / Jarzynski / score-matching training and diffusion-style generation, every number
checked against the exact answer computed on a grid. Without a command the desktop app opens."""
EPILOG = """examples:
  ebm-explorer                                         open the app (on a machine without a screen: xvfb-run -a ebm-explorer)
  ebm-explorer sample --landscape double_well          walkers vs the exact density; writes an .npz
  ebm-explorer sample --formula "-x**2 + x**4 + y**2"  formulas may start with a minus sign
  ebm-explorer train --target gmm --model gmm --method jarzynski
  ebm-explorer generate --landscape gmm --path interpolant --steps 10 --jarzynski
  ebm-explorer COMMAND --help                          the options of one command, with their defaults

The algorithms and what the tests check them against: docs/algorithms.md."""
#: options whose value may start with "-" (a formula "-(x**2+y**2)", a point "-1,0.5"): argparse would
#: take such a value for an option, so ``--formula -x`` becomes ``--formula=-x`` before parsing
VALUE_MAY_START_WITH_MINUS = ("--formula", "--init")

#: command modules, in the order ``--help`` lists them
COMMAND_MODULES = (
    "ebm_explorer.cli.landscapes_cmd",
    "ebm_explorer.cli.sample_cmd",
    "ebm_explorer.cli.reference_cmd",
    "ebm_explorer.cli.train_cmd",
    "ebm_explorer.cli.generate_cmd",
    "ebm_explorer.cli.experiment_cmd",
    "ebm_explorer.cli.gui_cmd",
    "ebm_explorer.cli.screenshot_cmd",
    "ebm_explorer.cli.run_cmd",
)


#: commands that compute with torch on the CPU: they take ``--threads``
THREADED_COMMANDS = ("sample", "reference", "train", "generate", "experiment", "run")


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments as a one-line message with status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


class _TopFormatter(argparse.RawDescriptionHelpFormatter):
    """Top-level help: command names and their one-line help on one row each."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=18, width=100)
        # argparse measures the command names without the indent it then draws them with, which pushes
        # every help text of a long name ("landscapes") to the next row: start from the indented width
        self._action_max_length = 16


def build_parser() -> argparse.ArgumentParser:
    # imported here, not at the top: importing this module must not import torch (the app's splash
    # shows before torch loads; see start_splash)
    from ebm_explorer.cli.common import ranged_int

    parser = _Parser(prog="ebm-explorer", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=_TopFormatter)
    parser.add_argument("--version", action="version", version=f"ebm-explorer {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, title="commands", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for name in THREADED_COMMANDS:
        sub.choices[name].add_argument(
            "--threads", type=ranged_int("threads"), default=None,
            help=f"torch CPU threads (default: measured before the work starts: one thread or all "
                 f"{available_cores()} cores, whichever runs a probe of the job's size faster right now)")
    return parser


def join_dash_values(argv: list[str]) -> list[str]:
    """``--formula -(x**2)`` -> ``--formula=-(x**2)`` (see :data:`VALUE_MAY_START_WITH_MINUS`); an option
    name (``--box``, ``-h``) after the flag is left alone, so a forgotten value is still reported."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if (arg in VALUE_MAY_START_WITH_MINUS and nxt is not None and nxt.startswith("-")
                and nxt not in ("-h", "--help") and not (nxt.startswith("--") and nxt[2:3].isalpha())):
            out.append(f"{arg}={nxt}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def opens_window(argv: list[str]) -> bool:
    """True for ``ebm-explorer`` alone or ``ebm-explorer gui ...`` (not its --help)."""
    return not argv or (argv[0] == "gui" and not any(a in ("-h", "--help") for a in argv))


def start_splash(argv: list[str]) -> None:
    """Opening the window: a splash is on screen within a second or two, before torch is imported
    (seconds; see :mod:`ebm_explorer.ui.splash`); the command modules are imported behind it."""
    from ebm_explorer.ui import splash

    shown = splash.start()
    shown.import_in_background(COMMAND_MODULES, "loading PyTorch and the numerical core…", 5, 60)
    shown.import_in_background(("ebm_explorer.ui.app", "ebm_explorer.ui.main_window"),
                               "loading the plotting library and the window…", 60, 85)


def main(argv: list[str] | None = None) -> int:
    argv = join_dash_values(sys.argv[1:] if argv is None else list(argv))
    if opens_window(argv):
        from ebm_explorer.cli.gui_cmd import display_problem

        problem = display_problem()
        if problem is not None:  # said at once, before seconds of importing torch
            print(f"ebm-explorer gui: error: {problem}", file=sys.stderr)
            return 2
        start_splash(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            args = parser.parse_args(["gui"])
    except SystemExit as exc:  # --help, --version, or a bad argument (already printed)
        return int(exc.code or 0)
    forget_files_read()  # outputs are checked against the files this command reads
    if hasattr(args, "threads"):
        if args.threads is None:
            choose_threads(job_size(args))
        else:
            set_compute_threads(args.threads)
    try:
        return int(args.func(args) or 0)
    except (UserInputError, NumericalError) as exc:
        return _fail(args.command, str(exc))
    except OSError as exc:  # a write failed: disk full, read-only folder, a path that vanished
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(args.command, f"{where}{exc.strerror or exc} (nothing was changed)")
    except MemoryError:
        return _fail(args.command, "out of memory: use fewer walkers, steps or a smaller grid")
    except KeyboardInterrupt:
        print(f"ebm-explorer {args.command}: interrupted", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        from ebm_explorer.core.resources import is_out_of_memory

        if not is_out_of_memory(exc):
            raise
        return _fail(args.command, f"out of memory: use fewer walkers, steps or a smaller grid "
                                   f"({str(exc).splitlines()[0][:120] if str(exc) else ''})")


def job_size(args: argparse.Namespace) -> int:
    """Points a command's steps work on, for the thread probe: its walkers, else its grid, else 10^5."""
    walkers = getattr(args, "walkers", None)
    if isinstance(walkers, int) and walkers > 0:
        return walkers
    resolution = getattr(args, "resolution", None)
    if isinstance(resolution, int) and resolution > 0:
        return resolution * resolution
    return 100_000


def _fail(command: str, message: str) -> int:
    """The one-line error (control characters escaped: file text must not drive the terminal); status 2."""
    text = "\n".join(printable(line, 2000) for line in message.splitlines()[:20])
    print(f"ebm-explorer {command}: error: {text}", file=sys.stderr)
    return 2
