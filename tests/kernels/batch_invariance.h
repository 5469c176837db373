// BackendOptions::batch_invariant, checked the same way on every backend: a graph with every kind of
// GEMM the backends dispatch (im2col 3x3, 1x1, grouped 3x3, depthwise 3x3, Gemm with transposed B
// and a bias row, MatMul) and the per-sample reductions (GlobalAveragePool, Softmax) runs 64 samples
// at batch 1, at batch 5 (the last batch padded with zeros) and at batch 64 in reversed order, and
// every node output of every sample must have the same bytes in all three (memcmp, no tolerance).
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/shape_inference.h"
#include "tests/engine/graph_builder.h"
#include "tests/kernels/kernel_test_util.h"

namespace octet::test {

// x [N, 4, 12, 12] -> Conv 3x3 pad 1 (8, bias) -> Relu -> Conv 1x1 (16) -> Conv 3x3 group 2 (8)
//   -> Conv 3x3 depthwise (8) -> GlobalAveragePool (second output)
//   and the depthwise output -> Flatten [N, 1152] -> Gemm (W [24, 1152] transposed, C [24]) -> Relu
//   -> MatMul [24, 10] -> Softmax.
inline Graph batch_invariance_graph(int64_t n) {
  GraphBuilder b;
  const ValueId x = b.input("x", {n, 4, 12, 12}, /*batched=*/true);
  auto conv = [&](const std::string& name, ValueId in, int64_t k, int64_t c_per_group, int64_t size, int64_t group,
                  bool bias, uint32_t seed) {
    ConvAttrs a;
    a.kernel_h = a.kernel_w = size;
    a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = size / 2;
    a.group = group;
    std::vector<ValueId> inputs{
        in, b.constant(name + ".w", {k, c_per_group, size, size},
                       random_values(static_cast<size_t>(k * c_per_group * size * size), seed))};
    if (bias) inputs.push_back(b.constant(name + ".b", {k}, random_values(static_cast<size_t>(k), seed + 1)));
    return b.node(OpKind::Conv, name, std::move(inputs), a);
  };
  const ValueId c1 = conv("conv3x3", x, 8, 4, 3, 1, true, 1);
  ActivationParams relu;
  relu.kind = Activation::kRelu;
  const ValueId r1 = b.node(OpKind::Relu, "relu1", {c1}, relu);
  const ValueId c2 = conv("conv1x1", r1, 16, 8, 1, 1, false, 3);
  const ValueId c3 = conv("conv_grouped", c2, 8, 8, 3, 2, true, 5);
  const ValueId c4 = conv("conv_depthwise", c3, 8, 1, 3, 8, true, 7);
  b.output(b.node(OpKind::GlobalAveragePool, "gap", {c4}));
  ReshapeAttrs flatten;
  flatten.rule = ReshapeAttrs::Rule::kFlatten;
  flatten.axis = 1;
  const ValueId flat = b.node(OpKind::Reshape, "flatten", {c4}, flatten);
  GemmAttrs fc;
  fc.trans_b = true;
  const ValueId g = b.node(OpKind::Gemm, "fc",
                           {flat, b.constant("fc.w", {24, 8 * 12 * 12}, random_values(24 * 8 * 12 * 12, 9)),
                            b.constant("fc.b", {24}, random_values(24, 10))},
                           fc);
  const ValueId r2 = b.node(OpKind::Relu, "relu2", {g}, relu);
  GemmAttrs matmul;  // what the importer gives a MatMul
  matmul.beta = 0.0f;
  const ValueId mm =
      b.node(OpKind::MatMul, "matmul", {r2, b.constant("mm.b", {24, 10}, random_values(240, 11))}, matmul);
  SoftmaxAttrs sm;
  sm.axis = 1;
  b.output(b.node(OpKind::Softmax, "softmax", {mm}, sm));
  infer_shapes(b.graph);
  return b.graph;
}

// Per node: the bytes of each sample's output (dim 0 is the batch for every node here).
using SampleBytes = std::map<std::string, std::vector<std::vector<unsigned char>>>;

// An observed view's bytes on the host (the CUDA test passes one that copies from the device).
using ViewReader = std::function<std::vector<unsigned char>(const TensorView& view, size_t bytes)>;

inline std::vector<unsigned char> read_host_view(const TensorView& view, size_t bytes) {
  EXPECT_EQ(view.location, MemoryLocation::kHost);
  const auto* p = static_cast<const unsigned char*>(view.data);
  return std::vector<unsigned char>(p, p + bytes);
}

// Runs `samples` images of x through `kind` at `batch`, the images in `order` (positions in the
// batches), and returns each sample's node outputs indexed by sample.
inline SampleBytes run_samples(BackendKind kind, const BackendOptions& options, const ViewReader& read, int64_t batch,
                               const std::vector<float>& images, int64_t samples, const std::vector<int64_t>& order) {
  const int64_t image_floats = static_cast<int64_t>(images.size()) / samples;
  Graph graph = batch_invariance_graph(batch);
  auto context = create_context(graph, kind, options);
  SampleBytes result;
  std::vector<int64_t> in_batch;  // the sample at each position of the running batch
  context->set_observer([&](const Node& node, ValueId, const TensorView& view) {
    const std::vector<unsigned char> host =
        read(view, static_cast<size_t>(numel(view.dims)) * element_size(view.type));
    const size_t per_sample = host.size() / static_cast<size_t>(batch);
    auto& rows = result[node.name];
    rows.resize(static_cast<size_t>(samples));
    for (size_t pos = 0; pos < in_batch.size(); ++pos)
      rows[static_cast<size_t>(in_batch[pos])].assign(host.begin() + static_cast<ptrdiff_t>(pos * per_sample),
                                                      host.begin() + static_cast<ptrdiff_t>((pos + 1) * per_sample));
  });
  const Value& x = graph.value(graph.inputs[0]);
  for (size_t first = 0; first < order.size(); first += static_cast<size_t>(batch)) {
    Tensor input(DataType::kFloat32, x.dims);  // zero-filled: a short last batch is padded with zeros
    std::memset(input.raw(), 0, input.bytes());
    in_batch.clear();
    for (size_t pos = 0; pos < static_cast<size_t>(batch) && first + pos < order.size(); ++pos) {
      const int64_t sample = order[first + pos];
      std::memcpy(input.data<float>() + static_cast<int64_t>(pos) * image_floats,
                  images.data() + sample * image_floats, static_cast<size_t>(image_floats) * sizeof(float));
      in_batch.push_back(sample);
    }
    context->run({input});
  }
  return result;
}

// The check itself: batch 1 in order is the baseline.
inline void expect_batch_invariant(BackendKind kind, BackendOptions options,
                                   const ViewReader& read = read_host_view) {
  options.batch_invariant = true;
  constexpr int64_t kSamples = 64;
  const std::vector<float> images = random_values(static_cast<size_t>(kSamples * 4 * 12 * 12), 2024);
  std::vector<int64_t> in_order(kSamples), reversed(kSamples);
  for (int64_t i = 0; i < kSamples; ++i) {
    in_order[static_cast<size_t>(i)] = i;
    reversed[static_cast<size_t>(i)] = kSamples - 1 - i;
  }
  const SampleBytes base = run_samples(kind, options, read, 1, images, kSamples, in_order);
  ASSERT_EQ(base.size(), 11u);  // every node observed
  struct Run {
    int64_t batch;
    const std::vector<int64_t>* order;
    const char* what;
  };
  for (const Run& run : {Run{5, &in_order, "batch 5 (last batch padded)"}, Run{64, &reversed, "batch 64 reversed"}}) {
    const SampleBytes other = run_samples(kind, options, read, run.batch, images, kSamples, *run.order);
    ASSERT_EQ(other.size(), base.size()) << run.what;
    for (const auto& [node, rows] : base) {
      const auto& other_rows = other.at(node);
      for (size_t s = 0; s < rows.size(); ++s) {
        ASSERT_FALSE(rows[s].empty()) << node << " sample " << s;
        ASSERT_EQ(rows[s].size(), other_rows[s].size()) << node << " sample " << s;
        EXPECT_EQ(std::memcmp(rows[s].data(), other_rows[s].data(), rows[s].size()), 0)
            << run.what << ": node '" << node << "', sample " << s << " differs from batch 1";
      }
    }
  }
}

}  // namespace octet::test
