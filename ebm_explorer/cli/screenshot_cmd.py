"""``ebm-explorer screenshot``: run the app off-screen for a few seconds and save the window as PNG.

Scenes: ``default`` (the app as it opens), ``editor`` (a landscape drawn with the brush),
``training`` (Jarzynski training live), ``compare`` (four samplers side by side), ``3d`` (the energy
surface; needs an OpenGL context, e.g. under ``xvfb-run``), or a built-in lecture scene by number or name
(``--scene 3``); ``--presenter`` shows it in presenter mode at the window size. Settings are kept in a
temporary file, so screenshots never read or change the user's saved layout.

``--seconds`` counts from the runs' first step: the command first waits (at most
:data:`FIRST_STEP_WAIT_S`) for the exact reference and for every run to start, so a slow machine
still gets a picture of the scene running, not of "paused, step 0". Every thread is joined before
the command exits.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from ebm_explorer.cli.common import ranged_float, ranged_int
from ebm_explorer.cli.outputs import check_output_file
from ebm_explorer.core.atomic import atomic_path
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.safe_io import printable

__all__ = ["register", "run", "SCENES", "setup_scene"]

SCENES = ("default", "editor", "training", "compare", "3d")
#: longest wait for the reference and the runs' first steps (torch warming up on a busy machine)
FIRST_STEP_WAIT_S = 300.0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("screenshot", help="run the app off-screen for S seconds and save the window",
                              description=__doc__.splitlines()[0])
    p.add_argument("--scene", default="default",
                   help=f"what to show: {', '.join(SCENES)}, or a built-in lecture scene by number (default: default)")
    p.add_argument("--presenter", action="store_true", help="presenter mode (large fonts, controls hidden)")
    p.add_argument("--seconds", type=ranged_float("screenshot_seconds"), default=4.0,
                   help="how long the runs animate, counted from their first step, before the picture (default 4)")
    p.add_argument("--out", required=True, metavar="FILE.png", help="PNG file to write (required)")
    p.add_argument("--size", nargs=2, type=ranged_int("screenshot_width"), default=(1600, 950), metavar=("W", "H"),
                   help="window size in pixels (default 1600 950)")
    p.set_defaults(func=run)


def setup_scene(window, scene: str) -> None:  # noqa: ANN001 - MainWindow (imported lazily with Qt)
    """Put a freshly opened window into ``scene``."""
    if scene == "default":
        window.tabs.setCurrentIndex(1)
    elif scene == "editor":
        ed = window.editor
        window.tabs.setCurrentIndex(0)
        ed.tabs.setCurrentIndex(2)  # Draw
        # start from the default mixture (confined: no mass at the box edge), then dig a third well and
        # raise a hill with the brush, as a user would; shown as the energy U being edited
        from PySide6 import QtCore

        loop = QtCore.QEventLoop()
        for _ in range(600):
            if window.model.reference is not None:
                break
            QtCore.QTimer.singleShot(50, loop.quit)
            loop.exec()
        ed.grid_from_current()
        window.background.setCurrentIndex(window.background.findData("energy"))
        ed.tool.setCurrentIndex(ed.tool.findData("dig"))
        ed.radius.setValue(2.2)
        ed.strength.setValue(2.0)
        for _ in range(4):
            ed.paint(0.0, 3.0)
        ed.tool.setCurrentIndex(ed.tool.findData("raise"))  # and a hill between the two old wells
        ed.radius.setValue(1.6)
        ed.strength.setValue(1.5)
        for _ in range(2):
            ed.paint(0.0, -1.5)
        ed.commit_grid()
    elif scene == "training":
        window.tabs.setCurrentIndex(2)
        window.editor.select_preset("gmm")
        window.set_mode("train")
    elif scene == "compare":
        window.tabs.setCurrentIndex(3)
        window.compare_panel.set_rows([("mh", 0.5), ("ula", 0.3), ("mala", 0.3), ("hmc", 0.2)])
        window.set_compare(True)
    elif scene == "3d":
        window.view3d_action.setChecked(True)
        if window.gl_reason is not None:
            raise UserInputError(f"the 3d scene needs OpenGL: {window.gl_reason} (run under xvfb-run)")
    else:
        from ebm_explorer.scenes import builtin_scene_path, list_builtin_scenes

        try:
            builtin_scene_path(scene)
        except UserInputError:
            lectures = ", ".join(f"{n} ({name})" for n, name, _p in list_builtin_scenes())
            raise UserInputError(f"unknown scene {scene!r}: choose one of {', '.join(SCENES)}, "
                                 f"or a lecture scene: {lectures}") from None
        window.scenes.open_builtin(scene, start=True)
        return
    window.run()


def _process_events_for(seconds: float) -> None:
    from PySide6 import QtCore

    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(max(0, int(seconds * 1000)), loop.quit)
    loop.exec()


def wait_for_first_steps(window, limit_s: float = FIRST_STEP_WAIT_S) -> bool:  # noqa: ANN001 - MainWindow
    """Run the event loop until the reference is there and every run has stepped (or failed, or runs
    are refused); False if ``limit_s`` passed first."""
    deadline = time.monotonic() + limit_s

    def started() -> bool:
        model = window.model
        if window.robustness.refused is not None:
            return True
        if model.reference is None:
            return False
        return all(state == "failed" or (snap is not None and snap.step > 0)
                   for state, snap in zip(model.states, model.latest))

    while not started():
        if time.monotonic() > deadline:
            return False
        _process_events_for(0.05)
    return True


def run(args: argparse.Namespace) -> int:
    if args.seconds < 0:
        raise UserInputError(f"--seconds must be >= 0, got {args.seconds}")
    if not str(args.out).lower().endswith(".png"):
        raise UserInputError(f"--out must be a .png file, got {args.out!r}")
    check_output_file(args.out)
    from PySide6 import QtCore

    from ebm_explorer.ui.app import make_app
    from ebm_explorer.ui.main_window import MainWindow

    needs_display = args.scene == "3d" and os.environ.get("DISPLAY")
    app = make_app(offscreen=not needs_display)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QtCore.QSettings(os.path.join(tmp, "settings.ini"), QtCore.QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, autostart=False, restore=False)
        window.resize(*args.size)
        window.show()
        try:
            setup_scene(window, args.scene)
            if getattr(args, "presenter", False):
                window.presenter.set_enabled(True, fullscreen=False)
            if not wait_for_first_steps(window):
                print(f"ebm-explorer screenshot: warning: the runs had not started after {FIRST_STEP_WAIT_S:g} s; "
                      "the picture shows them as they are", file=sys.stderr)
            _process_events_for(args.seconds)
            window.draw_loop.tick()  # the newest snapshot drawn before the grab
            pixmap = window.grab()
            with atomic_path(args.out) as tmp_png:
                if not pixmap.save(str(tmp_png), "PNG"):
                    raise UserInputError(f"could not write {args.out}")
        finally:
            window.shutdown()  # joins every worker thread, however long their last batch takes
            window.close()
            app.processEvents()
    print(f"wrote {printable(args.out)}")
    return 0
