#!/usr/bin/env bash
# Configures and builds octet into build/ (Release). CUDA is built when nvcc is found
# (override with OCTET_CMAKE_ARGS="-DOCTET_CUDA=OFF"). Parallelism: all cores.
set -euo pipefail
cd "$(dirname "$0")/.."
# nvcc lives outside PATH on a standard CUDA install.
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${OCTET_CMAKE_ARGS:-} >/dev/null
cmake --build build --parallel "$(nproc)"
