// The harness every operator test uses: import a one-node (or small) ONNX model built in the test,
// run it on every backend this build and machine have, and compare.
//
//   octet::test::ModelBuilder b(13);
//   b.input("x", {2, 3}).output("y", {2, 3});
//   b.node("Exp", {"x"}, {"y"});
//   const OpRun r = run_everywhere(b, {x});      // CPU reference, CPU fast path, CUDA when present
//   expect_close(r.outputs[0], expected, 1e-6);   // against values the test states
//
// run_everywhere checks, for every output: the CPU fast path equals the CPU reference bit for bit,
// and CUDA (when a device is present) equals it bit for bit, or within the operator's
// OpDef::cuda_relative_error for float outputs of operators that declare one. Graphs with a Conv,
// Gemm or MatMul sum in another order on the fast path (im2col + BLAS) and on CUDA (cuBLAS): their
// outputs are held to a relative L2 error of 1e-5 instead (tests/cuda/test_cuda_backend.cpp bounds
// those kernels element by element), and run once more on both with BackendOptions::reproducible,
// which must give the reference's bits. Without a GPU the CUDA comparison is skipped with a message in
// the test's output (r.cuda_ran says which).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <cstring>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/onnx_import.h"
#include "engine/op_registry.h"
#include "tests/support/onnx_builder.h"

namespace octet::test {

struct OpRun {
  Graph graph;
  std::vector<Tensor> outputs;  // the CPU reference's
  bool cuda_ran = false;
};

inline Graph import_model(const ModelBuilder& b, const ImportOptions& options = {}) {
  return import_onnx_bytes(b.bytes(), "<test model>", options);
}

// Tensor of `dims` holding `values` (row-major).
template <typename T>
Tensor make_host_tensor(const Dims& dims, const std::vector<T>& values) {
  Tensor t(data_type_of<T>(), dims);
  EXPECT_EQ(static_cast<int64_t>(values.size()), t.numel()) << "values for " << to_string(dims);
  if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(T));
  return t;
}

// The largest relative CUDA/CPU difference any node of `graph` allows (0: bit-identical).
inline double allowed_relative_error(const Graph& graph) {
  double allowed = 0.0;
  for (const Node& node : graph.nodes)
    if (const OpDef* def = find_op_def(node.op)) allowed = std::max(allowed, def->cuda_relative_error);
  return allowed;
}

inline bool sums_in_another_order(const Graph& graph) {
  for (const Node& node : graph.nodes)
    if (node.op == OpKind::Conv || node.op == OpKind::Gemm || node.op == OpKind::MatMul) return true;
  return false;
}

inline ::testing::AssertionResult relative_l2_within(const Tensor& actual, const Tensor& reference, double bound) {
  if (actual.type() != DataType::kFloat32 || actual.dims() != reference.dims())
    return ::testing::AssertionFailure() << "type/dims differ";
  double diff = 0.0, norm = 0.0;
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const double d = double(actual.data<float>()[i]) - reference.data<float>()[i];
    diff += d * d;
    norm += double(reference.data<float>()[i]) * reference.data<float>()[i];
  }
  if (std::sqrt(diff) <= bound * std::sqrt(norm) + 1e-30) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "relative L2 error " << std::sqrt(diff / std::max(norm, 1e-300));
}

inline ::testing::AssertionResult same_within(const Tensor& actual, const Tensor& reference, double relative) {
  if (actual.type() != reference.type() || actual.dims() != reference.dims())
    return ::testing::AssertionFailure() << "type/dims " << to_string(actual.type()) << to_string(actual.dims())
                                         << " vs reference " << to_string(reference.type())
                                         << to_string(reference.dims());
  if (actual.type() != DataType::kFloat32) {
    if (actual.bytes() == 0 || std::memcmp(actual.raw(), reference.raw(), actual.bytes()) == 0)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "not bit-identical to the CPU reference";
  }
  const float* a = actual.data<float>();
  const float* r = reference.data<float>();
  // Bit-identical floats, except that two NaNs match: the bits of a NaN made by arithmetic differ
  // between x86 (the default NaN, sign set) and CUDA (the canonical NaN).
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const bool both_nan = std::isnan(a[i]) && std::isnan(r[i]);
    if (both_nan || std::memcmp(&a[i], &r[i], sizeof(float)) == 0) continue;
    if (relative == 0.0)
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " is not bit-identical to the "
                                           << "reference " << r[i];
    if (!(std::fabs(double(a[i]) - r[i]) <= relative * std::fabs(double(r[i])) + 1e-37))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs reference " << r[i]
                                           << " (relative bound " << relative << ")";
  }
  return ::testing::AssertionSuccess();
}

inline OpRun run_everywhere(const Graph& graph, const std::vector<Tensor>& inputs) {
  OpRun run;
  run.graph = graph;
  BackendOptions reference;
  reference.reference = true;
  run.outputs = create_context(graph, BackendKind::kCpu, reference)->run(inputs);
  const bool reordered = sums_in_another_order(graph);
  const auto check = [&](const Tensor& actual, const Tensor& expected, double relative) {
    return reordered ? relative_l2_within(actual, expected, 1e-5) : same_within(actual, expected, relative);
  };
  const std::vector<Tensor> fast = create_context(graph, BackendKind::kCpu)->run(inputs);
  for (size_t i = 0; i < fast.size(); ++i) EXPECT_TRUE(check(fast[i], run.outputs[i], 0.0)) << "CPU fast path, output " << i;
  // Reproducible runs (BackendOptions::reproducible) sum GEMMs in the reference's order: bit-identical.
  BackendOptions reproducible;
  reproducible.reproducible = true;
  if (reordered) {
    const std::vector<Tensor> exact = create_context(graph, BackendKind::kCpu, reproducible)->run(inputs);
    for (size_t i = 0; i < exact.size(); ++i)
      EXPECT_TRUE(same_within(exact[i], run.outputs[i], 0.0)) << "CPU fast path reproducible, output " << i;
  }
  if (!cuda_available()) {
    std::cout << "[ SKIPPED  ] the CUDA comparison: " << cuda_device_description() << "\n";
    return run;
  }
  const std::vector<Tensor> gpu = create_context(graph, BackendKind::kCuda)->run(inputs);
  const double relative = allowed_relative_error(graph);
  for (size_t i = 0; i < gpu.size(); ++i) EXPECT_TRUE(check(gpu[i], run.outputs[i], relative)) << "CUDA, output " << i;
  if (reordered) {
    const std::vector<Tensor> exact = create_context(graph, BackendKind::kCuda, reproducible)->run(inputs);
    for (size_t i = 0; i < exact.size(); ++i)
      EXPECT_TRUE(same_within(exact[i], run.outputs[i], relative)) << "CUDA reproducible, output " << i;
  }
  run.cuda_ran = true;
  return run;
}

inline OpRun run_everywhere(const ModelBuilder& b, const std::vector<Tensor>& inputs,
                            const ImportOptions& options = {}) {
  return run_everywhere(import_model(b, options), inputs);
}

// Every element of a float tensor within `tolerance` (absolute) of the expected values.
inline void expect_close(const Tensor& actual, const std::vector<float>& expected, double tolerance) {
  ASSERT_EQ(actual.type(), DataType::kFloat32);
  ASSERT_EQ(actual.numel(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(actual.data<float>()[i], expected[i], tolerance) << "element " << i;
}

// Runs `body` and expects an Error (or UnsupportedError with `unsupported`) whose message contains
// every one of `parts`.
template <typename Body>
void expect_error_mentioning(Body&& body, const std::vector<std::string>& parts, bool unsupported = false) {
  try {
    body();
    ADD_FAILURE() << "expected an error mentioning '" << (parts.empty() ? "" : parts[0]) << "'";
  } catch (const UnsupportedError& e) {
    EXPECT_TRUE(unsupported) << "UnsupportedError where an Error was expected: " << e.what();
    for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  } catch (const Error& e) {
    EXPECT_FALSE(unsupported) << "Error where an UnsupportedError was expected: " << e.what();
    for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

}  // namespace octet::test
