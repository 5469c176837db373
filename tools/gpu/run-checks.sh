#!/usr/bin/env bash
# Runs on the GPU machine from the repository root, after tools/gpu/build-bundle.sh here:
#   1. every test binary of the bundle (CUDA tests run there; a skip for lack of a GPU is a failure
#      of this script's purpose, so the log is checked for it), the ONNX conformance suite included
#      (its CUDA column);
#      The INT8 accuracy test runs every range method there (OCTET_INT8_METHODS) for docs/int8_accuracy.md.
#   2. with OCTET_BENCH=1: the FP32 ResNet-50 benchmark, octet and PyTorch (TF32 off) in one run;
#      with OCTET_BENCH_INT8=1: the INT8 GEMM benchmark (wgmma, mma.sync, DP4A, cuBLASLt) and ResNet-50
#      INT8 vs octet FP32 vs PyTorch FP16 channels-last (tools/gpu/bench-int8.sh).
#   OCTET_SANITIZE=1: test_cuda_backend and test_int8_kernels_cuda under compute-sanitizer memcheck; OCTET_EVAL=1: octet eval of the four
#   reference models on the Fashion-MNIST test set with the CUDA backend; OCTET_QDQ=1: the Q/DQ fixtures'
#   INT8 engines against the fixtures run as they are, on CUDA. OCTET_TESTS=0 skips step 1;
#   OCTET_TEST_GLOB (default test_*) picks the test binaries.
# Logs go to $OUT (the device tool brings them back; tar them if more than 8 files).
set -uo pipefail
bundle=.carry/gpu
[ -d "$bundle" ] || tar xJf .carry/gpu.tar.xz -C .carry
export LD_LIBRARY_PATH="$PWD/$bundle/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
export OCTET_ONNX_TESTDATA="$PWD/$bundle/onnx-node"
export OCTET_SOURCE_DIR="$PWD" OCTET_CLI="$PWD/$bundle/bin/octet" OCTET_FASHION_MNIST_DIR="$PWD/$bundle/fashion-mnist"
export PYTHONUNBUFFERED=1
export OCTET_PYTHON=${OCTET_PYTHON:-$(command -v python3)}  # NumPy for the range-selection reference
export OCTET_INT8_METHODS=${OCTET_INT8_METHODS:-max,entropy,percentile,mse}
out=${OUT:-/tmp/octet-out}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader | tee "$out/device.txt"
status=0
if ldd "$bundle/bin/octet" | grep -q "not found"; then
  echo "missing libraries:"; ldd "$bundle/bin/octet" | grep "not found"; exit 1
fi
if [ "${OCTET_TESTS:-1}" = 1 ]; then
  for t in "$bundle"/bin/${OCTET_TEST_GLOB:-test_*}; do
    name=$(basename "$t")
    if ! "$t" --gtest_brief=1 >"$out/$name.log" 2>&1; then status=1; echo "FAILED: $name"; fi
    echo "== $name: $(grep -cE '^\[       OK|^\[  PASSED' "$out/$name.log") ok lines; $(grep -E '^\[  (PASSED|FAILED|SKIPPED)  \]' "$out/$name.log" | tr '\n' ' ')"
    grep -E 'no CUDA device' "$out/$name.log" | head -3
  done
  for summary in "test_onnx_node_conformance:^total|^cuda:" "test_reference_models:relative L2" \
                 "test_int8_accuracy:^INT8 " "test_int8_kernels_cuda:cases$|^  [a-z]"; do
    log="$out/${summary%%:*}.log"
    [ -f "$log" ] && grep -E "${summary#*:}" "$log"
  done
fi
if [ "${OCTET_SANITIZE:-0}" = 1 ]; then
  for t in test_cuda_backend test_int8_kernels_cuda; do
    compute-sanitizer --tool memcheck --error-exitcode 9 "$bundle/bin/$t" --gtest_brief=1 \
      >"$out/sanitizer_$t.log" 2>&1 || { status=1; echo "FAILED: compute-sanitizer $t"; }
    tail -1 "$out/sanitizer_$t.log"
  done
fi
if [ "${OCTET_EVAL:-0}" = 1 ]; then
  for m in resnet mobilenetv2 inception mlp; do
    echo "== eval ${m}_fmnist on cuda"
    "$bundle/bin/octet" eval "models/${m}_fmnist.onnx" --data "$bundle/fashion-mnist/t10k-images-idx3-ubyte.gz" \
      --backend cuda --batch 256 2>/dev/null | grep -E 'top-1|speed' || status=1
  done
  echo "== eval resnet_fmnist on cuda from the HDF5 pack"
  "$bundle/bin/octet" eval models/resnet_fmnist.onnx --data "$bundle/fashion-mnist/t10k.h5" --backend cuda \
    --batch 256 2>/dev/null | grep -E 'top-1|speed' || status=1
fi
if [ "${OCTET_QDQ:-0}" = 1 ]; then
  # Explicitly quantized models (ONNX Runtime's quantize_static fixtures): octet's INT8 engine built from
  # each, against the same model run as it is (its QuantizeLinear/DequantizeLinear nodes executed, float
  # convolutions between them), both on the CUDA backend, on the 10,000 test images.
  for f in tests/fixtures/qdq/*.onnx; do
    echo "== $(basename "$f" .onnx): INT8 engine vs the model as it is, cuda"
    "$bundle/bin/octet" build "$f" --int8 --backend cuda --batch 256 --save-engine /tmp/qdq.plan >/dev/null || status=1
    "$bundle/bin/octet" eval /tmp/qdq.plan --reference "$f" --data "$bundle/fashion-mnist/t10k-images-idx3-ubyte.gz" \
      --backend cuda --batch 256 2>/dev/null | grep -E 'top-1' || status=1
  done
fi
if [ "${OCTET_BENCH:-0}" = 1 ]; then
  model=/tmp/resnet50.onnx
  [ -f "$model" ] || python3 tools/models/export_resnet50.py "$model" >"$out/export.log" 2>&1 || { echo "export failed"; tail "$out/export.log"; exit 1; }
  batches=${OCTET_BENCH_BATCHES:-1,32,128}
  # Peer and octet alternate in one call so both see the same clocks and temperature.
  python3 tools/bench/pytorch_resnet50.py --batch-sizes "$batches" 2>&1 | tee "$out/bench_pytorch_fp32.jsonl"
  "$bundle/bin/bench_fp32" "$model" --batch "$batches" 2>&1 | tee "$out/bench_octet_fp32.jsonl"
  "$bundle/bin/bench_fp32" "$model" --batch "$batches" --cuda-graph 2>&1 | tee -a "$out/bench_octet_fp32.jsonl"
  # Sweep of the conv dispatch knobs at the largest batch (engine/cuda_backend.h CudaBackendTuning).
  largest=${batches##*,}
  for limit in 32 128 2048; do
    "$bundle/bin/bench_fp32" "$model" --batch "$largest" --cuda-graph --im2col-limit-mib $limit 2>&1 | tee -a "$out/bench_octet_fp32.jsonl"
  done
  "$bundle/bin/bench_fp32" "$model" --batch "$largest" --cuda-graph --conv1x1-gemm-min-pixels 256 2>&1 | tee -a "$out/bench_octet_fp32.jsonl"
  python3 tools/bench/pytorch_resnet50.py --batch-sizes "$batches" 2>&1 | tee -a "$out/bench_pytorch_fp32.jsonl"
fi
if [ "${OCTET_BENCH_INT8:-0}" = 1 ]; then
  bash tools/gpu/bench-int8.sh "$bundle" "$out" || status=1
fi
exit $status
