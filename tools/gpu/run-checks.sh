#!/usr/bin/env bash
# Runs on the GPU machine from the repository root, after tools/gpu/build-bundle.sh here:
#   every test binary of the bundle (CUDA tests run; nothing may skip for lack of a GPU), the ONNX
#   conformance suite with the CUDA backend, then the benchmarks named in $OCTET_BENCH (optional).
# Logs go to $OUT (the device tool brings them back).
set -uo pipefail
bundle=.carry/gpu
export LD_LIBRARY_PATH="$PWD/$bundle/lib:${LD_LIBRARY_PATH:-}"
export OCTET_ONNX_TESTDATA="$PWD/$bundle/onnx-node"
export OCTET_SOURCE_DIR="$PWD" OCTET_CLI="$PWD/$bundle/bin/octet"
out=${OUT:-/tmp/octet-out}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/device.txt"
status=0
for t in "$bundle"/bin/test_*; do
  name=$(basename "$t")
  echo "== $name"
  if ! "$t" --gtest_brief=1 >"$out/$name.log" 2>&1; then status=1; echo "FAILED: $name"; fi
  grep -E '^\[  (PASSED|FAILED|SKIPPED) |tests? ran|total |relative L2' "$out/$name.log" | head -30
done
exit $status
