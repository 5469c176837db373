// octet eval MODEL|PLAN --data PATH [--reference MODEL] — top-1 / top-5 accuracy of a classifier over a
// labelled dataset and, with a reference, the share of samples whose top-1 class equals the
// reference's (run on the same batches and backend).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "datasets/batch_source.h"
#include "tools/octet/cli.h"

namespace octet::cli {
namespace {

struct Tally {
  int64_t seen = 0, top1 = 0, top5 = 0;
  int64_t reference_top1 = 0, agree = 0;  // with --reference
};

// Rank of the true class among the logits (0 = best). Ties count against the true class only when
// the other class has a lower index, which is the order a stable sort by descending score gives.
int64_t rank_of(const float* logits, int64_t classes, int64_t label) {
  int64_t rank = 0;
  for (int64_t c = 0; c < classes; ++c)
    if (logits[c] > logits[label] || (logits[c] == logits[label] && c < label)) ++rank;
  return rank;
}

// The logits of a [N, classes] output; Error naming the file otherwise.
int64_t classes_of(const LoadedGraph& loaded, int64_t batch) {
  const Graph& graph = loaded.graph;
  OCTET_CHECK(graph.inputs.size() == 1 && graph.outputs.size() >= 1, loaded.kind(), " '", loaded.path,
              "': octet eval needs a single-input classifier");
  const Value& out = graph.value(graph.outputs[0]);
  OCTET_CHECK(out.dims.size() == 2 && out.dims[0] == batch && out.type == DataType::kFloat32, loaded.kind(), " '",
              loaded.path, "': octet eval needs float32 logits of shape [N, classes], output '", out.name, "' is ",
              to_string(out.type), " ", to_string(out.dims));
  return out.dims[1];
}

// The reference runs on the same backend and batches as the evaluated model or plan, and must
// take the same input and give as many classes.
LoadedGraph load_reference(const std::string& path, const ExecutionChoice& exec, const LoadedGraph& evaluated,
                           int64_t classes) {
  ExecutionChoice reference_exec = exec;
  reference_exec.backend_given = true;
  LoadedGraph reference = load_model_or_plan(path, exec.batch, reference_exec);
  const int64_t reference_classes = classes_of(reference, exec.batch);
  const Value& in = evaluated.graph.value(evaluated.graph.inputs[0]);
  const Value& reference_in = reference.graph.value(reference.graph.inputs[0]);
  OCTET_CHECK(in.dims == reference_in.dims, "--reference '", path, "' takes ", to_string(reference_in.dims), ", ",
              evaluated.kind(), " '", evaluated.path, "' takes ", to_string(in.dims));
  OCTET_CHECK(reference_classes == classes, "--reference '", path, "' gives ", reference_classes, " classes, ",
              evaluated.kind(), " '", evaluated.path, "' gives ", classes);
  return reference;
}

}  // namespace

int command_eval(const Args& args) {
  po::options_description options("Options");
  options.add_options()
    ("model", po::value<std::string>()->required(), "ONNX model file or plan (octet build)")
    ("reference", po::value<std::string>(), "also run this FP32 model (or plan) on the same batches and backend; "
                                            "report top-1 agreement and its own top-1")
    ("limit", po::value<int64_t>()->default_value(0), "evaluate at most this many samples (0 = all)");
  options.add(data_options());
  options.add(execution_options());
  po::positional_options_description positional;
  positional.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(args,
                          "usage: octet eval MODEL|PLAN --data PATH [preprocessing] [--reference MODEL] [--limit N] [--batch N] "
                          "[--backend cpu|cuda]\n\n"
                          "Top-1 and top-5 accuracy of the model or plan on a labelled dataset. Preprocessing comes "
                          "from the model's metadata (a plan keeps it) unless --preset or the flags below say "
                          "otherwise. With --reference, the share of samples whose top-1 class equals the "
                          "reference's (top-1 agreement) and the reference's own top-1.",
                          options, positional, vm))
    return 0;
  OCTET_CHECK(vm.count("data"), "octet eval needs --data PATH (see --help)");
  ExecutionChoice exec = read_execution_options(vm);
  if (vm["batch"].defaulted()) exec.batch = 64;
  const int64_t limit = vm["limit"].as<int64_t>();
  OCTET_CHECK(limit >= 0, "--limit must be >= 0, got ", limit);
  const std::string model_path = vm["model"].as<std::string>();

  LoadedGraph loaded = load_model_or_plan(model_path, exec.batch, exec);
  const int64_t classes = classes_of(loaded, exec.batch);
  std::optional<LoadedGraph> reference;
  if (vm.count("reference")) reference = load_reference(vm["reference"].as<std::string>(), exec, loaded, classes);

  const std::string data_path = vm["data"].as<std::string>();
  auto source = open_batch_source(data_path, read_data_options(vm, &loaded.graph, model_path));
  const Dims sample = source->sample_dims();
  // An NHWC model input takes the [C, H, W] samples through a Transpose (engine/input_layout.h).
  feed_samples(loaded.graph, sample);
  if (reference) feed_samples(reference->graph, sample);
  const Graph& graph = loaded.graph;
  const Dims& input_dims = graph.value(graph.inputs[0]).dims;
  OCTET_CHECK(Dims(input_dims.begin() + 1, input_dims.end()) == sample, "dataset '", data_path,
              "' gives samples of ", to_string(sample), ", model input '", graph.value(graph.inputs[0]).name,
              "' takes ", to_string(input_dims));
  const int64_t total = limit > 0 ? std::min(limit, source->size()) : source->size();
  auto context = create_context(graph, exec.backend, exec.options);
  std::unique_ptr<ExecutionContext> reference_context;
  if (reference) reference_context = create_context(reference->graph, exec.backend, exec.options);

  std::fprintf(stderr, "evaluating '%s' on %s, %s, batch %lld\n", model_path.c_str(), source->describe().c_str(),
               to_string(exec.backend), static_cast<long long>(exec.batch));
  Progress progress("eval", total);
  Tally tally;
  Batch batch;
  // The context is built for exactly exec.batch samples; a short last batch is padded with zeros and
  // the padded rows are ignored.
  Tensor padded(DataType::kFloat32, input_dims);
  const auto start = std::chrono::steady_clock::now();
  while (tally.seen < total && source->next(std::min(exec.batch, total - tally.seen), batch)) {
    const int64_t n = batch.images.dims()[0];
    fill_padded(padded, batch);
    const std::vector<Tensor> outputs = context->run({padded});
    const float* logits = outputs[0].data<float>();
    std::vector<Tensor> reference_outputs;
    if (reference_context) reference_outputs = reference_context->run({padded});
    for (int64_t i = 0; i < n; ++i) {
      const int64_t label = batch.labels[static_cast<size_t>(i)];
      OCTET_CHECK(label >= 0, "dataset '", data_path, "' has no label for sample ", tally.seen);
      OCTET_CHECK(label < classes, "dataset '", data_path, "': label ", label, " of sample ",
                  tally.seen, " is outside the model's ", classes, " classes");
      const int64_t rank = rank_of(logits + i * classes, classes, label);
      tally.top1 += rank == 0;
      tally.top5 += rank < 5;
      if (reference_context) {
        const float* reference_logits = reference_outputs[0].data<float>() + i * classes;
        const int64_t reference_class = top1_class(reference_logits, classes);
        tally.reference_top1 += reference_class == label;
        tally.agree += reference_class == top1_class(logits + i * classes, classes);
      }
      ++tally.seen;
    }
    progress.update(tally.seen);
  }
  progress.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  OCTET_CHECK(tally.seen > 0, "dataset '", data_path, "' is empty");

  const double n = static_cast<double>(tally.seen);
  std::printf("%-10s %s\n", loaded.kind(), model_path.c_str());
  std::printf("data       %s\n", source->describe().c_str());
  std::printf("backend    %s, batch %lld\n", to_string(exec.backend), static_cast<long long>(exec.batch));
  std::printf("evaluated  %lld\n", static_cast<long long>(tally.seen));
  if (source->skipped() > 0)
    std::printf("skipped    %lld unreadable samples (--skip-bad)\n", static_cast<long long>(source->skipped()));
  std::printf("top-1      %.2f%% (%lld correct)\n", 100.0 * tally.top1 / n, static_cast<long long>(tally.top1));
  std::printf("top-5      %.2f%% (%lld correct)\n", 100.0 * tally.top5 / n, static_cast<long long>(tally.top5));
  if (reference) {
    std::printf("reference  %s: top-1 %.2f%% (%lld correct)\n", reference->path.c_str(),
                100.0 * tally.reference_top1 / n, static_cast<long long>(tally.reference_top1));
    std::printf("agreement  %.2f%% top-1 agreement with the reference (%lld of %lld samples)\n", 100.0 * tally.agree / n,
                static_cast<long long>(tally.agree), static_cast<long long>(tally.seen));
  }
  std::printf("speed      %.0f images/s (%.2f s%s)\n", n / seconds, seconds, reference ? ", both runs" : "");
  return 0;
}

}  // namespace octet::cli
