// The calibrator (calibration/calibrator.h): a context for the graph at the calibration batch size,
// an observer on it that feeds the tapped tensors to an accumulator, and the passes over the source.
//
// Short batches. The context is built for one batch size; a batch with fewer samples (the last one,
// or any short batch a source returns) is padded with zeros. Zero images still produce activations
// (biases), so the padded rows must not be observed: every tapped tensor has the batch as dim 0
// (checked when the taps are planned), its rows are contiguous, and the accumulator reads only the
// first `rows * elements-per-sample` values of each tensor. Per-sample ops never mix rows, so the
// real rows are what an unpadded run would compute.
//
// Batch size: options.batch, except that a model whose input has a fixed (not symbolic) batch runs
// at that batch. CalibrationData::model is left empty: calibrate() is given a Graph, not its file.
//
// Accumulators. CPU: kernels/cpu/histogram_ref.h on the host views. CUDA: kernels/cuda/histogram_cuda.h
// on the device views, into per-tensor device statistics and counts allocated once; only those come
// back, at the end of a pass. The network input, which the backend does not pass to the observer,
// is observed from the host batch (uploaded into a staging buffer on CUDA).
//
// Single-pass mode (options.single_pass; for comparison with TensorRT's legacy calibrators only,
// its histograms depend on batch size and order): each tensor's range starts at the abs-max of the
// first batch that has a non-zero value and, whenever a later batch's abs-max exceeds it, doubles
// until it covers it, merging bin pairs (2i, 2i + 1) into bin i. Doubling keeps every old bin inside
// one new bin (the binning scales exactly by powers of two), except that values equal to an old
// range, which sat in the old last bin, end up one bin below where a fresh binning would put them.
#include "calibration/calibrator.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/channel_scale.h"
#include "engine/error.h"
#include "engine/op_registry.h"
#include "engine/pattern_fusion.h"
#include "engine/shape_inference.h"
#include "kernels/cpu/histogram_ref.h"
#include "octet/build_config.h"

#if OCTET_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/histogram_cuda.h"
#endif

namespace octet {

namespace {

// The operators whose outputs an INT8 engine may quantize (calibration/calibrator.h).
bool is_tapped_op(OpKind op) {
  switch (op) {
    case OpKind::Conv:
    case OpKind::Gemm:
    case OpKind::MatMul:
    case OpKind::Add:
    case OpKind::Relu:
    case OpKind::Clip:
    case OpKind::LeakyRelu:
    case OpKind::Sigmoid:
    case OpKind::HardSigmoid:
    case OpKind::HardSwish:
    case OpKind::MaxPool:
    case OpKind::AveragePool:
    case OpKind::GlobalAveragePool:
    case OpKind::GlobalMaxPool:
    case OpKind::Concat:
    case OpKind::BatchNormalization: return true;  // a Conv folded with it writes this tensor
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Reshape:
    case OpKind::Transpose:
    case OpKind::Softmax:
    case OpKind::Identity:
    case OpKind::QuantizeLinear:
    case OpKind::DequantizeLinear:
    case OpKind::Pad: return false;
#define OCTET_REGISTERED_OP(kind, name) case OpKind::kind:
#include "engine/ops.def"
      return op_def(op).calibrated;
  }
  return false;
}

// Only float activations are quantized (MaxPool's Indices output, shape arithmetic are not).
bool is_float_activation(const Graph& graph, ValueId id) {
  if (id == kNoValue) return false;
  const Value& v = graph.value(id);
  return !v.is_constant() && v.type == DataType::kFloat32;
}

std::vector<ValueId> tapped_values(const Graph& graph) {
  std::vector<bool> pattern_output(graph.values.size(), false);
  for (ValueId id : fused_pattern_outputs(graph)) pattern_output[static_cast<size_t>(id)] = true;
  std::vector<ValueId> ids;
  for (ValueId id : graph.inputs)
    if (is_float_activation(graph, id)) ids.push_back(id);
  for (const Node& node : graph.nodes) {
    const bool tapped = is_tapped_op(node.op) || pattern_output[static_cast<size_t>(node.outputs.at(0))] ||
                        channel_scale_gate_slot(graph, node).has_value();
    if (!tapped) continue;
    for (ValueId id : node.outputs)
      if (is_float_activation(graph, id)) ids.push_back(id);
  }
  return ids;
}

struct Tap {
  ValueId value = kNoValue;
  int64_t sample_elements = 0;  // elements of one sample (one row along dim 0)
};

// The taps of `graph` (set to `batch`), each checked to have the batch as dim 0 so that the first
// n rows are the first n samples. Where the graph also infers at batch + 1, dim 0 must follow the
// batch there too (a tensor whose dim 0 merely equals the batch size is not batch-major). At
// batch 1 every run holds one sample and there is nothing to leave out.
std::vector<Tap> plan_taps(Graph& graph, int64_t batch, bool batched) {
  const std::vector<ValueId> ids = tapped_values(graph);
  std::vector<Dims> other_dims;
  if (batch > 1 && batched) {
    try {
      set_batch(graph, batch + 1);
      for (ValueId id : ids) other_dims.push_back(graph.value(id).dims);
    } catch (const Error&) {
      // The graph runs only at `batch` (a literal batch in a Reshape): check dim 0 there alone.
      other_dims.clear();
    }
    set_batch(graph, batch);
  }
  std::vector<Tap> taps;
  for (size_t i = 0; i < ids.size(); ++i) {
    const Value& v = graph.value(ids[i]);
    Tap tap;
    tap.value = ids[i];
    if (batch == 1) {
      tap.sample_elements = numel(v.dims);
    } else {
      bool batch_major = !v.dims.empty() && v.dims[0] == batch;
      if (batch_major && !other_dims.empty()) {
        const Dims& o = other_dims[i];
        batch_major =
            o.size() == v.dims.size() && o[0] == batch + 1 && std::equal(o.begin() + 1, o.end(), v.dims.begin() + 1);
      }
      OCTET_CHECK(batch_major, "tensor '", v.name, "' has dims ", to_string(v.dims), " at batch ", batch,
                  other_dims.empty() ? std::string()
                                     : " and " + to_string(other_dims[i]) + " at batch " + std::to_string(batch + 1),
                  ": its dim 0 is not the batch, so the zero rows that pad a short batch cannot be left out of "
                  "its statistics; calibrate with batch size 1");
      tap.sample_elements = numel(v.dims) / batch;
    }
    taps.push_back(tap);
  }
  return taps;
}

enum class Pass : uint8_t {
  kStats,       // pass 1: TensorStats
  kHistogram,   // pass 2: histograms over the fixed ranges of pass 1
  kSinglePass,  // TensorStats and growing histograms at once
};

// Single-pass mode: widens `h` until it covers `absmax` (see the top of this file).
void grow_histogram(Histogram& h, float absmax) {
  if (!(absmax > h.range)) return;
  if (h.range == 0.0f) {  // every value so far was 0, in bin 0 under any range
    h.range = absmax;
    return;
  }
  while (h.range < absmax) {
    for (int b = 0; b < kHistogramBins / 2; ++b) h.counts[b] = h.counts[2 * b] + h.counts[2 * b + 1];
    std::fill(h.counts.begin() + kHistogramBins / 2, h.counts.end(), uint64_t{0});
    h.range *= 2.0f;
  }
}

// Where the statistics of the tapped tensors accumulate.
class Accumulator {
 public:
  virtual ~Accumulator() = default;
  // `ranges` (kHistogram): the histogram range of each tap.
  virtual void begin_pass(Pass pass, const std::vector<float>& ranges) = 0;
  // The first `elements` values of `view`, the tensor of tap `tap`.
  virtual void observe(size_t tap, const TensorView& view, int64_t elements) = 0;
  // Writes what the pass gathered: stats (kStats, kSinglePass), histograms (kHistogram, kSinglePass).
  virtual void end_pass(std::vector<TensorCalibration>& tensors) = 0;
};

class CpuAccumulator final : public Accumulator {
 public:
  explicit CpuAccumulator(size_t taps) : stats_(taps), histograms_(taps) {}

  void begin_pass(Pass pass, const std::vector<float>& ranges) override {
    pass_ = pass;
    for (size_t t = 0; t < stats_.size(); ++t) {
      stats_[t] = TensorStats{};
      histograms_[t].range = pass == Pass::kHistogram ? ranges[t] : 0.0f;
      histograms_[t].counts.assign(kHistogramBins, 0);
    }
  }

  void observe(size_t tap, const TensorView& view, int64_t elements) override {
    OCTET_CHECK(view.location == MemoryLocation::kHost, "the CPU calibrator was given device memory");
    const float* x = static_cast<const float*>(view.data);
    Histogram& h = histograms_[tap];
    switch (pass_) {
      case Pass::kStats: kernels::tensor_stats_ref(x, elements, stats_[tap]); break;
      case Pass::kHistogram: kernels::histogram_ref(x, elements, h.inverse_bin_width(), h.counts.data()); break;
      case Pass::kSinglePass:
        kernels::tensor_stats_ref(x, elements, stats_[tap]);
        grow_histogram(h, stats_[tap].absmax);
        kernels::histogram_ref(x, elements, h.inverse_bin_width(), h.counts.data());
        break;
    }
  }

  void end_pass(std::vector<TensorCalibration>& tensors) override {
    for (size_t t = 0; t < tensors.size(); ++t) {
      if (pass_ != Pass::kHistogram) tensors[t].stats = stats_[t];
      if (pass_ != Pass::kStats) tensors[t].histogram = histograms_[t];
    }
  }

 private:
  Pass pass_ = Pass::kStats;
  std::vector<TensorStats> stats_;
  std::vector<Histogram> histograms_;
};

#if OCTET_HAVE_CUDA

// Statistics and counts stay on the device for the whole pass. Every observation runs on the
// accumulator's own stream and is waited for before observe() returns: the backend reuses a
// tensor's memory for later nodes as soon as its observer returns, and it exposes no stream to
// order against. (The backend already synchronises after every node while an observer is set.)
class CudaAccumulator final : public Accumulator {
 public:
  CudaAccumulator(size_t taps, int64_t staging_floats, int device) : taps_(taps), histograms_(taps) {
    OCTET_CUDA_CHECK(cudaSetDevice(device));
    stats_.allocate(taps * sizeof(kernels::TensorStatsCuda), "calibration statistics");
    counts_.allocate(taps * kHistogramBins * sizeof(uint64_t), "calibration histograms");
    staging_.allocate(static_cast<size_t>(staging_floats) * sizeof(float), "calibration input staging");
    OCTET_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  CudaAccumulator(const CudaAccumulator&) = delete;
  CudaAccumulator& operator=(const CudaAccumulator&) = delete;
  ~CudaAccumulator() override {
    if (stream_ != nullptr) {
      cudaStreamSynchronize(stream_);
      cudaStreamDestroy(stream_);
    }
  }

  void begin_pass(Pass pass, const std::vector<float>& ranges) override {
    pass_ = pass;
    if (pass != Pass::kHistogram)
      kernels::tensor_stats_reset_cuda(stats_.as<kernels::TensorStatsCuda>(), taps_, stream_);
    if (pass != Pass::kStats)
      OCTET_CUDA_CHECK(cudaMemsetAsync(counts_.as<uint64_t>(), 0, taps_ * kHistogramBins * sizeof(uint64_t), stream_));
    for (size_t t = 0; t < taps_; ++t) histograms_[t].range = pass == Pass::kHistogram ? ranges[t] : 0.0f;
    OCTET_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  void observe(size_t tap, const TensorView& view, int64_t elements) override {
    const float* x = static_cast<const float*>(view.data);
    if (view.location == MemoryLocation::kHost) {
      OCTET_CUDA_CHECK(cudaMemcpyAsync(staging_.as<float>(), x, static_cast<size_t>(elements) * sizeof(float),
                                       cudaMemcpyHostToDevice, stream_));
      x = staging_.as<float>();
    }
    kernels::TensorStatsCuda* stats = stats_.as<kernels::TensorStatsCuda>() + tap;
    uint64_t* counts = counts_.as<uint64_t>() + tap * kHistogramBins;
    Histogram& h = histograms_[tap];
    switch (pass_) {
      case Pass::kStats: kernels::tensor_stats_cuda(x, elements, stats, stream_); break;
      case Pass::kHistogram: kernels::histogram_cuda(x, elements, h.inverse_bin_width(), counts, stream_); break;
      case Pass::kSinglePass: {
        kernels::tensor_stats_cuda(x, elements, stats, stream_);
        kernels::TensorStatsCuda seen;
        OCTET_CUDA_CHECK(cudaMemcpyAsync(&seen, stats, sizeof seen, cudaMemcpyDeviceToHost, stream_));
        OCTET_CUDA_CHECK(cudaStreamSynchronize(stream_));
        const float absmax = kernels::to_tensor_stats(seen).absmax;
        if (absmax > h.range && h.range > 0.0f) {  // re-binning is rare (the range only doubles): on the host
          h.counts.resize(kHistogramBins);
          OCTET_CUDA_CHECK(cudaMemcpyAsync(h.counts.data(), counts, kHistogramBins * sizeof(uint64_t),
                                           cudaMemcpyDeviceToHost, stream_));
          OCTET_CUDA_CHECK(cudaStreamSynchronize(stream_));
          grow_histogram(h, absmax);
          OCTET_CUDA_CHECK(cudaMemcpyAsync(counts, h.counts.data(), kHistogramBins * sizeof(uint64_t),
                                           cudaMemcpyHostToDevice, stream_));
        } else {
          grow_histogram(h, absmax);
        }
        kernels::histogram_cuda(x, elements, h.inverse_bin_width(), counts, stream_);
        break;
      }
    }
    OCTET_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  void end_pass(std::vector<TensorCalibration>& tensors) override {
    std::vector<kernels::TensorStatsCuda> stats(taps_);
    std::vector<uint64_t> counts(taps_ * kHistogramBins);
    if (pass_ != Pass::kHistogram)
      OCTET_CUDA_CHECK(cudaMemcpyAsync(stats.data(), stats_.as<kernels::TensorStatsCuda>(),
                                       taps_ * sizeof(kernels::TensorStatsCuda), cudaMemcpyDeviceToHost, stream_));
    if (pass_ != Pass::kStats)
      OCTET_CUDA_CHECK(cudaMemcpyAsync(counts.data(), counts_.as<uint64_t>(), counts.size() * sizeof(uint64_t),
                                       cudaMemcpyDeviceToHost, stream_));
    OCTET_CUDA_CHECK(cudaStreamSynchronize(stream_));
    for (size_t t = 0; t < taps_; ++t) {
      if (pass_ != Pass::kHistogram) tensors[t].stats = kernels::to_tensor_stats(stats[t]);
      if (pass_ != Pass::kStats) {
        tensors[t].histogram.range = histograms_[t].range;
        tensors[t].histogram.counts.assign(counts.begin() + static_cast<std::ptrdiff_t>(t * kHistogramBins),
                                           counts.begin() + static_cast<std::ptrdiff_t>((t + 1) * kHistogramBins));
      }
    }
  }

 private:
  size_t taps_;
  Pass pass_ = Pass::kStats;
  DeviceBuffer stats_;    // TensorStatsCuda per tap
  DeviceBuffer counts_;   // kHistogramBins uint64 per tap
  DeviceBuffer staging_;  // the network input of one batch
  cudaStream_t stream_ = nullptr;
  std::vector<Histogram> histograms_;  // ranges (and, in single-pass mode, counts while re-binning)
};

#endif  // OCTET_HAVE_CUDA

std::unique_ptr<Accumulator> make_accumulator(const CalibratorOptions& options, size_t taps, int64_t input_floats) {
  switch (options.backend) {
    case BackendKind::kCpu: return std::make_unique<CpuAccumulator>(taps);
    case BackendKind::kCuda:
#if OCTET_HAVE_CUDA
      return std::make_unique<CudaAccumulator>(taps, input_floats, options.backend_options.device);
#else
      break;  // create_context has already said that this build has no CUDA
#endif
  }
  throw Error(detail::concat("calibration: no accumulator for backend ", to_string(options.backend)));
}

}  // namespace

std::vector<std::string> calibrated_tensor_names(const Graph& graph) {
  std::vector<std::string> names;
  for (ValueId id : tapped_values(graph)) names.push_back(graph.value(id).name);
  return names;
}

CalibrationData calibrate(const Graph& graph, BatchSource& source, const CalibratorOptions& options,
                          const CalibrationProgress& progress) {
  OCTET_CHECK(options.batch >= 1, "calibration batch size ", options.batch, " must be at least 1");
  OCTET_CHECK(options.max_images >= 0, "calibration max_images ", options.max_images, " must be >= 0");
  OCTET_CHECK(graph.inputs.size() == 1, "calibration feeds one input from the data set ", source.describe(),
              "; the model has ", graph.inputs.size(), " inputs");
  const ValueId input_id = graph.inputs[0];
  const Value& input = graph.value(input_id);
  const Dims sample = source.sample_dims();
  OCTET_CHECK(input.type == DataType::kFloat32 && input.dims.size() == sample.size() + 1 &&
                  std::equal(sample.begin(), sample.end(), input.dims.begin() + 1),
              "data set ", source.describe(), " gives float32 samples of ", to_string(sample), ", model input '",
              input.name, "' takes ", to_string(input.type), " ", to_string(input.dims));

  // A model whose input has a fixed (not symbolic) batch runs at that batch.
  const bool batched = !graph.input_batched.empty() && graph.input_batched[0];
  const int64_t batch = batched ? options.batch : input.dims[0];
  Graph g = graph;
  set_batch(g, batch);
  const std::vector<Tap> taps = plan_taps(g, batch, batched);
  std::vector<int32_t> tap_of_value(g.values.size(), -1);
  CalibrationData data;
  for (size_t t = 0; t < taps.size(); ++t) {
    tap_of_value[static_cast<size_t>(taps[t].value)] = static_cast<int32_t>(t);
    data.tensors.push_back(TensorCalibration{g.value(taps[t].value).name, TensorStats{}, Histogram{}});
  }
  const size_t input_tap = static_cast<size_t>(tap_of_value[static_cast<size_t>(input_id)]);
  const int64_t sample_elements = numel(sample);

  // Batch-invariant kernels (calibrator.h): the activations, hence the cache, must not depend on the
  // batch size, on a sample's position in a batch or on the zero rows that pad a short batch.
  BackendOptions backend_options = options.backend_options;
  backend_options.batch_invariant = true;
  std::unique_ptr<ExecutionContext> context = create_context(g, options.backend, backend_options);
  std::unique_ptr<Accumulator> accumulator = make_accumulator(options, taps.size(), batch * sample_elements);
  int64_t rows = batch;  // rows of the running batch that hold samples
  context->set_observer([&](const Node& node, ValueId id, const TensorView& view) {
    const int32_t t = tap_of_value[static_cast<size_t>(id)];
    if (t < 0) return;
    try {
      accumulator->observe(static_cast<size_t>(t), view, rows * taps[static_cast<size_t>(t)].sample_elements);
    } catch (const Error& error) {
      throw Error(detail::concat("calibrating tensor '", g.value(id).name, "' (output of node '", node.name,
                                 "'): ", error.what()));
    }
  });

  const int64_t total = options.max_images > 0 ? std::min(options.max_images, source.size()) : source.size();
  const std::vector<Pass> passes =
      options.single_pass ? std::vector<Pass>{Pass::kSinglePass} : std::vector<Pass>{Pass::kStats, Pass::kHistogram};
  // The batch as the context takes it, reused for every run (memory stays flat however long the source).
  std::vector<Tensor> inputs{Tensor(DataType::kFloat32, g.value(input_id).dims)};
  Tensor& padded = inputs[0];
  Batch samples;
  std::vector<float> ranges(taps.size(), 0.0f);
  for (size_t p = 0; p < passes.size(); ++p) {
    const int pass_number = static_cast<int>(p) + 1;
    accumulator->begin_pass(passes[p], ranges);
    source.reset();
    if (progress) progress(pass_number, 0, total);
    int64_t seen = 0;
    while (seen < total && source.next(std::min(batch, total - seen), samples)) {
      const Dims& dims = samples.images.dims();
      OCTET_CHECK(samples.images.type() == DataType::kFloat32 && dims.size() == sample.size() + 1 &&
                      std::equal(sample.begin(), sample.end(), dims.begin() + 1) && dims[0] >= 0 &&
                      dims[0] <= std::min(batch, total - seen),
                  "data set ", source.describe(), " returned a ", to_string(samples.images.type()), " batch of ",
                  to_string(dims), " when asked for at most ", std::min(batch, total - seen), " float32 samples of ",
                  to_string(sample));
      const int64_t n = dims[0];
      if (n == 0) break;
      const size_t bytes = static_cast<size_t>(n * sample_elements) * sizeof(float);
      std::memcpy(padded.raw(), samples.images.raw(), bytes);
      if (n < batch) std::memset(static_cast<char*>(padded.raw()) + bytes, 0, padded.bytes() - bytes);
      rows = n;
      accumulator->observe(input_tap,
                           TensorView{DataType::kFloat32, padded.dims(), padded.raw(), MemoryLocation::kHost},
                           n * sample_elements);
      context->run(inputs);
      seen += n;
      if (progress) progress(pass_number, seen, total);
    }
    if (p == 0) {
      data.images = seen;
    } else {
      OCTET_CHECK(seen == data.images, "data set ", source.describe(), " gave ", data.images, " samples in pass 1 and ",
                  seen, " in pass ", pass_number, "; the passes must see the same samples");
    }
    accumulator->end_pass(data.tensors);
    for (size_t t = 0; t < taps.size(); ++t) ranges[t] = data.tensors[t].stats.absmax;
  }
  return data;
}

}  // namespace octet
