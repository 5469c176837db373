// The CPU backend: runs a Graph with the kernels in kernels/cpu.
//
// Every op has a plain reference kernel (kernels/cpu/*_ref); convolution and GEMM also have a fast
// path (im2col + OpenBLAS sgemm, multi-threaded), used unless BackendOptions::reference is set.
// Buffers for every value are allocated when the context is created.
#pragma once

#include <memory>

#include "engine/backend.h"

namespace octet {

std::unique_ptr<ExecutionContext> create_cpu_context(const Graph& graph, const BackendOptions& options);

}  // namespace octet
