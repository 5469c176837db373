// The CUDA backend: runs a Graph on one NVIDIA GPU (kernels/cuda).
//
// Only compiled when OCTET_HAVE_CUDA; engine/backend.cpp calls these through that switch.
// Creation uploads the constants, plans every activation buffer and the im2col workspace once and
// creates a stream and a cuBLAS handle bound to it; run() copies inputs in, launches, copies outputs
// out, and allocates nothing on the device. TF32 is off unless BackendOptions::allow_tf32.
#pragma once

#include <memory>
#include <string>

#include "engine/backend.h"

namespace octet {

std::unique_ptr<ExecutionContext> create_cuda_context(const Graph& graph, const BackendOptions& options);

// True when the CUDA runtime sees at least one device; never throws.
bool cuda_device_present();
// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB)", or the reason there is no device.
std::string cuda_describe_device(int device);

}  // namespace octet
