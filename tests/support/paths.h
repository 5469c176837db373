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

}  // namespace octet::test
