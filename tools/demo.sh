#!/usr/bin/env bash
# The README's first command: octet's main job on the shipped default.
# Installs what is missing and builds, then runs the whole INT8 pipeline on the shipped reference model
# (models/resnet_fmnist.onnx) with Debian's dataset-fashion-mnist:
#   1. calibrate on the first 512 training images (entropy, two passes) -> TensorRT cache + JSON table;
#   2. print the scale-table summary (octet inspect);
#   3. build the INT8 engine from the model and the cache -> plan + layer info;
#   4. evaluate FP32 and INT8 on the 10,000 test images, the INT8 engine with its top-1 agreement with
#      the FP32 model;
# and says where the files went (build/demo/). OCTET_BACKEND=cuda runs it on the GPU (default cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-debian.sh
tools/build.sh
octet=build/tools/octet/octet
backend=${OCTET_BACKEND:-cpu}
model=models/resnet_fmnist.onnx
train=$(dpkg -L dataset-fashion-mnist | grep 'train-images-idx3-ubyte.gz$')
test=$(dpkg -L dataset-fashion-mnist | grep 't10k-images-idx3-ubyte.gz$')
out=build/demo
mkdir -p "$out"

echo "== 1. calibrate $model on 512 training images"
"$octet" calibrate "$model" --data "$train" --max-images 512 --method entropy --backend "$backend" \
  --cache "$out/resnet_fmnist.cache" --table "$out/resnet_fmnist_scales.json"
echo "== 2. scale table (largest saturation first)"
"$octet" inspect "$out/resnet_fmnist_scales.json" --sort saturation >"$out/resnet_fmnist_scales.txt"
head -n 12 "$out/resnet_fmnist_scales.txt"
echo "... ($(($(wc -l <"$out/resnet_fmnist_scales.txt") - 12)) more lines in $out/resnet_fmnist_scales.txt)"
echo "== 3. build the INT8 engine"
"$octet" build "$model" --int8 --calib "$out/resnet_fmnist.cache" --backend "$backend" \
  --save-engine "$out/resnet_fmnist_int8.plan" --export-layer-info "$out/resnet_fmnist_int8_layers.json"
echo "== 4a. evaluate FP32"
"$octet" eval "$model" --data "$test" --backend "$backend" --batch 250
echo "== 4b. evaluate INT8 (agreement with the FP32 model)"
"$octet" eval "$out/resnet_fmnist_int8.plan" --data "$test" --backend "$backend" --batch 250 --reference "$model"
echo
echo "written: $out/resnet_fmnist.cache (TensorRT calibration cache), $out/resnet_fmnist_scales.json (scale table),"
echo "         $out/resnet_fmnist_int8.plan (INT8 engine), $out/resnet_fmnist_int8_layers.json (layer info)"
