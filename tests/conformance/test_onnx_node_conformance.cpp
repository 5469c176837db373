// Conformance against ONNX's own backend node tests (Debian: libonnx-testdata).
//
// Every test folder holds model.onnx and test_data_set_*/{input,output}_N.pb written by the ONNX
// project. A test is in scope when all of its operators are ones octet imports
// (supported_onnx_operators()); it then
//   - is imported as is; when that raises UnsupportedError only because an input that must be
//     constant (Reshape shape, Clip bounds, Pad pads, Squeeze axes) or an integer parameter (Gather's
//     indices; octet's runtime inputs are float32) arrives as a graph input, it is
//     imported again with every graph input but the first bound to the test's values
//     (ImportOptions::constant_inputs, as TensorRT needs shape-tensor values at build time); such
//     tests are counted as passed and listed as "bound";
//   - is SKIPPED when the importer still raises UnsupportedError (a case octet does not implement,
//     e.g. 3-D pooling or uint8 arithmetic); the reason printed is the importer's message;
//   - otherwise must PASS on every backend available: the CPU reference kernels, the CPU fast path
//     (im2col + BLAS) and, where a GPU is present, CUDA. Outputs are compared the way ONNX's backend
//     test runner does: |actual - expected| <= atol + rtol * |expected| with rtol = 1e-3, atol = 1e-7
//     (onnx/backend/test/runner defaults), and shapes must be equal.
// The table printed at the end gives passed/failed/skipped per operator.
//
// The data folder is OCTET_ONNX_TESTDATA when set, else Debian's install location.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "engine/backend.h"
#include "engine/onnx_import.h"
#include "engine/shape_inference.h"

namespace fs = std::filesystem;

namespace octet {
namespace {

fs::path testdata_root() {
  if (const char* env = std::getenv("OCTET_ONNX_TESTDATA")) return env;
  return "/usr/share/libonnx-testdata/data/node";
}

// Operator types of a model, read straight from the protobuf (independent of the importer).
std::set<std::string> model_op_types(const fs::path& model_path) {
  std::ifstream in(model_path, std::ios::binary);
  onnx::ModelProto model;
  std::set<std::string> ops;
  if (!model.ParseFromIstream(&in)) return ops;
  for (const auto& node : model.graph().node())
    ops.insert(node.domain().empty() || node.domain() == "ai.onnx" ? node.op_type() : node.domain() + "." + node.op_type());
  return ops;
}

std::string join(const std::set<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : "+") + s;
  return out;
}

// Empty string when equal within ONNX's tolerance, else a description of the first mismatch.
std::string compare_outputs(const Tensor& actual, const Tensor& expected) {
  if (actual.dims() != expected.dims())
    return "shape " + to_string(actual.dims()) + " != expected " + to_string(expected.dims());
  if (actual.type() != expected.type())
    return std::string("type ") + to_string(actual.type()) + " != expected " + to_string(expected.type());
  if (actual.type() != DataType::kFloat32)
    return std::memcmp(actual.raw(), expected.raw(), actual.bytes()) == 0 ? "" : "integer output differs";
  const float* a = actual.data<float>();
  const float* e = expected.data<float>();
  constexpr double kRtol = 1e-3, kAtol = 1e-7;
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const bool both_nan = std::isnan(a[i]) && std::isnan(e[i]);
    if (!both_nan && !(std::fabs(double(a[i]) - e[i]) <= kAtol + kRtol * std::fabs(double(e[i])))) {
      std::ostringstream msg;
      msg << "element " << i << ": " << a[i] << " != expected " << e[i];
      return msg.str();
    }
  }
  return "";
}

struct Tally {
  int passed = 0, failed = 0, skipped = 0;
};

struct BackendUnderTest {
  std::string name;
  BackendKind kind;
  BackendOptions options;
};

std::vector<BackendUnderTest> backends_under_test() {
  std::vector<BackendUnderTest> list;
  BackendOptions reference;
  reference.reference = true;
  list.push_back({"cpu-ref", BackendKind::kCpu, reference});
  list.push_back({"cpu", BackendKind::kCpu, BackendOptions{}});
  if (cuda_available()) list.push_back({"cuda", BackendKind::kCuda, BackendOptions{}});
  return list;
}

std::vector<fs::path> data_sets(const fs::path& dir) {
  std::vector<fs::path> sets;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  return sets;
}

std::vector<std::string> model_input_names(const fs::path& model_path) {
  std::ifstream in(model_path, std::ios::binary);
  onnx::ModelProto model;
  std::vector<std::string> names;
  if (!model.ParseFromIstream(&in)) return names;
  std::set<std::string> initializers;
  for (const auto& init : model.graph().initializer()) initializers.insert(init.name());
  for (const auto& input : model.graph().input())
    if (!initializers.count(input.name())) names.push_back(input.name());
  return names;
}

// Every graph input but the first, bound to the values of one data set.
ImportOptions bind_parameter_inputs(const fs::path& dir, const fs::path& set) {
  ImportOptions options;
  const std::vector<std::string> names = model_input_names(dir / "model.onnx");
  for (size_t i = 1; i < names.size(); ++i)
    options.constant_inputs[names[i]] = read_tensor_proto_file((set / ("input_" + std::to_string(i) + ".pb")).string());
  return options;
}

// Runs one test folder on one backend; "" on success, else the failure. With `bound`, the model is
// imported per data set with its parameter inputs bound to that set's values.
std::string run_case(const fs::path& dir, Graph graph, bool bound, const BackendUnderTest& backend) {
  const std::vector<fs::path> sets = data_sets(dir);
  if (sets.empty()) return "no test_data_set_* folder";
  for (const fs::path& set : sets) {
    if (bound) graph = import_onnx_file((dir / "model.onnx").string(), bind_parameter_inputs(dir, set));
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < graph.inputs.size(); ++i)
      inputs.push_back(read_tensor_proto_file((set / ("input_" + std::to_string(i) + ".pb")).string()));
    // Inputs with a symbolic batch take the batch of the test's data.
    if (!inputs.empty() && !graph.input_batched.empty() && graph.input_batched[0] && inputs[0].rank() > 0 &&
        inputs[0].dims()[0] != graph.batch)
      set_batch(graph, inputs[0].dims()[0]);
    auto context = create_context(graph, backend.kind, backend.options);
    const std::vector<Tensor> outputs = context->run(inputs);
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Tensor expected = read_tensor_proto_file((set / ("output_" + std::to_string(i) + ".pb")).string());
      const std::string diff = compare_outputs(outputs[i], expected);
      if (!diff.empty()) return set.filename().string() + " output " + std::to_string(i) + ": " + diff;
    }
  }
  return "";
}

TEST(OnnxNodeConformance, EveryInScopeTestPassesOnEveryBackend) {
  const fs::path root = testdata_root();
  if (!fs::is_directory(root)) GTEST_SKIP() << "ONNX node test data not found at " << root
                                            << " (install Debian's libonnx-testdata or set OCTET_ONNX_TESTDATA)";
  const std::set<std::string> supported(supported_onnx_operators().begin(), supported_onnx_operators().end());
  const std::vector<BackendUnderTest> backends = backends_under_test();

  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(root))
    if (fs::exists(entry.path() / "model.onnx")) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());

  std::map<std::string, std::map<std::string, Tally>> by_op;  // op -> backend -> tally
  std::vector<std::string> failures, skips, bound_tests;
  int in_scope = 0;
  for (const fs::path& dir : dirs) {
    const std::set<std::string> ops = model_op_types(dir / "model.onnx");
    bool all_supported = !ops.empty();
    for (const auto& op : ops) all_supported = all_supported && supported.count(op);
    if (!all_supported) continue;
    ++in_scope;
    const std::string op_key = join(ops);
    const std::string name = dir.filename().string();
    Graph graph;
    bool bound = false;
    try {
      try {
        graph = import_onnx_file((dir / "model.onnx").string());
      } catch (const UnsupportedError& e) {
        const std::vector<fs::path> sets = data_sets(dir);
        const std::string what = e.what();
        const bool computed_parameter = what.find("is computed at run time") != std::string::npos;
        // An integer parameter given as a graph input (Gather's indices): octet's runtime inputs are float32.
        const bool typed_parameter = what.find("octet runs float32 activations only") != std::string::npos &&
                                     what.find("graph input '" + model_input_names(dir / "model.onnx").at(0) + "'") ==
                                         std::string::npos;
        if ((!computed_parameter && !typed_parameter) || sets.empty()) throw;
        graph = import_onnx_file((dir / "model.onnx").string(), bind_parameter_inputs(dir, sets[0]));
        bound = true;
        bound_tests.push_back(name);
      }
    } catch (const UnsupportedError& e) {
      for (const auto& b : backends) by_op[op_key][b.name].skipped++;
      skips.push_back(name + ": " + e.what());
      continue;
    } catch (const std::exception& e) {
      for (const auto& b : backends) by_op[op_key][b.name].failed++;
      failures.push_back(name + " (import): " + e.what());
      continue;
    }
    for (const auto& backend : backends) {
      std::string failure;
      try {
        failure = run_case(dir, graph, bound, backend);
      } catch (const UnsupportedError& e) {
        by_op[op_key][backend.name].skipped++;
        skips.push_back(name + " [" + backend.name + "]: " + e.what());
        continue;
      } catch (const std::exception& e) {
        failure = e.what();
      }
      if (failure.empty()) {
        by_op[op_key][backend.name].passed++;
      } else {
        by_op[op_key][backend.name].failed++;
        failures.push_back(name + " [" + backend.name + "]: " + failure);
      }
    }
  }

  std::printf("\nONNX node conformance (%s): %d tests in scope\n", root.string().c_str(), in_scope);
  std::printf("%-36s", "operator");
  for (const auto& b : backends) std::printf(" %22s", (b.name + " pass/fail/skip").c_str());
  std::printf("\n");
  std::map<std::string, Tally> totals;
  for (const auto& [op, per_backend] : by_op) {
    std::printf("%-36s", op.c_str());
    for (const auto& b : backends) {
      const Tally t = per_backend.count(b.name) ? per_backend.at(b.name) : Tally{};
      std::printf(" %12d/%d/%d      ", t.passed, t.failed, t.skipped);
      totals[b.name].passed += t.passed;
      totals[b.name].failed += t.failed;
      totals[b.name].skipped += t.skipped;
    }
    std::printf("\n");
  }
  for (const auto& b : backends)
    std::printf("total %-8s %d passed, %d failed, %d skipped\n", b.name.c_str(), totals[b.name].passed,
                totals[b.name].failed, totals[b.name].skipped);
  if (!cuda_available()) std::printf("cuda: not run (%s)\n", cuda_device_description().c_str());
  std::printf("passed with parameter inputs bound as constants (%zu):", bound_tests.size());
  for (const auto& b : bound_tests) std::printf(" %s", b.c_str());
  std::printf("\nskipped (reason from octet):\n");
  for (const auto& s : skips) std::printf("  %s\n", s.c_str());
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_GT(in_scope, 100) << "too few in-scope tests: is the test data complete?";
}

}  // namespace
}  // namespace octet
