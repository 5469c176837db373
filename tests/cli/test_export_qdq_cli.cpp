// `octet export-qdq` end to end: the shipped Fashion-MNIST models with caches made by `octet calibrate`
// on 512 of Debian's Fashion-MNIST training images (the tests skip with a message when it is absent), the
// written file re-read with libonnx and compared with the INT8 graph octet's builder makes from the same
// model and cache (quantize/qdq_export.h: the placement must be that graph's, bit for bit).
//
// Caches use --method max (one pass over the images: ResNet's takes a few seconds on the CPU backend);
// the error cases use the MLP, whose cache takes a fraction of a second.
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "calibration/calibration_io.h"
#include "engine/onnx_import.h"
#include "engine/passes.h"
#include "quantize/int8_builder.h"
#include "quantize/qdq_fusion.h"
#include "quantize/qscheme.h"
#include "quantize/weight_quantization.h"
#include "tests/support/cli_runner.h"
#include "tests/support/onnx_builder.h"
#include "tests/support/paths.h"

namespace fs = std::filesystem;

namespace octet {
namespace {

using test::arg;
using test::CliResult;
using test::expect_contains;
using test::expect_error;
using test::model_path;
using test::read_bytes;
using test::run_cli;
using test::write_bytes;

const std::string kTrainImages = test::fashion_mnist_train_images();

onnx::ModelProto read_model(const fs::path& path) {
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromString(read_bytes(path))) << path;
  return model;
}

bool same_bits(float a, float b) { return quant::float_bits(a) == quant::float_bits(b); }

// The exported model, indexed: initializers as tensors, the node producing each tensor.
struct Exported {
  onnx::ModelProto model;
  std::map<std::string, Tensor> initializers;
  std::map<std::string, const onnx::NodeProto*> producer, by_name;

  explicit Exported(const fs::path& path) : model(read_model(path)) {
    for (const auto& t : model.graph().initializer()) initializers[t.name()] = tensor_from_proto(t, t.name());
    for (const auto& n : model.graph().node()) {
      by_name[n.name()] = &n;
      for (const std::string& out : n.output()) producer[out] = &n;
    }
  }
  // The DequantizeLinear writing `tensor`, or nullptr.
  const onnx::NodeProto* dequantize_of(const std::string& tensor) const {
    const auto it = producer.find(tensor);
    return it != producer.end() && it->second->op_type() == "DequantizeLinear" ? it->second : nullptr;
  }
  std::set<std::string> tensor_names() const {
    std::set<std::string> names;
    for (const auto& n : model.graph().node()) names.insert(n.output().begin(), n.output().end());
    for (const auto& v : model.graph().input()) names.insert(v.name());
    return names;
  }
};

int64_t axis_of(const onnx::NodeProto& node) {
  for (const auto& a : node.attribute())
    if (a.name() == "axis") return a.i();
  return -1;  // absent
}

class ExportQdqCli : public test::FashionMnistCliTest {
 protected:
  ExportQdqCli() : FashionMnistCliTest("octet_export_qdq_cli_") {}

  fs::path calibrate(const std::string& model, const std::string& images = "512") {
    const fs::path cache = file(model + ".cache");
    const CliResult r = run_cli("calibrate " + arg(model_path(model)) + " --data " + kTrainImages + " --max-images " +
                                images + " --method max --backend cpu --cache " + arg(cache));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return cache;
  }

  CliResult export_qdq(const std::string& model, const fs::path& cache, const fs::path& out,
                       const std::string& extra = "") {
    return run_cli("export-qdq " + arg(model) + " --calib " + arg(cache) + " --out " + arg(out) + " " + extra);
  }

  // Nothing but the inputs in the folder: no output, no temporary file.
  void expect_nothing_written(const std::set<std::string>& inputs) {
    for (const auto& entry : fs::directory_iterator(dir))
      EXPECT_TRUE(inputs.count(entry.path().filename().string())) << "left behind: " << entry.path();
  }

  // Exports `name` with a 512-image cache and checks the file against octet's INT8 graph and the cache.
  void check_export(const std::string& name) {
    const fs::path cache = calibrate(name), out = file(name + "_qdq.onnx");
    const CliResult r = export_qdq(model_path(name), cache, out);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    expect_contains(r, {"activations  ", "tensors with QuantizeLinear/DequantizeLinear", "per-channel", out.string()});

    const Exported exported(out);
    EXPECT_NO_THROW(onnx::checker::check_model(exported.model));
    const onnx::ModelProto original = read_model(model_path(name));

    // The engine octet builds from the same model and cache.
    const std::map<std::string, float> scales = read_trt_cache(cache.string());
    Graph graph = import_onnx_file(model_path(name));
    optimize_fp32(graph);
    BuildConfig config;
    config.int8 = true;
    BuildReport report;
    const Graph engine = build_int8_graph(graph, scales, config, &report);

    // Every INT8 Conv/Gemm: weights through DequantizeLinear of the engine's int8 weights and scales,
    // bit for bit, and its activation input through DequantizeLinear too.
    int layers = 0;
    for (const Node& layer : engine.nodes) {
      if (layer.precision != Precision::kInt8 || (layer.op != OpKind::Conv && layer.op != OpKind::Gemm)) continue;
      SCOPED_TRACE(layer.name);
      ++layers;
      ASSERT_TRUE(exported.by_name.count(layer.name));
      const onnx::NodeProto& node = *exported.by_name.at(layer.name);
      const onnx::NodeProto* weight_dq = exported.dequantize_of(node.input(1));
      ASSERT_NE(weight_dq, nullptr);
      const Tensor& q = exported.initializers.at(weight_dq->input(0));
      const Tensor& s = exported.initializers.at(weight_dq->input(1));
      const Tensor& zp = exported.initializers.at(weight_dq->input(2));
      const Tensor& engine_q = *engine.value(layer.inputs[1]).initializer;
      ASSERT_EQ(q.type(), DataType::kInt8);
      EXPECT_EQ(axis_of(*weight_dq), 0);  // Conv KCRS; these models' Gemms have transB = 1
      ASSERT_EQ(q.dims(), engine_q.dims());
      EXPECT_EQ(std::memcmp(q.raw(), engine_q.raw(), q.bytes()), 0);
      ASSERT_EQ(s.numel(), static_cast<int64_t>(layer.weight_scales.size()));
      for (int64_t c = 0; c < s.numel(); ++c)
        EXPECT_TRUE(same_bits(s.data<float>()[c], layer.weight_scales[static_cast<size_t>(c)])) << "channel " << c;
      ASSERT_EQ(zp.type(), DataType::kInt8);
      for (int64_t c = 0; c < zp.numel(); ++c) EXPECT_EQ(zp.data<int8_t>()[c], 0);
      EXPECT_NE(exported.dequantize_of(node.input(0)), nullptr) << "activation input " << node.input(0);
    }
    EXPECT_GT(layers, 0);

    // Every Q/DQ activation scale is the cache's scale of that tensor; a MaxPool or a reshape passes its
    // input's scale on (int8_builder.h), so their outputs carry their input's.
    std::map<std::string, const onnx::NodeProto*> original_producer;
    for (const auto& n : original.graph().node())
      for (const std::string& o : n.output()) original_producer[o] = &n;
    std::function<float(const std::string&)> expected_scale = [&](const std::string& tensor) {
      const auto p = original_producer.find(tensor);
      if (p != original_producer.end() && (p->second->op_type() == "MaxPool" || p->second->op_type() == "Flatten" ||
                                          p->second->op_type() == "Reshape"))
        return expected_scale(p->second->input(0));
      return scales.at(tensor);
    };
    int activations = 0;
    for (const auto& n : exported.model.graph().node()) {
      if (n.op_type() != "QuantizeLinear") continue;
      SCOPED_TRACE(n.input(0));
      ++activations;
      const Tensor& s = exported.initializers.at(n.input(1));
      ASSERT_EQ(s.rank(), 0);
      EXPECT_TRUE(same_bits(s.data<float>()[0], expected_scale(n.input(0))));
      EXPECT_EQ(exported.initializers.at(n.input(2)).data<int8_t>()[0], 0);
      EXPECT_EQ(axis_of(n), -1);
    }
    EXPECT_GT(activations, layers / 2);

    // The model is otherwise kept: its tensors, nodes, outputs and metadata.
    const std::set<std::string> names = exported.tensor_names();
    for (const auto& n : original.graph().node()) {
      EXPECT_TRUE(exported.by_name.count(n.name())) << "node " << n.name();
      for (const std::string& o : n.output()) EXPECT_TRUE(names.count(o)) << "tensor " << o;
    }
    ASSERT_EQ(exported.model.graph().output_size(), original.graph().output_size());
    for (int i = 0; i < original.graph().output_size(); ++i)
      EXPECT_EQ(exported.model.graph().output(i).SerializeAsString(), original.graph().output(i).SerializeAsString());
    EXPECT_EQ(exported.model.graph().input(0).SerializeAsString(), original.graph().input(0).SerializeAsString());
    std::map<std::string, std::string> metadata;
    for (const auto& p : exported.model.metadata_props()) metadata[p.key()] = p.value();
    for (const auto& p : original.metadata_props()) EXPECT_EQ(metadata[p.key()], p.value());
    EXPECT_NE(metadata["octet_export_qdq"].find(cache.filename().string()), std::string::npos);
    EXPECT_EQ(exported.model.opset_import(0).version(), original.opset_import(0).version());

    expect_same_engine(engine, out);
  }

  // Round trip: octet's Q/DQ import (quantize/qdq_fusion.h) builds the same INT8 engine from the exported
  // file, without the cache: the same layers INT8, the same int8 weights and scales, the same activation
  // scales, bit for bit.
  static void expect_same_engine(const Graph& engine, const fs::path& exported) {
    Graph graph = import_onnx_file(exported.string());
    const std::map<std::string, float> scales = fuse_qdq(graph, nullptr);
    optimize_fp32(graph);
    BuildConfig config;
    config.int8 = true;
    config.explicit_quantization = true;  // as octet build does for a Q/DQ model
    BuildReport report;
    const Graph round_trip = build_int8_graph(graph, scales, config, &report);
    std::map<std::string, const Node*> layers;
    for (const Node& n : round_trip.nodes) layers[n.name] = &n;
    for (const Node& layer : engine.nodes) {
      if (layer.precision != Precision::kInt8) continue;
      SCOPED_TRACE("round trip: " + layer.name);
      ASSERT_TRUE(layers.count(layer.name));
      const Node& other = *layers.at(layer.name);
      EXPECT_EQ(other.precision, Precision::kInt8);
      // Pairs only where the engine keeps tensors, so no epilogue rounds inside (calibrated ones never do).
      if (const Epilogue* e = epilogue_of(other)) {
        EXPECT_TRUE(same_bits(e->rounding.after_bias, epilogue_of(layer)->rounding.after_bias));
        EXPECT_TRUE(same_bits(e->rounding.after_residual, epilogue_of(layer)->rounding.after_residual));
      }
      ASSERT_EQ(other.weight_scales.size(), layer.weight_scales.size());
      for (size_t c = 0; c < layer.weight_scales.size(); ++c)
        EXPECT_TRUE(same_bits(other.weight_scales[c], layer.weight_scales[c])) << "channel " << c;
      if (!layer.weight_scales.empty()) {
        const Tensor& w = *engine.value(layer.inputs[1]).initializer;
        const Tensor& w2 = *round_trip.value(other.inputs[1]).initializer;
        ASSERT_EQ(w.dims(), w2.dims());
        EXPECT_EQ(std::memcmp(w.raw(), w2.raw(), w.bytes()), 0);
      }
      for (size_t i = 0; i < layer.inputs.size() && i < other.inputs.size(); ++i) {
        if (layer.inputs[i] == kNoValue || engine.value(layer.inputs[i]).is_constant()) continue;
        const Value& v = engine.value(layer.inputs[i]);
        const Value& v2 = round_trip.value(other.inputs[i]);
        EXPECT_EQ(v.type, v2.type) << v.name;
        ASSERT_EQ(v.scale.has_value(), v2.scale.has_value()) << v.name;
        if (v.scale) {
          EXPECT_TRUE(same_bits(*v.scale, *v2.scale)) << v.name;
        }
      }
    }
  }
};

TEST_F(ExportQdqCli, ResNetExportIsTheInt8EnginesPlacement) { check_export("resnet_fmnist"); }

TEST_F(ExportQdqCli, InceptionExportIsTheInt8EnginesPlacement) { check_export("inception_fmnist"); }

TEST_F(ExportQdqCli, PerTensorWeightsAndATransposedGemm) {
  const fs::path cache = calibrate("mlp_fmnist", "64");
  // The MLP with its first Gemm's weight stored [K_in, N_out] (transB = 0): the same function.
  onnx::ModelProto model = read_model(model_path("mlp_fmnist"));
  onnx::NodeProto* gemm = nullptr;
  for (auto& n : *model.mutable_graph()->mutable_node())
    if (n.op_type() == "Gemm" && !gemm) gemm = &n;
  ASSERT_NE(gemm, nullptr);
  for (auto& a : *gemm->mutable_attribute())
    if (a.name() == "transB") a.set_i(0);
  for (auto& t : *model.mutable_graph()->mutable_initializer()) {
    if (t.name() != gemm->input(1)) continue;
    const Tensor w = tensor_from_proto(t, t.name());
    Tensor kn(DataType::kFloat32, {w.dims()[1], w.dims()[0]});
    for (int64_t n = 0; n < w.dims()[0]; ++n)
      for (int64_t k = 0; k < w.dims()[1]; ++k) kn.data<float>()[k * w.dims()[0] + n] = w.data<float>()[n * w.dims()[1] + k];
    const std::string name = t.name();  // tensor_to_proto clears t first
    tensor_to_proto(kn, name, t);
  }
  const fs::path transposed = file("mlp_kn.onnx");
  write_bytes(transposed, model.SerializeAsString());

  std::map<std::string, Tensor> weights;  // of the transposed model, by the Gemm reading them
  for (const auto& n : model.graph().node())
    for (const auto& t : model.graph().initializer())
      if (n.op_type() == "Gemm" && t.name() == n.input(1)) weights[n.name()] = tensor_from_proto(t, t.name());

  // Per channel: the [K_in, N_out] layout kept, the scales along axis 1.
  const fs::path per_channel = file("mlp_kn_qdq.onnx");
  const CliResult channel_result = export_qdq(transposed.string(), cache, per_channel, "--per-channel");
  ASSERT_EQ(channel_result.exit_code, 0) << channel_result.output;
  {
    const Exported exported(per_channel);
    const onnx::NodeProto& dq = *exported.dequantize_of(exported.by_name.at(gemm->name())->input(1));
    EXPECT_EQ(axis_of(dq), 1);
    const Tensor& q = exported.initializers.at(dq.input(0));
    const Tensor& s = exported.initializers.at(dq.input(1));
    const Tensor& w = weights.at(gemm->name());
    ASSERT_EQ(q.dims(), w.dims());
    ASSERT_EQ(s.numel(), w.dims()[1]);
    for (int64_t i = 0; i < w.numel(); ++i)
      ASSERT_EQ(q.data<int8_t>()[i], quant::quantize(w.data<float>()[i], s.data<float>()[i % w.dims()[1]])) << i;
    Graph graph = import_onnx_file(transposed.string());
    optimize_fp32(graph);
    BuildConfig config;
    config.int8 = true;
    BuildReport report;
    expect_same_engine(build_int8_graph(graph, read_trt_cache(cache.string()), config, &report), per_channel);
  }

  // Per tensor: one scale, max |w| / 127 over the whole weight, q = quantize(w, scale).
  const fs::path per_tensor = file("mlp_kn_qdq_tensor.onnx");
  const CliResult r = export_qdq(transposed.string(), cache, per_tensor, "--per-tensor-weights");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_contains(r, {"3 per-tensor"});
  const Exported exported(per_tensor);
  EXPECT_NO_THROW(onnx::checker::check_model(exported.model));
  for (const auto& [name, w] : weights) {
    SCOPED_TRACE(name);
    const onnx::NodeProto* dq = exported.dequantize_of(exported.by_name.at(name)->input(1));
    ASSERT_NE(dq, nullptr);
    EXPECT_EQ(axis_of(*dq), -1);
    float amax = 0.0f;
    for (int64_t i = 0; i < w.numel(); ++i) amax = std::max(amax, std::fabs(w.data<float>()[i]));
    const float scale = quant::scale_from_amax(amax);
    const Tensor& s = exported.initializers.at(dq->input(1));
    ASSERT_EQ(s.rank(), 0);
    EXPECT_TRUE(same_bits(s.data<float>()[0], scale));
    const Tensor& q = exported.initializers.at(dq->input(0));
    ASSERT_EQ(q.dims(), w.dims());
    for (int64_t i = 0; i < w.numel(); ++i) ASSERT_EQ(q.data<int8_t>()[i], quant::quantize(w.data<float>()[i], scale));
  }
}

// Where the engine's int8 weights are not the model's (a BatchNormalization octet folds into the Conv) or
// the weight is shared, the export quantizes the model's own float weights per channel and says so. And a
// tensor the engine writes as float (its Sigmoid reader is FP32) and quantizes for its INT8 reader only:
// that reader alone reads the DequantizeLinear.
TEST_F(ExportQdqCli, FoldedBatchNormAndSharedWeightsUseTheModelsOwnWeights) {
  auto values = [](size_t n, float phase) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = std::sin(static_cast<float>(i) * 0.7f + phase) * 0.5f;
    return v;
  };
  const std::vector<float> w1 = values(4 * 9, 0.0f), w2 = values(16, 1.0f);
  test::ModelBuilder b;
  b.input("input", {test::kSymbolicDim, 1, 28, 28})
      .initializer<float>("w1", {4, 1, 3, 3}, w1)
      .initializer<float>("gamma", {4}, {1.5f, 0.5f, 2.0f, 1.0f})
      .initializer<float>("beta", {4}, {0.1f, -0.2f, 0.0f, 0.3f})
      .initializer<float>("mean", {4}, {0.2f, 0.0f, -0.1f, 0.4f})
      .initializer<float>("var", {4}, {1.0f, 2.0f, 0.5f, 1.5f})
      .initializer<float>("w2", {4, 4, 1, 1}, w2)
      .output("out", {test::kSymbolicDim, 4, 28, 28})
      .output("side", {test::kSymbolicDim, 4, 28, 28});
  b.node("Conv", {"input", "w1"}, {"a"}, "c1").attr_ints("kernel_shape", {3, 3}).attr_ints("pads", {1, 1, 1, 1});
  b.node("BatchNormalization", {"a", "gamma", "beta", "mean", "var"}, {"bn_out"}, "bn");
  b.node("Relu", {"bn_out"}, {"r1"}, "relu1");
  b.node("Conv", {"r1", "w2"}, {"c"}, "c2").attr_ints("kernel_shape", {1, 1});
  b.node("Sigmoid", {"r1"}, {"side"}, "sigmoid");
  b.node("Relu", {"c"}, {"r2"}, "relu2");
  b.node("Conv", {"r2", "w2"}, {"out"}, "c3").attr_ints("kernel_shape", {1, 1});
  const fs::path model = file("folded.onnx");
  write_bytes(model, b.bytes());
  const fs::path cache = file("folded.cache"), out = file("folded_qdq.onnx");
  ASSERT_EQ(run_cli("calibrate " + arg(model) + " --data " + kTrainImages + " --preset fashion-mnist --max-images 64 "
                    "--method max --backend cpu --cache " + arg(cache)).exit_code, 0);

  const CliResult r = export_qdq(model.string(), cache, out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_contains(r, {"3 per-channel (3 quantized from the model's float weights", "note: weight 'w1' of 'c1'",
                      "folds 'bn'", "note: weight 'w2' of 'c2'", "shared"});
  const Exported exported(out);
  EXPECT_NO_THROW(onnx::checker::check_model(exported.model));
  EXPECT_EQ(exported.by_name.at("bn")->op_type(), "BatchNormalization");
  EXPECT_FALSE(exported.initializers.count("w1") || exported.initializers.count("w2"));  // nobody reads the floats
  EXPECT_EQ(exported.by_name.at("sigmoid")->input(0), "r1");
  EXPECT_NE(exported.dequantize_of(exported.by_name.at("c2")->input(0)), nullptr);
  const std::map<std::string, Tensor> floats = {{"c1", Tensor(DataType::kFloat32, {4, 1, 3, 3})},
                                                {"c2", Tensor(DataType::kFloat32, {4, 4, 1, 1})},
                                                {"c3", Tensor(DataType::kFloat32, {4, 4, 1, 1})}};
  for (const auto& [name, shape] : floats) {
    SCOPED_TRACE(name);
    Tensor w = shape;
    const std::vector<float>& source = name == "c1" ? w1 : w2;
    std::copy(source.begin(), source.end(), w.data<float>());
    const QuantizedWeights expected = quantize_conv_weights(w);
    const onnx::NodeProto* dq = exported.dequantize_of(exported.by_name.at(name)->input(1));
    ASSERT_NE(dq, nullptr);
    const Tensor& q = exported.initializers.at(dq->input(0));
    const Tensor& s = exported.initializers.at(dq->input(1));
    EXPECT_EQ(std::memcmp(q.raw(), expected.weights.raw(), q.bytes()), 0);
    for (int64_t c = 0; c < 4; ++c) EXPECT_TRUE(same_bits(s.data<float>()[c], expected.scales[static_cast<size_t>(c)]));
  }
}

TEST_F(ExportQdqCli, BadInputsAreClearErrorsAndWriteNothing) {
  const fs::path cache = calibrate("mlp_fmnist", "64");
  const fs::path out = file("out.onnx");

  expect_error(export_qdq(model_path("mlp_fmnist"), file("absent.cache"), out), {file("absent.cache").string()});
  expect_error(export_qdq(file("absent.onnx").string(), cache, out), {file("absent.onnx").string()});
  expect_error(export_qdq(model_path("resnet_fmnist"), cache, out),
               {"resnet_fmnist.onnx", cache.string(), "another model? only 2 of its", "tensor names are in the model"});
  expect_error(export_qdq(model_path("mlp_fmnist"), cache, file("missing/out.onnx")),
               {"--out", file("missing").string(), "does not exist"});
  expect_error(export_qdq(model_path("mlp_fmnist"), cache, out, "--per-channel --per-tensor-weights"), {"not both"});
  // Scales for the logits alone: no layer can run INT8.
  write_bytes(file("logits.cache"), "TRT-8601-EntropyCalibration2\nlogits: 3c000000\n");
  expect_error(export_qdq(model_path("mlp_fmnist"), file("logits.cache"), out), {"no layer runs INT8"});
  expect_nothing_written({"mlp_fmnist.cache", "logits.cache"});

  // The opset is never raised: opset 11 cannot hold per-channel DequantizeLinear (octet imports opset 11).
  onnx::ModelProto model = read_model(model_path("mlp_fmnist"));
  for (auto& import : *model.mutable_opset_import())
    if (import.domain().empty()) import.set_version(11);
  write_bytes(file("mlp_opset11.onnx"), model.SerializeAsString());
  expect_error(export_qdq(file("mlp_opset11.onnx").string(), cache, out), {"mlp_opset11.onnx", "opset 11", "13"});
  expect_nothing_written({"mlp_fmnist.cache", "logits.cache", "mlp_opset11.onnx"});
  // A model newer than the checker of this libonnx knows is written without that check, saying so.
  onnx::ModelProto newer = read_model(model_path("mlp_fmnist"));
  newer.set_ir_version(onnx::IR_VERSION + 1);
  write_bytes(file("mlp_newer.onnx"), newer.SerializeAsString());
  const CliResult unchecked = export_qdq(file("mlp_newer.onnx").string(), cache, file("newer_qdq.onnx"));
  EXPECT_EQ(unchecked.exit_code, 0) << unchecked.output;
  expect_contains(unchecked, {"note: not checked", "IR version " + std::to_string(onnx::IR_VERSION + 1)});
  // Per-tensor Q/DQ needs opset 10 only.
  const CliResult per_tensor = export_qdq(file("mlp_opset11.onnx").string(), cache, out, "--per-tensor-weights");
  EXPECT_EQ(per_tensor.exit_code, 0) << per_tensor.output;
  EXPECT_NO_THROW(onnx::checker::check_model(read_model(out)));
}

// A model with dynamic height and width: octet's import needs --shapes (the error says so), and the
// file written keeps the model's declared (symbolic) dims.
TEST_F(ExportQdqCli, DynamicHeightAndWidthTakeShapes) {
  std::vector<float> w(4 * 9);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(static_cast<float>(i) * 0.9f) * 0.5f;
  test::ModelBuilder b;
  b.input("input", {test::kSymbolicDim, 1, test::kSymbolicDim, test::kSymbolicDim})
      .initializer<float>("w", {4, 1, 3, 3}, w)
      .output("out", {test::kSymbolicDim, 4, test::kSymbolicDim, test::kSymbolicDim});
  b.node("Conv", {"input", "w"}, {"c"}, "conv").attr_ints("kernel_shape", {3, 3}).attr_ints("pads", {1, 1, 1, 1});
  b.node("Relu", {"c"}, {"out"}, "relu");
  const fs::path model = file("dynamic.onnx"), cache = file("dynamic.cache"), out = file("dynamic_qdq.onnx");
  write_bytes(model, b.bytes());
  ASSERT_EQ(run_cli("calibrate " + arg(model) + " --shapes input:1x1x28x28 --data " + kTrainImages +
                    " --preset fashion-mnist --max-images 32 --method max --backend cpu --cache " + arg(cache))
                .exit_code,
            0);
  expect_error(export_qdq(model.string(), cache, out), {"dynamic.onnx", "'input'", "--shapes input:"});
  const CliResult r = export_qdq(model.string(), cache, out, "--shapes input:1x1x28x28");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Exported exported(out);
  EXPECT_NE(exported.dequantize_of(exported.by_name.at("conv")->input(0)), nullptr);
  const auto& dims = exported.model.graph().input(0).type().tensor_type().shape().dim();
  ASSERT_EQ(dims.size(), 4);
  EXPECT_FALSE(dims[2].has_dim_value());  // still symbolic in the file
  EXPECT_FALSE(dims[3].has_dim_value());
}

TEST_F(ExportQdqCli, HelpExplainsEveryOption) {
  const CliResult r = run_cli("export-qdq --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  expect_contains(r, {"usage: octet export-qdq MODEL --calib CACHE --out FILE.onnx", "--calib", "--out",
                      "--per-channel", "--per-tensor-weights", "TensorRT", "ONNX Runtime", "opset"});
  expect_contains(run_cli("--help"), {"export-qdq"});
}

}  // namespace
}  // namespace octet
