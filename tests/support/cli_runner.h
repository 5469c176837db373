// Running the `octet` CLI from a test as a user would: a child process, its exit code and output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
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

}  // namespace octet::test
