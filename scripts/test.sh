#!/usr/bin/env bash
# Run the whole test suite. GUI tests run off-screen; the 3-D (OpenGL) tests need an X server,
# so the suite runs under Xvfb when xvfb-run is available.
#
# Tests run in EBM_TEST_WORKERS (default 2) pytest-xdist worker processes, one torch thread each (two
# workers on two cores, no oversubscription). A test past its time limit fails and the run goes on; one
# stuck inside C (a Qt lock) is ended by tests/conftest.py's hard stop, reported failed with every
# thread's stack, and a fresh worker runs the rest: the run always ends with pytest's summary line.
#
# Without arguments the real-window suite (tests/realwindow: the real app on its own X display, driven
# by xdotool) runs second, on its own: the app shares the cores with nothing but its driver, as on a
# lecturer's machine. Both parts always run; the script fails if either failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
pytest_cmd=(.venv/bin/python -m pytest -q --dist worksteal)
if command -v xvfb-run >/dev/null 2>&1 && [ -z "${DISPLAY:-}" ]; then
    pytest_cmd=(xvfb-run -a -s "-screen 0 1920x1080x24" "${pytest_cmd[@]}")
fi
if [ "$#" -gt 0 ]; then
    exec "${pytest_cmd[@]}" -n "${EBM_TEST_WORKERS:-2}" "$@"
fi
"${pytest_cmd[@]}" -n "${EBM_TEST_WORKERS:-2}" --ignore=tests/realwindow
suite=$?
"${pytest_cmd[@]}" -n 1 tests/realwindow
realwindow=$?
if [ "$suite" -ne 0 ]; then exit "$suite"; fi
exit "$realwindow"
