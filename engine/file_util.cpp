#include "engine/file_util.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.h"

namespace octet {

std::string read_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  OCTET_CHECK(fs::exists(path, ec), path, ": no such file");
  OCTET_CHECK(!fs::is_directory(path, ec), path, ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  OCTET_CHECK(in.good(), path, ": cannot open (", std::strerror(errno), ")");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  OCTET_CHECK(!in.bad(), path, ": read failed (", std::strerror(errno), ")");
  return bytes.str();
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  // The temporary name carries the pid so two processes writing the same target do not collide.
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    OCTET_CHECK(out.good(), "cannot write '", temp, "': ", std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out.good()) {
      std::remove(temp.c_str());
      OCTET_CHECK(false, "cannot write '", temp, "' (disk full?)");
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(temp.c_str());
    OCTET_CHECK(false, "cannot rename '", temp, "' to '", path, "': ", std::strerror(err));
  }
}

}  // namespace octet
