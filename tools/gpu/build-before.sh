#!/usr/bin/env bash
# Builds an earlier commit's `octet` for the GPU machine, for the same-call before/after of
# tools/gpu/run-real-models.sh (OCTET_SPEED_BEFORE):
#   tools/gpu/build-before.sh REV      -> .carry/speed/octet_before.xz (stripped, xz-packed, ~3 MB)
# The commit is checked out into a git worktree under build-before/ (git-ignored) and configured as
# build-bundle.sh configures build-gpu/ (sm_90, OpenCV and OpenBLAS off), so the two binaries differ in
# the source only. From scratch on 2 cores: 3.5 minutes for commit 9f35440; a commit with the
# channel-vector dp4a kernel takes ~6 minutes more (that file's ptxas).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 1 ] || { echo "usage: tools/gpu/build-before.sh REV" >&2; exit 2; }
rev=$(git rev-parse --verify "$1^{commit}")
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
tree=build-before/src
if [ -d "$tree" ]; then
  git -C "$tree" checkout -q --detach "$rev"
else
  mkdir -p build-before
  git worktree add -q --detach "$tree" "$rev"
fi
cmake -S "$tree" -B build-before/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DOCTET_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DOCTET_OPENCV=OFF -DOCTET_HDF5=ON -DOCTET_BLAS=OFF >/dev/null
cmake --build build-before/build --parallel "$(nproc)" --target octet
mkdir -p .carry/speed
strip -o .carry/speed/octet_before build-before/build/tools/octet/octet
xz -f -T0 .carry/speed/octet_before
echo "octet at ${rev:0:7} -> .carry/speed/octet_before.xz ($(du -h .carry/speed/octet_before.xz | cut -f1))"
