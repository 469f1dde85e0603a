"""``ebm-explorer gui``: open the desktop explorer (also what ``ebm-explorer`` alone does)."""

from __future__ import annotations

import argparse

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("gui", help="open the desktop explorer (default command)",
                              description="Open the desktop explorer on the default scene; it starts running at once.")
    p.add_argument("--paused", action="store_true", help="open without starting the run")
    p.add_argument("--reset-settings", action="store_true", help="ignore the saved window layout and choices")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ebm_explorer.ui.app import make_app
    from ebm_explorer.ui.main_window import MainWindow

    app = make_app()
    window = MainWindow(autostart=not getattr(args, "paused", False),
                        restore=not getattr(args, "reset_settings", False))
    window.show()
    try:
        return int(app.exec())
    finally:
        window.shutdown()
