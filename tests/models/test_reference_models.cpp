// The shipped reference models (models/*.onnx) against ONNX Runtime.
//
// tools/models/train_reference_models.py trained the models and stored, for a fixed batch of 16
// Fashion-MNIST test images, ONNX Runtime's logits (models/reference/<name>/{input_0,output_0}.pb).
// octet must reproduce them after import and its FP32 passes (BN folding, epilogue fusion):
//   CPU:  relative L2 error ||y - y_ort|| / ||y_ort|| <= 1e-5
//   CUDA: <= 1e-4 (TF32 off; cuBLAS may sum in another order)
// and the same top-1 class for every sample.
// Why 1e-5 on the CPU: each logit is a chain of dot products of length K <= ~1,200 in float32; the
// rounding bound per dot product is gamma_K = K * 2^-24 ~ 7e-5 relative to sum |a_i b_i|, but errors
// of independent roundings add like a random walk (~sqrt(K) * 2^-24 ~ 2e-6), and BN folding adds one
// rounding per weight; 1e-5 leaves headroom over that and is far below what a real bug gives (>1e-2).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "engine/backend.h"
#include "engine/onnx_import.h"
#include "engine/passes.h"
#include "engine/shape_inference.h"
#include "tests/support/paths.h"

namespace fs = std::filesystem;

namespace octet {
namespace {

const char* const kModels[] = {"resnet_fmnist", "mobilenetv2_fmnist", "inception_fmnist", "mlp_fmnist"};

fs::path source_dir() { return test::source_dir(); }

double relative_l2(const Tensor& actual, const Tensor& expected) {
  const float* a = actual.data<float>();
  const float* e = expected.data<float>();
  double num = 0, den = 0;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    num += (double(a[i]) - e[i]) * (double(a[i]) - e[i]);
    den += double(e[i]) * e[i];
  }
  return std::sqrt(num / den);
}

std::vector<int64_t> argmax_rows(const Tensor& logits) {
  const int64_t n = logits.dims()[0], classes = logits.dims()[1];
  std::vector<int64_t> best(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 1; c < classes; ++c)
      if (logits.data<float>()[i * classes + c] > logits.data<float>()[i * classes + best[i]]) best[i] = c;
  return best;
}

struct Case {
  std::string model;
  BackendKind backend;
  bool optimized;  // FP32 passes applied (what octet run/eval do)
  double tolerance;
};

class ReferenceModel : public ::testing::TestWithParam<Case> {};

TEST_P(ReferenceModel, MatchesOnnxRuntime) {
  const Case& c = GetParam();
  if (c.backend == BackendKind::kCuda && !cuda_available())
    GTEST_SKIP() << "no CUDA device: " << cuda_device_description();
  const fs::path dir = source_dir() / "models" / "reference" / c.model;
  const Tensor input = read_tensor_proto_file((dir / "input_0.pb").string());
  const Tensor expected = read_tensor_proto_file((dir / "output_0.pb").string());

  Graph graph = import_onnx_file((source_dir() / "models" / (c.model + ".onnx")).string());
  if (c.optimized) optimize_fp32(graph);
  set_batch(graph, input.dims()[0]);
  auto context = create_context(graph, c.backend);
  const std::vector<Tensor> outputs = context->run({input});
  ASSERT_EQ(outputs.size(), 1u);
  ASSERT_EQ(outputs[0].dims(), expected.dims());
  const double error = relative_l2(outputs[0], expected);
  std::printf("%s on %s (%s): relative L2 error %.3g\n", c.model.c_str(), to_string(c.backend),
              c.optimized ? "optimized" : "as imported", error);
  EXPECT_LE(error, c.tolerance);
  EXPECT_EQ(argmax_rows(outputs[0]), argmax_rows(expected));
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const char* m : kModels) {
    cases.push_back({m, BackendKind::kCpu, false, 1e-5});
    cases.push_back({m, BackendKind::kCpu, true, 1e-5});
    cases.push_back({m, BackendKind::kCuda, true, 1e-4});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Models, ReferenceModel, ::testing::ValuesIn(all_cases()), [](const auto& param_info) {
  const Case& c = param_info.param;
  return c.model + "_" + to_string(c.backend) + (c.optimized ? "_optimized" : "_imported");
});

}  // namespace
}  // namespace octet
