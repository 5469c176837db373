// The CPU reference kernels (kernels/cpu/*_ref) on small cases whose expected values are worked
// out by hand in the comments beside them. Float results that involve only exact operations
// (small integers, halves, quarters) compare with ==; those through exp/log/sqrt use a few ulp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/error.h"
#include "kernels/cpu/broadcast.h"
#include "kernels/cpu/conv_ref.h"
#include "kernels/cpu/elementwise_ref.h"
#include "kernels/cpu/gemm_ref.h"
#include "kernels/cpu/pool_ref.h"
#include "kernels/cpu/tensor_ops_ref.h"
#include "kernels/cpu/window.h"
#include "kernels/shapes.h"

namespace octet {
namespace {

using kernels::window_output_extent;
using Floats = std::vector<float>;

constexpr float kInf = std::numeric_limits<float>::infinity();

// ---- convolution ---------------------------------------------------------------------------------

ConvAttrs conv_attrs(int64_t kh, int64_t kw) {
  ConvAttrs a;
  a.kernel_h = kh;
  a.kernel_w = kw;
  return a;
}

Floats run_conv(const ConvAttrs& a, const Dims& x_dims, const Floats& x, const Dims& w_dims, const Floats& w,
                const Dims& y_dims, const Floats* bias = nullptr, const Floats* residual = nullptr,
                ActivationParams act = {}) {
  Floats y(static_cast<size_t>(numel(y_dims)), -12345.0f);
  kernels::conv2d_ref(make_conv2d_shape(a, x_dims, w_dims, y_dims), x.data(), w.data(),
                      bias ? bias->data() : nullptr, residual ? residual->data() : nullptr, act, y.data());
  return y;
}

TEST(Conv2dRefFloat32Nchw, BiasResidualAndClipInOrder) {
  // x = 1 2 3 / 4 5 6 / 7 8 9, w = 1 2 / 3 4:
  //   acc00 = 1+4+12+20 = 37, acc01 = 2+6+15+24 = 47, acc10 = 4+10+21+32 = 67, acc11 = 5+12+24+36 = 77
  //   + bias 0.5, + residual (1, -2, 3, -100) = 38.5, 45.5, 70.5, -22.5; Clip [0, 50] -> 38.5, 45.5, 50, 0
  const Floats x{1, 2, 3, 4, 5, 6, 7, 8, 9};
  const Floats w{1, 2, 3, 4};
  const Floats bias{0.5f};
  const Floats residual{1, -2, 3, -100};
  EXPECT_EQ(run_conv(conv_attrs(2, 2), {1, 1, 3, 3}, x, {1, 1, 2, 2}, w, {1, 1, 2, 2}),
            (Floats{37, 47, 67, 77}));
  EXPECT_EQ(run_conv(conv_attrs(2, 2), {1, 1, 3, 3}, x, {1, 1, 2, 2}, w, {1, 1, 2, 2}, &bias, &residual,
                     ActivationParams{Activation::kClip, 0.0f, 50.0f}),
            (Floats{38.5f, 45.5f, 50, 0}));
}

TEST(Conv2dRefFloat32Nchw, StrideTwoAsymmetricPads) {
  // 2x2 ones, stride 2, pads top 1 / left 0 / bottom 0 / right 1 over 1..9 (3x3):
  // output rows read input rows {-1,0} and {1,2}, columns {0,1} and {2,3}; -1 and 3 are padding.
  //   y00 = 1+2 = 3, y01 = 3, y10 = 4+5+7+8 = 24, y11 = 6+9 = 15
  ConvAttrs a = conv_attrs(2, 2);
  a.stride_h = a.stride_w = 2;
  a.pad_top = 1;
  a.pad_right = 1;
  EXPECT_EQ(window_output_extent(3, 2, 2, 1, 0, 1, false), 2);
  EXPECT_EQ(window_output_extent(3, 2, 2, 0, 1, 1, false), 2);
  EXPECT_EQ(run_conv(a, {1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 2, 2}, {1, 1, 1, 1}, {1, 1, 2, 2}),
            (Floats{3, 3, 24, 15}));
}

TEST(Conv2dRefFloat32Nchw, DepthwiseWithBias) {
  // group 2, kernel 1x2. Channel 0 = 1 2 / 3 4 with w (1, -1): rows give 1-2 = -1, 3-4 = -1.
  // Channel 1 = 10 20 / 30 40 with w (2, 1): 20+20 = 40, 60+40 = 100. Bias (1, 2).
  ConvAttrs a = conv_attrs(1, 2);
  a.group = 2;
  const Floats bias{1, 2};
  EXPECT_EQ(run_conv(a, {1, 2, 2, 2}, {1, 2, 3, 4, 10, 20, 30, 40}, {2, 1, 1, 2}, {1, -1, 2, 1}, {1, 2, 2, 1}, &bias),
            (Floats{0, 0, 42, 102}));
}

TEST(Conv2dRefFloat32Nchw, GroupedAndChannelMultiplier) {
  // C = 4, group 2, K = 2, 1x1: y0 = 1*1 + 2*10 = 21 (channels 0, 1), y1 = 3*100 + 4*1000 = 4300.
  ConvAttrs a = conv_attrs(1, 1);
  a.group = 2;
  EXPECT_EQ(run_conv(a, {1, 4, 1, 1}, {1, 2, 3, 4}, {2, 2, 1, 1}, {1, 10, 100, 1000}, {1, 2, 1, 1}),
            (Floats{21, 4300}));
  // C = 2, group 2, K = 4: outputs 0, 1 read channel 0 (= 3), outputs 2, 3 read channel 1 (= 5).
  EXPECT_EQ(run_conv(a, {1, 2, 1, 1}, {3, 5}, {4, 1, 1, 1}, {1, 2, 3, 4}, {1, 4, 1, 1}), (Floats{3, 6, 15, 20}));
}

TEST(Conv2dRefFloat32Nchw, DilatedWithLeftPad) {
  // x = 1 2 3 4 5, kernel 1x2 = (1, 10), dilation 2, pad_left 2: OW = (5+2-3)/1 + 1 = 5 and
  // output j reads columns j-2 and j: 10*1, 10*2, 1+10*3, 2+10*4, 3+10*5.
  ConvAttrs a = conv_attrs(1, 2);
  a.dilation_w = 2;
  a.pad_left = 2;
  EXPECT_EQ(window_output_extent(5, 2, 1, 2, 0, 2, false), 5);
  EXPECT_EQ(run_conv(a, {1, 1, 1, 5}, {1, 2, 3, 4, 5}, {1, 1, 1, 2}, {1, 10}, {1, 1, 1, 5}),
            (Floats{10, 20, 31, 42, 53}));
}

TEST(Conv2dRefFloat32Ncl, OneDimensionalStride2) {
  // [N, C, L] = [1, 1, 4] = 1 2 3 4, kernel (1, 1), stride 2: 1+2, 3+4.
  ConvAttrs a = conv_attrs(1, 2);
  a.stride_w = 2;
  a.spatial_rank = 1;
  EXPECT_EQ(run_conv(a, {1, 1, 4}, {1, 2, 3, 4}, {1, 1, 2}, {1, 1}, {1, 1, 2}), (Floats{3, 7}));
}

TEST(Conv2dRefFloat32Nchw, BatchOfTwoSumsChannels) {
  // 1x1, w = (10, 1): image 0 = (1, 2) -> 12, image 1 = (3, 4) -> 34.
  EXPECT_EQ(run_conv(conv_attrs(1, 1), {2, 2, 1, 1}, {1, 2, 3, 4}, {1, 2, 1, 1}, {10, 1}, {2, 1, 1, 1}),
            (Floats{12, 34}));
}

// ---- Gemm / MatMul --------------------------------------------------------------------------------

// A = [[1,2,3],[4,5,6]], B = [[1,0],[0,1],[1,1]]: A*B = [[4,5],[10,11]].
const Floats kA{1, 2, 3, 4, 5, 6};
const Floats kAT{1, 4, 2, 5, 3, 6};  // A stored transposed, [3, 2]
const Floats kB{1, 0, 0, 1, 1, 1};
const Floats kBT{1, 0, 1, 0, 1, 1};  // B stored transposed, [2, 3]

Floats run_gemm(const GemmAttrs& a, const Floats& mat_a, const Floats& mat_b, const Floats* c, const Dims& c_dims,
                const Floats* residual = nullptr) {
  Floats y(4, -12345.0f);
  kernels::gemm_ref(a, 2, 2, 3, mat_a.data(), mat_b.data(), c ? c->data() : nullptr, c_dims,
                    residual ? residual->data() : nullptr, y.data());
  return y;
}

TEST(GemmRefFloat32RowMajor, AlphaBetaAndEveryBroadcastOfC) {
  GemmAttrs a;
  a.alpha = 2.0f;
  a.beta = 0.5f;
  // 2*AB = [[8,10],[20,22]]
  const Floats c_n{10, 20};
  EXPECT_EQ(run_gemm(a, kA, kB, &c_n, {2}), (Floats{13, 20, 25, 32}));     // + 0.5*[10,20] per row
  EXPECT_EQ(run_gemm(a, kA, kB, &c_n, {1, 2}), (Floats{13, 20, 25, 32}));  // [1, N] is the same
  const Floats c_scalar{4};
  EXPECT_EQ(run_gemm(a, kA, kB, &c_scalar, {}), (Floats{10, 12, 22, 24}));  // + 2 everywhere
  const Floats c_m1{1, -1};
  EXPECT_EQ(run_gemm(a, kA, kB, &c_m1, {2, 1}), (Floats{8.5f, 10.5f, 19.5f, 21.5f}));  // + 0.5 / - 0.5 per row
  const Floats c_mn{1, 2, 3, 4};
  EXPECT_EQ(run_gemm(a, kA, kB, &c_mn, {2, 2}), (Floats{8.5f, 11, 21.5f, 24}));
  EXPECT_EQ(run_gemm(a, kA, kB, nullptr, {}), (Floats{8, 10, 20, 22}));
  EXPECT_THROW(run_gemm(a, kA, kB, &c_n, {2, 1, 1}), Error);
  const Floats c_3{1, 2, 3};
  EXPECT_THROW(run_gemm(a, kA, kB, &c_3, {3}), Error);
}

TEST(GemmRefFloat32RowMajor, TransposedOperands) {
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      GemmAttrs a;
      a.trans_a = trans_a;
      a.trans_b = trans_b;
      EXPECT_EQ(run_gemm(a, trans_a ? kAT : kA, trans_b ? kBT : kB, nullptr, {}), (Floats{4, 5, 10, 11}))
          << "trans_a " << trans_a << " trans_b " << trans_b;
    }
  }
}

TEST(GemmRefFloat32RowMajor, ResidualThenRelu) {
  // AB + [[-10,0],[0,-20]] = [[-6,5],[10,-9]] -> Relu [[0,5],[10,0]]
  GemmAttrs a;
  a.epilogue.activation.kind = Activation::kRelu;
  a.epilogue.has_residual = true;
  const Floats residual{-10, 0, 0, -20};
  EXPECT_EQ(run_gemm(a, kA, kB, nullptr, {}, &residual), (Floats{0, 5, 10, 0}));
}

Floats run_matmul(const Floats& a, const Dims& a_dims, const Floats& b, const Dims& b_dims, const Dims& y_dims) {
  EXPECT_EQ(kernels::matmul_output_dims(a_dims, b_dims), y_dims);
  Floats y(static_cast<size_t>(numel(y_dims)), -12345.0f);
  kernels::matmul_ref(a.data(), a_dims, b.data(), b_dims, nullptr, {}, y.data());
  return y;
}

TEST(MatMulRefFloat32, MatricesAndOneDimensionalPromotion) {
  EXPECT_EQ(run_matmul(kA, {2, 3}, kB, {3, 2}, {2, 2}), (Floats{4, 5, 10, 11}));
  // [1,2,3] . [4,5,6] = 4 + 10 + 18 = 32, a scalar
  EXPECT_EQ(run_matmul({1, 2, 3}, {3}, {4, 5, 6}, {3}, {}), (Floats{32}));
  // [1,2,3] x B = [1+3, 2+3]
  EXPECT_EQ(run_matmul({1, 2, 3}, {3}, kB, {3, 2}, {2}), (Floats{4, 5}));
  // A x [1,1,1] = row sums [6, 15]
  EXPECT_EQ(run_matmul(kA, {2, 3}, {1, 1, 1}, {3}, {2}), (Floats{6, 15}));
}

TEST(MatMulRefFloat32, BatchDimensionsBroadcast) {
  // A [2,1,1,2]: rows a0 = (1,2), a1 = (3,4); B [3,2,1]: columns b0 = (1,0), b1 = (0,1), b2 = (1,1).
  // Y [2,3,1,1] = a_i . b_j = 1, 2, 3 / 3, 4, 7.
  EXPECT_EQ(run_matmul({1, 2, 3, 4}, {2, 1, 1, 2}, {1, 0, 0, 1, 1, 1}, {3, 2, 1}, {2, 3, 1, 1}),
            (Floats{1, 2, 3, 3, 4, 7}));
  // A [2,2] shared by B's batch of two [2,1] columns (1,1) and (1,-1): A=[[1,2],[3,4]] -> (3,7), (-1,-1).
  EXPECT_EQ(run_matmul({1, 2, 3, 4}, {2, 2}, {1, 1, 1, -1}, {2, 2, 1}, {2, 2, 1}), (Floats{3, 7, -1, -1}));
  EXPECT_THROW(kernels::matmul_output_dims({2, 3}, {2, 3}), Error);
  EXPECT_THROW(kernels::matmul_output_dims({2, 2, 3}, {3, 3, 1}), Error);
}

TEST(MatMulRefFloat32, ResidualAndActivation) {
  // [1,2,3] . [4,5,6] = 32; + residual -40 = -8; LeakyRelu 0.25 -> -2
  const Floats a{1, 2, 3}, b{4, 5, 6}, residual{-40};
  Floats y{0};
  kernels::matmul_ref(a.data(), {1, 3}, b.data(), {3, 1}, residual.data(),
                      ActivationParams{Activation::kLeakyRelu, 0.25f, 0.0f}, y.data());
  EXPECT_EQ(y, (Floats{-2}));
}

// ---- elementwise -----------------------------------------------------------------------------------

Floats run_binary(kernels::BinaryOp op, const Floats& a, const Dims& a_dims, const Floats& b, const Dims& b_dims) {
  const Dims y_dims = kernels::broadcast_shape(a_dims, b_dims, "test");
  Floats y(static_cast<size_t>(numel(y_dims)), -12345.0f);
  kernels::binary_ref(op, a.data(), a_dims, b.data(), b_dims, y.data());
  return y;
}

TEST(BinaryRefFloat32, AddSubMulBroadcast) {
  using kernels::BinaryOp;
  // [2,1] (1,2) with [3] (10,20,30) -> [2,3]
  EXPECT_EQ(run_binary(BinaryOp::kAdd, {1, 2}, {2, 1}, {10, 20, 30}, {3}), (Floats{11, 21, 31, 12, 22, 32}));
  EXPECT_EQ(run_binary(BinaryOp::kSub, {1, 2}, {2, 1}, {10, 20, 30}, {3}), (Floats{-9, -19, -29, -8, -18, -28}));
  EXPECT_EQ(run_binary(BinaryOp::kSub, {10, 20, 30}, {3}, {1, 2}, {2, 1}), (Floats{9, 19, 29, 8, 18, 28}));
  EXPECT_EQ(run_binary(BinaryOp::kMul, {1, 2, 3, 4}, {2, 2}, {2}, {}), (Floats{2, 4, 6, 8}));
  EXPECT_EQ(run_binary(BinaryOp::kMul, {1, 2, 3, 4}, {2, 2}, {5, 7, 1, -1}, {2, 2}), (Floats{5, 14, 3, -4}));
}

TEST(BinaryRefFloat32, RankFourAgainstRankTwo) {
  // a [2,1,1,2] = (1,2), (3,4); b [3,1] = 10, 20, 30 -> y[i][0][j][k] = a[i][k] + b[j], dims [2,1,3,2]
  EXPECT_EQ(run_binary(kernels::BinaryOp::kAdd, {1, 2, 3, 4}, {2, 1, 1, 2}, {10, 20, 30}, {3, 1}),
            (Floats{11, 12, 21, 22, 31, 32, 13, 14, 23, 24, 33, 34}));
}

TEST(BinaryRefFloat32, DivIsIeeeDivision) {
  // a [1,3] = (1, -1, 0) over b [3,1] = (0, 2, 4)
  const Floats y = run_binary(kernels::BinaryOp::kDiv, {1, -1, 0}, {1, 3}, {0, 2, 4}, {3, 1});
  EXPECT_EQ(y[0], kInf);
  EXPECT_EQ(y[1], -kInf);
  EXPECT_TRUE(std::isnan(y[2]));
  EXPECT_EQ(Floats(y.begin() + 3, y.end()), (Floats{0.5f, -0.5f, 0, 0.25f, -0.25f, 0}));
}

TEST(BinaryRefFloat32, ShapesThatDoNotBroadcast) {
  EXPECT_THROW(kernels::broadcast_shape({2, 3}, {2}, "test"), Error);
  EXPECT_EQ(kernels::broadcast_shape({4, 1, 3}, {2, 1}, "test"), (Dims{4, 2, 3}));
}

Floats run_activation(ActivationParams p, const Floats& x) {
  Floats y(x.size(), -12345.0f);
  kernels::activation_ref(p, x.data(), y.data(), static_cast<int64_t>(x.size()));
  return y;
}

TEST(ActivationRefFloat32, EachKind) {
  EXPECT_EQ(run_activation({Activation::kRelu, 0, 0}, {-1, 0, 2}), (Floats{0, 0, 2}));
  EXPECT_EQ(run_activation({Activation::kClip, -1, 1}, {-2, 0.5f, 3}), (Floats{-1, 0.5f, 1}));
  EXPECT_EQ(run_activation({Activation::kLeakyRelu, 0.25f, 0}, {-2, 3}), (Floats{-0.5f, 3}));
  const Floats sig = run_activation({Activation::kSigmoid, 0, 0}, {0, 100, -100});
  EXPECT_EQ(sig[0], 0.5f);
  EXPECT_EQ(sig[1], 1.0f);
  EXPECT_NEAR(sig[2], 0.0f, 1e-40);
  // HardSigmoid 0.25 x + 0.5 clamped: -5 -> 0, 0 -> 0.5, 1 -> 0.75, 5 -> 1
  EXPECT_EQ(run_activation({Activation::kHardSigmoid, 0.25f, 0.5f}, {-5, 0, 1, 5}), (Floats{0, 0.5f, 0.75f, 1}));
  // HardSwish x * clamp(x/6 + 1/2): -4 -> 0, -3 -> 0, 0 -> 0, 3 -> 3, 4 -> 4; 1 -> 1 * 2/3
  const Floats hs = run_activation({Activation::kHardSwish, 0, 0}, {-4, -3, 0, 3, 4, 1});
  EXPECT_EQ(Floats(hs.begin(), hs.end() - 1), (Floats{0, 0, 0, 3, 4}));
  EXPECT_FLOAT_EQ(hs.back(), 2.0f / 3.0f);
  EXPECT_EQ(run_activation({Activation::kNone, 0, 0}, {-7, 7}), (Floats{-7, 7}));
}

TEST(BatchNormRefFloat32Nchw, PerChannelInference) {
  // eps 1: channel 0 sqrt(3+1) = 2, channel 1 sqrt(15+1) = 4.
  // c0: (1-1)/2*2+1 = 1, (3-1)/2*2+1 = 3;   c1: (0-4)/4*1+0 = -1, (10-4)/4 = 1.5
  const Floats x{1, 3, 0, 10};
  const Floats scale{2, 1}, bias{1, 0}, mean{1, 4}, var{3, 15};
  Floats y(4, -12345.0f);
  kernels::batchnorm_ref(x.data(), {1, 2, 1, 2}, scale.data(), bias.data(), mean.data(), var.data(), 1.0f, y.data());
  EXPECT_EQ(y, (Floats{1, 3, -1, 1.5f}));
  // Two images, one channel, rank 2: (5-1)/2 = 2, (7-1)/2 = 3.
  const Floats x2{5, 7}, one{1}, zero{0}, three{3};
  Floats y2(2);
  kernels::batchnorm_ref(x2.data(), {2, 1}, one.data(), zero.data(), one.data(), three.data(), 1.0f, y2.data());
  EXPECT_EQ(y2, (Floats{2, 3}));
}

// ---- pooling --------------------------------------------------------------------------------------

PoolAttrs pool_attrs(int64_t kh, int64_t kw, int64_t stride) {
  PoolAttrs a;
  a.kernel_h = kh;
  a.kernel_w = kw;
  a.stride_h = a.stride_w = stride;
  return a;
}

Floats run_pool(bool max, const PoolAttrs& a, const Floats& x, const Dims& x_dims) {
  const int64_t h = x_dims.size() == 4 ? x_dims[2] : 1;
  const int64_t oh = window_output_extent(h, a.kernel_h, a.stride_h, a.pad_top, a.pad_bottom, a.dilation_h, a.ceil_mode);
  const int64_t ow =
      window_output_extent(x_dims.back(), a.kernel_w, a.stride_w, a.pad_left, a.pad_right, a.dilation_w, a.ceil_mode);
  const Dims y_dims{x_dims[0], x_dims[1], oh, ow};
  Floats y(static_cast<size_t>(numel(y_dims)), -12345.0f);
  const Pool2dShape shape = make_pool2d_shape(a, x_dims, y_dims);
  if (max)
    kernels::maxpool2d_ref(shape, x.data(), y.data());
  else
    kernels::avgpool2d_ref(shape, x.data(), y.data());
  return y;
}

TEST(PoolWindow, OutputExtentFloorCeilAndTheLastWindowRule) {
  EXPECT_EQ(window_output_extent(5, 2, 2, 0, 0, 1, false), 2);  // (5-2)/2 = 1.5 -> 1, + 1
  EXPECT_EQ(window_output_extent(5, 2, 2, 0, 0, 1, true), 3);   // ceil 2, + 1; last start 4 < 5
  // in 4, pad_end 1, kernel 2, stride 2: ceil((4+1-2)/2) + 1 = 3, but window 2 would start at 4,
  // past the input and the (zero) left padding, so ONNX drops it.
  EXPECT_EQ(window_output_extent(4, 2, 2, 0, 1, 1, true), 2);
  EXPECT_EQ(window_output_extent(4, 2, 2, 0, 1, 1, false), 2);
  EXPECT_EQ(window_output_extent(5, 3, 1, 0, 0, 2, false), 1);  // dilated span 5
  EXPECT_EQ(window_output_extent(2, 3, 1, 0, 0, 1, false), 0);  // does not fit
}

TEST(MaxPoolRefFloat32Nchw, CeilModePaddingNeverWins) {
  // -(1..9) in 3x3, kernel 2, stride 2, ceil_mode: 2x2 windows, the right column and bottom row
  // windows hang over the input. If the overhang counted as 0 it would win; it must not.
  //   (0,0) max(-1,-2,-4,-5) = -1, (0,1) max(-3,-6) = -3, (1,0) max(-7,-8) = -7, (1,1) = -9
  PoolAttrs a = pool_attrs(2, 2, 2);
  a.ceil_mode = true;
  const Floats x{-1, -2, -3, -4, -5, -6, -7, -8, -9};
  EXPECT_EQ(run_pool(true, a, x, {1, 1, 3, 3}), (Floats{-1, -3, -7, -9}));
  a.ceil_mode = false;
  EXPECT_EQ(run_pool(true, a, x, {1, 1, 3, 3}), (Floats{-1}));
  // With explicit zero padding (pad 1, kernel 3, stride 2): still only real cells compete.
  PoolAttrs padded = pool_attrs(3, 3, 2);
  padded.pad_top = padded.pad_left = padded.pad_bottom = padded.pad_right = 1;
  EXPECT_EQ(run_pool(true, padded, x, {1, 1, 3, 3}), (Floats{-1, -2, -4, -5}));
}

TEST(MaxPoolRefFloat32Nchw, Dilation) {
  // 5 1 4 2 3, kernel 1x2, dilation 2: max(x0,x2) = 5, max(x1,x3) = 2, max(x2,x4) = 4
  PoolAttrs a = pool_attrs(1, 2, 1);
  a.dilation_w = 2;
  EXPECT_EQ(run_pool(true, a, {5, 1, 4, 2, 3}, {1, 1, 1, 5}), (Floats{5, 2, 4}));
}

TEST(AveragePoolRefFloat32Nchw, CeilModeOverhangNeverCounts) {
  // 1..9 in 3x3, kernel 2, stride 2, ceil_mode, no pads. Window (0,1) covers column 2 and the
  // overhang column 3: (3+6)/2 = 4.5 in both modes; (0,0) = 12/4 = 3, (1,0) = (7+8)/2, (1,1) = 9.
  const Floats x{1, 2, 3, 4, 5, 6, 7, 8, 9};
  for (bool include_pad : {false, true}) {
    PoolAttrs a = pool_attrs(2, 2, 2);
    a.ceil_mode = true;
    a.count_include_pad = include_pad;
    EXPECT_EQ(run_pool(false, a, x, {1, 1, 3, 3}), (Floats{3, 4.5f, 7.5f, 9})) << "count_include_pad " << include_pad;
  }
}

TEST(AveragePoolRefFloat32Nchw, CountIncludePadCountsPadding) {
  // 1..9, kernel 3, stride 1, pad 1 all round -> 3x3.
  //   include pad: every window counts 9: (0,0) = (1+2+4+5)/9 = 12/9, (0,1) = 21/9, (1,1) = 45/9 = 5
  //   exclude pad: (0,0) = 12/4 = 3, (0,1) = 21/6 = 3.5, (1,1) = 5
  const Floats x{1, 2, 3, 4, 5, 6, 7, 8, 9};
  PoolAttrs a = pool_attrs(3, 3, 1);
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = 1;
  a.count_include_pad = true;
  const Floats with_pad = run_pool(false, a, x, {1, 1, 3, 3});
  EXPECT_FLOAT_EQ(with_pad[0], 12.0f / 9.0f);
  EXPECT_FLOAT_EQ(with_pad[1], 21.0f / 9.0f);
  EXPECT_EQ(with_pad[4], 5.0f);
  a.count_include_pad = false;
  const Floats without_pad = run_pool(false, a, x, {1, 1, 3, 3});
  EXPECT_EQ(without_pad[0], 3.0f);
  EXPECT_EQ(without_pad[1], 3.5f);
  EXPECT_EQ(without_pad[4], 5.0f);
  EXPECT_EQ(without_pad[8], (5 + 6 + 8 + 9) / 4.0f);
}

TEST(AveragePoolRefFloat32Nchw, CeilModeWithPadsCountsPadsButNotOverhang) {
  // 1 2 3 4 (H = 1), kernel 3, stride 2, pads 1 / 1, ceil_mode: OW = ceil((4+2-3)/2) + 1 = 3.
  // Padded input spans columns [-1, 5). Windows: {-1,0,1}, {1,2,3}, {3,4,5}; column 5 is overhang.
  //   include pad: (1+2)/3 = 1, (2+3+4)/3 = 3, 4/2 = 2   (window 3 counts columns 3 and 4)
  //   exclude pad: (1+2)/2 = 1.5, 3, 4/1 = 4
  PoolAttrs a = pool_attrs(1, 3, 2);
  a.pad_left = a.pad_right = 1;
  a.ceil_mode = true;
  a.count_include_pad = true;
  EXPECT_EQ(run_pool(false, a, {1, 2, 3, 4}, {1, 1, 1, 4}), (Floats{1, 3, 2}));
  a.count_include_pad = false;
  EXPECT_EQ(run_pool(false, a, {1, 2, 3, 4}, {1, 1, 1, 4}), (Floats{1.5f, 3, 4}));
}

TEST(GlobalPoolRefFloat32, RankThreeAndFive) {
  // [1, 2, 3]: channel 0 = 1 2 3 (mean 2, max 3), channel 1 = 4 5 9 (mean 6, max 9)
  const Floats x{1, 2, 3, 4, 5, 9};
  Floats y(2);
  kernels::global_avgpool_ref(x.data(), {1, 2, 3}, y.data());
  EXPECT_EQ(y, (Floats{2, 6}));
  kernels::global_maxpool_ref(x.data(), {1, 2, 3}, y.data());
  EXPECT_EQ(y, (Floats{3, 9}));
  // [2, 1, 2, 1, 2]: image 0 = 1 2 3 6 (mean 3, max 6), image 1 = -1 -2 -3 -6 (mean -3, max -1)
  const Floats x5{1, 2, 3, 6, -1, -2, -3, -6};
  kernels::global_avgpool_ref(x5.data(), {2, 1, 2, 1, 2}, y.data());
  EXPECT_EQ(y, (Floats{3, -3}));
  kernels::global_maxpool_ref(x5.data(), {2, 1, 2, 1, 2}, y.data());
  EXPECT_EQ(y, (Floats{6, -1}));
  EXPECT_THROW(kernels::global_avgpool_ref(x.data(), {2, 3}, y.data()), Error);
}

// ---- data movement and softmax ---------------------------------------------------------------------

TEST(TransposeRef, MatrixRankThreeAndDefaultPerm) {
  const Floats x{1, 2, 3, 4, 5, 6};  // [[1,2,3],[4,5,6]]
  Floats y(6);
  kernels::transpose_ref(x.data(), {2, 3}, {1, 0}, sizeof(float), y.data());
  EXPECT_EQ(y, (Floats{1, 4, 2, 5, 3, 6}));
  std::fill(y.begin(), y.end(), 0.0f);
  kernels::transpose_ref(x.data(), {2, 3}, {}, sizeof(float), y.data());  // empty perm reverses
  EXPECT_EQ(y, (Floats{1, 4, 2, 5, 3, 6}));
  // x[i][j][k] = 6i + 2j + k, dims [2,3,2]; perm (2,0,1): y[a][b][c] = x[b][c][a] = 6b + 2c + a, dims [2,2,3]
  std::vector<int64_t> x3(12), y3(12);
  for (int64_t i = 0; i < 12; ++i) x3[static_cast<size_t>(i)] = i;
  EXPECT_EQ(kernels::transpose_output_dims({2, 3, 2}, {2, 0, 1}), (Dims{2, 2, 3}));
  kernels::transpose_ref(x3.data(), {2, 3, 2}, {2, 0, 1}, sizeof(int64_t), y3.data());
  EXPECT_EQ(y3, (std::vector<int64_t>{0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11}));
  EXPECT_THROW(kernels::transpose_output_dims({2, 3}, {0, 0}), Error);
}

TEST(ConcatRef, AxisZeroAndOne) {
  const Floats a{1, 2}, b{3, 4, 5, 6};
  Floats y(6);
  kernels::concat_ref({a.data(), b.data()}, {{1, 2}, {2, 2}}, 0, sizeof(float), y.data());
  EXPECT_EQ(y, (Floats{1, 2, 3, 4, 5, 6}));
  // a [2,1] = (1; 2), b [2,2] = (3 4; 5 6) along axis 1 -> (1 3 4; 2 5 6)
  kernels::concat_ref({a.data(), b.data()}, {{2, 1}, {2, 2}}, 1, sizeof(float), y.data());
  EXPECT_EQ(y, (Floats{1, 3, 4, 2, 5, 6}));
  EXPECT_EQ(kernels::concat_output_dims({{2, 1}, {2, 2}}, 1), (Dims{2, 3}));
  EXPECT_THROW(kernels::concat_output_dims({{2, 1}, {3, 2}}, 1), Error);
}

// Softmax tolerance: the inputs log(2), log(3), log(5) are rounded to float (relative 2^-24) and
// exp, the sum and the division round a few times more; 4e-7 is about 6 ulp at 0.5.
constexpr double kSoftmaxTolerance = 4e-7;

TEST(SoftmaxRefFloat32, SingleAxisAndCoerce2d) {
  Floats y(3);
  // exp(0), exp(ln 2), exp(ln 3) = 1, 2, 3 -> 1/6, 2/6, 3/6
  const Floats x{0.0f, std::log(2.0f), std::log(3.0f)};
  kernels::softmax_ref(x.data(), {1, 3}, 1, false, y.data());
  EXPECT_NEAR(y[0], 1.0 / 6, kSoftmaxTolerance);
  EXPECT_NEAR(y[1], 2.0 / 6, kSoftmaxTolerance);
  EXPECT_NEAR(y[2], 3.0 / 6, kSoftmaxTolerance);
  // 1000 twice: without subtracting the max, exp overflows to inf and inf/inf = NaN.
  const Floats big{1000, 1000};
  Floats y2(2);
  kernels::softmax_ref(big.data(), {2}, 0, false, y2.data());
  EXPECT_EQ(y2, (Floats{0.5f, 0.5f}));
  // dims [1,2,2], axis 1 pairs x[0][0][k] with x[0][1][k]: k = 0: (0, ln 3) -> 1/4, 3/4; k = 1: (1, 1) -> 1/2, 1/2
  const Floats mid{0.0f, 1.0f, std::log(3.0f), 1.0f};
  Floats y4(4);
  kernels::softmax_ref(mid.data(), {1, 2, 2}, 1, false, y4.data());
  EXPECT_NEAR(y4[0], 0.25, kSoftmaxTolerance);
  EXPECT_EQ(y4[1], 0.5f);
  EXPECT_NEAR(y4[2], 0.75, kSoftmaxTolerance);
  EXPECT_EQ(y4[3], 0.5f);
  // coerce_2d at axis 0 over [2,2]: one row of 4: exp 1, 1, 1, 5 -> 1/8, 1/8, 1/8, 5/8;
  // the single-axis form would normalise columns instead: (0,0) -> 1/2, 1/2.
  const Floats flat{0.0f, 0.0f, 0.0f, std::log(5.0f)};
  kernels::softmax_ref(flat.data(), {2, 2}, 0, true, y4.data());
  EXPECT_NEAR(y4[0], 0.125, kSoftmaxTolerance);
  EXPECT_NEAR(y4[2], 0.125, kSoftmaxTolerance);
  EXPECT_NEAR(y4[3], 0.625, kSoftmaxTolerance);
  kernels::softmax_ref(flat.data(), {2, 2}, 0, false, y4.data());
  EXPECT_EQ(y4[0], 0.5f);
  EXPECT_EQ(y4[2], 0.5f);
}

TEST(PadRefFloat32, ConstantPadAndNegativeCrop) {
  // [[1,2,3],[4,5,6]], pads begin (1, -1), end (0, 1), value 9: a row of 9s on top, the first
  // column cropped, a column of 9s on the right -> [3, 3]
  const Floats x{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(kernels::pad_output_dims({2, 3}, {1, -1, 0, 1}), (Dims{3, 3}));
  Floats y(9, -12345.0f);
  kernels::pad_ref(x.data(), {2, 3}, {1, -1, 0, 1}, 9.0f, y.data());
  EXPECT_EQ(y, (Floats{9, 9, 9, 2, 3, 9, 5, 6, 9}));
  EXPECT_THROW(kernels::pad_output_dims({2, 3}, {0, -2, 0, -2}), Error);
  EXPECT_THROW(kernels::pad_output_dims({2, 3}, {0, 0}), Error);
}

TEST(CopyRef, SameBytes) {
  const std::vector<int8_t> x{1, -2, 3};
  std::vector<int8_t> y(3);
  kernels::copy_ref(x.data(), 3, y.data());
  EXPECT_EQ(y, x);
}

}  // namespace
}  // namespace octet
