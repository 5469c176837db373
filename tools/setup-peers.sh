#!/usr/bin/env bash
# The test-only peers from PyPI, in a virtual environment under build/ (never in the system):
# numpy (independent reference implementations in tests) and ONNX Runtime (the calibration peer).
# Pinned to the versions measured on the GPU machine. Idempotent and quick when already present.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/peers-venv
python=/usr/bin/python3   # Debian's interpreter: the same on every fresh machine of this kind
if [ ! -x "$venv/bin/python" ]; then
  mkdir -p build
  "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import numpy, onnxruntime, onnx" 2>/dev/null; then
  echo "octet setup: installing the test peers (numpy, onnxruntime 1.30.0, onnx 1.23.1) into $venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "numpy>=1.26,<3" "onnxruntime==1.30.0" "onnx==1.23.1"
fi
