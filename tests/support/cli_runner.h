// Running the `octet` CLI from a test as a user would: a child process, its exit code and output.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>

#include "tests/support/paths.h"

namespace octet::test {

struct CliResult {
  int exit_code = -1;  // 128 + signal when the child was killed by one
  std::string output;
};

// Runs `command` through the shell and collects what it writes to stdout.
inline CliResult run_shell(const std::string& command) {
  CliResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  for (size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;) result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// `octet ARGUMENTS`, stdout and stderr together.
inline CliResult run_cli(const std::string& arguments) {
  return run_shell("'" + cli_path() + "' " + arguments + " 2>&1");
}

// `octet ARGUMENTS`, stdout only (for output that must parse).
inline CliResult run_cli_stdout(const std::string& arguments) {
  return run_shell("'" + cli_path() + "' " + arguments + " 2>/dev/null");
}

// The shipped model models/<name>.onnx.
inline std::string model_path(const std::string& name) { return source_dir() + "/models/" + name + ".onnx"; }

// One shell word (the paths of the tests hold no quote).
inline std::string arg(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}
inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Every fragment is in the output.
inline void expect_contains(const CliResult& r, std::initializer_list<std::string> fragments) {
  for (const std::string& f : fragments)
    EXPECT_NE(r.output.find(f), std::string::npos) << "missing '" << f << "' in:\n" << r.output;
}
// Exit code 0 and every fragment.
inline void expect_ok(const CliResult& r, std::initializer_list<std::string> fragments = {}) {
  EXPECT_EQ(r.exit_code, 0) << r.output;
  expect_contains(r, fragments);
}
// Exit code 1, an "error:" line and every fragment.
inline void expect_error(const CliResult& r, std::initializer_list<std::string> fragments) {
  EXPECT_EQ(r.exit_code, 1) << r.output;
  expect_contains(r, {"error:"});
  expect_contains(r, fragments);
}

// A CLI test that reads Debian's Fashion-MNIST (skipped with a message when it is absent) and works in a
// folder of its own, emptied before and removed after each test; the process id in the folder's name lets
// ctest -j run tests side by side.
class FashionMnistCliTest : public ::testing::Test {
 protected:
  explicit FashionMnistCliTest(const std::string& prefix)
      : dir(std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()))) {}

  void SetUp() override {
    for (const std::string& images : {fashion_mnist_test_images(), fashion_mnist_train_images()})
      if (!std::filesystem::exists(images))
        GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed (" << images << ")";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  std::filesystem::path file(const std::string& name) const { return dir / name; }

  const std::filesystem::path dir;
};

}  // namespace octet::test
