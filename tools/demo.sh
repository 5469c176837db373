#!/usr/bin/env bash
# The README's first command: octet's main job on the shipped default.
# Installs what is missing, builds, then evaluates the shipped reference model on the Fashion-MNIST
# test set (Debian's dataset-fashion-mnist) and prints its accuracy. Extra arguments go to octet eval
# (e.g. --backend cuda).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-debian.sh
tools/build.sh
data=$(dpkg -L dataset-fashion-mnist | grep 't10k-images-idx3-ubyte.gz$')
build/tools/octet/octet info models/resnet_fmnist.onnx
build/tools/octet/octet eval models/resnet_fmnist.onnx --data "$data" "$@"
