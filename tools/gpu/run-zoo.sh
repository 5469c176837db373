#!/usr/bin/env bash
# Runs on the GPU machine from the repository root: the real-model zoo's FP32 check on the CUDA backend
# (tools/models/zoo/check_zoo.py --cuda: octet's outputs against ONNX Runtime's references, relative L2
# <= 1e-4, CPU and CUDA), with the octet of the GPU bundle (tools/gpu/build-bundle.sh) and the models and
# references carried in .carry/zoo (models/<id>.onnx, reference/<id>/; the machine has no network).
# Here, before the call:
#   mkdir -p .carry/zoo/models .carry/zoo/reference
#   cp build/zoo/models/ID.onnx* .carry/zoo/models/ && cp -r build/zoo/reference/ID .carry/zoo/reference/
# and carry [".carry/gpu.tar.xz", ".carry/zoo"]. OCTET_ZOO_ONLY picks models (default: all carried);
# OCTET_ZOO_INT8=1 also calibrates and builds INT8 (needs build/zoo/images carried too).
set -uo pipefail
bundle=.carry/gpu
[ -d "$bundle" ] || tar xJf .carry/gpu.tar.xz -C .carry
export LD_LIBRARY_PATH="$PWD/$bundle/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
export PYTHONUNBUFFERED=1
out=${OUT:-/tmp/octet-out}
mkdir -p "$out"
only=${OCTET_ZOO_ONLY:-$(ls .carry/zoo/models/*.onnx | xargs -n1 basename | sed 's/\.onnx$//' | grep -v '\.run$' | paste -sd,)}
int8=(--skip-int8)
[ "${OCTET_ZOO_INT8:-0}" = 1 ] && int8=()
python3 tools/models/zoo/check_zoo.py --octet "$bundle/bin/octet" --cuda --no-setup "${int8[@]}" --cache .carry/zoo \
  --work /tmp/zoo-check --only "$only" --report "$out/zoo_report.md" --json "$out/zoo_report.json"
