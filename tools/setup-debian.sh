#!/usr/bin/env bash
# Installs what octet needs from Debian's packages (only what is missing; asks for nothing else).
# Used by tools/demo.sh and tools/test.sh, so the README's two commands work on a fresh machine.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libonnx-dev libprotobuf-dev protobuf-compiler   # ONNX import
  libboost-program-options-dev nlohmann-json3-dev # CLI, JSON
  libopenblas-dev zlib1g-dev                      # CPU GEMM, gzip'd IDX files
  libopencv-dev libhdf5-dev                       # images, HDF5 (optional at build time)
  libgtest-dev python3-venv python3-numpy          # tests, the venv for test-only peers, numpy references
  dataset-fashion-mnist libonnx-testdata          # real data: Fashion-MNIST, ONNX conformance tests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "octet setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
