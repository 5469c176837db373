// The names of the CUDA INT8 convolution/GEMM tactics (kernels/cuda/conv_int8_cuda.h's Int8Tactic, in
// its order), for code that must know them without the CUDA headers: the command line checks
// --tactics against them, plans and layer info store them.
#pragma once

#include <string>

namespace octet::kernels {

constexpr const char* kInt8TacticNames[] = {"dp4a", "tensorcore", "cublaslt", "wgmma"};

inline bool is_int8_tactic_name(const std::string& name) {
  for (const char* known : kInt8TacticNames)
    if (name == known) return true;
  return false;
}

// "dp4a, tensorcore, cublaslt, wgmma", for messages and --help.
inline std::string int8_tactic_name_list() {
  std::string list;
  for (const char* name : kInt8TacticNames) list += std::string(list.empty() ? "" : ", ") + name;
  return list;
}

}  // namespace octet::kernels
