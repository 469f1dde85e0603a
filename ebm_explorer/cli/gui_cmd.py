"""``ebm-explorer gui``: open the desktop explorer (also what ``ebm-explorer`` alone does)."""

from __future__ import annotations

import argparse
import os
import sys

from ebm_explorer.core.errors import UserInputError

__all__ = ["register", "run", "display_problem"]
#: Qt platforms that draw without a display server
_NO_DISPLAY_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb")


def display_problem() -> str | None:
    """Why the window cannot open here (a one-line advice), or None.

    Checked before Qt starts: on Linux without a display Qt's xcb plugin aborts the process with a
    message suggesting a reinstall, which a first-time user reads as a broken installation.
    """
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or platform in _NO_DISPLAY_PLATFORMS:
        return None
    from ebm_explorer.cli.main import COMMAND_MODULES

    headless = [m.rsplit(".", 1)[1].removesuffix("_cmd") for m in COMMAND_MODULES if not m.endswith(".gui_cmd")]
    return ("no display here (DISPLAY and WAYLAND_DISPLAY are unset): open the app on a virtual screen with "
            "`xvfb-run -a ebm-explorer`, or use a command that needs no screen: "
            + ", ".join(headless) + " (see `ebm-explorer --help`)")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("gui", help="open the desktop explorer (default command)",
                              description="Open the desktop explorer on the default scene (or on SCENE); it starts "
                                          "running at once.")
    p.add_argument("scene", nargs="?", default=None,
                   help="a scene file (SCENE.toml) or a built-in scene by number (1-5) or name to open on")
    p.add_argument("--paused", action="store_true", help="open without starting the run")
    p.add_argument("--presenter", action="store_true", help="start in presenter mode (full screen, F11 leaves)")
    p.add_argument("--reset-settings", action="store_true", help="ignore the saved window layout and choices")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ebm_explorer.scenes import resolve_scene

    problem = display_problem()
    if problem is not None:
        raise UserInputError(problem)
    scene_arg = getattr(args, "scene", None)
    scene, warnings = resolve_scene(scene_arg) if scene_arg else (None, [])  # bad file: a message, no window
    from ebm_explorer.ui import splash
    from ebm_explorer.ui.app import make_app  # imported behind the splash already (cli/main.py)
    from ebm_explorer.ui.main_window import MainWindow

    splash.step("building the window…", 90)
    autostart = not getattr(args, "paused", False)
    app = make_app()
    window = MainWindow(autostart=autostart and scene is None, restore=not getattr(args, "reset_settings", False))
    window.show()
    splash.finish(window)  # the window shows the reference's progress from here on
    if scene is not None and not window.scenes.apply(scene, warnings, start=autostart) and autostart:
        window.run()  # the scene was refused (the banner says why): the app runs on its default scene
    if getattr(args, "presenter", False):
        window.presenter.set_enabled(True)
    from ebm_explorer.ui.probe import install_probe

    probe = install_probe(window)  # noqa: F841 - tests of the real window only (EBM_EXPLORER_PROBE)
    try:
        return int(app.exec())
    finally:
        window.shutdown()
