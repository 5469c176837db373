// octet compare as a user runs it: a model against itself, an INT8 plan against its FP32 model (the
// tolerance decides the exit status), outputs saved to .npz and compared again, and bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/npz.h"
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

class CompareCli : public test::FashionMnistCliTest {
 protected:
  CompareCli() : FashionMnistCliTest("octet_compare_cli_") {}

  // resnet_fmnist INT8 on the CPU, calibrated on 64 test images.
  fs::path int8_plan() {
    const fs::path cache = file("resnet.cache"), plan = file("resnet_int8.plan");
    expect_ok(run_cli("calibrate " + arg(model_path("resnet_fmnist")) + " --data " +
                      test::fashion_mnist_test_images() + " --max-images 64 --method percentile --cache " + arg(cache)));
    expect_ok(run_cli("build " + arg(model_path("resnet_fmnist")) + " --int8 --calib " + arg(cache) +
                      " --save-engine " + arg(plan)));
    return plan;
  }
};

TEST_F(CompareCli, AModelEqualsItself) {
  const std::string model = arg(model_path("mlp_fmnist"));
  expect_ok(run_cli("compare " + model + " --reference " + model + " --random --batch 3"),
            {"logits", "PASS", "inf", "PASSED: 0 of 1"});
}

TEST_F(CompareCli, Int8PlanAgainstItsFp32ModelPassesOrFailsByTheTolerance) {
  const std::string plan = arg(int8_plan()), model = arg(model_path("resnet_fmnist"));
  const fs::path inputs = file("inputs.npz"), json = file("compare.json");
  // Default tolerances (1e-5): INT8 logits are not that close, so the check fails with exit 1 and no error.
  const CliResult strict = run_cli("compare " + plan + " --reference " + model + " --random --batch 4 --save-inputs " +
                                   arg(inputs) + " --export-json " + arg(json));
  EXPECT_EQ(strict.exit_code, 1) << strict.output;
  expect_contains(strict, {"FAIL", "FAILED: 1 of 1", "SQNR dB"});
  EXPECT_EQ(strict.output.find("error:"), std::string::npos) << strict.output;
  const nlohmann::json doc = nlohmann::json::parse(test::read_bytes(json));
  EXPECT_FALSE(doc["outputs"][0]["passed"].get<bool>());
  const double sqnr = doc["outputs"][0]["sqnr_db"].get<double>();
  EXPECT_GT(sqnr, 10.0) << "an INT8 ResNet's logits keep most of the signal";

  // The same input again (saved by the first run), judged by the mean error against a loose atol.
  expect_ok(run_cli("compare " + plan + " --reference " + model + " --input " + arg(inputs) +
                    " --check-error-stat mean --atol 1.0"),
            {"PASSED: 0 of 1", "check: mean with atol 1"});
}

TEST_F(CompareCli, MarkAllFollowsTheErrorThroughTheInt8Layers) {
  const std::string plan = arg(int8_plan()), model = arg(model_path("resnet_fmnist"));
  const fs::path json = file("marked.json");
  const CliResult r = run_cli("compare " + plan + " --reference " + model + " --random --batch 2 --mark all " +
                              "--check-error-stat mean --atol 10 --export-json " + arg(json));
  expect_ok(r, {"--mark all:", "tensor(s) computed by both", "Conv int8", "loss dB", "largest SQNR losses",
                "PASSED"});
  const nlohmann::json doc = nlohmann::json::parse(test::read_bytes(json));
  ASSERT_TRUE(doc.contains("tensors"));
  ASSERT_GE(doc["tensors"].size(), 5u);
  int int8_rows = 0;
  for (const auto& t : doc["tensors"]) {
    int8_rows += t["precision"] == "int8" ? 1 : 0;
    if (t["sqnr_db"].is_number()) {
      EXPECT_GT(t["sqnr_db"].get<double>(), 0.0) << t["tensor"];
    }
  }
  EXPECT_GT(int8_rows, 0) << "INT8 layers' outputs are compared dequantized";
  // The same tensors drawn along the network.
  const fs::path png = file("sqnr.png");
  const CliResult plotted = run_cli("compare " + plan + " --reference " + model + " --random --batch 2 --mark all " +
                                    "--check-error-stat mean --atol 10 --plot " + arg(png));
  if (plotted.output.find("built without OpenCV") == std::string::npos) {
    expect_ok(plotted, {png.string()});
    EXPECT_EQ(test::read_bytes(png).substr(1, 3), "PNG");
  }
  expect_error(run_cli("compare " + plan + " --reference " + model + " --random --plot " + arg(png)),
               {"--plot draws the tensors of --mark all"});
  // Intermediate tensors need a model or plan to run, not saved outputs.
  expect_error(run_cli("compare " + model + " --load-outputs " + arg(json) + " --random --mark all"),
               {"--mark all needs --reference"});
}

TEST_F(CompareCli, DataComparesEverySampleOfADataset) {
  const std::string plan = arg(int8_plan()), model = arg(model_path("resnet_fmnist"));
  const std::string data = " --data " + test::fashion_mnist_test_images() + " --max-images 100 --batch 32";
  const fs::path outputs = file("outputs.npz");
  // 100 samples in batches of 32: the last batch's 28 padding rows are left out.
  expect_ok(run_cli("compare " + plan + " --reference " + model + data + " --check-error-stat mean --atol 0.1" +
                    " --save-outputs " + arg(outputs)),
            {"100 sample(s) of IDX", "PASSED"});
  const NamedTensors saved = read_npz_file(outputs.string());
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].second.dims(), (Dims{100, 10}));
  expect_ok(run_cli("compare " + plan + " --load-outputs " + arg(outputs) + data), {"inf", "PASSED: 0 of 1"});
  expect_error(run_cli("compare " + plan + " --reference " + model + data + " --mark all"),
               {"--mark all compares one batch"});
  expect_error(run_cli("compare " + plan + " --reference " + model + data + " --random"),
               {"exactly one of --input FILE, --random or --data DATA"});
}

TEST_F(CompareCli, SavedOutputsAreAReference) {
  const std::string model = arg(model_path("mlp_fmnist"));
  const fs::path inputs = file("in.npz"), outputs = file("out.npz");
  expect_ok(run_cli("compare " + model + " --reference " + model + " --random --batch 2 --save-inputs " +
                    arg(inputs) + " --save-outputs " + arg(outputs)));
  const NamedTensors saved = read_npz_file(outputs.string());
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].first, "logits");
  EXPECT_EQ(saved[0].second.dims(), (Dims{2, 10}));
  expect_ok(run_cli("compare " + model + " --load-outputs " + arg(outputs) + " --input " + arg(inputs)),
            {"loaded 1 reference output(s)", "PASSED"});

  // Outputs under other names, as many of them: compared by position, and said so.
  write_npz_file(file("renamed.npz").string(), {{"probabilities", saved[0].second}});
  expect_ok(run_cli("compare " + model + " --load-outputs " + arg(file("renamed.npz")) + " --input " + arg(inputs)),
            {"compared by position", "compared with the reference's 'probabilities'"});
}

TEST_F(CompareCli, BadInputNamesWhatIsWrong) {
  const std::string model = arg(model_path("mlp_fmnist"));
  expect_error(run_cli("compare " + model + " --random"), {"--reference", "--load-outputs"});
  expect_error(run_cli("compare " + model + " --reference " + model), {"--input", "--random", "--data"});
  write_npz_file(file("two.npz").string(), {{"a", Tensor(DataType::kFloat32, {1, 10})},
                                            {"b", Tensor(DataType::kFloat32, {1, 10})}});
  expect_error(run_cli("compare " + model + " --load-outputs " + arg(file("two.npz")) + " --random"),
               {"matches", "'a', 'b'", "1 vs 2"});
  expect_error(run_cli("compare " + model + " --reference " + model + " --random --check-error-stat p99"),
               {"--check-error-stat 'p99'", "elemwise, max, mean or median"});
  expect_error(run_cli("compare " + model + " --reference " + model + " --input " + arg(file("two.npz"))),
               {"holds 2 tensors", "none is named 'input'"});
}

}  // namespace
}  // namespace octet
