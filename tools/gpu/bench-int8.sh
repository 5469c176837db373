#!/usr/bin/env bash
# INT8 benchmarks on the GPU machine (called by run-checks.sh with OCTET_BENCH_INT8=1; BENCHMARKS.md):
#   1. INT8 GEMM 4096^3 and 8192^3: octet's wgmma, mma.sync tensor-core and DP4A kernels, its cuBLASLt tactic and
#      raw cuBLASLt (tools/bench/bench_int8_gemm.cpp);
#   2. ResNet-50 (torchvision, random weights) at batch 1, 32, 128: octet INT8 plan, octet FP32, and
#      PyTorch FP16 channels-last, in one call. The INT8 plan is calibrated (max) on 64 random
#      normal images written to HDF5 (random weights make the scales meaningless for accuracy; speed
#      only depends on shapes), built for the device at batch 128 with tactics timed there.
set -uo pipefail
bundle=$1
out=$2
octet="$bundle/bin/octet"
batches=${OCTET_BENCH_BATCHES:-1,32,128}
status=0
"$bundle/bin/bench_int8_gemm" --sizes 4096,8192 2>&1 | tee "$out/bench_int8_gemm.txt" || status=1

model=/tmp/resnet50.onnx
[ -f "$model" ] || python3 tools/models/export_resnet50.py "$model" >"$out/export.log" 2>&1 || { echo "export failed"; exit 1; }
python3 - <<'PY'
import h5py, numpy as np
x = np.random.default_rng(0).standard_normal((64, 3, 224, 224), dtype=np.float32)
with h5py.File("/tmp/random224.h5", "w") as f: f["images"] = x
PY
"$octet" calibrate "$model" --data /tmp/random224.h5 --method max --batch 32 --cache /tmp/resnet50.cache \
  >"$out/r50_calibrate.log" 2>&1 || { echo "calibrate failed"; tail "$out/r50_calibrate.log"; exit 1; }
"$octet" build "$model" --int8 --calib /tmp/resnet50.cache --backend cuda --batch 128 --save-engine /tmp/resnet50.plan \
  --export-layer-info "$out/r50_int8_layers.json" 2>&1 | tee "$out/r50_build.log" || { echo "build failed"; exit 1; }
for b in ${batches//,/ }; do
  echo "== octet INT8 batch $b"
  "$octet" bench /tmp/resnet50.plan --batch "$b" --use-cuda-graph --export-profile "$out/r50_int8_profile_b$b.json" 2>&1 | tee -a "$out/bench_r50_int8.txt"
  echo "== octet FP32 batch $b"
  "$octet" bench "$model" --backend cuda --batch "$b" --use-cuda-graph 2>&1 | tee -a "$out/bench_r50_fp32.txt"
done
python3 tools/bench/pytorch_resnet50.py --batch-sizes "$batches" --fp16 --channels-last 2>&1 | tee "$out/bench_pytorch_fp16.jsonl"
exit $status
