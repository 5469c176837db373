// `octet build` and `octet bench` end to end, and plans where run/eval/info take a model: the binary
// run as a user runs it, on the shipped Fashion-MNIST models with caches made by `octet calibrate`
// on Debian's Fashion-MNIST test images (the tests skip with a message when it is absent).
//
// Every test works in its own folder (the process id in the name), so ctest -j can run them side by
// side. Caches come from a few images (--max-images 64, percentile): the MLP's in a fraction of a
// second, ResNet's in a few seconds on the CPU backend.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/backend.h"
#include "engine/onnx_import.h"
#include "engine/passes.h"
#include "engine/plan.h"
#include "tests/support/cli_runner.h"
#include "tests/support/paths.h"

namespace fs = std::filesystem;

namespace octet {
namespace {

using test::arg;
using test::CliResult;
using test::expect_contains;
using test::expect_error;
using test::expect_ok;
using test::model_path;
using test::read_bytes;
using test::run_cli;
using test::write_bytes;

const std::string kTestImages = test::fashion_mnist_test_images();

// A number printed after `label` ("agreement  99.61% ..." -> 99.61).
double number_after(const std::string& text, const std::string& label) {
  const size_t at = text.find(label);
  if (at == std::string::npos) return -1.0;
  return std::stod(text.substr(at + label.size()));
}

class BuildCli : public test::FashionMnistCliTest {
 protected:
  BuildCli() : FashionMnistCliTest("octet_build_cli_") {}

  // octet calibrate MODEL on 64 test images (percentile) -> `name` (a TensorRT cache, or a JSON
  // table when `name` ends in .json).
  fs::path calibrate(const std::string& model, const std::string& name) {
    const bool table = fs::path(name).extension() == ".json";
    const CliResult r = run_cli("calibrate " + arg(model_path(model)) + " --data " + kTestImages +
                                " --max-images 64 --method percentile --backend cpu " +
                                (table ? "--table " : "--cache ") + arg(file(name)));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return file(name);
  }

  // octet build MODEL --save-engine PLAN EXTRA
  CliResult build(const std::string& model, const fs::path& plan, const std::string& extra) {
    return run_cli("build " + arg(model_path(model)) + " --save-engine " + arg(plan) + " " + extra);
  }

  fs::path fp32_plan(const std::string& model, const std::string& name) {
    const CliResult r = build(model, file(name), "");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return file(name);
  }
};

TEST_F(BuildCli, Int8PlanOnCpuRunsEvaluatesAndDescribesItself) {
  const fs::path cache = calibrate("resnet_fmnist", "resnet.cache");
  const fs::path plan = file("resnet_int8.plan"), layers = file("resnet_layers.json");
  const CliResult b = build("resnet_fmnist", plan, "--int8 --calib " + arg(cache) + " --export-layer-info " + arg(layers));
  expect_ok(b, {"TensorRT cache", "INT8", "FP32", "reformats", "QuantizeLinear", plan.string(), layers.string()});
  ASSERT_TRUE(fs::exists(plan));

  // Layer info: every layer, int8 layers with scales, the INT8-in/FP32-out Gemm flagged.
  const nlohmann::json info = nlohmann::json::parse(read_bytes(layers));
  EXPECT_EQ(info["backend"], "cpu");
  int int8_layers = 0, mixed = 0;
  for (const auto& layer : info["layers"]) {
    if (layer["precision"] == "int8") {
      ++int8_layers;
      EXPECT_EQ(layer["inputs"][0]["type"], "int8") << layer.dump();
      EXPECT_TRUE(layer["inputs"][0].contains("scale")) << layer.dump();
      EXPECT_EQ(layer["inputs"][0]["layout"], "NCHW") << layer.dump();
    }
    mixed += layer.value("mixed_output", false);
  }
  EXPECT_GT(int8_layers, 10);
  EXPECT_GE(mixed, 1);

  expect_ok(run_cli("run " + arg(plan) + " --random --batch 3"), {"ran plan", "batch 3", "sample 2:"});
  const CliResult e = run_cli("eval " + arg(plan) + " --data " + kTestImages + " --limit 128 --batch 32 --reference " +
                              arg(model_path("resnet_fmnist")));
  expect_ok(e, {"plan       ", "evaluated  128", "reference  ", "agreement  "});
  EXPECT_GE(number_after(e.output, "agreement  "), 90.0) << e.output;
  EXPECT_GE(number_after(e.output, "top-1      "), 80.0) << e.output;

  expect_ok(run_cli("info " + arg(plan)),
            {"format       version " + std::to_string(kPlanFormatVersion), "backend      cpu",
             "built with   octet build", "INT8 layers", "precision", "tactic", "int8 in, fp32 out"});
  const fs::path profile = file("profile.json");
  const CliResult bench = run_cli("bench " + arg(plan) + " --warmup 0 --iterations 3 --duration 0 --dump-profile "
                                  "--profile-iterations 2 --export-profile " + arg(profile));
  expect_ok(bench, {"=== Performance summary ===", "Throughput:", "images/s", "median latency", "percentile(99%)",
                    "Per-layer profile", "/fc/Gemm", profile.string()});
  const nlohmann::json p = nlohmann::json::parse(read_bytes(profile));
  ASSERT_TRUE(p.is_array());
  EXPECT_EQ(p[0]["count"], 2);
  EXPECT_TRUE(p[1].contains("averageMs") && p[1].contains("percentage") && p[1].contains("precision"));
}

TEST_F(BuildCli, AJsonTableServesAsTheCache) {
  const fs::path table = calibrate("mlp_fmnist", "mlp.json");
  expect_ok(build("mlp_fmnist", file("mlp.plan"), "--int8 --calib " + arg(table)), {"JSON table", "3 INT8"});
}

TEST_F(BuildCli, WithoutInt8ThePlanIsFp32AndTakesAnotherBatch) {
  const fs::path plan = fp32_plan("mlp_fmnist", "mlp_fp32.plan");
  expect_ok(run_cli("run " + arg(plan) + " --random --batch 4"), {"ran plan", "batch 4", "sample 3:"});
  expect_ok(run_cli("info " + arg(plan)), {"0 INT8 layers"});
  expect_ok(run_cli("bench " + arg(plan) + " --batch 2 --warmup 0 --iterations 2 --duration 0"), {"batch 2, FP32"});
}

TEST_F(BuildCli, CorruptAndTruncatedPlansAreRefusedNamingTheFile) {
  const std::string good = read_bytes(fp32_plan("mlp_fmnist", "good.plan"));
  std::string changed = good;
  changed[good.size() / 2] = static_cast<char>(changed[good.size() / 2] ^ 0x01);
  write_bytes(file("corrupt.plan"), changed);
  for (const char* command : {"run", "info", "bench"}) {
    SCOPED_TRACE(command);
    const std::string extra = std::string(command) == "run" ? " --random" : "";
    expect_error(run_cli(std::string(command) + " " + arg(file("corrupt.plan")) + extra),
                 {file("corrupt.plan").string(), "corrupt (checksum mismatch)"});
  }
  expect_error(run_cli("eval " + arg(file("corrupt.plan")) + " --data " + kTestImages),
               {file("corrupt.plan").string(), "checksum mismatch"});
  for (size_t length : {size_t{20}, good.size() / 2, good.size() - 1}) {
    write_bytes(file("short.plan"), good.substr(0, length));
    expect_error(run_cli("run " + arg(file("short.plan")) + " --random"), {file("short.plan").string(), "truncated"});
  }
}

TEST_F(BuildCli, ACudaPlanIsRefusedWhereItCannotRun) {
  Plan plan;
  plan.graph = import_onnx_file(model_path("mlp_fmnist"));
  optimize_fp32(plan.graph);
  plan.backend = BackendKind::kCuda;
  plan.gpu_arch = "sm_1";  // no such GPU
  plan.gpu_name = "a GPU from the past";
  save_plan(file("cuda.plan").string(), plan);
  const CliResult r = run_cli("run " + arg(file("cuda.plan")) + " --random");
  if (cuda_available())
    expect_error(r, {file("cuda.plan").string(), "sm_1", "rebuild"});
  else
    expect_error(r, {file("cuda.plan").string(), "CUDA plan", "cannot run here"});
  // info reads any plan, without a device.
  expect_ok(run_cli("info " + arg(file("cuda.plan"))), {"backend      cuda", "sm_1", "a GPU from the past"});
  // A CPU plan is not run on another backend.
  const fs::path cpu = fp32_plan("mlp_fmnist", "cpu.plan");
  if (cuda_available()) expect_error(run_cli("run " + arg(cpu) + " --random --backend cuda"), {"built for --backend cpu"});
}

TEST_F(BuildCli, AnUnknownLayerNameSuggestsTheNearestNames) {
  const fs::path cache = calibrate("mlp_fmnist", "mlp.cache");
  expect_error(build("mlp_fmnist", file("x.plan"), "--int8 --calib " + arg(cache) + " --layer-precisions net.1/Gemm:fp32"),
               {"net.1/Gemm", "nearest", "/net/net.1/Gemm"});
  EXPECT_FALSE(fs::exists(file("x.plan")));
}

TEST_F(BuildCli, ObeyFailsOnAnImpossibleRequestNamingTheLayerAndPreferWarns) {
  const fs::path cache = calibrate("mlp_fmnist", "mlp.cache");
  const std::string rule = " --layer-precisions /net/net.0/Flatten:int8";
  expect_error(build("mlp_fmnist", file("obey.plan"), "--int8 --calib " + arg(cache) + rule +
                                                          " --precision-constraints obey"),
               {"/net/net.0/Flatten"});
  EXPECT_FALSE(fs::exists(file("obey.plan")));
  // trtexec's spellings, and prefer: a warning, the layer FP32, the plan written.
  const CliResult prefer = build("mlp_fmnist", file("prefer.plan"), "--int8 --calib " + arg(cache) +
                                                                        " --layerPrecisions /net/net.0/Flatten:int8"
                                                                        " --precisionConstraints prefer");
  expect_ok(prefer, {"warning:", "/net/net.0/Flatten"});
  EXPECT_TRUE(fs::exists(file("prefer.plan")));
}

TEST_F(BuildCli, ACacheOfAnotherModelIsRefused) {
  const fs::path cache = calibrate("mlp_fmnist", "mlp.cache");
  expect_error(build("resnet_fmnist", file("x.plan"), "--int8 --calib " + arg(cache)),
               {cache.string(), "another model", "/net/net.1/Gemm_output_0", "nearest"});
  EXPECT_FALSE(fs::exists(file("x.plan")));
}

TEST_F(BuildCli, TensorsMissingFromTheCacheAreListedAndTheirLayersStayFp32) {
  const fs::path cache = calibrate("mlp_fmnist", "mlp.cache");
  // Drop the scale of the hidden activation between the second and the last Gemm.
  std::istringstream in(read_bytes(cache));
  std::string kept;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("/net/net.4/Relu_output_0:", 0) != 0) kept += line + "\n";
  write_bytes(file("partial.cache"), kept);
  const fs::path layers = file("partial.json");
  const CliResult r = build("mlp_fmnist", file("partial.plan"), "--int8 --calib " + arg(file("partial.cache")) +
                                                                    " --export-layer-info " + arg(layers));
  expect_ok(r, {"warning:", "no scale", "/net/net.4/Relu_output_0", "/net/net.5/Gemm (Gemm) fp32"});
  const nlohmann::json info = nlohmann::json::parse(read_bytes(layers));
  for (const auto& layer : info["layers"]) {
    if (layer["name"] == "/net/net.5/Gemm") {
      EXPECT_EQ(layer["precision"], "fp32");
    }
  }
  expect_ok(run_cli("run " + arg(file("partial.plan")) + " --random"), {"ran plan"});
}

TEST_F(BuildCli, UsageMistakesAreClearErrors) {
  expect_error(run_cli("build " + arg(model_path("mlp_fmnist")) + " --int8 --save-engine " + arg(file("x.plan"))),
               {"--int8 needs --calib"});
  expect_error(run_cli("build " + arg(model_path("mlp_fmnist"))), {"--save-engine"});
  expect_error(build("mlp_fmnist", file("x.plan"), "--tactics dp4a,warp"), {"unknown tactic 'warp'"});
  expect_error(build("mlp_fmnist", file("x.plan"), "--int8 --calib " + arg(file("absent.cache"))),
               {file("absent.cache").string()});
}

TEST_F(BuildCli, HelpListsEveryFlag) {
  const CliResult build_help = run_cli("build --help");
  expect_ok(build_help, {"--int8", "--calib", "--backend", "--batch", "--layer-precisions", "--layerPrecisions",
                         "--layer-output-types", "--layerOutputTypes", "--precision-constraints",
                         "--precisionConstraints", "--tactics", "--save-engine", "--saveEngine", "--export-layer-info",
                         "--exportLayerInfo", "--onnx", "--threads"});
  const CliResult bench_help = run_cli("bench --help");
  expect_ok(bench_help, {"--backend", "--batch", "--warmup", "--iterations", "--duration", "--export-profile",
                         "--exportProfile", "--export-layer-info", "--exportLayerInfo", "--use-cuda-graph",
                         "--useCudaGraph", "--dump-profile", "--profile-iterations"});
  expect_ok(run_cli("eval --help"), {"--reference"});
  expect_ok(run_cli("--help"), {"build", "bench"});
}

}  // namespace
}  // namespace octet
