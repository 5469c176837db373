// Geometry of the spatial kernels, shared by the CPU reference, the CPU fast path and CUDA.
//
// Built once from a node's normalised attributes and its input dims (engine/graph.h), so every
// implementation indexes the same way:
//   conv:  y[n][k][oh][ow] = sum_{c in group(k), r, s} x[n][c][oh*sh - pt + r*dh][ow*sw - pl + s*dw]
//                                                       * w[k][c - group_start][r][s]
//   pool:  window rows ih = oh*sh - pt + i*dh (i < kh), columns likewise; padded cells are skipped
//          (max) or counted only when count_include_pad (average, over cells within the padded
//          input: ONNX counts pads but not the ceil_mode overhang).
#pragma once

#include <cstdint>

#include "engine/graph.h"

namespace octet {

struct Conv2dShape {
  int64_t n = 0, c = 0, h = 0, w = 0;  // input  [N, C, H, W]
  int64_t k = 0, oh = 0, ow = 0;       // output [N, K, OH, OW]
  int64_t r = 1, s = 1;                // kernel [K, C/groups, R, S]
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;

  int64_t c_per_group() const { return c / groups; }
  int64_t k_per_group() const { return k / groups; }
  // MACs of one forward pass for the whole batch.
  int64_t macs() const { return n * k * oh * ow * c_per_group() * r * s; }
};

// x_dims: [N,C,H,W] or [N,C,L] (1-D, H = 1); y_dims likewise.
Conv2dShape make_conv2d_shape(const ConvAttrs& attrs, const Dims& x_dims, const Dims& w_dims,
                              const Dims& y_dims);

// Y[M, N_out] = X[M, K_in] * W^T, W [N_out, K_in]: the convolution with n = M, c = K_in, h = w = 1,
// k = N_out, r = s = 1 (how INT8 Gemm layers run, kernels/int8_conv.h).
Conv2dShape gemm_as_conv2d_shape(int64_t m, int64_t k_in, int64_t n_out);

// The geometry of an INT8 Conv or Gemm node of a built graph (quantize/int8_builder.h: Gemm weights
// [N_out, K_in]).
Conv2dShape int8_layer_shape(const Graph& graph, const Node& node);

struct Pool2dShape {
  int64_t n = 0, c = 0, h = 0, w = 0;
  int64_t oh = 0, ow = 0;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  bool count_include_pad = false;
};

Pool2dShape make_pool2d_shape(const PoolAttrs& attrs, const Dims& x_dims, const Dims& y_dims);

}  // namespace octet
