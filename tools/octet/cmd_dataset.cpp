// octet dataset pack --data PATH [preprocessing] --out FILE.h5 — preprocessed samples into HDF5, so
// image sets travel to machines without OpenCV and are decoded once.
#include <cstdio>

#include "datasets/hdf5_writer.h"
#include "engine/onnx_import.h"
#include "octet/build_config.h"
#include "tools/octet/cli.h"

namespace octet::cli {
namespace {

int command_dataset_pack(const Args& args) {
  po::options_description options("Options");
  options.add_options()
    ("out", po::value<std::string>()->required(), "HDF5 file to write (atomically: temp file, then rename)")
    ("model", po::value<std::string>(), "take the preprocessing (and sample size) from this ONNX model");
  options.add(data_options());
  po::positional_options_description positional;
  po::variables_map vm;
  if (!parse_command_line(args,
                          "usage: octet dataset pack --data PATH [--model MODEL | --preset NAME | preprocessing] "
                          "--out FILE.h5\n\nWrites the preprocessed samples (float32 NCHW) and labels to HDF5, the "
                          "preprocessing recorded as attributes; reading the file back gives the same tensors.",
                          options, positional, vm))
    return 0;
  OCTET_CHECK(vm.count("data"), "octet dataset pack needs --data PATH (see --help)");
  Graph model;
  std::string model_path;
  if (vm.count("model")) {
    model_path = vm["model"].as<std::string>();
    model = import_onnx_file(model_path);
  }
  const SourceOptions source_options = read_data_options(vm, vm.count("model") ? &model : nullptr, model_path);
  const std::string data_path = vm["data"].as<std::string>();
  const std::string out_path = vm["out"].as<std::string>();
  auto source = open_batch_source(data_path, source_options);
  std::fprintf(stderr, "packing %s into '%s'\n", source->describe().c_str(), out_path.c_str());
  Progress progress("pack", source->size());
  pack_to_hdf5(*source, out_path, source_options.preprocessing, source_options.hdf5_images,
               source_options.hdf5_labels, [&](int64_t done, int64_t) { progress.update(done); });
  progress.finish();
  std::printf("wrote '%s': %lld samples of %s", out_path.c_str(),
              static_cast<long long>(source->size() - source->skipped()), to_string(source->sample_dims()).c_str());
  if (source->skipped() > 0) std::printf(", %lld unreadable skipped", static_cast<long long>(source->skipped()));
  std::printf("\n");
  return 0;
}

}  // namespace

int command_dataset(const Args& args) {
  const char* usage = "usage: octet dataset pack --data PATH [preprocessing] --out FILE.h5   (see pack --help)";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::printf("%s\n", usage);
    return args.empty() ? 1 : 0;
  }
  OCTET_CHECK(args[0] == "pack", "unknown dataset command '", args[0], "'; ", usage);
  return command_dataset_pack(Args(args.begin() + 1, args.end()));
}

}  // namespace octet::cli
