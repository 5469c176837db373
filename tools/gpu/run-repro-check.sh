#!/usr/bin/env bash
# Runs on the GPU machine (one device call, ~8 minutes): the CUDA tests of the slim bundle, the zoo's CPU ==
# CUDA check (check_zoo.py --cuda: caches and INT8 outputs compared bit for bit, both with --reproducible),
# then YOLOv8n's INT8 plan at 640 x 640, batch 32, benched with and without --reproducible (what the flag
# costs an engine whose float layers include convolutions). Carry as for run-real-models.sh.
set -uo pipefail
out=${OUT:-/tmp/octet-out}
mkdir -p "$out"
OCTET_PARTS=zoo bash tools/gpu/run-real-models.sh
status=$?
bundle=.carry/gpu
octet="$PWD/$bundle/bin/octet"
export LD_LIBRARY_PATH="$PWD/$bundle/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
plan=/tmp/yolov8n.b32.plan
timeout 120 "$octet" build .carry/zoo/models/yolov8n_nudenet_320.onnx --shapes images:32x3x640x640 --batch 32 --int8 \
  --calib .carry/speed/yolov8n_640.cache --backend cuda --save-engine "$plan" >"$out/build_yolov8n_b32.log" 2>&1 || status=1
for flag in "" --reproducible; do
  echo "== yolov8n octet INT8 batch 32 ${flag:-(default)}" | tee -a "$out/repro.txt"
  timeout 90 "$octet" bench "$plan" --batch 32 --use-cuda-graph $flag 2>&1 | grep -E 'Throughput|GPU Compute Time|error' | tee -a "$out/repro.txt"
done
exit $status
