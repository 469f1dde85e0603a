#!/usr/bin/env bash
# Run the whole test suite. GUI tests run off-screen; the 3-D (OpenGL) tests need an X server,
# so the suite runs under Xvfb when xvfb-run is available.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v xvfb-run >/dev/null 2>&1 && [ -z "${DISPLAY:-}" ]; then
    exec xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python -m pytest -q "$@"
fi
exec .venv/bin/python -m pytest -q "$@"
