#!/usr/bin/env bash
# The README's second command: installs what is missing (Debian packages; the test-only peers numpy,
# onnx and ONNX Runtime from PyPI into build/peers-venv), builds, runs every test suite with CTest.
# GPU tests skip with a message when no CUDA device is present.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-debian.sh
tools/setup-peers.sh
tools/build.sh
cd build
ctest --output-on-failure --timeout 1200 -j "$(nproc)"
