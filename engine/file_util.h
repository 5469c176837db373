// Small file helpers with octet's error conventions: every failure names the path.
#pragma once

#include <string>

namespace octet {

// Whole file as bytes; Error naming the path when it is missing or unreadable.
std::string read_file(const std::string& path);

// Writes bytes to `path` atomically: a temporary file beside it, flushed, then renamed over the
// target, so a crash or Ctrl-C never leaves a half-written file (an earlier file stays intact).
void write_file_atomic(const std::string& path, const std::string& bytes);

// True when `path` ends with `suffix` (a file type by its extension: ".npz", ".gz").
inline bool ends_with(const std::string& path, const std::string& suffix) {
  return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace octet
