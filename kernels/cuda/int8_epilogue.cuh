// The INT8 conv/GEMM epilogue on the device (quantize/qscheme.h), shared by every tactic so the stores
// are written once: given the int32 accumulator of output (pixel, k), read the residual, evaluate
// quant::epilogue_value and store int8 NHWCp or float NCHW (kernels/cuda/conv_int8_cuda.h).
// pixel = (n*OH + oh)*OW + ow, the row of the implicit GEMM.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/cuda/conv_int8_cuda.h"
#include "kernels/int8_layout.h"
#include "quantize/qscheme.h"

namespace octet::kernels {

// The fields of Int8ConvCudaArgs a store needs, with 32-bit sizes (kernels index below 2^31 elements).
struct Int8OutputView {
  Int8ConvEpilogue epilogue;
  void* out = nullptr;
  int32_t k = 0, kp = 0;  // output channels, padded
  int32_t pixels_per_image = 0;  // OH * OW
  // 16 when an INT8 output allows 16-channel stores (Kp % 16 == 0, out and an INT8 residual 16-byte
  // aligned), else 4 (always possible). Float outputs store element by element and ignore it.
  int32_t vector_width = 4;
  // 1 / output_scale (an IEEE division on the host) when quant::quantize_by_reciprocal gives the
  // quotient exactly for this scale and the epilogue has no rounding inside (explicitly quantized
  // models), else 0: the vector store then takes its general path (store_int8_conv_output_vec).
  float output_reciprocal = 0.0f;
};

inline Int8OutputView make_int8_output_view(const Int8ConvCudaArgs& args) {
  Int8OutputView v;
  v.epilogue = args.epilogue;
  v.out = args.out;
  v.k = static_cast<int32_t>(args.shape.k);
  v.kp = static_cast<int32_t>(padded_channels(args.shape.k));
  v.pixels_per_image = static_cast<int32_t>(args.shape.oh * args.shape.ow);
  const auto aligned16 = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  v.vector_width = v.kp % 16 == 0 && aligned16(v.out) && aligned16(v.epilogue.residual_int8) ? 16 : 4;
  if (args.epilogue.output_int8 && !args.epilogue.rounding.any() &&
      quant::quotient_by_reciprocal_exact(args.epilogue.output_scale))
    v.output_reciprocal = 1.0f / args.epilogue.output_scale;
  return v;
}

// Index of output (pixel, k) in the float NCHW layout (a float output, an FP32 residual). Only those
// need the integer division; INT8 NHWCp outputs and residuals index as pixel * Kp + k.
__device__ inline int64_t nchw_index(const Int8OutputView& v, int32_t pixel, int32_t k) {
  const int32_t n = pixel / v.pixels_per_image;
  const int32_t p = pixel - n * v.pixels_per_image;
  return (static_cast<int64_t>(n) * v.k + k) * v.pixels_per_image + p;
}

// Calls f(std::integral_constant<Activation, K>{}) with K = kind for the activations INT8 layers fuse
// most (ReLU, Clip/ReLU6, LeakyReLU, and SiLU: YOLOv5/v8's and EfficientNet's every convolution), and
// with K = kAnyActivation (the runtime switch) for the others: kernels choose the activation once,
// outside their element loops, so a loop body holds one activation instead of the whole switch of
// apply_activation inlined per element, and each loop is compiled six times, not eleven (the loops
// are most of the kernels' code; code that large thrashes the instruction cache).
template <class F>
__device__ __forceinline__ void with_activation(Activation kind, F&& f) {
  using A = Activation;
  switch (kind) {
    case A::kNone: f(std::integral_constant<A, A::kNone>{}); return;
    case A::kRelu: f(std::integral_constant<A, A::kRelu>{}); return;
    case A::kClip: f(std::integral_constant<A, A::kClip>{}); return;
    case A::kLeakyRelu: f(std::integral_constant<A, A::kLeakyRelu>{}); return;
    case A::kXSigmoid: f(std::integral_constant<A, A::kXSigmoid>{}); return;
    default: f(std::integral_constant<A, kAnyActivation>{}); return;
  }
}

// k < v.k, v.epilogue.activation.kind == Kind (or Kind == kAnyActivation). For k in [K, Kp) of an int8
// output call store_int8_pad instead.
template <Activation Kind>
__device__ inline void store_int8_conv_output_as(const Int8OutputView& v, int32_t pixel, int32_t k, int32_t acc) {
  const Int8ConvEpilogue& e = v.epilogue;
  const int64_t nhwc = static_cast<int64_t>(pixel) * v.kp + k;
  float residual = 0.0f;
  if (e.residual_int8) residual = quant::dequantize(e.residual_int8[nhwc], e.residual_scale);
  if (e.residual_f32) residual = e.residual_f32[nchw_index(v, pixel, k)];
  const float bias = e.bias ? e.bias[k] : 0.0f;
  const float y = quant::epilogue_value_as<Kind>(acc, e.combined_scale[k], bias, residual, e.activation, e.rounding);
  if (e.output_int8) {
    static_cast<int8_t*>(v.out)[nhwc] = quant::quantize(y, e.output_scale);
  } else {
    static_cast<float*>(v.out)[nchw_index(v, pixel, k)] = y;
  }
}

// store_int8_conv_output_as for a kernel that stores one element per thread (no loop to hoist from).
__device__ inline void store_int8_conv_output(const Int8OutputView& v, int32_t pixel, int32_t k, int32_t acc) {
  with_activation(v.epilogue.activation.kind,
                  [&](auto kind) { store_int8_conv_output_as<decltype(kind)::value>(v, pixel, k, acc); });
}

// V consecutive bytes, V-byte aligned: one load or store of V channels of an NHWCp pixel.
template <int V>
struct alignas(V) Int8Vector {
  int8_t v[V];
};

// The per-channel constants of channels k0 .. k0 + V - 1 (combined scale, bias or 0); 0 for channels
// at or past K, whose outputs are pad zeros. A kernel whose thread keeps the same channels for many
// pixels loads them once.
template <int V>
struct ChannelConstants {
  float scale[V];
  float bias[V];
};

template <int V>
__device__ inline ChannelConstants<V> load_channel_constants(const Int8OutputView& v, int32_t k0) {
  ChannelConstants<V> c;
#pragma unroll
  for (int i = 0; i < V; ++i) {
    const int32_t k = k0 + i;
    c.scale[i] = k < v.k ? v.epilogue.combined_scale[k] : 0.0f;
    c.bias[i] = k < v.k && v.epilogue.bias ? v.epilogue.bias[k] : 0.0f;
  }
  return c;
}

// The V-byte residual of pixel `pixel`, channels k0 .. (zeros when the layer has no INT8 residual).
template <int V>
__device__ inline Int8Vector<V> load_residual_vec(const Int8OutputView& v, int32_t pixel, int32_t k0) {
  Int8Vector<V> residual{};
  if (v.epilogue.residual_int8)
    residual = *reinterpret_cast<const Int8Vector<V>*>(v.epilogue.residual_int8 +
                                                       static_cast<int64_t>(pixel) * v.kp + k0);
  return residual;
}

// V consecutive channels k0 .. k0 + V - 1 of one pixel of an INT8 output (k0 % V == 0, k0 < K, and
// k0 + V <= Kp; activation kind Kind): the same values as V store_int8_conv_output / store_int8_pad
// calls, from the channels' constants and the pixel's INT8 residual, with one V-byte store. V = 4
// always works (NHWCp rows are multiples of 4 bytes and every buffer is 4-byte aligned); V = 16 needs
// Int8OutputView::vector_width 16. Channels at or past K are pad channels and get 0.
template <int V, Activation Kind>
__device__ inline void store_int8_conv_output_vec(const Int8OutputView& v, const ChannelConstants<V>& c,
                                                  int32_t pixel, int32_t k0, const int32_t (&acc)[V],
                                                  const Int8Vector<V>& residual) {
  const Int8ConvEpilogue& e = v.epilogue;
  Int8Vector<V> q;
  if (k0 + V <= v.k && !e.residual_f32 && v.output_reciprocal != 0.0f) {
    // The common case, without per-element branches (instructions bound these epilogues): all V
    // channels are real, the residual, if any, is INT8, the output scale allows the division by its
    // reciprocal (qscheme.h: the same quotient, without the GPU division's per-element range check,
    // branch and reciprocal) and nothing is rounded inside the epilogue. With no residual, `residual`
    // holds zeros and is read with scale 0: r is the +0 the spec adds.
    const float residual_scale = e.residual_int8 ? e.residual_scale : 0.0f;
    const float output_scale = e.output_scale, output_reciprocal = v.output_reciprocal;
#pragma unroll
    for (int i = 0; i < V; ++i) {
      const float r = quant::dequantize(residual.v[i], residual_scale);
      q.v[i] = quant::quantize_by_reciprocal(
          quant::epilogue_value_as<Kind>(acc[i], c.scale[i], c.bias[i], r, e.activation), output_scale,
          output_reciprocal);
    }
  } else {
#pragma unroll
    for (int i = 0; i < V; ++i) {
      const int32_t k = k0 + i;
      if (k >= v.k) {
        q.v[i] = 0;
        continue;
      }
      float r = 0.0f;
      if (e.residual_int8) r = quant::dequantize(residual.v[i], e.residual_scale);
      if (e.residual_f32) r = e.residual_f32[nchw_index(v, pixel, k)];
      q.v[i] = quant::quantize(
          quant::epilogue_value_as<Kind>(acc[i], c.scale[i], c.bias[i], r, e.activation, e.rounding), e.output_scale);
    }
  }
  *reinterpret_cast<Int8Vector<V>*>(static_cast<int8_t*>(v.out) + static_cast<int64_t>(pixel) * v.kp + k0) = q;
}

// The same for a single pixel: loads the constants and the residual itself.
template <int V, Activation Kind>
__device__ inline void store_int8_conv_output_vec(const Int8OutputView& v, int32_t pixel, int32_t k0,
                                                  const int32_t (&acc)[V]) {
  store_int8_conv_output_vec<V, Kind>(v, load_channel_constants<V>(v, k0), pixel, k0, acc,
                                      load_residual_vec<V>(v, pixel, k0));
}

// Writes the zero of pad channel k (K <= k < Kp) of an int8 output; nothing for a float output.
__device__ inline void store_int8_pad(const Int8OutputView& v, int32_t pixel, int32_t k) {
  if (v.epilogue.output_int8) static_cast<int8_t*>(v.out)[static_cast<int64_t>(pixel) * v.kp + k] = 0;
}


// Where accumulator (row, col) of a staged tile lives: row * pitch + a swizzled column. The 4-word
// chunk c = col / 4 is stored at chunk c ^ ((c / 8) % 4), a permutation inside each aligned group of
// 16 words. Why: store_staged_tile_vec<16> has the 8 threads of a quarter warp read the same 4-word
// piece of 8 consecutive 16-word groups of one row; unswizzled, those land on two bank quads only (a
// 4-way conflict); swizzled, the 8 pieces fall on 8 different bank quads. Writers of 2 consecutive
// words (the MMA accumulator pairs, at even columns) stay inside one chunk, and rows
// pitch = 8 (mod 32) words apart keep their int2 stores conflict-free as before.
__device__ __forceinline__ int32_t staged_word(int32_t row, int32_t col, int32_t pitch) {
  return row * pitch + (col ^ (((col >> 5) & 3) << 2));
}

// The epilogue of a tile of int32 accumulators staged in shared memory: `rows` x `cols` words, (row,
// col) at staging + staged_word(row, col, pitch) (16-byte aligned rows: pitch % 4 == 0; cols % 16 ==
// 0, threads % (cols / V) == 0), for output pixels pixel0 .. and channels
// col0 .. (col0 % V == 0). Threads `thread` of `threads` share the work. INT8 outputs: V channels of
// a pixel per step, consecutive threads on consecutive channel groups (coalesced NHWCp stores); float
// NCHW outputs: one element per step, consecutive threads on consecutive pixels of a channel.
template <int V, Activation Kind>
__device__ inline void store_staged_tile_vec(const Int8OutputView& out, int32_t m, const int32_t* staging,
                                             int32_t pitch, int32_t rows, int32_t cols, int32_t pixel0, int32_t col0,
                                             int32_t thread, int32_t threads) {
  if (out.epilogue.output_int8) {
    // Each thread keeps one group of V channels (threads % (cols / V) == 0) for rows thread / groups,
    // + row_step, ...: their constants are loaded once, and the residual of the next row is loaded
    // before this row's values are computed, so its memory latency overlaps them. One row per
    // iteration and no unrolling: the loop body (V elements) stays small in registers and in code.
    const int32_t groups = cols / V;
    const int32_t col = thread % groups * V, k0 = col0 + col;
    if (k0 >= out.kp) return;
    const int32_t row_step = threads / groups;
    const int32_t last_row = min(rows, m - pixel0);  // rows past the last pixel are not stored
    const ChannelConstants<V> constants = load_channel_constants<V>(out, k0);
    int32_t row = thread / groups;
    Int8Vector<V> residual = row < last_row ? load_residual_vec<V>(out, pixel0 + row, k0) : Int8Vector<V>{};
#pragma unroll 1
    for (; row < last_row; row += row_step) {
      const int32_t next = row + row_step;
      const Int8Vector<V> next_residual =
          next < last_row ? load_residual_vec<V>(out, pixel0 + next, k0) : Int8Vector<V>{};
      int32_t acc[V];
#pragma unroll
      for (int i = 0; i < V; i += 4) {
        const int4 four = *reinterpret_cast<const int4*>(&staging[staged_word(row, col + i, pitch)]);
        acc[i] = four.x, acc[i + 1] = four.y, acc[i + 2] = four.z, acc[i + 3] = four.w;
      }
      store_int8_conv_output_vec<V, Kind>(out, constants, pixel0 + row, k0, acc, residual);
      residual = next_residual;
    }
    return;
  }
  for (int32_t idx = thread; idx < rows * cols; idx += threads) {
    const int32_t row = idx % rows, col = idx / rows;
    const int32_t pixel = pixel0 + row, k = col0 + col;
    if (pixel < m && k < out.k) store_int8_conv_output_as<Kind>(out, pixel, k, staging[staged_word(row, col, pitch)]);
  }
}

// store_staged_tile_vec with the view's vector width (at most MaxV: a kernel whose accumulators stay
// live through its epilogue passes 4 to leave registers for them) and activation (cols % 16 == 0,
// col0 % 16 == 0).
template <int MaxV = 16>
__device__ inline void store_staged_tile(const Int8OutputView& out, int32_t m, const int32_t* staging, int32_t pitch,
                                         int32_t rows, int32_t cols, int32_t pixel0, int32_t col0, int32_t thread,
                                         int32_t threads) {
  with_activation(out.epilogue.activation.kind, [&](auto kind) {
    constexpr Activation kKind = decltype(kind)::value;
    if constexpr (MaxV == 16) {
      if (out.vector_width == 16)
        return store_staged_tile_vec<16, kKind>(out, m, staging, pitch, rows, cols, pixel0, col0, thread, threads);
    }
    store_staged_tile_vec<4, kKind>(out, m, staging, pitch, rows, cols, pixel0, col0, thread, threads);
  });
}

}  // namespace octet::kernels
