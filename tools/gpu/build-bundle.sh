#!/usr/bin/env bash
# Builds octet for the GPU machine and packs what it needs into .carry/gpu (see tools/gpu/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DOCTET_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DOCTET_OPENCV=OFF -DOCTET_HDF5=ON -DOCTET_BLAS=OFF "${launcher[@]}" >/dev/null
slim_tests=(test_ops test_cuda_backend test_int8_kernels_cuda test_float_math_cuda)
if [ "${OCTET_BUNDLE_SLIM:-0}" = 1 ]; then
  # Only what the slim bundle packs: a from-scratch build of everything takes ~3x longer on 2 cores.
  cmake --build build-gpu --parallel "$(nproc)" --target octet "${slim_tests[@]}"
else
  cmake --build build-gpu --parallel "$(nproc)"
fi

bundle=.carry/gpu
rm -rf "$bundle" && mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/onnx-node"
cp build-gpu/tools/octet/octet "$bundle/bin/"
# The libraries the GPU machine lacks (everything else there: glibc, libstdc++, CUDA, zlib, and HDF5
# 1.10 under the same soname as Debian's).
for lib in libonnx.so.1 libonnx_proto.so.1 libprotobuf.so.32 libboost_program_options.so.1.74.0; do
  cp -L "/usr/lib/x86_64-linux-gnu/$lib" "$bundle/lib/"
done
# OCTET_BUNDLE_SLIM=1: the CLI, the libraries and the CUDA-facing test binaries only (~5 MB packed),
# leaving the 64 MiB a call carries to real models (tools/gpu/run-real-models.sh).
if [ "${OCTET_BUNDLE_SLIM:-0}" = 1 ]; then
  for t in "${slim_tests[@]}"; do
    find build-gpu/tests -maxdepth 3 -type f -executable -name "$t" -exec cp {} "$bundle/bin/" \;
  done
  strip "$bundle"/bin/*
  tar cJf .carry/gpu.tar.xz -C .carry gpu
  rm -rf "$bundle"
  du -sh .carry/gpu.tar.xz
  exit 0
fi
find build-gpu/tests build-gpu/tools -maxdepth 3 -type f -executable -name 'test_*' -exec cp {} "$bundle/bin/" \;
find build-gpu/tools -maxdepth 3 -type f -executable -name 'bench_*' -exec cp {} "$bundle/bin/" \; 2>/dev/null || true
# Every ONNX node test (27 MB, ~3 MB packed): the conformance test picks those whose operators octet
# imports, so a newly registered operator's cases come along without an edit here.
cp -r /usr/share/libonnx-testdata/data/node/. "$bundle/onnx-node/"
# The Fashion-MNIST test set, for `octet eval --backend cuda` there (4.4 MB), and its HDF5 pack made
# here, the way image sets travel to a machine without OpenCV.
mkdir -p "$bundle/fashion-mnist"
cp /usr/share/datasets/fashion-mnist/t10k-*-ubyte.gz "$bundle/fashion-mnist/"
# The first 512 training images and labels as IDX files (the INT8 accuracy test calibrates on them;
# the whole training set would not fit the 64 MiB the device tool carries).
python3 - "$bundle/fashion-mnist" <<'PY'
import gzip, struct, sys
src, dst, n = "/usr/share/datasets/fashion-mnist", sys.argv[1], 512
for name, header, item in (("train-images-idx3-ubyte.gz", 16, 784), ("train-labels-idx1-ubyte.gz", 8, 1)):
    data = gzip.open(f"{src}/{name}").read()
    head = bytearray(data[:header]); head[4:8] = struct.pack(">I", n)
    with gzip.open(f"{dst}/{name}", "wb") as f: f.write(bytes(head) + data[header:header + n * item])
PY
build-gpu/tools/octet/octet dataset pack --data /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \
  --preset fashion-mnist --out "$bundle/fashion-mnist/t10k.h5" 2>/dev/null
strip "$bundle"/bin/* 2>/dev/null || true
du -sh "$bundle"
# The test binaries each link the whole static library (~2.5 MB apiece): packed with xz the bundle
# shrinks about 3x and fits the device tool's 64 MiB. run-checks.sh unpacks it there.
tar cJf .carry/gpu.tar.xz -C .carry gpu
rm -rf "$bundle"
du -sh .carry/gpu.tar.xz
