// The `octet` command line, run as a user runs it: a child process, its exit code and its output.
//
// Bad input must give a clear message that names the file / node / option at fault and a non-zero
// exit, never a crash (a signal gives exit codes >= 128 through the shell, which the tests reject).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/tensor.h"
#include "engine/tensor_io.h"
#include "tests/support/onnx_builder.h"
#include "tests/support/cli_runner.h"
#include "tests/support/paths.h"

namespace fs = std::filesystem;

namespace octet {
namespace {

using Result = test::CliResult;
using test::run_cli;

std::string model_path(const std::string& name) { return test::source_dir() + "/models/" + name + ".onnx"; }

// A clean failure: exit 1 (octet's error exit), message contains every `expected` fragment.
void expect_clean_error(const Result& r, std::initializer_list<std::string> expected) {
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("error:"), std::string::npos) << r.output;
  for (const auto& fragment : expected) EXPECT_NE(r.output.find(fragment), std::string::npos) << "missing '" << fragment << "' in:\n" << r.output;
}

TEST(Cli, InfoDescribesTheResnetModel) {
  const Result r = run_cli("info '" + model_path("resnet_fmnist") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("input"), std::string::npos);
  EXPECT_NE(r.output.find("[N, 1, 28, 28]"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[N, 10]"), std::string::npos) << r.output;
  // The parameter count is the element count of the float initializers, read here from the
  // protobuf itself (PyTorch's own count in models/*.json differs: it counts BatchNorm scale/shift
  // that the exporter folded into the convolutions, and not the running statistics).
  onnx::ModelProto model;
  std::ifstream in(model_path("resnet_fmnist"), std::ios::binary);
  ASSERT_TRUE(model.ParseFromIstream(&in));
  int64_t parameters = 0;
  for (const auto& init : model.graph().initializer()) {
    if (init.data_type() != onnx::TensorProto::FLOAT) continue;
    int64_t n = 1;
    for (int64_t d : init.dims()) n *= d;
    parameters += n;
  }
  std::string digits = std::to_string(parameters), grouped;
  for (size_t i = 0; i < digits.size(); ++i) grouped += ((i && (digits.size() - i) % 3 == 0) ? "," : "") + digits.substr(i, 1);
  EXPECT_NE(r.output.find("parameters   " + grouped + " "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("MACs/sample"), std::string::npos);
}

TEST(Cli, RunOnTheReferenceInputPrintsOnnxRuntimesTopClass) {
  // models/reference/labels.json: the first reference image is class 9 (ankle boot), and ONNX
  // Runtime's logits (output_0.pb) rank class 9 first for it.
  const std::string input = test::source_dir() + "/models/reference/resnet_fmnist/input_0.pb";
  const fs::path out = fs::temp_directory_path() / "octet_cli_run_output.npy";
  const Result r = run_cli("run '" + model_path("resnet_fmnist") + "' --input '" + input + "' --output '" + out.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("sample 0:  9 ("), std::string::npos) << r.output;
  const Tensor y = read_tensor_file(out.string());
  EXPECT_EQ(y.dims(), (Dims{16, 10}));
  fs::remove(out);
}

TEST(Cli, RunRandomWithBatch) {
  const Result r = run_cli("run '" + model_path("mlp_fmnist") + "' --random --batch 3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("sample 2:"), std::string::npos) << r.output;
}

TEST(Cli, TruncatedOnnxFile) {
  std::ifstream in(model_path("resnet_fmnist"), std::ios::binary);
  std::string model((std::istreambuf_iterator<char>(in)), {});
  const fs::path path = fs::temp_directory_path() / "octet_cli_truncated.onnx";
  std::ofstream(path, std::ios::binary).write(model.data(), static_cast<std::streamsize>(model.size() / 3));
  expect_clean_error(run_cli("info '" + path.string() + "'"), {path.string()});
  expect_clean_error(run_cli("run '" + path.string() + "' --random"), {path.string()});
  fs::remove(path);
}

TEST(Cli, NonOnnxFile) {
  const fs::path path = fs::temp_directory_path() / "octet_cli_not_a_model.onnx";
  std::ofstream(path) << "this is a text file, not a model\n";
  expect_clean_error(run_cli("info '" + path.string() + "'"), {path.string(), "ONNX"});
  fs::remove(path);
}

TEST(Cli, ModelWithUnsupportedOperatorsListsEveryOne) {
  test::ModelBuilder b(17);
  b.input("x", {test::kSymbolicDim, 4}).output("y", {test::kSymbolicDim, 4});
  b.node("Relu", {"x"}, {"a"}, "ok_relu");
  b.node("LSTM", {"a"}, {"b"}, "the_lstm");
  b.node("RoiAlign", {"b"}, {"y"}, "the_roialign");
  const std::string path = b.write(test::temp_path("octet_cli_unsupported.onnx"));
  expect_clean_error(run_cli("info '" + path + "'"), {path, "the_lstm", "LSTM", "the_roialign", "RoiAlign"});
}

TEST(Cli, ModelWhoseDeclaredShapesContradict) {
  // A 3x3 convolution of 8x8 gives 6x6; the model claims 5x5.
  test::ModelBuilder b(17);
  b.input("x", {1, 3, 8, 8}).initializer("w", {4, 3, 3, 3}, std::vector<float>(108, 0.5f)).output("y", {1, 4, 5, 5});
  b.node("Conv", {"x", "w"}, {"y"}, "conv_claims_5x5");
  const std::string path = b.write(test::temp_path("octet_cli_contradiction.onnx"));
  expect_clean_error(run_cli("run '" + path + "' --random"), {path, "'y'", "conv_claims_5x5"});
}

TEST(Cli, MissingInputFile) {
  expect_clean_error(run_cli("run '" + model_path("mlp_fmnist") + "' --input /nonexistent/input.npy"),
                     {"/nonexistent/input.npy"});
  expect_clean_error(run_cli("info /nonexistent/model.onnx"), {"/nonexistent/model.onnx"});
}

TEST(Cli, BatchZeroIsRefused) {
  expect_clean_error(run_cli("run '" + model_path("mlp_fmnist") + "' --random --batch 0"), {"--batch"});
}

TEST(Cli, InputOfTheWrongShape) {
  const fs::path path = fs::temp_directory_path() / "octet_cli_wrong_shape.npy";
  write_tensor_file(path.string(), Tensor(DataType::kFloat32, {2, 1, 27, 28}));
  expect_clean_error(run_cli("run '" + model_path("mlp_fmnist") + "' --input '" + path.string() + "'"),
                     {path.string(), "[2, 1, 27, 28]", "[2, 1, 28, 28]"});
  fs::remove(path);
}

TEST(Cli, UnknownCommandAndOption) {
  EXPECT_NE(run_cli("calibrat").exit_code, 0);
  expect_clean_error(run_cli("run '" + model_path("mlp_fmnist") + "' --random --no-such-flag"), {"no-such-flag"});
  expect_clean_error(run_cli("run '" + model_path("mlp_fmnist") + "' --random --backend gpu"), {"gpu", "cpu"});
}

TEST(Cli, HelpListsEveryCommandAndOption) {
  const Result top = run_cli("--help");
  EXPECT_EQ(top.exit_code, 0);
  for (const char* command : {"info", "run", "eval"}) EXPECT_NE(top.output.find(command), std::string::npos);
  const Result run = run_cli("run --help");
  EXPECT_EQ(run.exit_code, 0);
  for (const char* option : {"--input", "--random", "--batch", "--backend", "--output"})
    EXPECT_NE(run.output.find(option), std::string::npos) << option;
}

TEST(Cli, EvalOnFashionMnistSubset) {
  const std::string data = test::fashion_mnist_test_images();
  if (!fs::exists(data)) GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed (" << data << ")";
  const Result r = run_cli("eval '" + model_path("mlp_fmnist") + "' --data " + data + " --limit 500 --batch 64");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("evaluated  500"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace octet

namespace octet {
namespace {

// Writes a gray 28x28 PNG through the CLI-independent route: a PGM (binary P5) file, which OpenCV
// decodes like any image; the test needs no OpenCV itself.
void write_pgm(const fs::path& path, uint8_t value) {
  std::ofstream out(path, std::ios::binary);
  out << "P5\n28 28\n255\n";
  const std::string pixels(28 * 28, static_cast<char>(value));
  out.write(pixels.data(), static_cast<std::streamsize>(pixels.size()));
}

struct ImageListFixture {
  // One folder per test and process: CTest runs these tests in parallel.
  fs::path dir = fs::temp_directory_path() /
                 ("octet_cli_list_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
                  "_" + std::to_string(::getpid()));
  ImageListFixture() {
    fs::remove_all(dir);
    fs::create_directories(dir / "sub dir");
    write_pgm(dir / "a.pgm", 10);
    write_pgm(dir / "sub dir" / "b c.pgm", 200);
  }
  ~ImageListFixture() { fs::remove_all(dir); }
  std::string write_list(const std::string& text) const {
    std::ofstream(dir / "list.txt") << text;
    return (dir / "list.txt").string();
  }
};

TEST(CliDatasets, EvalOnAnImageListWithSpacesAndComments) {
  ImageListFixture f;
  const std::string list = f.write_list("# label follows the path\na.pgm 3\nsub dir/b c.pgm 7  # trailing comment\n");
  const Result r = run_cli("eval '" + model_path("mlp_fmnist") + "' --data '" + list + "' --batch 2");
  if (r.output.find("without OpenCV") != std::string::npos) GTEST_SKIP() << "octet built without OpenCV";
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("evaluated  2"), std::string::npos) << r.output;
}

TEST(CliDatasets, LabelOutsideTheModelsClassesNamesTheDataset) {
  ImageListFixture f;
  const std::string list = f.write_list("a.pgm 3\nsub dir/b c.pgm 12\n");
  const Result r = run_cli("eval '" + model_path("mlp_fmnist") + "' --data '" + list + "'");
  if (r.output.find("without OpenCV") != std::string::npos) GTEST_SKIP() << "octet built without OpenCV";
  expect_clean_error(r, {list, "label 12", "10 classes"});
}

TEST(CliDatasets, MissingListEntryNamesTheLineUnlessSkipBad) {
  ImageListFixture f;
  const std::string list = f.write_list("a.pgm 3\nnot-there.png 4\nsub dir/b c.pgm 7\n");
  const Result strict = run_cli("eval '" + model_path("mlp_fmnist") + "' --data '" + list + "'");
  if (strict.output.find("without OpenCV") != std::string::npos) GTEST_SKIP() << "octet built without OpenCV";
  expect_clean_error(strict, {"list.txt:2", "not-there.png"});
  const Result lenient = run_cli("eval '" + model_path("mlp_fmnist") + "' --data '" + list + "' --skip-bad");
  ASSERT_EQ(lenient.exit_code, 0) << lenient.output;
  EXPECT_NE(lenient.output.find("evaluated  2"), std::string::npos) << lenient.output;
  EXPECT_NE(lenient.output.find("skipped    1"), std::string::npos) << lenient.output;
}

TEST(CliDatasets, PackThenEvalGivesTheSameCounts) {
  const std::string data = test::fashion_mnist_test_images();
  if (!fs::exists(data)) GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed (" << data << ")";
  const fs::path h5 = fs::temp_directory_path() / "octet_cli_pack.h5";
  const Result pack = run_cli("dataset pack --data " + data + " --model '" + model_path("mlp_fmnist") + "' --out '" +
                              h5.string() + "'");
  if (pack.output.find("unknown command") != std::string::npos) GTEST_SKIP() << "octet built without HDF5";
  ASSERT_EQ(pack.exit_code, 0) << pack.output;
  EXPECT_NE(pack.output.find("10000 samples of [1, 28, 28]"), std::string::npos) << pack.output;
  const Result from_idx = run_cli("eval '" + model_path("mlp_fmnist") + "' --data " + data + " --limit 2000");
  const Result from_h5 = run_cli("eval '" + model_path("mlp_fmnist") + "' --data '" + h5.string() + "' --limit 2000");
  ASSERT_EQ(from_h5.exit_code, 0) << from_h5.output;
  const auto top1 = [](const std::string& out) { return out.substr(out.find("top-1"), out.find('\n', out.find("top-1")) - out.find("top-1")); };
  EXPECT_EQ(top1(from_h5.output), top1(from_idx.output));
  fs::remove(h5);
}

TEST(CliDatasets, DatasetThatIsNothingOctetReads) {
  const fs::path path = fs::temp_directory_path() / "octet_cli_data.bin";
  std::ofstream(path) << "x";
  expect_clean_error(run_cli("eval '" + model_path("mlp_fmnist") + "' --data '" + path.string() + "'"),
                     {path.string(), "IDX", "HDF5"});
  fs::remove(path);
}

}  // namespace
}  // namespace octet
