// Where tests find the repository and the CLI. The compiled-in paths are the build's; the
// environment overrides them so a test binary still works after being copied to another machine
// (tools/gpu/run-checks.sh sets OCTET_SOURCE_DIR and OCTET_CLI there).
#pragma once

#include <cstdlib>
#include <string>

namespace octet::test {

inline std::string source_dir() {
  const char* env = std::getenv("OCTET_SOURCE_DIR");
  return env && *env ? env : OCTET_SOURCE_DIR;
}

inline std::string cli_path() {
  const char* env = std::getenv("OCTET_CLI");
  return env && *env ? env : OCTET_CLI;
}

// Debian's dataset-fashion-mnist folder, or OCTET_FASHION_MNIST_DIR (the GPU machine has no Debian
// packages; tools/gpu/ carries the test set there). Files: t10k-/train-{images-idx3,labels-idx1}-ubyte.gz.
inline std::string fashion_mnist_dir() {
  const char* env = std::getenv("OCTET_FASHION_MNIST_DIR");
  return env && *env ? env : "/usr/share/datasets/fashion-mnist";
}
inline std::string fashion_mnist_test_images() { return fashion_mnist_dir() + "/t10k-images-idx3-ubyte.gz"; }
inline std::string fashion_mnist_train_images() { return fashion_mnist_dir() + "/train-images-idx3-ubyte.gz"; }

}  // namespace octet::test
