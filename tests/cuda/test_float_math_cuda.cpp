// The float functions CPU and GPU share, bit for bit on the GPU: kernels/float_math.h through the
// unary and activation kernels over ~4 million inputs each (every 1009th float bit pattern: all signs
// and exponents, subnormals, infinities and NaNs), and the reductions that sum in kernels/reduce.h's
// lane order (Softmax along the last axis and along an inner one, GlobalAveragePool) on random data.
// The IEEE bits are compared, NaN with NaN (the bits of a NaN that arithmetic makes may differ,
// kernels/reduce.h). Without a CUDA device every test skips with the reason.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/activation.h"
#include "kernels/cpu/pool_ref.h"
#include "kernels/cpu/tensor_ops_ref.h"
#include "kernels/cuda/elementwise_cuda.h"
#include "kernels/cuda/pool_cuda.h"
#include "kernels/cuda/tensor_ops_cuda.h"
#include "kernels/cuda/unary_cuda.h"
#include "kernels/float_math.h"
#include "kernels/unary.h"
#include "tests/support/cuda_test_util.h"

namespace octet {
namespace {

using test::DeviceArray;
using test::Stream;

std::vector<float> swept_floats() {
  std::vector<float> x;
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 1009) x.push_back(kernels::float_from_bits(static_cast<uint32_t>(b)));
  return x;
}

// The index of the first element whose bits differ (both NaN counts as equal), or -1.
int64_t first_difference(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    const bool both_nan = std::isnan(a[i]) && std::isnan(b[i]);
    if (!both_nan && kernels::float_bits(a[i]) != kernels::float_bits(b[i])) return static_cast<int64_t>(i);
  }
  return -1;
}

template <typename HostFunction, typename Launch>
void expect_same_bits(const char* what, const std::vector<float>& x, HostFunction host, Launch launch) {
  std::vector<float> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = host(x[i]);
  Stream stream;
  DeviceArray<float> dx(x), dy(x.size());
  launch(dx.get(), dy.get(), static_cast<int64_t>(x.size()), stream.get());
  stream.sync();
  const std::vector<float> got = dy.download();
  const int64_t at = first_difference(got, want);
  EXPECT_EQ(at, -1) << what << ": x = " << (at >= 0 ? x[static_cast<size_t>(at)] : 0.0f) << " (bits 0x" << std::hex
                    << (at >= 0 ? kernels::float_bits(x[static_cast<size_t>(at)]) : 0u) << std::dec
                    << "): CUDA " << (at >= 0 ? got[static_cast<size_t>(at)] : 0.0f) << ", CPU "
                    << (at >= 0 ? want[static_cast<size_t>(at)] : 0.0f);
}

TEST(FloatMathCuda, UnaryFunctionsEqualTheHostBitForBit) {
  OCTET_SKIP_WITHOUT_CUDA();
  const std::vector<float> x = swept_floats();
  using kernels::UnaryOp;
  for (UnaryOp op : {UnaryOp::kExp, UnaryOp::kLog, UnaryOp::kTanh, UnaryOp::kErf, UnaryOp::kSoftplus}) {
    expect_same_bits(
        "unary op", x, [op](float v) { return kernels::apply_unary(op, v); },
        [op](const float* dx, float* dy, int64_t n, cudaStream_t s) { kernels::unary_cuda(op, dx, dy, n, s); });
  }
}

TEST(FloatMathCuda, ActivationsEqualTheHostBitForBit) {
  OCTET_SKIP_WITHOUT_CUDA();
  const std::vector<float> x = swept_floats();
  for (const ActivationParams& params : {ActivationParams{Activation::kSigmoid}, ActivationParams{Activation::kXSigmoid},
                                         ActivationParams{Activation::kGelu, 1.41421354f}}) {
    expect_same_bits(
        "activation", x, [&](float v) { return apply_activation(params, v); },
        [&](const float* dx, float* dy, int64_t n, cudaStream_t s) { kernels::activation_cuda(params, dx, dy, n, s); });
  }
}

std::vector<float> random_floats(size_t n, float spread, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, spread);
  std::vector<float> v(n);
  for (float& e : v) e = dist(rng);
  return v;
}

TEST(FloatMathCuda, SoftmaxEqualsTheReferenceBitForBit) {
  OCTET_SKIP_WITHOUT_CUDA();
  // [outer, length, inner]: inner 1 runs the warp-per-row kernel, inner > 1 the thread-per-column one.
  for (const Dims& dims : {Dims{7, 1000, 1}, Dims{3, 17, 1}, Dims{2, 33, 40}, Dims{4, 16, 400}, Dims{5, 1, 3}}) {
    const std::vector<float> x = random_floats(static_cast<size_t>(numel(dims)), 6.0f, 11);
    std::vector<float> want(x.size());
    kernels::softmax_ref(x.data(), dims, 1, false, want.data());
    Stream stream;
    DeviceArray<float> dx(x), dy(x.size());
    kernels::softmax_cuda(dx.get(), dy.get(), dims[0], dims[1], dims[2], stream.get());
    stream.sync();
    EXPECT_EQ(first_difference(dy.download(), want), -1) << "Softmax of " << to_string(dims) << " along axis 1";
  }
}

TEST(FloatMathCuda, GlobalAveragePoolEqualsTheReferenceBitForBit) {
  OCTET_SKIP_WITHOUT_CUDA();
  for (const Dims& dims : {Dims{2, 16, 7, 7}, Dims{1, 3, 80, 80}, Dims{4, 5, 1, 31}}) {
    const std::vector<float> x = random_floats(static_cast<size_t>(numel(dims)), 3.0f, 12);
    std::vector<float> want(static_cast<size_t>(dims[0] * dims[1]));
    kernels::global_avgpool_ref(x.data(), dims, want.data());
    Stream stream;
    DeviceArray<float> dx(x), dy(want.size());
    kernels::global_avgpool_cuda(dx.get(), dy.get(), dims[0] * dims[1], dims[2] * dims[3], stream.get());
    stream.sync();
    EXPECT_EQ(first_difference(dy.download(), want), -1) << "GlobalAveragePool of " << to_string(dims);
  }
}

}  // namespace
}  // namespace octet
