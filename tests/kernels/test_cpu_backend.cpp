// The CPU backend and the backend dispatch, on graphs built directly in the IR (no ONNX import,
// no shape inference: every dimension is set by hand here).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/cpu_backend.h"
#include "engine/error.h"
#include "engine/graph.h"
#include "octet/build_config.h"
#include "tests/kernels/batch_invariance.h"
#include "tests/kernels/kernel_test_util.h"
#include "tests/support/error_text.h"

namespace octet {
namespace {

using Floats = std::vector<float>;

// Builds a Graph value by value and node by node.
class GraphBuilder {
 public:
  ValueId input(const std::string& name, const Dims& dims, DataType type = DataType::kFloat32) {
    const ValueId id = graph_.add_value(Value{name, type, dims, std::nullopt, std::nullopt, std::nullopt});
    graph_.inputs.push_back(id);
    graph_.input_batched.push_back(true);
    return id;
  }
  ValueId constant(const std::string& name, const Dims& dims, const Floats& values) {
    Tensor t(DataType::kFloat32, dims);
    EXPECT_EQ(static_cast<size_t>(t.numel()), values.size()) << name;
    std::memcpy(t.raw(), values.data(), t.bytes());
    return graph_.add_value(Value{name, DataType::kFloat32, dims, std::move(t), std::nullopt, std::nullopt});
  }
  ValueId node(OpKind op, const std::string& name, std::vector<ValueId> inputs, const Dims& out_dims,
               NodeAttributes attrs = {}) {
    const ValueId out = graph_.add_value(Value{name + "_out", DataType::kFloat32, out_dims, std::nullopt, std::nullopt, std::nullopt});
    Node n;
    n.name = name;
    n.op = op;
    n.inputs = std::move(inputs);
    n.outputs = {out};
    n.attrs = std::move(attrs);
    graph_.nodes.push_back(std::move(n));
    return out;
  }
  void output(ValueId id) { graph_.outputs.push_back(id); }
  Graph& graph() { return graph_; }

 private:
  Graph graph_;
};

Tensor tensor_of(const Dims& dims, const Floats& values) {
  Tensor t(DataType::kFloat32, dims);
  std::memcpy(t.raw(), values.data(), t.bytes());
  return t;
}

Floats floats_of(const Tensor& t) {
  const float* p = t.data<float>();
  return Floats(p, p + t.numel());
}

// What the observer saw: per node, in call order.
struct Observation {
  std::string node;
  ValueId output;
  Dims dims;
  Floats data;
};

using test::error_of;

ConvAttrs conv_attrs(int64_t k, int64_t pad) {
  ConvAttrs a;
  a.kernel_h = a.kernel_w = k;
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = pad;
  return a;
}

PoolAttrs pool_attrs(int64_t kh, int64_t kw, int64_t sh, int64_t sw) {
  PoolAttrs a;
  a.kernel_h = kh;
  a.kernel_w = kw;
  a.stride_h = sh;
  a.stride_w = sw;
  return a;
}

ReshapeAttrs flatten_attrs() {
  ReshapeAttrs a;
  a.rule = ReshapeAttrs::Rule::kFlatten;
  a.axis = 1;
  return a;
}

// ---- a graph small enough to compute by hand ----------------------------------------------------

TEST(CpuBackendFloat32Nchw, HandComputedNetOnBothPathsWithObserver) {
  // x = 1 2 / 3 4. Conv 1x1 with w = (1, -1), bias (0, 1): channel 0 = x, channel 1 = 1 - x =
  // 0 -1 / -2 -3. Relu: channel 1 becomes 0. MaxPool 2x2: (4, 0). Flatten: [1, 2].
  // Gemm with B = [[1, 1], [5, 5]], C = (0, ln 3): z = (4, 4 + ln 3). Softmax: e^4 : 3 e^4 -> (1/4, 3/4).
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 1, 2, 2});
  const ValueId w = b.constant("w", {2, 1, 1, 1}, {1, -1});
  const ValueId bias = b.constant("bias", {2}, {0, 1});
  const ValueId conv = b.node(OpKind::Conv, "conv", {x, w, bias}, {1, 2, 2, 2}, conv_attrs(1, 0));
  const ValueId relu = b.node(OpKind::Relu, "relu", {conv}, {1, 2, 2, 2}, ActivationParams{Activation::kRelu, 0, 0});
  const ValueId pool = b.node(OpKind::MaxPool, "pool", {relu}, {1, 2, 1, 1}, pool_attrs(2, 2, 2, 2));
  const ValueId flat = b.node(OpKind::Reshape, "flatten", {pool}, {1, 2}, flatten_attrs());
  const ValueId fc_b = b.constant("fc_b", {2, 2}, {1, 1, 5, 5});
  const ValueId fc_c = b.constant("fc_c", {2}, {0, std::log(3.0f)});
  const ValueId fc = b.node(OpKind::Gemm, "fc", {flat, fc_b, fc_c}, {1, 2}, GemmAttrs{});
  SoftmaxAttrs sm;
  sm.axis = 1;
  const ValueId prob = b.node(OpKind::Softmax, "softmax", {fc}, {1, 2}, sm);
  b.output(prob);

  const std::map<std::string, Floats> expected = {
      {"conv", {1, 2, 3, 4, 0, -1, -2, -3}}, {"relu", {1, 2, 3, 4, 0, 0, 0, 0}}, {"pool", {4, 0}},
      {"flatten", {4, 0}},                   {"fc", {4, 4 + std::log(3.0f)}},   {"softmax", {0.25f, 0.75f}},
  };
  const std::vector<std::pair<std::string, ValueId>> order = {{"conv", conv}, {"relu", relu},  {"pool", pool},
                                                              {"flatten", flat}, {"fc", fc}, {"softmax", prob}};
  for (bool reference : {true, false}) {
    BackendOptions options;
    options.reference = reference;
    options.threads = 2;
    auto context = create_context(b.graph(), BackendKind::kCpu, options);
    EXPECT_EQ(context->kind(), BackendKind::kCpu);
    std::vector<Observation> seen;
    context->set_observer([&](const Node& node, ValueId output, const TensorView& view) {
      EXPECT_EQ(view.location, MemoryLocation::kHost);
      EXPECT_EQ(view.type, DataType::kFloat32);
      const auto* p = static_cast<const float*>(view.data);
      seen.push_back({node.name, output, view.dims, Floats(p, p + numel(view.dims))});
    });
    const std::vector<Tensor> out = context->run({tensor_of({1, 1, 2, 2}, {1, 2, 3, 4})});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].dims(), (Dims{1, 2}));
    // Softmax inputs carry ln 3 rounded to float, then 4 + ln 3 rounded (half an ulp of 5, 2.4e-7):
    // p = 1/4, 3/4 move by at most p(1-p) * 2.4e-7 plus the few roundings of exp, sum and division.
    const Floats probs = floats_of(out[0]);
    EXPECT_NEAR(probs[0], 0.25, 4e-7) << "reference " << reference;
    EXPECT_NEAR(probs[1], 0.75, 4e-7) << "reference " << reference;

    ASSERT_EQ(seen.size(), order.size()) << "reference " << reference;
    for (size_t i = 0; i < order.size(); ++i) {
      EXPECT_EQ(seen[i].node, order[i].first);
      EXPECT_EQ(seen[i].output, order[i].second);
      EXPECT_EQ(seen[i].dims, b.graph().value(order[i].second).dims);
      const Floats& want = expected.at(order[i].first);
      ASSERT_EQ(seen[i].data.size(), want.size()) << order[i].first;
      for (size_t j = 0; j < want.size(); ++j)
        EXPECT_NEAR(seen[i].data[j], want[j], order[i].first == "softmax" ? 4e-7 : 0.0)
            << order[i].first << "[" << j << "] reference " << reference;
    }
    EXPECT_EQ(seen.back().data, probs);  // the observer saw what run() returned
  }
}

// ---- every operator through the dispatch, values by hand -----------------------------------------

TEST(CpuBackendFloat32Nchw, EveryOperatorDispatchesWithItsAttributes) {
  // x = [1, 2, 1, 2] = channel 0 (1, -2), channel 1 (3, -4). Each comment is the hand computation.
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 2, 1, 2});
  auto scalar = [&](const std::string& name, float v) { return b.constant(name, {}, {v}); };
  // x + (10; 20) over channels = 11 8 23 16
  const ValueId t1 = b.node(OpKind::Add, "add", {x, b.constant("a", {2, 1, 1}, {10, 20})}, {1, 2, 1, 2});
  const ValueId t2 = b.node(OpKind::Sub, "sub", {t1, x}, {1, 2, 1, 2});                      // 10 10 20 20
  const ValueId t3 = b.node(OpKind::Mul, "mul", {t2, scalar("half", 0.5f)}, {1, 2, 1, 2});   // 5 5 10 10
  const ValueId t4 = b.node(OpKind::Div, "div", {t3, b.constant("d", {2}, {2, 5})}, {1, 2, 1, 2});  // 2.5 1 5 2
  // BN, eps 1: channel 0 (v - 0.5) / 2 * 2 + 0 = 2, 0.5; channel 1 (v - 1) / 1 * 1 + 1 = 5, 2
  BatchNormAttrs bn;
  bn.epsilon = 1.0f;
  const ValueId t5 = b.node(OpKind::BatchNormalization, "bn",
                            {t4, b.constant("scale", {2}, {2, 1}), b.constant("shift", {2}, {0, 1}),
                             b.constant("mean", {2}, {0.5f, 1}), b.constant("var", {2}, {3, 0})},
                            {1, 2, 1, 2}, bn);
  const ValueId t6 =
      b.node(OpKind::Clip, "clip", {t5}, {1, 2, 1, 2}, ActivationParams{Activation::kClip, 1, 4});  // 2 1 4 2
  const ValueId t7 = b.node(OpKind::Sub, "minus3", {t6, scalar("three", 3)}, {1, 2, 1, 2});         // -1 -2 1 -1
  const ValueId t8 = b.node(OpKind::LeakyRelu, "leaky", {t7}, {1, 2, 1, 2},
                            ActivationParams{Activation::kLeakyRelu, 0.5f, 0});  // -0.5 -1 1 -0.5
  const ValueId t9 = b.node(OpKind::HardSigmoid, "hardsigmoid", {t8}, {1, 2, 1, 2},
                            ActivationParams{Activation::kHardSigmoid, 0.5f, 0.5f});  // 0.25 0 1 0.25
  const ValueId t10 = b.node(OpKind::Mul, "times3", {t7, scalar("three_b", 3)}, {1, 2, 1, 2});  // -3 -6 3 -3
  const ValueId t11 = b.node(OpKind::HardSwish, "hardswish", {t10}, {1, 2, 1, 2});               // 0 0 3 0
  const ValueId t12 = b.node(OpKind::Sigmoid, "sigmoid", {t11}, {1, 2, 1, 2});  // .5 .5 1/(1+e^-3) .5
  const ValueId t13 = b.node(OpKind::Relu, "relu", {t7}, {1, 2, 1, 2});         // 0 0 1 0
  ConcatAttrs cat;
  cat.axis = 1;
  // channels of t9 then t13: (0.25, 0) (1, 0.25) (0, 0) (1, 0)
  const ValueId t14 = b.node(OpKind::Concat, "concat", {t9, t13}, {1, 4, 1, 2}, cat);
  TransposeAttrs tr;
  tr.perm = {0, 3, 2, 1};
  // y[0][w][0][c] = t14[0][c][0][w]: w = 0 -> 0.25 1 0 1, w = 1 -> 0 0.25 0 0
  const ValueId t15 = b.node(OpKind::Transpose, "transpose", {t14}, {1, 2, 1, 4}, tr);
  PadAttrs pad;
  pad.pads = {0, 0, 0, 1, 0, 0, 0, -1};
  pad.value = 7;
  // one 7 in front of each row, last element cropped: 7 0.25 1 0 / 7 0 0.25 0
  const ValueId t16 = b.node(OpKind::Pad, "pad", {t15}, {1, 2, 1, 4}, pad);
  // AveragePool 1x2 stride 2: (7+0.25)/2 (1+0)/2 / (7+0)/2 (0.25+0)/2 = 3.625 0.5 / 3.5 0.125
  const ValueId t17 = b.node(OpKind::AveragePool, "avgpool", {t16}, {1, 2, 1, 2}, pool_attrs(1, 2, 1, 2));
  const ValueId t18 = b.node(OpKind::GlobalAveragePool, "gap", {t17}, {1, 2, 1, 1});  // 2.0625 1.8125
  const ValueId t19 = b.node(OpKind::GlobalMaxPool, "gmp", {t17}, {1, 2, 1, 1});      // 3.625 3.5
  const ValueId t20 = b.node(OpKind::Reshape, "flatten", {t18}, {1, 2}, flatten_attrs());
  // (2.0625, 1.8125) x [[1, 0], [1, 2]] = (3.875, 3.625)
  const ValueId t21 = b.node(OpKind::MatMul, "matmul", {t20, b.constant("m", {2, 2}, {1, 0, 1, 2})}, {1, 2});
  // Conv 1x1 summing both channels of t17 (7.125, 0.625), residual (-8, 0), Relu: (0, 0.625)
  ConvAttrs fused = conv_attrs(1, 0);
  fused.epilogue.has_residual = true;
  fused.epilogue.activation.kind = Activation::kRelu;
  const ValueId t22 = b.node(OpKind::Conv, "conv_residual",
                             {t17, b.constant("w", {1, 2, 1, 1}, {1, 1}), kNoValue, b.constant("r", {1, 1, 1, 2}, {-8, 0})},
                             {1, 1, 1, 2}, fused);
  const ValueId t23 = b.node(OpKind::Identity, "identity", {t19}, {1, 2, 1, 1});
  for (ValueId out : {t11, t12, t16, t21, t22, t23}) b.output(out);

  const float sig3 = 0.95257412682f;  // 1 / (1 + e^-3)
  const std::map<std::string, Floats> expected = {
      {"add", {11, 8, 23, 16}},       {"sub", {10, 10, 20, 20}},     {"mul", {5, 5, 10, 10}},
      {"div", {2.5f, 1, 5, 2}},       {"bn", {2, 0.5f, 5, 2}},       {"clip", {2, 1, 4, 2}},
      {"minus3", {-1, -2, 1, -1}},    {"leaky", {-0.5f, -1, 1, -0.5f}}, {"hardsigmoid", {0.25f, 0, 1, 0.25f}},
      {"times3", {-3, -6, 3, -3}},    {"hardswish", {0, 0, 3, 0}},   {"sigmoid", {0.5f, 0.5f, sig3, 0.5f}},
      {"relu", {0, 0, 1, 0}},         {"concat", {0.25f, 0, 1, 0.25f, 0, 0, 1, 0}},
      {"transpose", {0.25f, 1, 0, 1, 0, 0.25f, 0, 0}},
      {"pad", {7, 0.25f, 1, 0, 7, 0, 0.25f, 0}},
      {"avgpool", {3.625f, 0.5f, 3.5f, 0.125f}},
      {"gap", {2.0625f, 1.8125f}},    {"gmp", {3.625f, 3.5f}},       {"flatten", {2.0625f, 1.8125f}},
      {"matmul", {3.875f, 3.625f}},   {"conv_residual", {0, 0.625f}}, {"identity", {3.625f, 3.5f}},
  };
  ASSERT_EQ(expected.size(), b.graph().nodes.size());
  for (bool reference : {true, false}) {
    BackendOptions options;
    options.reference = reference;
    auto context = create_cpu_context(b.graph(), options);
    std::map<std::string, Floats> seen;
    context->set_observer([&](const Node& node, ValueId, const TensorView& view) {
      const auto* p = static_cast<const float*>(view.data);
      EXPECT_TRUE(seen.emplace(node.name, Floats(p, p + numel(view.dims))).second) << node.name << " seen twice";
    });
    const std::vector<Tensor> out = context->run({tensor_of({1, 2, 1, 2}, {1, -2, 3, -4})});
    ASSERT_EQ(out.size(), 6u);
    EXPECT_EQ(seen.size(), expected.size());
    for (const auto& [name, want] : expected) {
      const Floats& got = seen[name];
      ASSERT_EQ(got.size(), want.size()) << name;
      for (size_t j = 0; j < want.size(); ++j)  // everything is exact but sigmoid's expf (an ulp or two)
        EXPECT_NEAR(got[j], want[j], name == "sigmoid" ? 2e-7 : 0.0) << name << "[" << j << "] reference " << reference;
    }
    EXPECT_EQ(floats_of(out[2]), expected.at("pad"));
    EXPECT_EQ(floats_of(out[4]), expected.at("conv_residual"));
    EXPECT_EQ(out[5].dims(), (Dims{1, 2, 1, 1}));
  }
}

// ---- random data: the fast path against the reference path ---------------------------------------

TEST(CpuBackendFloat32Nchw, FastPathMatchesReferenceWithinPropagatedBound) {
  // x [3,3,8,8] -> Conv 3x3 pad 1 (4 filters, bias) -> Relu -> MaxPool 2x2/2 -> Flatten [3,64]
  //   -> Gemm (W [10,64] transposed, C [10]) -> Softmax.
  const int64_t n = 3;
  GraphBuilder b;
  const Floats x_data = test::random_values(static_cast<size_t>(n * 3 * 8 * 8), 7);
  const Floats w_data = test::random_values(4 * 3 * 3 * 3, 8);
  const Floats b_data = test::random_values(4, 9);
  const Floats fw_data = test::random_values(10 * 64, 10);
  const Floats fc_data = test::random_values(10, 11);
  const ValueId x = b.input("x", {n, 3, 8, 8});
  const ValueId conv = b.node(OpKind::Conv, "conv",
                              {x, b.constant("w", {4, 3, 3, 3}, w_data), b.constant("b", {4}, b_data)},
                              {n, 4, 8, 8}, conv_attrs(3, 1));
  const ValueId relu = b.node(OpKind::Relu, "relu", {conv}, {n, 4, 8, 8});
  const ValueId pool = b.node(OpKind::MaxPool, "pool", {relu}, {n, 4, 4, 4}, pool_attrs(2, 2, 2, 2));
  const ValueId flat = b.node(OpKind::Reshape, "flatten", {pool}, {n, 64}, flatten_attrs());
  GemmAttrs fc_attrs;
  fc_attrs.trans_b = true;
  const ValueId fc = b.node(OpKind::Gemm, "fc",
                            {flat, b.constant("fw", {10, 64}, fw_data), b.constant("fc", {10}, fc_data)}, {n, 10},
                            fc_attrs);
  SoftmaxAttrs sm;
  sm.axis = 1;
  b.output(b.node(OpKind::Softmax, "softmax", {fc}, {n, 10}, sm));

  std::map<std::string, Floats> seen[2];
  Floats probs[2];
  for (int path = 0; path < 2; ++path) {
    BackendOptions options;
    options.reference = path == 0;
    options.threads = 2;
    auto context = create_context(b.graph(), BackendKind::kCpu, options);
    context->set_observer([&](const Node& node, ValueId, const TensorView& view) {
      const auto* p = static_cast<const float*>(view.data);
      seen[path][node.name] = Floats(p, p + numel(view.dims));
    });
    probs[path] = floats_of(context->run({tensor_of({n, 3, 8, 8}, x_data)})[0]);
  }
  ASSERT_EQ(seen[0].size(), 6u);
  ASSERT_EQ(seen[1].size(), 6u);

  // Conv: each output within fast_path_bound(27, T) (kernel_test_util.h), T = sum |x*w| + |b|.
  const Floats& conv_ref = seen[0]["conv"];
  const Floats& conv_fast = seen[1]["conv"];
  double conv_delta = 0.0;  // the largest conv bound: Relu, MaxPool and Flatten are 1-Lipschitz in max-norm
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < 4; ++k)
      for (int64_t oh = 0; oh < 8; ++oh)
        for (int64_t ow = 0; ow < 8; ++ow) {
          double t = std::fabs(b_data[static_cast<size_t>(k)]);
          for (int64_t c = 0; c < 3; ++c)
            for (int64_t r = 0; r < 3; ++r)
              for (int64_t s = 0; s < 3; ++s) {
                const int64_t ih = oh - 1 + r, iw = ow - 1 + s;
                if (ih < 0 || ih >= 8 || iw < 0 || iw >= 8) continue;
                t += std::fabs(static_cast<double>(x_data[static_cast<size_t>(((i * 3 + c) * 8 + ih) * 8 + iw)]) *
                               w_data[static_cast<size_t>(((k * 3 + c) * 3 + r) * 3 + s)]);
              }
          const double bound = test::fast_path_bound(27, t);
          const auto e = static_cast<size_t>(((i * 4 + k) * 8 + oh) * 8 + ow);
          EXPECT_LE(std::fabs(conv_fast[e] - conv_ref[e]), bound) << "conv element " << e;
          conv_delta = std::max(conv_delta, bound);
        }
  for (const char* name : {"relu", "pool", "flatten"})
    for (size_t e = 0; e < seen[0][name].size(); ++e)
      EXPECT_LE(std::fabs(seen[1][name][e] - seen[0][name][e]), conv_delta) << name << " element " << e;

  // Gemm: the inputs differ by at most conv_delta, which moves z[j] by sum_k |W[j][k]| * conv_delta;
  // its own rounding adds fast_path_bound(64, T) with T = sum_k |W[j][k]| (|f_k| + conv_delta) + |c_j|.
  const Floats& f = seen[0]["flatten"];
  std::vector<double> z_delta(static_cast<size_t>(n), 0.0);  // per row, the largest logit bound
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < 10; ++j) {
      double w_abs = 0.0, t = std::fabs(fc_data[static_cast<size_t>(j)]);
      for (int64_t k = 0; k < 64; ++k) {
        const double wv = std::fabs(fw_data[static_cast<size_t>(j * 64 + k)]);
        w_abs += wv;
        t += wv * (std::fabs(f[static_cast<size_t>(i * 64 + k)]) + conv_delta);
      }
      const double bound = w_abs * conv_delta + test::fast_path_bound(64, t);
      const auto e = static_cast<size_t>(i * 10 + j);
      EXPECT_LE(std::fabs(seen[1]["fc"][e] - seen[0]["fc"][e]), bound) << "fc element " << e;
      z_delta[static_cast<size_t>(i)] = std::max(z_delta[static_cast<size_t>(i)], bound);
    }

  // Softmax: its Jacobian diag(p) - p p^T has max-norm row sums 2 p_i (1 - p_i) <= 1/2, so a logit
  // change of at most d moves each probability by about d/2; allow d (covering second-order terms)
  // plus 32 u for the two evaluations' own roundings (exp, a sum of 10, a division: ~13 u each).
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < 10; ++j) {
      const auto e = static_cast<size_t>(i * 10 + j);
      EXPECT_LE(std::fabs(probs[1][e] - probs[0][e]), z_delta[static_cast<size_t>(i)] + 32 * test::unit_roundoff())
          << "softmax element " << e;
    }
  // Not vacuous: the probabilities of each image sum to 1 and are not all equal.
  for (int64_t i = 0; i < n; ++i) {
    double sum = 0.0;
    for (int64_t j = 0; j < 10; ++j) sum += probs[0][static_cast<size_t>(i * 10 + j)];
    EXPECT_NEAR(sum, 1.0, 1e-5);
    EXPECT_NE(probs[0][static_cast<size_t>(i * 10)], probs[0][static_cast<size_t>(i * 10 + 1)]);
  }
}

// ---- batch invariance ----------------------------------------------------------------------------

// tests/kernels/batch_invariance.h: every node output of every sample has the same bytes at batch 1,
// 5 and 64 (reversed) on the fast path with batch_invariant, threads on.
TEST(CpuBackendFloat32Nchw, BatchInvariantFastPathGivesEverySampleTheSameBits) {
  BackendOptions options;
  options.threads = 2;
  test::expect_batch_invariant(BackendKind::kCpu, options);
}

// ---- errors --------------------------------------------------------------------------------------

Graph relu_graph() {
  GraphBuilder b;
  const ValueId x = b.input("image", {2, 3});
  b.output(b.node(OpKind::Relu, "act", {x}, {2, 3}));
  return b.graph();
}

TEST(CpuBackendErrors, InputsAreCheckedByName) {
  auto context = create_cpu_context(relu_graph(), {});
  EXPECT_NE(error_of([&] { context->run({}); }).find("takes 1 inputs, got 0"), std::string::npos);
  const std::string wrong_type = error_of([&] { context->run({Tensor(DataType::kInt8, {2, 3})}); });
  EXPECT_NE(wrong_type.find("input 'image'"), std::string::npos) << wrong_type;
  EXPECT_NE(wrong_type.find("int8"), std::string::npos) << wrong_type;
  const std::string wrong_dims = error_of([&] { context->run({Tensor(DataType::kFloat32, {3, 2})}); });
  EXPECT_NE(wrong_dims.find("input 'image'"), std::string::npos) << wrong_dims;
  EXPECT_NE(wrong_dims.find("[2, 3]"), std::string::npos) << wrong_dims;
  const std::vector<Tensor> out = context->run({tensor_of({2, 3}, {-1, 2, -3, 4, -5, 6})});
  EXPECT_EQ(floats_of(out[0]), (Floats{0, 2, 0, 4, 0, 6}));
}

TEST(CpuBackendErrors, GraphsAreValidatedAtCreationNamingTheNode) {
  {
    // Weight for 4 input channels on a 3-channel input.
    GraphBuilder b;
    const ValueId x = b.input("x", {1, 3, 4, 4});
    b.output(b.node(OpKind::Conv, "stem", {x, b.constant("stem_w", {2, 4, 1, 1}, Floats(8, 1.0f))}, {1, 2, 4, 4},
                    conv_attrs(1, 0)));
    const std::string message = error_of([&] { create_cpu_context(b.graph(), {}); });
    EXPECT_NE(message.find("node 'stem' (Conv)"), std::string::npos) << message;
    EXPECT_NE(message.find("stem_w"), std::string::npos) << message;
  }
  {
    // Output dims that contradict the operator: a 3x3 valid conv on 4x4 gives 2x2, not 4x4.
    GraphBuilder b;
    const ValueId x = b.input("x", {1, 1, 4, 4});
    b.output(b.node(OpKind::Conv, "c3", {x, b.constant("w", {1, 1, 3, 3}, Floats(9, 1.0f))}, {1, 1, 4, 4},
                    conv_attrs(3, 0)));
    const std::string message = error_of([&] { create_cpu_context(b.graph(), {}); });
    EXPECT_NE(message.find("node 'c3' (Conv)"), std::string::npos) << message;
    EXPECT_NE(message.find("[1, 1, 2, 2]"), std::string::npos) << message;
    try {
      create_cpu_context(b.graph(), {});
    } catch (const UnsupportedError&) {
      ADD_FAILURE() << "a contradictory graph is an Error, not an UnsupportedError";
    } catch (const Error&) {
    }
  }
  {
    // A pool written with MaxPool's optional Indices output.
    GraphBuilder b;
    const ValueId x = b.input("x", {1, 1, 2, 2});
    const ValueId y = b.node(OpKind::MaxPool, "mp", {x}, {1, 1, 1, 1}, pool_attrs(2, 2, 2, 2));
    b.graph().nodes.back().outputs.push_back(b.graph().add_value(Value{"indices", DataType::kInt64, {1, 1, 1, 1}, {}, {}, {}}));
    b.output(y);
    EXPECT_NE(error_of([&] { create_cpu_context(b.graph(), {}); }).find("node 'mp' (MaxPool)"), std::string::npos);
    EXPECT_THROW(create_cpu_context(b.graph(), {}), UnsupportedError);  // valid ONNX, not implemented
  }
  {
    // A node that reads a value no earlier node wrote.
    Graph g = relu_graph();
    const ValueId later = g.add_value(Value{"later", DataType::kFloat32, {2, 3}, {}, {}, {}});
    g.nodes[0].inputs[0] = later;
    const std::string message = error_of([&] { create_cpu_context(g, {}); });
    EXPECT_NE(message.find("reads 'later' before any node writes it"), std::string::npos) << message;
  }
  {
    // Valid ONNX the backend does not implement (an int32 Relu) is UnsupportedError; a graph that
    // contradicts the operator (above) is a plain Error.
    GraphBuilder b;
    const ValueId x = b.input("ints", {4}, DataType::kInt32);
    b.output(b.node(OpKind::Relu, "int_relu", {x}, {4}));
    b.graph().values.back().type = DataType::kInt32;
    const std::string message = error_of([&] { create_cpu_context(b.graph(), {}); });
    EXPECT_NE(message.find("node 'int_relu' (Relu): tensor 'ints' is int32"), std::string::npos) << message;
    EXPECT_THROW(create_cpu_context(b.graph(), {}), UnsupportedError);
    EXPECT_THROW(create_cpu_context(b.graph(), {}), Error);
  }
  {
    Graph g = relu_graph();
    g.nodes[0].precision = Precision::kInt8;
    EXPECT_THROW(create_cpu_context(g, {}), UnsupportedError);
  }
  {
    BackendOptions options;
    options.threads = -2;
    EXPECT_THROW(create_cpu_context(relu_graph(), options), Error);
  }
}

// ---- dispatch ------------------------------------------------------------------------------------

TEST(BackendDispatch, NamesAndParsing) {
  EXPECT_EQ(parse_backend("cpu"), BackendKind::kCpu);
  EXPECT_EQ(parse_backend("cuda"), BackendKind::kCuda);
  EXPECT_STREQ(to_string(BackendKind::kCpu), "cpu");
  EXPECT_STREQ(to_string(BackendKind::kCuda), "cuda");
  const std::string message = error_of([] { parse_backend("gpu"); });
  EXPECT_NE(message.find("'gpu'"), std::string::npos) << message;
  EXPECT_NE(message.find("cpu, cuda"), std::string::npos) << message;
  EXPECT_EQ(create_context(relu_graph(), BackendKind::kCpu)->kind(), BackendKind::kCpu);
}

TEST(BackendDispatch, CudaWithoutCudaInTheBuild) {
#if OCTET_HAVE_CUDA
  GTEST_SKIP() << "this build has CUDA; the CUDA backend's own tests cover it";
#else
  EXPECT_FALSE(cuda_available());
  EXPECT_NE(cuda_device_description().find("without CUDA"), std::string::npos);
  const std::string message = error_of([] { create_context(relu_graph(), BackendKind::kCuda); });
  EXPECT_NE(message.find("this octet was built without CUDA"), std::string::npos) << message;
#endif
}

}  // namespace
}  // namespace octet
