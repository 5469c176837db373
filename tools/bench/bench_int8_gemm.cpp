// bench_int8_gemm — INT8 GEMM throughput of octet's CUDA tactics against the cuBLASLt ceiling.
//
//   bench_int8_gemm [--sizes 4096,8192] [--iterations 50] [--warmup 10]
//
// For each size S the GEMM is M = N = K = S, run as the 1x1 convolution n = M, c = K, h = w = 1,
// k = N (kernels/int8_conv.h): x int8 [M][K] (NHWCp with H = W = 1), w int8 [N][K], out int8 [M][N]
// with a per-channel combined scale, a per-channel bias and an output scale (quantize/qscheme.h).
// Rows of the table:
//   cublaslt-raw  cublasLtMatmul int8 x int8 -> int32 [M][N], TN, heuristic's first algorithm, 32 MiB
//                 workspace, no epilogue: the ceiling the others are measured against.
//   wgmma         conv_int8_cuda(kWgmma): wgmma (sm_90a) implicit GEMM with the fused INT8 epilogue.
//   tensorcore    conv_int8_cuda(kTensorCore): mma.sync implicit GEMM with the fused INT8 epilogue.
//   dp4a          conv_int8_cuda(kDp4a).
//   cublaslt      conv_int8_cuda(kCublasLt): the raw GEMM to int32 plus octet's epilogue kernel.
// Counting: ops = 2 * M * N * K (one multiply and one add per multiply-accumulate; the epilogue's
// M*N element operations are not counted), TOPS = ops / median time / 1e12. Time: CUDA events
// recorded on one non-default stream around each single launch, after `warmup` untimed launches;
// the median of `iterations` (>= 20) timed launches. "vs raw" = raw cuBLASLt median / tactic median.
//
// Correctness, before any timing, for sizes up to 4096: the int8 outputs of every supported tactic
// are compared with each other element by element (==), and 4096 sampled outputs (and the raw int32
// results at those places) with a host reference: the int32 dot product, then quant::epilogue_value
// and quant::quantize, the functions conv2d_int8_ref uses. A mismatch stops the program (exit 1).
// Data: uniform random int8 without zeros (a zero buffer would hide layout mistakes).
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cuda/conv_int8_cuda.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_buffer.h"
#include "quantize/qscheme.h"

namespace {

using octet::DeviceBuffer;
using octet::kernels::Int8Tactic;

constexpr size_t kRawLtWorkspaceBytes = size_t{32} << 20;  // as the kCublasLt tactic gives cuBLASLt
constexpr int kReferenceSamples = 4096;
constexpr int64_t kVerifyMaxSize = 4096;

struct Options {
  std::vector<int64_t> sizes{4096, 8192};
  int iterations = 50;
  int warmup = 10;
};

std::vector<int64_t> parse_list(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoll(item));
  return out;
}

int usage() {
  std::fprintf(stderr, "usage: bench_int8_gemm [--sizes 4096,8192] [--iterations N>=20] [--warmup N]\n");
  return 2;
}

void check_lt(cublasStatus_t status, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw octet::Error(octet::detail::concat("raw cuBLASLt GEMM: ", call, " failed: ", cublasGetStatusName(status)));
}

// Uniform int8 in [-128, 127] without 0.
std::vector<int8_t> random_nonzero_int8(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-128, 126);
  std::vector<int8_t> v(count);
  for (int8_t& e : v) {
    const int d = dist(rng);
    e = static_cast<int8_t>(d >= 0 ? d + 1 : d);
  }
  return v;
}

// The problem on the host and on the device, one size.
struct Problem {
  int64_t size = 0;
  std::vector<int8_t> x, w;                   // [M][K], [N][K]
  std::vector<float> combined_scale, bias;    // [N]
  float output_scale = 1.0f;
  DeviceBuffer d_x, d_w, d_scale, d_bias, d_out, d_workspace;
  octet::Conv2dShape shape;
};

void make_problem(int64_t size, Problem& p) {
  p.size = size;
  const size_t elements = static_cast<size_t>(size * size);
  p.x = random_nonzero_int8(elements, 1);
  p.w = random_nonzero_int8(elements, 2);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> weight_scale(0.001f, 0.01f), bias(-2.0f, 2.0f);
  const float input_scale = 0.02f;
  p.combined_scale.resize(static_cast<size_t>(size));
  p.bias.resize(static_cast<size_t>(size));
  double mean_scale = 0.0;
  for (int64_t k = 0; k < size; ++k) {
    p.combined_scale[static_cast<size_t>(k)] = input_scale * weight_scale(rng);  // one rounding, as the builder
    p.bias[static_cast<size_t>(k)] = bias(rng);
    mean_scale += p.combined_scale[static_cast<size_t>(k)];
  }
  mean_scale /= static_cast<double>(size);
  // A dot product of K terms of variance E[x^2]^2 (E[x^2] ~ 128^2 / 3) has deviation sqrt(K) * E[x^2];
  // the output scale maps 3 deviations to 127, so the outputs use the whole int8 range.
  const double deviation = std::sqrt(static_cast<double>(size)) * (128.0 * 128.0 / 3.0) * mean_scale;
  p.output_scale = static_cast<float>(3.0 * deviation / 127.0);

  p.shape.n = size;
  p.shape.c = size;
  p.shape.h = p.shape.w = 1;
  p.shape.k = size;
  p.shape.oh = p.shape.ow = 1;
  p.d_x.allocate(elements, "x");
  p.d_w.allocate(elements, "w");
  p.d_scale.allocate(static_cast<size_t>(size) * sizeof(float), "combined scales");
  p.d_bias.allocate(static_cast<size_t>(size) * sizeof(float), "bias");
  p.d_out.allocate(elements, "int8 output");
  size_t workspace = 0;
  for (Int8Tactic tactic : octet::kernels::kAllInt8Tactics)
    workspace = std::max(workspace, octet::kernels::conv_int8_cuda_workspace_bytes(tactic, p.shape));
  p.d_workspace.allocate(workspace, "tactic workspace");
  OCTET_CUDA_CHECK(cudaMemcpy(p.d_x.get(), p.x.data(), elements, cudaMemcpyHostToDevice));
  OCTET_CUDA_CHECK(cudaMemcpy(p.d_w.get(), p.w.data(), elements, cudaMemcpyHostToDevice));
  OCTET_CUDA_CHECK(cudaMemcpy(p.d_scale.get(), p.combined_scale.data(), p.combined_scale.size() * sizeof(float),
                              cudaMemcpyHostToDevice));
  OCTET_CUDA_CHECK(
      cudaMemcpy(p.d_bias.get(), p.bias.data(), p.bias.size() * sizeof(float), cudaMemcpyHostToDevice));
}

octet::kernels::Int8ConvCudaArgs tactic_args(const Problem& p) {
  octet::kernels::Int8ConvCudaArgs args;
  args.shape = p.shape;
  args.x = p.d_x.as<int8_t>();
  args.w = p.d_w.as<int8_t>();
  args.epilogue.combined_scale = p.d_scale.as<float>();
  args.epilogue.bias = p.d_bias.as<float>();
  args.epilogue.output_int8 = true;
  args.epilogue.output_scale = p.output_scale;
  args.out = p.d_out.get();
  args.workspace = p.d_workspace.get();
  return args;
}

// The plain cuBLASLt INT8 GEMM: acc[M][N] int32 = x[M][K] * w[N][K]^T (column-major: D (N x M) =
// W^T (N x K) * X (K x M), the TN form).
class RawCublasLtGemm {
 public:
  RawCublasLtGemm(cublasLtHandle_t lt, int64_t size) : lt_(lt) {
    check_lt(cublasLtMatmulDescCreate(&desc_, CUBLAS_COMPUTE_32I, CUDA_R_32I), "cublasLtMatmulDescCreate");
    const cublasOperation_t transpose = CUBLAS_OP_T;
    check_lt(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof(transpose)),
             "cublasLtMatmulDescSetAttribute");
    const uint64_t n = static_cast<uint64_t>(size);
    check_lt(cublasLtMatrixLayoutCreate(&a_, CUDA_R_8I, n, n, size), "cublasLtMatrixLayoutCreate(A)");
    check_lt(cublasLtMatrixLayoutCreate(&b_, CUDA_R_8I, n, n, size), "cublasLtMatrixLayoutCreate(B)");
    check_lt(cublasLtMatrixLayoutCreate(&d_, CUDA_R_32I, n, n, size), "cublasLtMatrixLayoutCreate(D)");
    cublasLtMatmulPreference_t preference = nullptr;
    check_lt(cublasLtMatmulPreferenceCreate(&preference), "cublasLtMatmulPreferenceCreate");
    const uint64_t workspace = kRawLtWorkspaceBytes;
    cublasStatus_t status = cublasLtMatmulPreferenceSetAttribute(
        preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace));
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    if (status == CUBLAS_STATUS_SUCCESS)
      status = cublasLtMatmulAlgoGetHeuristic(lt_, desc_, a_, b_, d_, d_, preference, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(preference);
    check_lt(status, "cublasLtMatmulAlgoGetHeuristic");
    if (found == 0) throw octet::Error("raw cuBLASLt GEMM: no algorithm for this size");
    algo_ = result.algo;
    acc_.allocate(static_cast<size_t>(size * size) * sizeof(int32_t), "raw cuBLASLt int32 output");
    workspace_.allocate(kRawLtWorkspaceBytes, "raw cuBLASLt workspace");
  }
  RawCublasLtGemm(const RawCublasLtGemm&) = delete;
  RawCublasLtGemm& operator=(const RawCublasLtGemm&) = delete;
  ~RawCublasLtGemm() {
    cublasLtMatrixLayoutDestroy(d_);
    cublasLtMatrixLayoutDestroy(b_);
    cublasLtMatrixLayoutDestroy(a_);
    cublasLtMatmulDescDestroy(desc_);
  }

  void run(const Problem& p, cudaStream_t stream) const {
    const int32_t alpha = 1, beta = 0;
    check_lt(cublasLtMatmul(lt_, desc_, &alpha, p.d_w.get(), a_, p.d_x.get(), b_, &beta, acc_.get(), d_,
                            acc_.get(), d_, &algo_, workspace_.get(), kRawLtWorkspaceBytes, stream),
             "cublasLtMatmul");
  }
  const int32_t* acc() const { return acc_.as<int32_t>(); }

 private:
  cublasLtHandle_t lt_;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t a_ = nullptr, b_ = nullptr, d_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
  DeviceBuffer acc_, workspace_;
};

// Median and minimum of `iterations` single launches timed with events, after `warmup` launches.
template <class Launch>
std::pair<double, double> time_launches(const Launch& launch, const Options& options, cudaStream_t stream) {
  for (int i = 0; i < options.warmup; ++i) launch();
  OCTET_CUDA_CHECK(cudaStreamSynchronize(stream));
  cudaEvent_t start = nullptr, stop = nullptr;
  OCTET_CUDA_CHECK(cudaEventCreate(&start));
  OCTET_CUDA_CHECK(cudaEventCreate(&stop));
  std::vector<double> ms;
  for (int i = 0; i < options.iterations; ++i) {
    OCTET_CUDA_CHECK(cudaEventRecord(start, stream));
    launch();
    OCTET_CUDA_CHECK(cudaEventRecord(stop, stream));
    OCTET_CUDA_CHECK(cudaEventSynchronize(stop));
    float elapsed = 0.0f;
    OCTET_CUDA_CHECK(cudaEventElapsedTime(&elapsed, start, stop));
    ms.push_back(elapsed);
  }
  OCTET_CUDA_CHECK(cudaEventDestroy(start));
  OCTET_CUDA_CHECK(cudaEventDestroy(stop));
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front()};
}

std::vector<int8_t> download_output(const Problem& p) {
  std::vector<int8_t> out(static_cast<size_t>(p.size * p.size));
  OCTET_CUDA_CHECK(cudaMemcpy(out.data(), p.d_out.get(), out.size(), cudaMemcpyDeviceToHost));
  return out;
}

// Runs every supported tactic once and compares: tactics with each other (every element), and
// sampled elements (int8 and raw int32) with the host reference. Returns false on any mismatch.
bool verify(const Problem& p, const std::vector<Int8Tactic>& tactics, const RawCublasLtGemm& raw,
            cublasLtHandle_t lt, cudaStream_t stream) {
  const int64_t size = p.size;
  std::map<Int8Tactic, std::vector<int8_t>> outputs;
  for (Int8Tactic tactic : tactics) {
    OCTET_CUDA_CHECK(cudaMemsetAsync(p.d_out.get(), 0x5a, static_cast<size_t>(size * size), stream));
    octet::kernels::conv_int8_cuda(tactic, tactic_args(p), lt, stream);
    OCTET_CUDA_CHECK(cudaStreamSynchronize(stream));
    outputs[tactic] = download_output(p);
  }
  raw.run(p, stream);
  std::vector<int32_t> raw_acc(static_cast<size_t>(size * size));
  OCTET_CUDA_CHECK(cudaStreamSynchronize(stream));
  OCTET_CUDA_CHECK(cudaMemcpy(raw_acc.data(), raw.acc(), raw_acc.size() * sizeof(int32_t), cudaMemcpyDeviceToHost));

  bool ok = true;
  for (size_t t = 1; t < tactics.size(); ++t) {
    const std::vector<int8_t>& a = outputs[tactics[0]];
    const std::vector<int8_t>& b = outputs[tactics[t]];
    const auto mismatch = std::mismatch(a.begin(), a.end(), b.begin());
    if (mismatch.first != a.end()) {
      const size_t at = static_cast<size_t>(mismatch.first - a.begin());
      std::printf("MISMATCH size %lld: %s and %s differ at row %zu column %zu (%d vs %d)\n",
                  static_cast<long long>(size), to_string(tactics[0]), to_string(tactics[t]),
                  at / static_cast<size_t>(size), at % static_cast<size_t>(size), *mismatch.first, *mismatch.second);
      ok = false;
    }
  }
  std::mt19937 rng(4);
  std::uniform_int_distribution<int64_t> index(0, size - 1);
  int sampled_mismatches = 0;
  for (int i = 0; i < kReferenceSamples; ++i) {
    const int64_t m = index(rng), n = index(rng);
    int32_t acc = 0;
    for (int64_t c = 0; c < size; ++c)
      acc += int32_t{p.x[static_cast<size_t>(m * size + c)]} * int32_t{p.w[static_cast<size_t>(n * size + c)]};
    const size_t at = static_cast<size_t>(m * size + n);
    const float y = octet::quant::epilogue_value(acc, p.combined_scale[static_cast<size_t>(n)],
                                                 p.bias[static_cast<size_t>(n)], 0.0f, octet::ActivationParams{});
    const int8_t expected = octet::quant::quantize(y, p.output_scale);
    bool good = raw_acc[at] == acc;
    for (Int8Tactic tactic : tactics) good = good && outputs[tactic][at] == expected;
    if (!good && ++sampled_mismatches <= 5)
      std::printf("MISMATCH size %lld at (%lld, %lld): reference acc %d q %d, raw cuBLASLt acc %d\n",
                  static_cast<long long>(size), static_cast<long long>(m), static_cast<long long>(n), acc, expected,
                  raw_acc[at]);
  }
  ok = ok && sampled_mismatches == 0;
  std::string names;
  for (Int8Tactic tactic : tactics) names += std::string(names.empty() ? "" : " == ") + to_string(tactic);
  std::printf("verify %lld: %s (%lld outputs each)%s; %d sampled outputs and raw int32 vs host reference: %s\n",
              static_cast<long long>(size), names.c_str(), static_cast<long long>(size * size),
              ok ? "" : " FAILED", kReferenceSamples, sampled_mismatches == 0 ? "equal" : "MISMATCH");
  return ok;
}

void print_row(int64_t size, const char* name, std::pair<double, double> ms, double raw_median_ms) {
  const double ops = 2.0 * static_cast<double>(size) * static_cast<double>(size) * static_cast<double>(size);
  std::printf("%6lld  %-13s %10.4f %10.4f %9.1f %8.3f\n", static_cast<long long>(size), name, ms.first, ms.second,
              ops / (ms.first * 1e-3) / 1e12, raw_median_ms / ms.first);
  std::fflush(stdout);
}

bool bench_size(int64_t size, const Options& options, cublasLtHandle_t lt, cudaStream_t stream) {
  Problem p;
  make_problem(size, p);
  RawCublasLtGemm raw(lt, size);
  const Int8Tactic order[] = {Int8Tactic::kWgmma, Int8Tactic::kTensorCore, Int8Tactic::kDp4a, Int8Tactic::kCublasLt};
  std::vector<Int8Tactic> tactics;
  for (Int8Tactic tactic : order) {
    if (octet::kernels::conv_int8_cuda_supports(tactic, p.shape))
      tactics.push_back(tactic);
    else
      std::printf("%6lld  %-13s unsupported on this build/device\n", static_cast<long long>(size), to_string(tactic));
  }
  if (size <= kVerifyMaxSize && !verify(p, tactics, raw, lt, stream)) return false;

  const auto raw_ms = time_launches([&] { raw.run(p, stream); }, options, stream);
  print_row(size, "cublaslt-raw", raw_ms, raw_ms.first);
  const octet::kernels::Int8ConvCudaArgs args = tactic_args(p);
  for (Int8Tactic tactic : tactics) {
    const auto ms =
        time_launches([&] { octet::kernels::conv_int8_cuda(tactic, args, lt, stream); }, options, stream);
    print_row(size, to_string(tactic), ms, raw_ms.first);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--sizes" && has_value) options.sizes = parse_list(argv[++i]);
    else if (arg == "--iterations" && has_value) options.iterations = std::stoi(argv[++i]);
    else if (arg == "--warmup" && has_value) options.warmup = std::stoi(argv[++i]);
    else return usage();
  }
  if (options.iterations < 20 || options.warmup < 0 || options.sizes.empty()) return usage();
  for (int64_t size : options.sizes)
    if (size <= 0 || size % 4 != 0) {
      std::fprintf(stderr, "bench_int8_gemm: size %lld must be a positive multiple of 4\n", static_cast<long long>(size));
      return 2;
    }
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "bench_int8_gemm: no CUDA device\n");
    return 1;
  }
  try {
    cudaDeviceProp props{};
    OCTET_CUDA_CHECK(cudaGetDeviceProperties(&props, 0));
    std::printf("device: %s (sm_%d%d, %d SMs); ops = 2*M*N*K, TOPS from the median of %d runs after %d warm-up\n",
                props.name, props.major, props.minor, props.multiProcessorCount, options.iterations, options.warmup);
    cudaStream_t stream = nullptr;
    OCTET_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    cublasLtHandle_t lt = nullptr;
    check_lt(cublasLtCreate(&lt), "cublasLtCreate");
    std::printf("%6s  %-13s %10s %10s %9s %8s\n", "size", "tactic", "median_ms", "min_ms", "TOPS", "vs_raw");
    bool ok = true;
    for (int64_t size : options.sizes) ok = bench_size(size, options, lt, stream) && ok;
    cublasLtDestroy(lt);
    OCTET_CUDA_CHECK(cudaStreamDestroy(stream));
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_int8_gemm: error: %s\n", e.what());
    return 1;
  }
}
