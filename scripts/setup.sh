#!/usr/bin/env bash
# Set up EBM Explorer on a fresh Debian/Ubuntu machine: system libraries for Qt/OpenGL (apt-get),
# a virtual environment in .venv, CPU PyTorch, and the project with its test extras.
# Safe to run again. Set EBM_SKIP_APT=1 to skip the apt-get step (no root, libraries already there).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${EBM_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # Qt's xcb platform + Mesa OpenGL (the 3-D view) + Xvfb for headless GUI tests; openbox, xdotool and
    # ImageMagick for the real-window tests (tests/realwindow: a window manager, real input, X screenshots);
    # g++ and the Python headers for torch.compile's C++ backend (`sample --compile`).
    $SUDO apt-get install -y -qq --no-install-recommends \
        python3-venv python3-dev g++ xvfb xauth openbox xdotool imagemagick x11-utils libgl1 libgl1-mesa-dri libegl1 libglib2.0-0 libfontconfig1 \
        libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 \
        libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 \
        libxcb-xkb1 libxcb-xfixes0 libx11-xcb1 >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# CPU build of PyTorch first, so the project's `torch>=2.2` requirement does not pull a CUDA build.
# (On a machine with an NVIDIA GPU, install the CUDA build of torch instead to run walkers on cuda.)
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    .venv/bin/python -m pip install -q "torch==2.13.0"
fi
.venv/bin/python -m pip install -q -e ".[test]"
echo "EBM Explorer is set up: run .venv/bin/ebm-explorer"
