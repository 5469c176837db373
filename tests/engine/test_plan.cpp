// Plan files (engine/plan.h): a saved graph loads back equal field by field (the four shipped models
// after the FP32 passes, and a hand-made INT8 graph that uses every attribute alternative); damaged
// files (one byte changed, truncated anywhere, wrong magic, other format or octet version) are
// refused with an Error naming the file; check_plan_device names both architectures.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "engine/backend.h"
#include "engine/onnx_import.h"
#include "engine/passes.h"
#include "engine/plan.h"
#include "engine/shape_inference.h"
#include "octet/build_config.h"
#include "tests/support/paths.h"

namespace fs = std::filesystem;

namespace octet {
namespace {

// ---- field-by-field equality ---------------------------------------------------------------------

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool operator==(const ActivationParams& a, const ActivationParams& b) {
  return a.kind == b.kind && same_bits(a.alpha, b.alpha) && same_bits(a.beta, b.beta);
}
bool operator==(const Epilogue& a, const Epilogue& b) {
  return a.activation == b.activation && a.has_residual == b.has_residual &&
         same_bits(a.rounding.after_bias, b.rounding.after_bias) &&
         same_bits(a.rounding.after_residual, b.rounding.after_residual);
}
bool operator==(const ConvAttrs& a, const ConvAttrs& b) {
  return std::tie(a.kernel_h, a.kernel_w, a.stride_h, a.stride_w, a.pad_top, a.pad_left, a.pad_bottom, a.pad_right,
                  a.dilation_h, a.dilation_w, a.group, a.spatial_rank) ==
             std::tie(b.kernel_h, b.kernel_w, b.stride_h, b.stride_w, b.pad_top, b.pad_left, b.pad_bottom,
                      b.pad_right, b.dilation_h, b.dilation_w, b.group, b.spatial_rank) &&
         a.epilogue == b.epilogue;
}
bool operator==(const GemmAttrs& a, const GemmAttrs& b) {
  return a.trans_a == b.trans_a && a.trans_b == b.trans_b && same_bits(a.alpha, b.alpha) &&
         same_bits(a.beta, b.beta) && a.epilogue == b.epilogue;
}
bool operator==(const PoolAttrs& a, const PoolAttrs& b) {
  return std::tie(a.kernel_h, a.kernel_w, a.stride_h, a.stride_w, a.pad_top, a.pad_left, a.pad_bottom, a.pad_right,
                  a.dilation_h, a.dilation_w, a.ceil_mode, a.count_include_pad, a.spatial_rank) ==
         std::tie(b.kernel_h, b.kernel_w, b.stride_h, b.stride_w, b.pad_top, b.pad_left, b.pad_bottom, b.pad_right,
                  b.dilation_h, b.dilation_w, b.ceil_mode, b.count_include_pad, b.spatial_rank);
}
bool operator==(const BatchNormAttrs& a, const BatchNormAttrs& b) { return same_bits(a.epsilon, b.epsilon); }
bool operator==(const ReshapeAttrs& a, const ReshapeAttrs& b) {
  return a.rule == b.rule && a.shape == b.shape && a.allowzero == b.allowzero && a.axis == b.axis && a.axes == b.axes;
}
bool operator==(const TransposeAttrs& a, const TransposeAttrs& b) { return a.perm == b.perm; }
bool operator==(const ConcatAttrs& a, const ConcatAttrs& b) { return a.axis == b.axis; }
bool operator==(const SoftmaxAttrs& a, const SoftmaxAttrs& b) {
  return a.axis == b.axis && a.coerce_2d == b.coerce_2d;
}
bool operator==(const PadAttrs& a, const PadAttrs& b) { return a.pads == b.pads && same_bits(a.value, b.value); }

bool same_attrs(const NodeAttributes& a, const NodeAttributes& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) return true;
        else return x == std::get<T>(b);
      },
      a);
}

bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.type() == b.type() && a.dims() == b.dims() && a.bytes() == b.bytes() &&
         std::memcmp(a.raw(), b.raw(), a.bytes()) == 0;
}

void expect_same_value(const Value& a, const Value& b) {
  SCOPED_TRACE("value '" + a.name + "'");
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.dims, b.dims);
  ASSERT_EQ(a.initializer.has_value(), b.initializer.has_value());
  if (a.initializer) {
    EXPECT_TRUE(same_tensor(*a.initializer, *b.initializer));
  }
  ASSERT_EQ(a.scale.has_value(), b.scale.has_value());
  if (a.scale) {
    EXPECT_TRUE(same_bits(*a.scale, *b.scale));
  }
}

void expect_same_node(const Node& a, const Node& b) {
  SCOPED_TRACE("node '" + a.name + "'");
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.op, b.op);
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_TRUE(same_attrs(a.attrs, b.attrs));
  EXPECT_EQ(a.precision, b.precision);
  EXPECT_EQ(a.fused_nodes, b.fused_nodes);
  ASSERT_EQ(a.weight_scales.size(), b.weight_scales.size());
  for (size_t i = 0; i < a.weight_scales.size(); ++i) EXPECT_TRUE(same_bits(a.weight_scales[i], b.weight_scales[i]));
  EXPECT_EQ(a.tactic, b.tactic);
}

void expect_same_graph(const Graph& a, const Graph& b) {
  ASSERT_EQ(a.values.size(), b.values.size());
  for (size_t i = 0; i < a.values.size(); ++i) expect_same_value(a.values[i], b.values[i]);
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) expect_same_node(a.nodes[i], b.nodes[i]);
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_EQ(a.input_batched, b.input_batched);
  EXPECT_EQ(a.batch, b.batch);
  EXPECT_EQ(a.opset, b.opset);
  EXPECT_EQ(a.producer, b.producer);
  EXPECT_EQ(a.metadata, b.metadata);
}

void expect_same_plan(const Plan& a, const Plan& b) {
  EXPECT_EQ(b.octet_version, OCTET_VERSION_STRING);
  EXPECT_EQ(a.backend, b.backend);
  EXPECT_EQ(a.gpu_arch, b.gpu_arch);
  EXPECT_EQ(a.gpu_name, b.gpu_name);
  EXPECT_EQ(a.build_settings, b.build_settings);
  expect_same_graph(a.graph, b.graph);
}

// ---- a hand-made INT8 graph ------------------------------------------------------------------------
// Not meant to run: it exercises every field the plan stores, every attribute alternative included.

static_assert(std::variant_size_v<NodeAttributes> == 12,
              "a new NodeAttributes alternative: add a node using it to int8_graph() below");

ValueId add(Graph& g, const std::string& name, DataType type, Dims dims, std::optional<float> scale = {}) {
  Value v;
  v.name = name;
  v.type = type;
  v.dims = std::move(dims);
  v.scale = scale;
  return g.add_value(std::move(v));
}

ValueId add_constant(Graph& g, const std::string& name, Tensor t) {
  Value v;
  v.name = name;
  v.type = t.type();
  v.dims = t.dims();
  v.initializer = std::move(t);
  return g.add_value(std::move(v));
}

Node make_node(const std::string& name, OpKind op, std::vector<ValueId> in, std::vector<ValueId> out,
               NodeAttributes attrs = {}, Precision precision = Precision::kFloat32) {
  Node n;
  n.name = name;
  n.op = op;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  n.attrs = std::move(attrs);
  n.precision = precision;
  return n;
}

Graph int8_graph() {
  Graph g;
  g.batch = 2;
  g.opset = 13;
  g.producer = "hand-made";
  g.metadata = {{"octet.preprocessing", "{\"mean\": [0.5]}"}, {"author", "test: with ':' and spaces"}};
  const ValueId x = add(g, "input", DataType::kFloat32, {2, 3, 8, 8});
  g.inputs = {x};
  g.input_batched = {true};

  const ValueId xq = add(g, "input:int8", DataType::kInt8, {2, 3, 8, 8}, 0.02f);
  g.nodes.push_back(make_node("input:quantize", OpKind::QuantizeLinear, {x}, {xq}));

  Tensor w(DataType::kInt8, {4, 3, 3, 3});
  for (int64_t i = 0; i < w.numel(); ++i) w.data<int8_t>()[i] = static_cast<int8_t>(i * 37 - 128);
  Tensor bias(DataType::kFloat32, {4});
  for (int i = 0; i < 4; ++i) bias.data<float>()[i] = -1.5f + static_cast<float>(i);
  const ValueId wv = add_constant(g, "conv1.weight", std::move(w));
  const ValueId bv = add_constant(g, "conv1.bias", std::move(bias));
  const ValueId c1 = add(g, "conv1:0", DataType::kInt8, {2, 4, 8, 8}, 0.0375f);
  ConvAttrs conv;
  conv.kernel_h = conv.kernel_w = 3;
  conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = 1;
  conv.epilogue.activation = {Activation::kClip, 0.0f, 6.0f};
  conv.epilogue.rounding.after_bias = 0.0625f;  // an explicitly quantized model's pair before the Clip
  Node conv1 = make_node("conv1", OpKind::Conv, {xq, wv, bv, kNoValue}, {c1}, conv, Precision::kInt8);
  conv1.fused_nodes = {"bn1", "relu6_1"};
  conv1.weight_scales = {0.01f, 0.02f, 1.0f, 3.5e-4f};
  conv1.tactic = "dp4a";
  g.nodes.push_back(conv1);

  PoolAttrs pool;
  pool.kernel_h = pool.kernel_w = 2;
  pool.stride_h = pool.stride_w = 2;
  pool.ceil_mode = true;
  pool.count_include_pad = true;
  const ValueId p1 = add(g, "pool1:0", DataType::kInt8, {2, 4, 4, 4}, 0.0375f);
  g.nodes.push_back(make_node("pool1", OpKind::MaxPool, {c1}, {p1}, pool, Precision::kInt8));

  const ValueId cat = add(g, "cat:0", DataType::kInt8, {2, 8, 4, 4}, 0.0375f);
  g.nodes.push_back(make_node("cat", OpKind::Concat, {p1, p1}, {cat}, ConcatAttrs{1}, Precision::kInt8));

  const ValueId deq = add(g, "cat:0:fp32", DataType::kFloat32, {2, 8, 4, 4});
  g.nodes.push_back(make_node("cat:dequantize", OpKind::DequantizeLinear, {cat}, {deq}));
  const ValueId bn_out = add(g, "bn:0", DataType::kFloat32, {2, 8, 4, 4});
  g.nodes.push_back(make_node("bn", OpKind::BatchNormalization, {deq}, {bn_out}, BatchNormAttrs{1e-3f}));
  const ValueId act = add(g, "leaky:0", DataType::kFloat32, {2, 8, 4, 4});
  g.nodes.push_back(make_node("leaky", OpKind::LeakyRelu, {bn_out}, {act}, ActivationParams{Activation::kLeakyRelu, 0.1f, 0.0f}));
  const ValueId padded = add(g, "pad:0", DataType::kFloat32, {2, 8, 6, 6});
  g.nodes.push_back(make_node("pad", OpKind::Pad, {act}, {padded}, PadAttrs{{0, 0, 1, 1, 0, 0, 1, 1}, -0.25f}));
  const ValueId tr = add(g, "transpose:0", DataType::kFloat32, {2, 6, 6, 8});
  g.nodes.push_back(make_node("transpose", OpKind::Transpose, {padded}, {tr}, TransposeAttrs{{0, 2, 3, 1}}));
  const ValueId sum = add(g, "add:0", DataType::kFloat32, {2, 6, 6, 8});
  g.nodes.push_back(make_node("add", OpKind::Add, {tr, tr}, {sum}));
  // A registered operator's attributes: every value type (engine/op_attributes.h).
  OpAttributes registered;
  registered.set("count", int64_t{-3}).set("ratio", 0.125f).set("mode", std::string("half_pixel"));
  registered.set("sizes", Dims{1, 2, 3}).set("scales", std::vector<float>{1.0f, 2.5f});
  const ValueId ex = add(g, "exp:0", DataType::kFloat32, {2, 6, 6, 8});
  g.nodes.push_back(make_node("exp", OpKind::Exp, {sum}, {ex}, registered));
  ReshapeAttrs flatten;
  flatten.rule = ReshapeAttrs::Rule::kFlatten;
  flatten.axis = 1;
  flatten.shape = {0, -1};
  flatten.axes = {2, 3};
  flatten.allowzero = true;
  const ValueId flat = add(g, "flatten:0", DataType::kFloat32, {2, 288});
  g.nodes.push_back(make_node("flatten", OpKind::Reshape, {ex}, {flat}, flatten));

  Tensor gw(DataType::kInt8, {10, 288});
  for (int64_t i = 0; i < gw.numel(); ++i) gw.data<int8_t>()[i] = static_cast<int8_t>(i % 255 - 127);
  const ValueId gwv = add_constant(g, "fc.weight", std::move(gw));
  const ValueId gbv = add_constant(g, "fc.bias", Tensor(DataType::kFloat32, {10}));
  const ValueId logits = add(g, "logits", DataType::kFloat32, {2, 10});
  GemmAttrs gemm;
  gemm.trans_b = true;
  gemm.epilogue.has_residual = true;
  gemm.epilogue.activation = {Activation::kHardSigmoid, 0.2f, 0.5f};
  gemm.epilogue.rounding = {0.5f, 0.125f};
  Node fc = make_node("fc", OpKind::Gemm, {flat, gwv, gbv}, {logits}, gemm, Precision::kInt8);
  fc.weight_scales = std::vector<float>(10, 0.004f);
  fc.tactic = "cublaslt";
  g.nodes.push_back(fc);

  const ValueId prob = add(g, "prob", DataType::kFloat32, {2, 10});
  g.nodes.push_back(make_node("softmax", OpKind::Softmax, {logits}, {prob}, SoftmaxAttrs{1, true}));
  g.outputs = {prob, logits};
  // An empty tensor and a bool and int64 constant, for the tensor encoding's corner cases.
  add_constant(g, "empty", Tensor());
  add_constant(g, "shape", Tensor(DataType::kInt64, {0}));
  add_constant(g, "mask", Tensor(DataType::kBool, {3}));
  return g;
}

Plan cuda_plan() {
  Plan p;
  p.backend = BackendKind::kCuda;
  p.gpu_arch = "sm_90";
  p.gpu_name = "NVIDIA H100 80GB HBM3";
  p.build_settings = "--int8 --calib model.cache --tactics dp4a,tensorcore";
  p.graph = int8_graph();
  return p;
}

// ---- files ---------------------------------------------------------------------------------------

class PlanFile : public ::testing::Test {
 protected:
  fs::path dir = fs::temp_directory_path() / ("octet_test_plan_" + std::to_string(::getpid()));
  void SetUp() override { fs::create_directories(dir); }
  void TearDown() override { fs::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }

  static std::string read(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
  static void write(const std::string& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
};

// load_plan(p) throws an Error naming the file and containing every fragment.
void expect_refused(const std::string& p, std::initializer_list<std::string> fragments) {
  try {
    load_plan(p);
    ADD_FAILURE() << "'" << p << "' was accepted";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(p), std::string::npos) << what;
    for (const std::string& f : fragments) EXPECT_NE(what.find(f), std::string::npos) << "missing '" << f << "' in: " << what;
  }
}

// FNV-1a 64, written again here so the test checks the file format, not the implementation against itself.
uint64_t fnv1a(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

void put_u64(std::string& bytes, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) bytes[at + static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
}

TEST_F(PlanFile, ShippedModelsRoundTripFieldByField) {
  for (const char* name : {"mlp_fmnist", "resnet_fmnist", "mobilenetv2_fmnist", "inception_fmnist"}) {
    SCOPED_TRACE(name);
    Plan plan;
    plan.graph = import_onnx_file(test::source_dir() + "/models/" + name + ".onnx");
    optimize_fp32(plan.graph);
    set_batch(plan.graph, 3);
    plan.build_settings = std::string("fp32 ") + name;
    const std::string p = path(std::string(name) + ".plan");
    save_plan(p, plan);
    EXPECT_TRUE(is_plan_file(p));
    const Plan loaded = load_plan(p);
    expect_same_plan(plan, loaded);
  }
}

TEST_F(PlanFile, LoadedPlanRunsToTheSameOutputsAsTheGraph) {
  Plan plan;
  plan.graph = import_onnx_file(test::source_dir() + "/models/resnet_fmnist.onnx");
  optimize_fp32(plan.graph);
  set_batch(plan.graph, 2);
  save_plan(path("r.plan"), plan);
  const Plan loaded = load_plan(path("r.plan"));
  Tensor input(DataType::kFloat32, plan.graph.value(plan.graph.inputs[0]).dims);
  for (int64_t i = 0; i < input.numel(); ++i) input.data<float>()[i] = static_cast<float>(i % 17) * 0.1f - 0.8f;
  const std::vector<Tensor> expected = create_context(plan.graph, BackendKind::kCpu)->run({input});
  const std::vector<Tensor> actual = create_context(loaded.graph, BackendKind::kCpu)->run({input});
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_TRUE(same_tensor(expected[i], actual[i]));
}

TEST_F(PlanFile, HandMadeInt8GraphRoundTripsFieldByField) {
  const Plan plan = cuda_plan();
  save_plan(path("int8.plan"), plan);
  expect_same_plan(plan, load_plan(path("int8.plan")));
}

TEST_F(PlanFile, SavingTwiceGivesTheSameBytes) {
  save_plan(path("a.plan"), cuda_plan());
  save_plan(path("b.plan"), cuda_plan());
  EXPECT_EQ(read(path("a.plan")), read(path("b.plan")));
}

TEST_F(PlanFile, EveryChangedPayloadByteIsACorruptPlan) {
  save_plan(path("good.plan"), cuda_plan());
  const std::string good = read(path("good.plan"));
  ASSERT_GT(good.size(), 64u);
  for (size_t at : {size_t{28}, size_t{29}, size_t{40}, good.size() / 2, good.size() - 1}) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    write(path("bad.plan"), bad);
    SCOPED_TRACE("byte " + std::to_string(at));
    expect_refused(path("bad.plan"), {"corrupt (checksum mismatch)"});
  }
}

TEST_F(PlanFile, ATruncatedPlanIsRefusedAtEveryLength) {
  save_plan(path("good.plan"), cuda_plan());
  const std::string good = read(path("good.plan"));
  for (size_t length : {size_t{3}, size_t{8}, size_t{12}, size_t{20}, size_t{27}, size_t{28}, size_t{29},
                        good.size() / 3, good.size() / 2, good.size() - 1}) {
    write(path("short.plan"), good.substr(0, length));
    SCOPED_TRACE("length " + std::to_string(length));
    expect_refused(path("short.plan"), {"truncated"});
  }
  write(path("long.plan"), good + "x");
  expect_refused(path("long.plan"), {"corrupt"});
}

// A payload changed after the checksum was computed (a writer bug, or a crafted file): every count,
// enumerator, id and tensor size is still checked, so loading either succeeds or throws Error.
TEST_F(PlanFile, ChangedBytesWithAValidChecksumNeverCrash) {
  save_plan(path("good.plan"), cuda_plan());
  const std::string good = read(path("good.plan"));
  int refused = 0;
  for (size_t at = 28; at < good.size(); at += 13) {
    for (const unsigned char flip : {0x01, 0xff}) {
      std::string bad = good;
      bad[at] = static_cast<char>(bad[at] ^ flip);
      put_u64(bad, 20, fnv1a(bad.substr(28)));
      write(path("crafted.plan"), bad);
      try {
        load_plan(path("crafted.plan"));
      } catch (const Error& e) {
        ++refused;
        EXPECT_NE(std::string(e.what()).find(path("crafted.plan")), std::string::npos) << e.what();
      }
    }
  }
  EXPECT_GT(refused, 50);
}

TEST_F(PlanFile, WrongMagicIsNotAPlan) {
  save_plan(path("good.plan"), cuda_plan());
  std::string bad = read(path("good.plan"));
  bad[0] = 'X';
  write(path("bad.plan"), bad);
  expect_refused(path("bad.plan"), {"not an octet plan"});
  EXPECT_FALSE(is_plan_file(path("bad.plan")));
  write(path("empty.plan"), "");
  expect_refused(path("empty.plan"), {"not an octet plan"});
  const std::string model = test::source_dir() + "/models/mlp_fmnist.onnx";
  EXPECT_FALSE(is_plan_file(model));
  EXPECT_FALSE(is_plan_file(path("missing.plan")));
  expect_refused(model, {"not an octet plan"});
}

TEST_F(PlanFile, AnotherFormatVersionIsRefused) {
  save_plan(path("good.plan"), cuda_plan());
  std::string other = read(path("good.plan"));
  other[8] = static_cast<char>(kPlanFormatVersion + 1);
  write(path("other.plan"), other);
  expect_refused(path("other.plan"), {"plan format version " + std::to_string(kPlanFormatVersion + 1),
                                      "this octet reads " + std::to_string(kPlanFormatVersion), "rebuild it"});
}

TEST_F(PlanFile, APlanFromAnotherOctetVersionIsRefused) {
  save_plan(path("good.plan"), cuda_plan());
  const std::string good = read(path("good.plan"));
  // Replace the payload's first string (the octet version) and fix the size and checksum, as
  // another release of octet would have written it.
  const std::string version = OCTET_VERSION_STRING;
  const std::string old_payload = good.substr(28);
  ASSERT_EQ(old_payload.substr(4, version.size()), version);
  const std::string other_version = "9.9.9-other";
  std::string payload = old_payload;
  payload.replace(0, 4 + version.size(), std::string(1, static_cast<char>(other_version.size())) +
                                             std::string(3, '\0') + other_version);
  std::string file = good.substr(0, 28) + payload;
  put_u64(file, 12, payload.size());
  put_u64(file, 20, fnv1a(payload));
  write(path("old.plan"), file);
  expect_refused(path("old.plan"), {"built by octet 9.9.9-other", std::string("this is octet ") + version,
                                    "rebuild it"});
  // The test's own checksum agrees with the writer's: the unchanged file passes through it too.
  std::string same = good;
  put_u64(same, 20, fnv1a(good.substr(28)));
  EXPECT_EQ(same, good);
}

TEST_F(PlanFile, CheckPlanDeviceNamesBothArchitectures) {
  const Plan plan = cuda_plan();
  EXPECT_NO_THROW(check_plan_device(plan, "x.plan", "sm_90"));
  try {
    check_plan_device(plan, "x.plan", "sm_80");
    ADD_FAILURE() << "sm_80 accepted a plan built for sm_90";
  } catch (const Error& e) {
    const std::string what = e.what();
    for (const char* f : {"x.plan", "sm_90", "sm_80"}) EXPECT_NE(what.find(f), std::string::npos) << what;
  }
  Plan cpu;
  cpu.graph = int8_graph();
  EXPECT_NO_THROW(check_plan_device(cpu, "cpu.plan", "sm_80"));  // CPU plans run anywhere
}

TEST_F(PlanFile, AMissingFileNamesThePath) { expect_refused(path("absent.plan"), {"no such file"}); }

}  // namespace
}  // namespace octet
