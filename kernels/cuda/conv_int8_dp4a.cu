// INT8 convolution with __dp4a (the kDp4a tactic of kernels/cuda/conv_int8_cuda.h): every Conv2dShape,
// equal to kernels/cpu/int8_ref.h's conv2d_int8_ref bit for bit (integer sums are exact in any order; the
// epilogue is the shared store of kernels/cuda/int8_epilogue.cuh).
//
// Implicit GEMM, per group g:  out[pixel][k] = sum_t A[pixel][t] * B[k][t]
//   pixel = (n*OH + oh)*OW + ow                                    M = N*OH*OW rows
//   t     = (r*S + s)*Cgw + cw, Cgw = Cgp/4 words per filter tap  T = R*S*Cgw words of reduction
//   A[pixel][t] = the word of x at (n, ih, iw), channels g*Cg + 4*cw .. +3 (0 outside the image)
//   B[k][t]     = word t of filter row k, which is contiguous in [K][R][S][Cgp]
// Pad channels are 0 in x and in w, so the padded words add nothing and odd channel counts need no
// special case once the channels of a group start on a word (groups == 1, or Cg % 4 == 0).
//
// Three kernels:
//   conv_dp4a_tiled_kernel    a kBlockM x kBlockN tile of (pixels x output channels) per block, the
//                             reduction walked kBlockK words at a time through shared memory; each
//                             thread keeps a kThreadM x kThreadN micro-tile of int32 accumulators and
//                             issues one __dp4a per accumulator and word. The next tile's global words
//                             are loaded into registers while the current one is multiplied. Used for
//                             groups == 1 and for word-aligned groups with enough filters to fill a tile.
//   conv_dp4a_direct_kernel   one thread per output (pixel, k), the group's channels gathered into words
//                             (int32 loads when Cg % 4 == 0, bytes otherwise). Depthwise and small
//                             groups, where a tile would be mostly empty.
//   conv_vector_int8_kernel   depthwise convolutions (channel multiplier 1) and stems (C <= 4, up to
//                             32 filters): a block per (64 pixels, slice of up to 64 output channels),
//                             the slice's filter words staged in shared memory, a thread per (pixel,
//                             4 or 16 output channels) with one input load and V __dp4a per tap.
// Indices are 32-bit: conv_int8_dp4a_supports refuses tensors of 2^31 elements or more.
#include <cstdint>
#include <initializer_list>
#include <string>

#include "kernels/cuda/conv_int8_cuda.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/int8_epilogue.cuh"
#include "kernels/cuda/kernel_utils.cuh"
#include "kernels/int8_layout.h"

namespace octet::kernels {
namespace gpu {
namespace {

// Conv2dShape narrowed to 32 bits (checked by conv_int8_dp4a_supports), in words where the kernels
// read words.
struct Dp4aConvGeometry {
  int32_t h, w, oh, ow, r, s;
  int32_t stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
  int32_t pixels;             // M = N*OH*OW
  int32_t k, kp;              // output channels, padded
  int32_t groups;
  int32_t channels_per_group;  // Cg
  int32_t filters_per_group;  // K / groups
  int32_t pixel_words;        // Cp / 4: words of one input pixel
  int32_t group_words;        // Cgp / 4: words of one filter tap
  int32_t reduction_words;    // T = R*S*Cgw
  FastDivmod ow_div, oh_div;  // pixel -> (n, oh, ow)
  FastDivmod kp_div;          // direct kernel: linear index -> (pixel, k)
};

// The input image coordinates of an output pixel's window origin.
struct WindowOrigin {
  int32_t image_row;  // n * H: the first row of image n
  int32_t ih0, iw0;   // oh*stride - pad, ow*stride - pad
};

__device__ __forceinline__ WindowOrigin window_origin(const Dp4aConvGeometry& g, uint32_t pixel) {
  uint32_t rest, ow, n, oh;
  g.ow_div.divmod(pixel, rest, ow);
  g.oh_div.divmod(rest, n, oh);
  WindowOrigin o;
  o.image_row = static_cast<int32_t>(n) * g.h;
  o.ih0 = static_cast<int32_t>(oh) * g.stride_h - g.pad_top;
  o.iw0 = static_cast<int32_t>(ow) * g.stride_w - g.pad_left;
  return o;
}

// ---- tiled implicit GEMM (groups == 1 or word-aligned groups) ------------------------------------

// The reduction position t of one thread's load column, kept as (filter row, filter column, word)
// and advanced by kBlockK words per tile without dividing.
struct ReductionCursor {
  int32_t fr = 0, fs = 0, word = 0;

  __device__ __forceinline__ void advance(int32_t words, const Dp4aConvGeometry& g) {
    word += words;
    while (word >= g.group_words) {
      word -= g.group_words;
      if (++fs == g.s) {
        fs = 0;
        ++fr;
      }
    }
  }
  __device__ __forceinline__ bool in_range(const Dp4aConvGeometry& g) const { return fr < g.r; }
};

template <int kBlockM, int kBlockN, int kBlockK, int kThreadM, int kThreadN>
struct TiledConfig {
  static constexpr int kThreads = (kBlockM / kThreadM) * (kBlockN / kThreadN);
  static constexpr int kThreadsN = kBlockN / kThreadN;  // threads along the channel axis
  static constexpr int kRowsPerPass = kThreads / kBlockK;  // tile rows one pass of loads covers
  static constexpr int kALoads = kBlockM / kRowsPerPass;   // words per thread per tile, x
  static constexpr int kBLoads = kBlockN / kRowsPerPass;   // words per thread per tile, w
  // Shared rows padded by 4 words: the stores of a warp (8 words along k, 4 rows) hit 32 banks,
  // and rows stay 16-byte aligned for the int4 reads of the micro-tiles.
  static constexpr int kSharedPad = 4;

  static_assert(kBlockM % kThreadM == 0 && kBlockN % kThreadN == 0, "micro-tiles must tile the block");
  static_assert(kThreadM % 4 == 0 && kThreadN % 4 == 0, "micro-tiles are read from shared memory as int4");
  static_assert(kThreads % kBlockK == 0, "every thread loads one word column");
  static_assert(kBlockM % kRowsPerPass == 0 && kBlockN % kRowsPerPass == 0, "loads must cover the tile");
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "whole warps, one block");
};

__device__ __forceinline__ void unpack(int4 v, int32_t* to) {
  to[0] = v.x;
  to[1] = v.y;
  to[2] = v.z;
  to[3] = v.w;
}

// The tile launched: 64 pixels x 64 channels, 8 words (32 channels) of reduction per step, 256 threads
// with 4 x 4 accumulators each.
constexpr int kTileM = 64, kTileN = 64, kTileK = 8, kThreadTileM = 4, kThreadTileN = 4;
using Tiles = TiledConfig<kTileM, kTileN, kTileK, kThreadTileM, kThreadTileN>;

// x: [N, H, W, Cp/4] words; w: [K][T] words; grid (M tiles, channel tiles, groups).
template <int kBlockM, int kBlockN, int kBlockK, int kThreadM, int kThreadN>
__global__ void __launch_bounds__((TiledConfig<kBlockM, kBlockN, kBlockK, kThreadM, kThreadN>::kThreads))
    conv_dp4a_tiled_kernel(const int32_t* __restrict__ x, const int32_t* __restrict__ w, Dp4aConvGeometry g,
                           Int8OutputView out) {
  using Config = TiledConfig<kBlockM, kBlockN, kBlockK, kThreadM, kThreadN>;
  __shared__ __align__(16) int32_t a_tile[kBlockK][kBlockM + Config::kSharedPad];  // [t][pixel]
  __shared__ __align__(16) int32_t b_tile[kBlockK][kBlockN + Config::kSharedPad];  // [t][filter]

  const int32_t group = static_cast<int32_t>(blockIdx.z);
  const int32_t m0 = static_cast<int32_t>(blockIdx.x) * kBlockM;
  const int32_t j0 = static_cast<int32_t>(blockIdx.y) * kBlockN;  // filter index within the group
  const int32_t first_filter = group * g.filters_per_group;
  const int32_t group_word0 = group * (g.channels_per_group / 4);  // word-aligned: Cg % 4 == 0 or one group

  // Loads: thread tid fetches word column tid % kBlockK of tile rows tid / kBlockK + i * kRowsPerPass.
  const int32_t load_column = static_cast<int32_t>(threadIdx.x) % kBlockK;
  const int32_t load_row = static_cast<int32_t>(threadIdx.x) / kBlockK;
  WindowOrigin a_origin[Config::kALoads];
  bool a_valid[Config::kALoads];
#pragma unroll
  for (int i = 0; i < Config::kALoads; ++i) {
    const int32_t pixel = m0 + load_row + i * Config::kRowsPerPass;
    a_valid[i] = pixel < g.pixels;
    a_origin[i] = window_origin(g, a_valid[i] ? static_cast<uint32_t>(pixel) : 0u);
  }
  int32_t b_row[Config::kBLoads];  // first word of the filter row, -1 past the group's filters
#pragma unroll
  for (int i = 0; i < Config::kBLoads; ++i) {
    const int32_t j = j0 + load_row + i * Config::kRowsPerPass;
    b_row[i] = j < g.filters_per_group ? (first_filter + j) * g.reduction_words : -1;
  }
  ReductionCursor cursor;
  cursor.advance(load_column, g);
  int32_t t = load_column;

  int32_t a_next[Config::kALoads];
  int32_t b_next[Config::kBLoads];
  auto load_tile = [&]() {
    const bool tap_in_range = cursor.in_range(g);
#pragma unroll
    for (int i = 0; i < Config::kALoads; ++i) {
      const int32_t ih = a_origin[i].ih0 + cursor.fr * g.dilation_h;
      const int32_t iw = a_origin[i].iw0 + cursor.fs * g.dilation_w;
      const bool inside = a_valid[i] && tap_in_range && ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
      a_next[i] = inside ? x[((a_origin[i].image_row + ih) * g.w + iw) * g.pixel_words + group_word0 + cursor.word] : 0;
    }
#pragma unroll
    for (int i = 0; i < Config::kBLoads; ++i)
      b_next[i] = (b_row[i] >= 0 && t < g.reduction_words) ? w[b_row[i] + t] : 0;
    cursor.advance(kBlockK, g);
    t += kBlockK;
  };

  const int32_t thread_m = static_cast<int32_t>(threadIdx.x) / Config::kThreadsN * kThreadM;
  const int32_t thread_n = static_cast<int32_t>(threadIdx.x) % Config::kThreadsN * kThreadN;
  int32_t acc[kThreadM][kThreadN] = {};

  const int32_t tiles = (g.reduction_words + kBlockK - 1) / kBlockK;
  load_tile();
  for (int32_t tile = 0; tile < tiles; ++tile) {
#pragma unroll
    for (int i = 0; i < Config::kALoads; ++i) a_tile[load_column][load_row + i * Config::kRowsPerPass] = a_next[i];
#pragma unroll
    for (int i = 0; i < Config::kBLoads; ++i) b_tile[load_column][load_row + i * Config::kRowsPerPass] = b_next[i];
    __syncthreads();
    if (tile + 1 < tiles) load_tile();  // in flight while this tile is multiplied
#pragma unroll
    for (int kk = 0; kk < kBlockK; ++kk) {
      int32_t a[kThreadM], b[kThreadN];
#pragma unroll
      for (int i = 0; i < kThreadM; i += 4) unpack(*reinterpret_cast<const int4*>(&a_tile[kk][thread_m + i]), &a[i]);
#pragma unroll
      for (int j = 0; j < kThreadN; j += 4) unpack(*reinterpret_cast<const int4*>(&b_tile[kk][thread_n + j]), &b[j]);
#pragma unroll
      for (int i = 0; i < kThreadM; ++i)
#pragma unroll
        for (int j = 0; j < kThreadN; ++j) acc[i][j] = __dp4a(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }

  // Columns past the group's filters are the output's pad channels [K, Kp) when this is the last group.
  const bool last_group = group + 1 == g.groups;
  // One group and an INT8 output: each thread's kThreadN consecutive filters start at a multiple of 4,
  // so they are whole NHWCp quads (pad channels included) stored 4 bytes at a time.
  const bool quads = g.groups == 1 && out.epilogue.output_int8;
  with_activation(out.epilogue.activation.kind, [&](auto kind) {
    constexpr Activation kKind = decltype(kind)::value;
#pragma unroll
    for (int i = 0; i < kThreadM; ++i) {
      const int32_t pixel = m0 + thread_m + i;
      if (pixel >= g.pixels) continue;
      if (quads) {
#pragma unroll
        for (int j = 0; j < kThreadN; j += 4) {
          const int32_t k0 = j0 + thread_n + j;
          const int32_t quad[4] = {acc[i][j], acc[i][j + 1], acc[i][j + 2], acc[i][j + 3]};
          if (k0 < g.kp) store_int8_conv_output_vec<4, kKind>(out, pixel, k0, quad);
        }
        continue;
      }
#pragma unroll
      for (int j = 0; j < kThreadN; ++j) {
        const int32_t filter = j0 + thread_n + j;
        const int32_t k = first_filter + filter;
        if (filter < g.filters_per_group) {
          store_int8_conv_output_as<kKind>(out, pixel, k, acc[i][j]);
        } else if (last_group && k < g.kp) {
          store_int8_pad(out, pixel, k);
        }
      }
    }
  });
}

// ---- direct kernel (any group size, depthwise) ----------------------------------------------------

// Word `word` of a group's channels at one input pixel, bytes past the group's Cg channels 0 (they
// meet zero weights, but they belong to the next group or lie past the tensor).
template <bool kWordAligned>
__device__ __forceinline__ int32_t group_word(const int8_t* __restrict__ pixel_channels, int32_t word,
                                              int32_t channels_per_group) {
  if (kWordAligned) return reinterpret_cast<const int32_t*>(pixel_channels)[word];
  uint32_t packed = 0;
#pragma unroll
  for (int b = 0; b < 4; ++b) {
    const int32_t c = word * 4 + b;
    const uint32_t byte = c < channels_per_group ? static_cast<uint8_t>(pixel_channels[c]) : 0u;
    packed |= byte << (8 * b);
  }
  return static_cast<int32_t>(packed);
}

// x: [N, H, W, Cp] bytes; w: [K][T] words; one thread per (pixel, k < Kp), k fastest so a warp's
// stores (and, depthwise, its loads) are neighbouring channels.
template <bool kWordAligned>
__global__ void conv_dp4a_direct_kernel(const int8_t* __restrict__ x, const int32_t* __restrict__ w,
                                        Dp4aConvGeometry g, Int8OutputView out, uint32_t total) {
  const int32_t channels_per_pixel = g.pixel_words * 4;
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t pixel, k;
    g.kp_div.divmod(i, pixel, k);
    if (static_cast<int32_t>(k) >= g.k) {
      store_int8_pad(out, static_cast<int32_t>(pixel), static_cast<int32_t>(k));
      continue;
    }
    const WindowOrigin o = window_origin(g, pixel);
    const int32_t first_channel = static_cast<int32_t>(k) / g.filters_per_group * g.channels_per_group;
    const int32_t* filter = w + static_cast<int32_t>(k) * g.reduction_words;
    int32_t acc = 0;
    for (int32_t fr = 0; fr < g.r; ++fr) {
      const int32_t ih = o.ih0 + fr * g.dilation_h;
      if (ih < 0 || ih >= g.h) continue;
      for (int32_t fs = 0; fs < g.s; ++fs) {
        const int32_t iw = o.iw0 + fs * g.dilation_w;
        if (iw < 0 || iw >= g.w) continue;
        const int8_t* channels = x + ((o.image_row + ih) * g.w + iw) * channels_per_pixel + first_channel;
        const int32_t* tap = filter + (fr * g.s + fs) * g.group_words;
        for (int32_t word = 0; word < g.group_words; ++word)
          acc = __dp4a(group_word<kWordAligned>(channels, word, g.channels_per_group), tap[word], acc);
      }
    }
    store_int8_conv_output(out, static_cast<int32_t>(pixel), static_cast<int32_t>(k), acc);
  }
}

// ---- channel-vector kernel (depthwise, and dense convolutions of one-word pixels) -----------------

// Two convolutions whose reduction per output channel is short enough that tiles would sit mostly
// empty, computed the same way: a thread per (pixel, V consecutive output channels), an input load
// per filter tap, and V __dp4a with filter words staged in shared memory.
//   kDepthwise     groups == C == K: the tap's load is the pixel's channels k0 .. k0 + V - 1 (V bytes),
//                  and the filter word of channel k holds its one weight in the byte where x's word
//                  holds channel k, the other bytes 0, so __dp4a gives the one product x[k] * w[k].
//   kOneWordPixel  groups == 1 and C <= 4 (a network's stem, on RGB): the tap's load is the pixel's
//                  one word, and the filter word of channel k is its 4 weights of that tap.
enum class VectorConv : uint8_t { kDepthwise, kOneWordPixel };

// A block works on one slice of the output channels (blockIdx.y: `slice_vectors` vectors of V
// channels) for kVectorConvPixelLanes pixels at a time, so it stages only its slice's filters:
// staging every channel's filters in every block read 25 * 1,152 bytes per block for EfficientNet's
// last 5x5 layers, more than the block's own input.
constexpr int32_t kVectorConvPixelLanes = 64;
constexpr int32_t kMaxVectorConvSliceVectors = 4;
constexpr int32_t kMaxVectorConvSliceChannels = kMaxVectorConvSliceVectors * 16;

// V channels of one pixel as V / 4 words (channel k0 + 4*i + b in byte b of word i, NHWCp order).
template <int V>
struct alignas(V) Int8Words {
  int32_t w[V / 4];
};

// The filter words of output channels slice_k0 .. slice_k0 + width - 1 in shared memory, the word of
// (tap, channel slice_k0 + j) at tap * width + j, as VectorConv describes; channels at or past K get
// 0. Read from the packed weights [K][R][S][Cgp] (Cgp = 4 in both cases: one word per tap, whose byte
// 0 is the weight when depthwise). Consecutive threads read consecutive taps of one channel
// (consecutive words).
template <VectorConv kConv>
__device__ void stage_vector_conv_filters(const int32_t* __restrict__ w, const Dp4aConvGeometry& g, int32_t slice_k0,
                                          int32_t width, int32_t* filters) {
  const int32_t taps = g.r * g.s;
  for (int32_t i = threadIdx.x; i < taps * width; i += blockDim.x) {
    const int32_t j = i / taps, tap = i - j * taps, k = slice_k0 + j;
    const int32_t word = k < g.k ? w[k * taps + tap] : 0;
    if constexpr (kConv == VectorConv::kDepthwise) {
      filters[tap * width + j] = static_cast<int32_t>((static_cast<uint32_t>(word) & 0xffu) << (8 * (j % 4)));
    } else {
      filters[tap * width + j] = word;
    }
  }
  __syncthreads();
}

// x: [N, H, W, Cp] bytes (Cp = Kp when depthwise, 4 for kOneWordPixel); w: the packed weights; grid
// (pixel blocks, channel slices), blockDim.x = slice_vectors * kVectorConvPixelLanes. Each thread
// keeps V consecutive output channels k0 .. and walks pixels. kR x kS taps when the filter size is
// known at compile time (3x3, 5x5): the taps unroll and their loads are all in flight at once; 0 x 0
// reads g.r x g.s. kPixelsFastest orders the threads pixel-major for a float output, whose NCHW stores
// are then coalesced across the warp; an INT8 output orders them channel-major, so a warp stores
// slice_vectors * V contiguous bytes of each of its pixels (and, depthwise, loads them).
template <VectorConv kConv, int V, bool kPixelsFastest, int kR, int kS>
__global__ void conv_vector_int8_kernel(const int8_t* __restrict__ x, const int32_t* __restrict__ w,
                                        Dp4aConvGeometry g, Int8OutputView out, int32_t slice_vectors) {
  static_assert(V % 4 == 0 && (kR == 0) == (kS == 0), "V is whole words; kR and kS are both known or neither");
  extern __shared__ __align__(16) int32_t filters[];
  const int32_t width = slice_vectors * V, slice_k0 = static_cast<int32_t>(blockIdx.y) * width;
  stage_vector_conv_filters<kConv>(w, g, slice_k0, width, filters);
  const int32_t thread = static_cast<int32_t>(threadIdx.x);
  const int32_t lane = kPixelsFastest ? thread % kVectorConvPixelLanes : thread / slice_vectors;
  const int32_t vector = kPixelsFastest ? thread / kVectorConvPixelLanes : thread % slice_vectors;
  const int32_t k0 = slice_k0 + vector * V;
  if (k0 >= g.kp) return;  // the last slice's unused vectors (after the barrier)
  const int32_t* slice_filters = filters + vector * V;
  const int32_t r = kR ? kR : g.r, s = kS ? kS : g.s;
  const Int8ConvEpilogue& e = out.epilogue;
  const ChannelConstants<V> constants = load_channel_constants<V>(out, k0);
  const int32_t pixel_step = static_cast<int32_t>(gridDim.x) * kVectorConvPixelLanes;
  for (int32_t pixel = static_cast<int32_t>(blockIdx.x) * kVectorConvPixelLanes + lane; pixel < g.pixels;
       pixel += pixel_step) {
    const WindowOrigin o = window_origin(g, static_cast<uint32_t>(pixel));
    int32_t acc[V] = {};
#pragma unroll
    for (int32_t fr = 0; fr < r; ++fr) {
      const int32_t ih = o.ih0 + fr * g.dilation_h;
      const bool row_inside = ih >= 0 && ih < g.h;
#pragma unroll
      for (int32_t fs = 0; fs < s; ++fs) {
        const int32_t iw = o.iw0 + fs * g.dilation_w;
        const bool inside = row_inside && iw >= 0 && iw < g.w;
        const int32_t at = (o.image_row + ih) * g.w + iw;  // the input pixel
        const int32_t* f = slice_filters + (fr * s + fs) * width;
        if constexpr (kConv == VectorConv::kDepthwise) {
          Int8Words<V> xv{};
          if (inside) xv = *reinterpret_cast<const Int8Words<V>*>(x + at * g.kp + k0);
#pragma unroll
          for (int c = 0; c < V; ++c) acc[c] = __dp4a(xv.w[c / 4], f[c], acc[c]);
        } else {
          const int32_t xw = inside ? reinterpret_cast<const int32_t*>(x)[at] : 0;
#pragma unroll
          for (int c = 0; c < V; ++c) acc[c] = __dp4a(xw, f[c], acc[c]);
        }
      }
    }
    // The activation is chosen per pixel around the store only (a uniform branch; a thread has one or
    // a few pixels): the tap loops above are compiled once, not once per activation.
    with_activation(e.activation.kind, [&](auto kind) {
      constexpr Activation kKind = decltype(kind)::value;
      if (e.output_int8) {
        store_int8_conv_output_vec<V, kKind>(out, constants, pixel, k0, acc, load_residual_vec<V>(out, pixel, k0));
        return;
      }
      // Float NCHW: channel k of this pixel at (n*K + k)*OH*OW + p.
      const int32_t n = pixel / out.pixels_per_image;
      const int64_t plane0 = static_cast<int64_t>(n) * out.k * out.pixels_per_image + (pixel - n * out.pixels_per_image);
#pragma unroll
      for (int c = 0; c < V; ++c) {
        const int32_t k = k0 + c;
        if (k >= out.k) break;
        const int64_t at = plane0 + static_cast<int64_t>(k) * out.pixels_per_image;
        float residual = 0.0f;
        if (e.residual_int8)
          residual = quant::dequantize(e.residual_int8[static_cast<int64_t>(pixel) * out.kp + k], e.residual_scale);
        if (e.residual_f32) residual = e.residual_f32[at];
        static_cast<float*>(out.out)[at] = quant::epilogue_value_as<kKind>(acc[c], constants.scale[c], constants.bias[c],
                                                                           residual, e.activation, e.rounding);
      }
    });
  }
}

// ---- launchers -------------------------------------------------------------------------------------

Dp4aConvGeometry make_geometry(const Conv2dShape& s) {
  Dp4aConvGeometry g;
  g.h = static_cast<int32_t>(s.h);
  g.w = static_cast<int32_t>(s.w);
  g.oh = static_cast<int32_t>(s.oh);
  g.ow = static_cast<int32_t>(s.ow);
  g.r = static_cast<int32_t>(s.r);
  g.s = static_cast<int32_t>(s.s);
  g.stride_h = static_cast<int32_t>(s.stride_h);
  g.stride_w = static_cast<int32_t>(s.stride_w);
  g.pad_top = static_cast<int32_t>(s.pad_top);
  g.pad_left = static_cast<int32_t>(s.pad_left);
  g.dilation_h = static_cast<int32_t>(s.dilation_h);
  g.dilation_w = static_cast<int32_t>(s.dilation_w);
  g.pixels = static_cast<int32_t>(s.n * s.oh * s.ow);
  g.k = static_cast<int32_t>(s.k);
  g.kp = static_cast<int32_t>(padded_channels(s.k));
  g.groups = static_cast<int32_t>(s.groups);
  g.channels_per_group = static_cast<int32_t>(s.c_per_group());
  g.filters_per_group = static_cast<int32_t>(s.k_per_group());
  g.pixel_words = static_cast<int32_t>(padded_channels(s.c) / 4);
  g.group_words = static_cast<int32_t>(padded_channels(s.c_per_group()) / 4);
  g.reduction_words = static_cast<int32_t>(s.r * s.s) * g.group_words;
  g.ow_div = FastDivmod(s.ow);
  g.oh_div = FastDivmod(s.oh);
  g.kp_div = FastDivmod(g.kp);
  return g;
}

// A group's channels start on a word when there is one group or Cg is a multiple of 4.
bool groups_word_aligned(const Conv2dShape& s) { return s.groups == 1 || s.c_per_group() % 4 == 0; }

// Tiles pay off when a group has filters enough to fill a good part of a tile's kBlockN columns.
constexpr int64_t kMinFiltersForTiles = 16;
constexpr int64_t kMaxGridY = 65535, kMaxGridZ = 65535;

bool use_tiles(const Conv2dShape& s) {
  return groups_word_aligned(s) && (s.groups == 1 || s.k_per_group() >= kMinFiltersForTiles) &&
         s.groups <= kMaxGridZ;
}

unsigned channel_tiles(const Conv2dShape& s, int64_t block_n) {
  // The last group's blocks also write the output's pad channels.
  const int64_t columns = padded_channels(s.k) - (s.groups - 1) * s.k_per_group();
  return static_cast<unsigned>((columns + block_n - 1) / block_n);
}

void launch_tiled(const Int8ConvCudaArgs& args, const Dp4aConvGeometry& g, const Int8OutputView& out,
                  cudaStream_t stream) {
  const Conv2dShape& s = args.shape;
  const dim3 grid(static_cast<unsigned>((g.pixels + kTileM - 1) / kTileM), channel_tiles(s, kTileN),
                  static_cast<unsigned>(s.groups));
  conv_dp4a_tiled_kernel<kTileM, kTileN, kTileK, kThreadTileM, kThreadTileN><<<grid, Tiles::kThreads, 0, stream>>>(
      reinterpret_cast<const int32_t*>(args.x), reinterpret_cast<const int32_t*>(args.w), g, out);
  OCTET_CUDA_CHECK_LAUNCH("conv_dp4a_tiled_kernel");
}

void launch_direct(const Int8ConvCudaArgs& args, const Dp4aConvGeometry& g, const Int8OutputView& out,
                   cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(g.pixels) * g.kp;
  const auto* w = reinterpret_cast<const int32_t*>(args.w);
  if (groups_word_aligned(args.shape)) {
    conv_dp4a_direct_kernel<true><<<grid_for(total), kThreadsPerBlock, 0, stream>>>(args.x, w, g, out,
                                                                                   static_cast<uint32_t>(total));
  } else {
    conv_dp4a_direct_kernel<false><<<grid_for(total), kThreadsPerBlock, 0, stream>>>(args.x, w, g, out,
                                                                                    static_cast<uint32_t>(total));
  }
  OCTET_CUDA_CHECK_LAUNCH("conv_dp4a_direct_kernel");
}

// Depthwise with channel multiplier 1: C == K == groups (so Cp == Kp and x's pixels are Kp bytes).
bool is_depthwise(const Conv2dShape& s) { return s.groups > 1 && s.c == s.groups && s.k == s.groups; }

// A dense convolution of one-word pixels (C <= 4) with few filters: a stem on RGB (YOLOv8n's 16,
// MobileNetV2's and EfficientNet's 32). With more filters (ResNet's 64, 7x7) the tiles are kept:
// this kernel was not measured against them there.
constexpr int64_t kMaxOneWordPixelFilters = 32;
bool is_one_word_pixel(const Conv2dShape& s) {
  return s.groups == 1 && padded_channels(s.c) == 4 && padded_channels(s.k) <= kMaxOneWordPixelFilters;
}

// A slice's staged filters ([R*S][at most 64] words) fit the shared memory a block gets without
// opting in: filters up to 13 x 13.
bool vector_conv_filters_fit(const Conv2dShape& s) {
  return s.r * s.s * kMaxVectorConvSliceChannels * static_cast<int64_t>(sizeof(int32_t)) <= 48 * 1024;
}

template <VectorConv kConv, int V, bool kPixelsFastest, int kR, int kS>
void launch_vector_kernel(const Int8ConvCudaArgs& args, const Dp4aConvGeometry& g, const Int8OutputView& out,
                          int32_t slice_vectors, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>((g.pixels + kVectorConvPixelLanes - 1) / kVectorConvPixelLanes),
                  static_cast<unsigned>(g.kp / V / slice_vectors));
  const unsigned threads = static_cast<unsigned>(slice_vectors * kVectorConvPixelLanes);
  const auto shared = static_cast<size_t>(g.r * g.s * slice_vectors * V) * sizeof(int32_t);
  conv_vector_int8_kernel<kConv, V, kPixelsFastest, kR, kS><<<grid, threads, shared, stream>>>(
      args.x, reinterpret_cast<const int32_t*>(args.w), g, out, slice_vectors);
  OCTET_CUDA_CHECK_LAUNCH("conv_vector_int8_kernel");
}

template <VectorConv kConv, int V>
void launch_vector_as(const Int8ConvCudaArgs& args, const Dp4aConvGeometry& g, const Int8OutputView& out,
                      cudaStream_t stream) {
  // The widest slice of at most kMaxVectorConvSliceVectors vectors that divides the channels' vectors,
  // so no slice has idle threads (Kp / V is 9 for 144 channels: slices of 3).
  const int32_t vectors = g.kp / V;
  int32_t slice_vectors = kMaxVectorConvSliceVectors;
  while (vectors % slice_vectors != 0) --slice_vectors;
  if (!out.epilogue.output_int8) {  // INT8-in/FP32-out: rare for these layers, one generic kernel
    launch_vector_kernel<kConv, V, true, 0, 0>(args, g, out, slice_vectors, stream);
    return;
  }
  // Unrolled taps only where the networks that pay for them are: 16-channel vectors (channel counts
  // of 16n), 3x3, and 5x5 depthwise (EfficientNet's). Every specialisation is compiled once per
  // epilogue activation, and ptxas time adds up; the rest take the generic kernel.
  if constexpr (V == 16) {
    if (g.r == 3 && g.s == 3) {
      launch_vector_kernel<kConv, V, false, 3, 3>(args, g, out, slice_vectors, stream);
      return;
    }
    if constexpr (kConv == VectorConv::kDepthwise) {
      if (g.r == 5 && g.s == 5) {
        launch_vector_kernel<kConv, V, false, 5, 5>(args, g, out, slice_vectors, stream);
        return;
      }
    }
  }
  launch_vector_kernel<kConv, V, false, 0, 0>(args, g, out, slice_vectors, stream);
}

template <VectorConv kConv>
void launch_vector(const Int8ConvCudaArgs& args, const Dp4aConvGeometry& g, const Int8OutputView& out,
                   cudaStream_t stream) {
  // 16 channels per thread when the rows allow 16-byte loads and stores, else 4 (always possible).
  const bool x_aligned = kConv == VectorConv::kOneWordPixel || reinterpret_cast<uintptr_t>(args.x) % 16 == 0;
  if (out.vector_width == 16 && x_aligned) {
    launch_vector_as<kConv, 16>(args, g, out, stream);
  } else {
    launch_vector_as<kConv, 4>(args, g, out, stream);
  }
}

// a * b * ... without overflow: the product, or kMaxIndex + 1 once it passes kMaxIndex.
int64_t bounded_product(std::initializer_list<int64_t> factors) {
  int64_t product = 1;
  for (int64_t f : factors) {
    if (f < 0) return kMaxIndex + 1;
    if (f != 0 && product > kMaxIndex / f) return kMaxIndex + 1;
    product *= f;
  }
  return product;
}

std::string describe(const Conv2dShape& s) {
  return ::octet::detail::concat("n=", s.n, " c=", s.c, " h=", s.h, " w=", s.w, " k=", s.k, " oh=", s.oh, " ow=", s.ow,
                        " r=", s.r, " s=", s.s, " stride=", s.stride_h, "x", s.stride_w, " pad=", s.pad_top, ",",
                        s.pad_left, " dilation=", s.dilation_h, "x", s.dilation_w, " groups=", s.groups);
}

}  // namespace
}  // namespace gpu

// Products of int8 values summed in int32 stay exact below this many terms (qscheme.h: K * 128 * 128
// < 2^31).
constexpr int64_t kMaxReductionLength = 131071;

bool conv_int8_dp4a_supports(const Conv2dShape& s) {
  using gpu::bounded_product;
  using gpu::kMaxIndex;
  for (int64_t extent : {s.n, s.c, s.h, s.w, s.k, s.oh, s.ow, s.r, s.s, s.stride_h, s.stride_w, s.dilation_h,
                         s.dilation_w, s.groups})
    if (extent < 1 || extent > kMaxIndex) return false;
  if (s.pad_top < 0 || s.pad_left < 0 || s.c % s.groups != 0 || s.k % s.groups != 0) return false;
  if (bounded_product({s.c_per_group(), s.r, s.s}) > kMaxReductionLength) return false;
  // Every index the kernels form: x, w and both output layouts, and the window coordinates.
  if (bounded_product({s.n, s.h, s.w, padded_channels(s.c)}) > kMaxIndex) return false;
  if (bounded_product({s.k, s.r, s.s, padded_channels(s.c_per_group())}) > kMaxIndex) return false;
  if (bounded_product({s.n, s.oh, s.ow, padded_channels(s.k)}) > kMaxIndex) return false;
  if (bounded_product({s.oh, s.stride_h}) + bounded_product({s.r, s.dilation_h}) > kMaxIndex) return false;
  if (bounded_product({s.ow, s.stride_w}) + bounded_product({s.s, s.dilation_w}) > kMaxIndex) return false;
  // Grid limit: channel tiles in y.
  return padded_channels(s.k) / gpu::kTileN < gpu::kMaxGridY;
}

void conv_int8_dp4a(const Int8ConvCudaArgs& args, cudaStream_t stream) {
  const Conv2dShape& s = args.shape;
  if (!conv_int8_dp4a_supports(s)) OCTET_UNSUPPORTED("dp4a: convolution shape not supported: ", gpu::describe(s));
  OCTET_CHECK(args.x && args.w && args.out && args.epilogue.combined_scale,
              "dp4a: x, w, out and combined_scale must be set (", gpu::describe(s), ")");
  OCTET_CHECK(!(args.epilogue.residual_int8 && args.epilogue.residual_f32),
              "dp4a: at most one residual (int8 or float) may be set");
  // Words are read with 32-bit loads.
  OCTET_CHECK(reinterpret_cast<uintptr_t>(args.x) % 4 == 0 && reinterpret_cast<uintptr_t>(args.w) % 4 == 0,
              "dp4a: x and w must be 4-byte aligned (NHWCp / [K][R][S][Cgp] words)");
  const gpu::Dp4aConvGeometry g = gpu::make_geometry(s);
  const Int8OutputView out = make_int8_output_view(args);
  if (gpu::is_depthwise(s) && gpu::vector_conv_filters_fit(s)) {
    gpu::launch_vector<gpu::VectorConv::kDepthwise>(args, g, out, stream);
  } else if (gpu::is_one_word_pixel(s) && gpu::vector_conv_filters_fit(s)) {
    gpu::launch_vector<gpu::VectorConv::kOneWordPixel>(args, g, out, stream);
  } else if (gpu::use_tiles(s)) {
    gpu::launch_tiled(args, g, out, stream);
  } else {
    gpu::launch_direct(args, g, out, stream);
  }
}

}  // namespace octet::kernels
