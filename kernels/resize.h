// Resize of a 4-D NCHW float32 tensor along H and W (ONNX Resize, Upsample), nearest or bilinear, one
// definition compiled for the CPU reference (kernels/cpu/resize_ref.h) and the CUDA kernel
// (kernels/cuda/resize_cuda.h).
//
// Each output element (n, c, y, x) reads plane (n, c) of the input. Along each resized axis (H: y,
// W: x), with `in` and `out` its input and output lengths and `s` its scale (the model's scale, or
// out / in when the model gives sizes), output coordinate x maps to input coordinate x':
//   half_pixel            x' = (x + 0.5) / s - 0.5
//   half_pixel_symmetric  x' = offset + (x + 0.5) / s - 0.5,   offset = in / 2 * (1 - out / (s * in))
//   pytorch_half_pixel    x' = out > 1 ? (x + 0.5) / s - 0.5 : 0
//   tf_half_pixel_for_nn  x' = (x + 0.5) / s
//   align_corners         x' = out > 1 ? x * (in - 1) / (out - 1) : 0
//   asymmetric            x' = x / s
// (half_pixel_symmetric's s * in is the fractional output length the scale asks for; its offset is 0
// when that length is a whole number.)
//
// nearest: the input index is x' rounded by the axis's rule, then clamped to [0, in - 1]. With
// f = floor(x') and t = x' - f:
//   round_prefer_floor  f + (t > 0.5)        ties go down
//   round_prefer_ceil   f + (t >= 0.5)       ties go up
//   floor               f
//   ceil                ceil(x')
// linear: x' is clamped to [0, in - 1] (ONNX pads the input with its edge values); the taps are
// i0 = floor(x') and i1 = min(i0 + 1, in - 1) with weights 1 - t and t, t = x' - i0. Bilinear: each of
// rows i0 and i1 is interpolated along W, then the two results along H:
//   row(i) = v[i][j0] * (1 - tx) + v[i][j1] * tx,   y = row(i0) * (1 - ty) + row(i1) * ty
//
// Every step is a float32 operation written out in the order above: the host compiler contracts
// nothing (strict C++17, no -ffp-contract) and the CUDA files are compiled with --fmad=false, so the
// CUDA kernel equals the CPU reference bit for bit.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/activation.h"  // OCTET_HOST_DEVICE

namespace octet::kernels {

enum class ResizeMode : uint8_t { kNearest, kLinear };

enum class ResizeCoordinate : uint8_t {
  kHalfPixel,
  kHalfPixelSymmetric,
  kPytorchHalfPixel,
  kTfHalfPixelForNn,
  kAlignCorners,
  kAsymmetric,
};

enum class ResizeNearest : uint8_t { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

// One resized axis.
struct ResizeAxis {
  int32_t in = 1;   // input length
  int32_t out = 1;  // output length
  float scale = 1.0f;  // s above
  // How nearest mode rounds on this axis (per axis: Resize-10 and Upsample round by the axis's scale).
  ResizeNearest nearest = ResizeNearest::kRoundPreferFloor;
};

struct ResizeParams {
  ResizeMode mode = ResizeMode::kNearest;
  ResizeCoordinate coordinate = ResizeCoordinate::kHalfPixel;
  ResizeAxis h, w;
};

// x' of output coordinate x on axis a.
OCTET_HOST_DEVICE inline float resize_source_coordinate(ResizeCoordinate c, const ResizeAxis& a, int32_t x) {
  const float xf = static_cast<float>(x);
  switch (c) {
    case ResizeCoordinate::kHalfPixel: return (xf + 0.5f) / a.scale - 0.5f;
    case ResizeCoordinate::kHalfPixelSymmetric: {
      const float in = static_cast<float>(a.in);
      const float offset = in / 2.0f * (1.0f - static_cast<float>(a.out) / (a.scale * in));
      return offset + (xf + 0.5f) / a.scale - 0.5f;
    }
    case ResizeCoordinate::kPytorchHalfPixel: return a.out > 1 ? (xf + 0.5f) / a.scale - 0.5f : 0.0f;
    case ResizeCoordinate::kTfHalfPixelForNn: return (xf + 0.5f) / a.scale;
    case ResizeCoordinate::kAlignCorners:
      return a.out > 1 ? xf * static_cast<float>(a.in - 1) / static_cast<float>(a.out - 1) : 0.0f;
    case ResizeCoordinate::kAsymmetric: return xf / a.scale;
  }
  return xf;
}

OCTET_HOST_DEVICE inline int32_t resize_clamp(int32_t i, int32_t in) { return i < 0 ? 0 : (i > in - 1 ? in - 1 : i); }

// The input index nearest mode reads for x' on axis a.
OCTET_HOST_DEVICE inline int32_t resize_nearest_index(const ResizeAxis& a, float source) {
  const float f = floorf(source);
  const float t = source - f;
  float rounded = f;
  switch (a.nearest) {
    case ResizeNearest::kRoundPreferFloor: rounded = t > 0.5f ? f + 1.0f : f; break;
    case ResizeNearest::kRoundPreferCeil: rounded = t >= 0.5f ? f + 1.0f : f; break;
    case ResizeNearest::kFloor: rounded = f; break;
    case ResizeNearest::kCeil: rounded = ceilf(source); break;
  }
  return resize_clamp(static_cast<int32_t>(rounded), a.in);
}

// The two taps and the weight of the second that linear mode reads for x' on axis a.
struct ResizeTaps {
  int32_t i0, i1;
  float t;  // weight of i1; i0 has 1 - t
};

OCTET_HOST_DEVICE inline ResizeTaps resize_linear_taps(const ResizeAxis& a, float source) {
  const float clamped = fminf(fmaxf(source, 0.0f), static_cast<float>(a.in - 1));
  const float f = floorf(clamped);
  const int32_t i0 = static_cast<int32_t>(f);
  return {i0, i0 + 1 < a.in ? i0 + 1 : i0, clamped - f};
}

// Nearest mode: the input element (row, column) that output element (y, x) of a plane copies.
struct ResizeCell {
  int32_t row, col;
};

OCTET_HOST_DEVICE inline ResizeCell resize_nearest_cell(const ResizeParams& p, int32_t y, int32_t x) {
  return {resize_nearest_index(p.h, resize_source_coordinate(p.coordinate, p.h, y)),
          resize_nearest_index(p.w, resize_source_coordinate(p.coordinate, p.w, x))};
}

// Output element (y, x) of one plane: `plane` is the input plane [p.h.in, p.w.in], row-major.
OCTET_HOST_DEVICE inline float resize_at(const ResizeParams& p, const float* plane, int32_t y, int32_t x) {
  const int64_t width = p.w.in;
  if (p.mode == ResizeMode::kNearest) {
    const ResizeCell cell = resize_nearest_cell(p, y, x);
    return plane[cell.row * width + cell.col];
  }
  const float sy = resize_source_coordinate(p.coordinate, p.h, y);
  const float sx = resize_source_coordinate(p.coordinate, p.w, x);
  const ResizeTaps ty = resize_linear_taps(p.h, sy);
  const ResizeTaps tx = resize_linear_taps(p.w, sx);
  const float* r0 = plane + ty.i0 * width;
  const float* r1 = plane + ty.i1 * width;
  const float row0 = r0[tx.i0] * (1.0f - tx.t) + r0[tx.i1] * tx.t;
  const float row1 = r1[tx.i0] * (1.0f - tx.t) + r1[tx.i1] * tx.t;
  return row0 * (1.0f - ty.t) + row1 * ty.t;
}

}  // namespace octet::kernels
