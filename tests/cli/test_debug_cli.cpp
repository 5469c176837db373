// octet debug precision as a user runs it on the shipped ResNet (Fashion-MNIST): a target the INT8
// engine already meets, one that needs layers in FP32 (ranked, fallen back, written as rules that
// octet build reads with @FILE), and bad input.
#include <gtest/gtest.h>

#include <filesystem>

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
using test::run_cli;

class DebugPrecisionCli : public test::FashionMnistCliTest {
 protected:
  DebugPrecisionCli() : FashionMnistCliTest("octet_debug_cli_") {}

  void SetUp() override {
    FashionMnistCliTest::SetUp();
    if (IsSkipped()) return;
    expect_ok(run_cli("calibrate " + arg(model_path("resnet_fmnist")) + " --data " + test::fashion_mnist_test_images() +
                      " --max-images 64 --method percentile --cache " + arg(file("resnet.cache"))));
  }

  CliResult debug(const std::string& extra) {
    return run_cli("debug precision " + arg(model_path("resnet_fmnist")) + " --calib " + arg(file("resnet.cache")) +
                   " --data " + test::fashion_mnist_test_images() + " --max-images 128 " + extra);
  }
};

TEST_F(DebugPrecisionCli, AMetTargetKeepsEveryLayerInt8) {
  // The percentile engine is at ~33 dB on these samples.
  const CliResult r = debug("--min-sqnr 20 --save-rules " + arg(file("none.rules")));
  expect_ok(r, {"INT8 ", "result", "0 of 15 INT8 layers kept FP32"});
  EXPECT_EQ(r.output.find("sensitivity  the engine"), std::string::npos) << r.output;
  EXPECT_EQ(test::read_bytes(file("none.rules")), "");
}

TEST_F(DebugPrecisionCli, FallsBackTheMostSensitiveLayersAndWritesRulesBuildReads) {
  const fs::path rules = file("resnet.rules"), plan = file("resnet.plan");
  const CliResult r = debug("--min-sqnr 35 --save-rules " + arg(rules) + " --save-engine " + arg(plan));
  expect_ok(r, {"sensitivity  the engine with only this layer INT8, noisiest first", "/stem/stem.0/Conv", "fallback", "result",
                "--layer-precisions", "images/s with the fallback", rules.string(), plan.string()});
  const std::string text = test::read_bytes(rules);
  ASSERT_FALSE(text.empty());
  EXPECT_NE(text.find(":fp32\n"), std::string::npos) << text;
  // The rules file is what octet build --layer-precisions @FILE reads.
  expect_ok(run_cli("build " + arg(model_path("resnet_fmnist")) + " --int8 --calib " + arg(file("resnet.cache")) +
                    " --layer-precisions @" + rules.string() + " --save-engine " + arg(file("again.plan"))),
            {"fp32: --layer-precisions asks fp32"});
  ASSERT_TRUE(fs::exists(plan));
  expect_ok(run_cli("info " + arg(plan)), {"INT8"});
}

TEST_F(DebugPrecisionCli, MaxDropIsAgainstFp32sLabelledTop1) {
  const CliResult r = debug("--max-drop 0");
  expect_ok(r, {"FP32         labelled top-1", "target       labelled top-1 >= ", "result"});
}

TEST_F(DebugPrecisionCli, OutputsMeasuresTheNamedTensorsInstead) {
  // An intermediate tensor becomes an extra output of both engines and is the only one measured: its
  // SQNR is not the logits' (a target that holds at once prints the INT8 engine's figure).
  const std::string tensor = "/layer1/layer1.1/Relu_output_0";
  const CliResult logits = debug("--min-sqnr 0");
  const CliResult marked = debug("--min-sqnr 0 --outputs " + tensor);
  expect_ok(marked, {"measured on  '" + tensor + "'", "result"});
  const auto int8_line = [](const std::string& out) { return out.substr(out.find("INT8 "), 30); };
  EXPECT_NE(int8_line(marked.output), int8_line(logits.output)) << marked.output << logits.output;
}

TEST_F(DebugPrecisionCli, BadInputNamesWhatIsWrong) {
  expect_error(debug(""), {"--min-agreement", "--min-sqnr", "--max-drop"});
  expect_error(debug("--max-drop -1"), {"--max-drop must be >= 0"});
  expect_error(debug("--min-agreement 99 --min-sqnr 30"), {"exactly one target"});
  expect_error(debug("--min-agreement 120"), {"--min-agreement must be in (0, 100]"});
  expect_error(debug("--min-sqnr 20 --outputs /layer1/layer1.1/Relu_outpt"),
               {"--outputs", "no activation tensor '/layer1/layer1.1/Relu_outpt'", "nearest: '/layer1/layer1.1/Relu_output_0'"});
  expect_error(run_cli("debug quantize " + arg(model_path("resnet_fmnist"))), {"unknown tool 'quantize'", "precision"});
  expect_error(run_cli("build " + arg(model_path("resnet_fmnist")) + " --int8 --calib " + arg(file("resnet.cache")) +
                       " --layer-precisions @" + file("missing.rules").string() + " --save-engine " + arg(file("x.plan"))),
               {"cannot read the rules file", "missing.rules"});
}

}  // namespace
}  // namespace octet
