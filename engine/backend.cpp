// Backend names and the dispatch from BackendKind to a backend's factory.
//
// The CUDA backend is compiled only when the build has CUDA (OCTET_HAVE_CUDA); without it asking
// for "cuda" is an Error that says so, and cuda_available() is false.
#include "engine/backend.h"

#include <cstring>

#include "engine/cpu_backend.h"
#include "octet/build_config.h"

#if OCTET_HAVE_CUDA
#include "engine/cuda_backend.h"
#endif

namespace octet {

namespace {
constexpr const char* kWithoutCuda =
    "this octet was built without CUDA (reconfigure with -DOCTET_CUDA=ON on a machine with the CUDA "
    "toolkit), use the cpu backend";
}  // namespace

const char* to_string(BackendKind kind) {
  switch (kind) {
    case BackendKind::kCpu: return "cpu";
    case BackendKind::kCuda: return "cuda";
  }
  return "?";
}

BackendKind parse_backend(const std::string& name) {
  if (name == "cpu") return BackendKind::kCpu;
  if (name == "cuda") return BackendKind::kCuda;
  throw Error("unknown backend '" + name + "': choose one of cpu, cuda");
}

bool cuda_available() {
#if OCTET_HAVE_CUDA
  try {
    return cuda_device_present();
  } catch (...) {
    return false;
  }
#else
  return false;
#endif
}

std::string cuda_device_description() {
#if OCTET_HAVE_CUDA
  try {
    return cuda_describe_device(0);
  } catch (const std::exception& error) {
    return std::string("no usable CUDA device: ") + error.what();
  }
#else
  return kWithoutCuda;
#endif
}

Tensor copy_observed_to_host(const TensorView& view) {
  if (view.location == MemoryLocation::kHost) {
    Tensor t(view.type, view.dims);
    if (t.bytes() != 0) std::memcpy(t.raw(), view.data, t.bytes());
    return t;
  }
#if OCTET_HAVE_CUDA
  return cuda_observed_to_host(view);
#else
  throw Error(kWithoutCuda);
#endif
}

std::unique_ptr<ExecutionContext> create_context(const Graph& graph, BackendKind kind, const BackendOptions& options) {
  switch (kind) {
    case BackendKind::kCpu: return create_cpu_context(graph, options);
    case BackendKind::kCuda:
#if OCTET_HAVE_CUDA
      OCTET_CHECK(cuda_device_present(), "the cuda backend needs a CUDA device: ", cuda_describe_device(options.device));
      return create_cuda_context(graph, options);
#else
      throw Error(kWithoutCuda);
#endif
  }
  throw Error("unknown backend kind " + std::to_string(static_cast<int>(kind)));
}

}  // namespace octet
