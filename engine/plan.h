// Plans: a built engine saved to a file (`octet build --save-engine`), loaded by run/eval/info/bench.
//
// A plan holds the built Graph (engine/graph.h) whole: values with their dims at the build batch, the
// constants (int8 weights, float biases), scales, nodes with attributes, precisions, weight scales and
// tactics, inputs/outputs and metadata; plus what it was built for.
//
// File layout (little-endian):
//   magic "OCTETPLN" (8 bytes) | format version u32 | payload size u64 | FNV-1a 64 of the payload u64 |
//   payload
// payload: octet version string, backend ("cpu" | "cuda"), GPU architecture ("sm_90", "" for CPU),
// GPU name, build settings text, then the graph. Strings are u32 length + bytes; vectors u64 count +
// items. Reading checks the magic, the format version, the size against the file, the checksum, then
// every count against the bytes left, so a truncated or corrupt file is refused with a clear Error
// naming the file, never read past its end. A plan from another octet version or format version is
// refused ("rebuild it"); load_plan does not check the GPU (check_plan_device does, for CUDA plans).
// Writes are atomic (engine/file_util.h).
#pragma once

#include <string>

#include "engine/backend.h"
#include "engine/graph.h"

namespace octet {

constexpr uint32_t kPlanFormatVersion = 3;

struct Plan {
  std::string octet_version;  // OCTET_VERSION_STRING of the build that wrote it
  BackendKind backend = BackendKind::kCpu;
  std::string gpu_arch;   // "sm_90" for CUDA plans
  std::string gpu_name;   // informative
  std::string build_settings;  // the build command's settings, informative (shown by octet info)
  Graph graph;
};

void save_plan(const std::string& path, const Plan& plan);
Plan load_plan(const std::string& path);
// True when the file starts with the plan magic (so a CLI can accept a model or a plan).
bool is_plan_file(const std::string& path);
// Error when a CUDA plan was built for another GPU architecture than `device_arch` ("sm_90").
void check_plan_device(const Plan& plan, const std::string& path, const std::string& device_arch);

}  // namespace octet
