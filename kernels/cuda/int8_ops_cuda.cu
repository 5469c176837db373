// INT8 layers other than convolution, and the precision-boundary reformats (kernels/cuda/int8_ops_cuda.h),
// equal to their kernels/cpu/int8_ref.h twins bit for bit: every value goes through the same
// quantize/qscheme.h function, and integer window sums are exact in any order.
//
// One thread per output element in a grid-stride loop; for NHWCp outputs the channel is the fastest
// index, so a warp writes neighbouring bytes and (for pools and concat) reads neighbouring bytes of
// the same pixels. Pad channels [C, Cp) of every NHWCp output are written 0 by the thread that owns
// them. Indices are 32-bit (check_index_range) with FastDivmod for the coordinates.
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/int8_ops_cuda.h"
#include "kernels/cuda/kernel_utils.cuh"
#include "kernels/int8_layout.h"
#include "quantize/qscheme.h"

namespace octet::kernels {
namespace gpu {
namespace {

// ---- reformats -------------------------------------------------------------------------------------

// x float NCHW -> y int8 NHWCp, a word (4 channels) per thread; i runs over y's words:
// i = pixel * Cp / 4 + word, pixel = n * HW + hw. For the 3-channel images every network starts
// from, a warp reads 32 neighbouring floats of each plane and writes 32 words.
__global__ void quantize_nchw_to_nhwcp_kernel(const float* __restrict__ x, uint32_t* __restrict__ y, uint32_t total,
                                              FastDivmod words_div, FastDivmod hw_div, uint32_t channels,
                                              float scale) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t pixel, word, n, hw;
    words_div.divmod(i, pixel, word);
    hw_div.divmod(pixel, n, hw);
    uint32_t packed = 0;
#pragma unroll
    for (uint32_t b = 0; b < 4; ++b) {
      const uint32_t c = word * 4 + b;
      if (c < channels)
        packed |= static_cast<uint32_t>(static_cast<uint8_t>(
                      quant::quantize(x[(n * channels + c) * hw_div.divisor + hw], scale)))
                  << (8 * b);
    }
    y[i] = packed;
  }
}

// x int8 NHWCp -> y float NCHW; i runs over y: i = (n * C + c) * HW + hw.
__global__ void dequantize_nhwcp_to_nchw_kernel(const int8_t* __restrict__ x, float* __restrict__ y, uint32_t total,
                                                FastDivmod hw_div, FastDivmod c_div, uint32_t padded, float scale) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t plane, hw, n, c;
    hw_div.divmod(i, plane, hw);
    c_div.divmod(plane, n, c);
    y[i] = quant::dequantize(x[(n * hw_div.divisor + hw) * padded + c], scale);
  }
}

// ---- windowed pools (NHWCp in and out) --------------------------------------------------------------

// Pool2dShape narrowed to 32 bits, and the divisors of an NHWCp output index.
struct Int8PoolGeometry {
  int32_t h, w, c, cp;
  int32_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, pad_bottom, pad_right;
  int32_t dilation_h, dilation_w;
  bool count_include_pad;
  FastDivmod cp_div, ow_div, oh_div;  // i -> (pixel, c), pixel -> (n, oh, ow)
};

// The output element i = ((n*OH + oh)*OW + ow)*Cp + c as coordinates; false for a pad channel.
struct PoolOutput {
  uint32_t c;
  int32_t image_row;  // n * H
  int32_t ih0, iw0;   // window origin in the input
};

__device__ __forceinline__ bool pool_output(const Int8PoolGeometry& g, uint32_t i, PoolOutput& o) {
  uint32_t pixel, rest, ow, n, oh;
  g.cp_div.divmod(i, pixel, o.c);
  if (o.c >= static_cast<uint32_t>(g.c)) return false;
  g.ow_div.divmod(pixel, rest, ow);
  g.oh_div.divmod(rest, n, oh);
  o.image_row = static_cast<int32_t>(n) * g.h;
  o.ih0 = static_cast<int32_t>(oh) * g.stride_h - g.pad_top;
  o.iw0 = static_cast<int32_t>(ow) * g.stride_w - g.pad_left;
  return true;
}

// Max of the window cells inside the input, scale unchanged; -128 (the int8 minimum, the identity of
// max) for a window with no cell inside, as maxpool2d_int8_ref.
// Four channels per thread: i runs over the output's 4-byte quads (Cp % 4 == 0) and __vmaxs4 takes the
// per-byte signed max of whole words; the lanes of pad channels are written 0 afterwards.
__global__ void maxpool2d_int8_kernel(const int8_t* __restrict__ x, int8_t* __restrict__ y, uint32_t total_quads,
                                      Int8PoolGeometry g) {
  const uint32_t* words = reinterpret_cast<const uint32_t*>(x);
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total_quads; i += gridDim.x * blockDim.x) {
    PoolOutput o;
    if (!pool_output(g, i * 4, o)) {
      reinterpret_cast<uint32_t*>(y)[i] = 0;
      continue;
    }
    uint32_t best = 0x80808080u;  // -128 in every lane
    for (int32_t r = 0; r < g.kernel_h; ++r) {
      const int32_t ih = o.ih0 + r * g.dilation_h;
      if (ih < 0 || ih >= g.h) continue;
      for (int32_t s = 0; s < g.kernel_w; ++s) {
        const int32_t iw = o.iw0 + s * g.dilation_w;
        if (iw < 0 || iw >= g.w) continue;
        best = __vmaxs4(best, words[(((o.image_row + ih) * g.w + iw) * g.cp + o.c) / 4]);
      }
    }
    const int32_t real_lanes = min(4, g.c - static_cast<int32_t>(o.c));
    if (real_lanes < 4) best &= (1u << (8 * real_lanes)) - 1u;  // little-endian: lane j is byte j
    reinterpret_cast<uint32_t*>(y)[i] = best;
  }
}

// int32 sum of the cells inside the input; the count is the cells inside the input, or inside the
// padded input when count_include_pad (kernels/shapes.h); quant::average_pool_value; count 0 gives 0.
__global__ void avgpool2d_int8_kernel(const int8_t* __restrict__ x, int8_t* __restrict__ y, uint32_t total,
                                      Int8PoolGeometry g, float input_scale, float output_scale) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    PoolOutput o;
    if (!pool_output(g, i, o)) {
      y[i] = 0;
      continue;
    }
    int32_t sum = 0, inside = 0, inside_padded = 0;
    for (int32_t r = 0; r < g.kernel_h; ++r) {
      const int32_t ih = o.ih0 + r * g.dilation_h;
      const bool row_inside = ih >= 0 && ih < g.h;
      const bool row_padded = ih >= -g.pad_top && ih < g.h + g.pad_bottom;
      for (int32_t s = 0; s < g.kernel_w; ++s) {
        const int32_t iw = o.iw0 + s * g.dilation_w;
        inside_padded += row_padded && iw >= -g.pad_left && iw < g.w + g.pad_right;
        if (row_inside && iw >= 0 && iw < g.w) {
          sum += x[((o.image_row + ih) * g.w + iw) * g.cp + o.c];
          ++inside;
        }
      }
    }
    const int32_t count = g.count_include_pad ? inside_padded : inside;
    y[i] = count == 0 ? int8_t{0} : quant::average_pool_value(sum, count, input_scale, output_scale);
  }
}

// x NHWCp [N, HW, Cp] -> y NHWCp [N, 1, 1, Cp]; a block per (image, kGlobalPoolLanes channels). Its
// kGlobalPoolRows warps each sum every kGlobalPoolRows-th pixel of the plane, lanes on neighbouring
// channels, and the first warp adds the partial sums: integer sums, exact in any order, so the result
// is the reference's whatever the split. (One thread per (n, c) walking the whole plane left a
// [32, 32, 112, 112] pool with 1,024 threads and 0.66 ms on an H100; 8 rows, 0.32 ms.)
constexpr int kGlobalPoolLanes = 32, kGlobalPoolRows = 32;

__global__ void __launch_bounds__(kGlobalPoolLanes * kGlobalPoolRows)
    global_avgpool_int8_kernel(const int8_t* __restrict__ x, int8_t* __restrict__ y, uint32_t padded, uint32_t channels,
                               uint32_t plane, float input_scale, float output_scale) {
  __shared__ int32_t partial[kGlobalPoolRows][kGlobalPoolLanes];
  const uint32_t chunks = (padded + kGlobalPoolLanes - 1) / kGlobalPoolLanes;
  const uint32_t n = blockIdx.x / chunks;
  const uint32_t lane = threadIdx.x % kGlobalPoolLanes, row = threadIdx.x / kGlobalPoolLanes;
  const uint32_t c = (blockIdx.x - n * chunks) * kGlobalPoolLanes + lane;
  int32_t sum = 0;
  if (c < channels) {
    const int8_t* xp = x + n * plane * padded + c;
#pragma unroll 4
    for (uint32_t p = row; p < plane; p += kGlobalPoolRows) sum += xp[p * padded];
  }
  partial[row][lane] = sum;
  __syncthreads();
  if (row != 0 || c >= padded) return;
  for (int r = 1; r < kGlobalPoolRows; ++r) sum += partial[r][lane];
  y[n * padded + c] = c < channels ? quant::average_pool_value(sum, static_cast<int32_t>(plane), input_scale, output_scale)
                                   : int8_t{0};
}

// x, y NHWCp [N, HW, Cp]; one thread per 4 channels of a pixel (a word: NHWCp rows are whole words),
// y = quant::quantize(quant::dequantize(x, input_scale) * gate[n][c], output_scale), pad channels 0.
__global__ void channel_scale_int8_kernel(const char4* __restrict__ x, const float* __restrict__ gate, bool gate_batched,
                                          char4* __restrict__ y, uint32_t total, FastDivmod words_div,
                                          FastDivmod plane_div, uint32_t channels, float input_scale,
                                          float output_scale) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t pixel, word, n, p;
    words_div.divmod(i, pixel, word);
    plane_div.divmod(pixel, n, p);
    const float* g = gate + (gate_batched ? n * channels : 0);
    const char4 in = x[i];
    const int8_t xs[4] = {in.x, in.y, in.z, in.w};
    int8_t ys[4];
#pragma unroll
    for (int b = 0; b < 4; ++b) {
      const uint32_t c = word * 4 + b;
      ys[b] = c < channels ? quant::quantize(quant::dequantize(xs[b], input_scale) * g[c], output_scale) : int8_t{0};
    }
    y[i] = make_char4(ys[0], ys[1], ys[2], ys[3]);
  }
}

// ---- concat ----------------------------------------------------------------------------------------

// Up to kConcatInputsPerLaunch inputs of a Concat, written by one launch: `first[i]` is the output
// channel of input i's channel 0 (first[count] ends the batch), `padded[i]` its Cp.
constexpr int kConcatInputsPerLaunch = 8;
struct Int8ConcatBatch {
  const int8_t* x[kConcatInputsPerLaunch] = {};
  float scale[kConcatInputsPerLaunch] = {};
  uint32_t padded[kConcatInputsPerLaunch] = {};
  uint32_t first[kConcatInputsPerLaunch + 1] = {};
  uint32_t count = 0;
};

// Bytes channels at a time, one output chunk per thread: i runs over (pixel, chunk of the batch's
// channels [first[0], first[count]), and on the last batch its pad too, to Cp). Bytes divides every input's channel count (so a chunk lies inside one
// input, or in the pad) and a chunk is Bytes-aligned in x and y (the host checks the pointers):
// y[pixel * Cp_out + c] = requantize(x_j[pixel * Cp_j + c - first[j]]) for the input j holding c.
template <int Bytes>
__global__ void concat_int8_kernel(const Int8ConcatBatch batch, int8_t* __restrict__ y, uint32_t total,
                                   FastDivmod chunks_div, uint32_t y_padded, float output_scale) {
  struct alignas(Bytes) Chunk {
    int8_t b[Bytes];
  };
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t pixel, chunk;
    chunks_div.divmod(i, pixel, chunk);
    const uint32_t c = batch.first[0] + chunk * Bytes;
    Chunk v{};
    if (c < batch.first[batch.count]) {
      uint32_t j = 0;
      while (c >= batch.first[j + 1]) ++j;
      v = *reinterpret_cast<const Chunk*>(batch.x[j] + pixel * batch.padded[j] + (c - batch.first[j]));
#pragma unroll
      for (int b = 0; b < Bytes; ++b) v.b[b] = quant::requantize(v.b[b], batch.scale[j], output_scale);
    }
    *reinterpret_cast<Chunk*>(y + pixel * y_padded + c) = v;
  }
}

// ---- add --------------------------------------------------------------------------------------------

// Bytes elements per thread (16 when the tensors allow 16-byte accesses, else 1).
template <int Bytes>
__global__ void add_int8_kernel(const int8_t* __restrict__ a, float a_scale, const int8_t* __restrict__ b,
                                float b_scale, int8_t* __restrict__ y, uint32_t chunks, float output_scale) {
  struct alignas(Bytes) Chunk {
    int8_t v[Bytes];
  };
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < chunks; i += gridDim.x * blockDim.x) {
    const Chunk x = reinterpret_cast<const Chunk*>(a)[i];
    const Chunk r = reinterpret_cast<const Chunk*>(b)[i];
    Chunk out;
#pragma unroll
    for (int e = 0; e < Bytes; ++e) out.v[e] = quant::add_int8(x.v[e], a_scale, r.v[e], b_scale, output_scale);
    reinterpret_cast<Chunk*>(y)[i] = out;
  }
}

// ---- host helpers ----------------------------------------------------------------------------------

void check_nonnegative(std::initializer_list<int64_t> extents, const char* op) {
  for (int64_t e : extents) OCTET_CHECK(e >= 0, op, ": negative extent ", e);
}

Int8PoolGeometry make_int8_pool_geometry(const Pool2dShape& s, const char* op) {
  for (int64_t extent : {s.n, s.c, s.h, s.w, s.oh, s.ow, s.kernel_h, s.kernel_w, s.stride_h, s.stride_w,
                         s.dilation_h, s.dilation_w})
    OCTET_CHECK(extent >= 1 && extent <= kMaxIndex, op, ": extent ", extent, " out of range");
  const int64_t cp = padded_channels(s.c);
  check_index_range(s.n * s.h * s.w * cp, op);
  check_index_range(s.n * s.oh * s.ow * cp, op);
  Int8PoolGeometry g;
  g.h = static_cast<int32_t>(s.h);
  g.w = static_cast<int32_t>(s.w);
  g.c = static_cast<int32_t>(s.c);
  g.cp = static_cast<int32_t>(cp);
  g.kernel_h = static_cast<int32_t>(s.kernel_h);
  g.kernel_w = static_cast<int32_t>(s.kernel_w);
  g.stride_h = static_cast<int32_t>(s.stride_h);
  g.stride_w = static_cast<int32_t>(s.stride_w);
  g.pad_top = static_cast<int32_t>(s.pad_top);
  g.pad_left = static_cast<int32_t>(s.pad_left);
  g.pad_bottom = static_cast<int32_t>(s.pad_bottom);
  g.pad_right = static_cast<int32_t>(s.pad_right);
  g.dilation_h = static_cast<int32_t>(s.dilation_h);
  g.dilation_w = static_cast<int32_t>(s.dilation_w);
  g.count_include_pad = s.count_include_pad;
  g.cp_div = FastDivmod(cp);
  g.ow_div = FastDivmod(s.ow);
  g.oh_div = FastDivmod(s.oh);
  return g;
}

}  // namespace
}  // namespace gpu

void quantize_nchw_to_nhwcp_cuda(const float* x, int64_t n, int64_t c, int64_t h, int64_t w, float scale, int8_t* y,
                                 cudaStream_t stream) {
  gpu::check_nonnegative({n, c, h, w}, "quantize_nchw_to_nhwcp_cuda");
  const int64_t total = n * h * w * padded_channels(c);
  if (total == 0) return;
  gpu::check_index_range(total, "quantize_nchw_to_nhwcp_cuda");
  OCTET_CHECK(reinterpret_cast<uintptr_t>(y) % 4 == 0, "quantize_nchw_to_nhwcp_cuda: y must be 4-byte aligned");
  const int64_t words = total / 4;  // Cp is a multiple of 4
  gpu::quantize_nchw_to_nhwcp_kernel<<<gpu::grid_for(words), gpu::kThreadsPerBlock, 0, stream>>>(
      x, reinterpret_cast<uint32_t*>(y), static_cast<uint32_t>(words), gpu::FastDivmod(padded_channels(c) / 4),
      gpu::FastDivmod(h * w), static_cast<uint32_t>(c), scale);
  OCTET_CUDA_CHECK_LAUNCH("quantize_nchw_to_nhwcp_kernel");
}

void dequantize_nhwcp_to_nchw_cuda(const int8_t* x, int64_t n, int64_t c, int64_t h, int64_t w, float scale, float* y,
                                   cudaStream_t stream) {
  gpu::check_nonnegative({n, c, h, w}, "dequantize_nhwcp_to_nchw_cuda");
  const int64_t total = n * c * h * w;
  if (total == 0) return;
  gpu::check_index_range(n * h * w * padded_channels(c), "dequantize_nhwcp_to_nchw_cuda");
  gpu::dequantize_nhwcp_to_nchw_kernel<<<gpu::grid_for(total), gpu::kThreadsPerBlock, 0, stream>>>(
      x, y, static_cast<uint32_t>(total), gpu::FastDivmod(h * w), gpu::FastDivmod(c),
      static_cast<uint32_t>(padded_channels(c)), scale);
  OCTET_CUDA_CHECK_LAUNCH("dequantize_nhwcp_to_nchw_kernel");
}

void maxpool2d_int8_cuda(const Pool2dShape& shape, const int8_t* x, int8_t* y, cudaStream_t stream) {
  if (shape.n * shape.c * shape.oh * shape.ow == 0) return;
  const gpu::Int8PoolGeometry g = gpu::make_int8_pool_geometry(shape, "maxpool2d_int8_cuda");
  const int64_t quads = shape.n * shape.oh * shape.ow * g.cp / 4;
  gpu::maxpool2d_int8_kernel<<<gpu::grid_for(quads), gpu::kThreadsPerBlock, 0, stream>>>(
      x, y, static_cast<uint32_t>(quads), g);
  OCTET_CUDA_CHECK_LAUNCH("maxpool2d_int8_kernel");
}

void avgpool2d_int8_cuda(const Pool2dShape& shape, const int8_t* x, float input_scale, float output_scale, int8_t* y,
                         cudaStream_t stream) {
  if (shape.n * shape.c * shape.oh * shape.ow == 0) return;
  const gpu::Int8PoolGeometry g = gpu::make_int8_pool_geometry(shape, "avgpool2d_int8_cuda");
  const int64_t total = shape.n * shape.oh * shape.ow * g.cp;
  gpu::avgpool2d_int8_kernel<<<gpu::grid_for(total), gpu::kThreadsPerBlock, 0, stream>>>(
      x, y, static_cast<uint32_t>(total), g, input_scale, output_scale);
  OCTET_CUDA_CHECK_LAUNCH("avgpool2d_int8_kernel");
}

void global_avgpool_int8_cuda(const int8_t* x, int64_t n, int64_t c, int64_t h, int64_t w, float input_scale,
                              float output_scale, int8_t* y, cudaStream_t stream) {
  gpu::check_nonnegative({n, c, h, w}, "global_avgpool_int8_cuda");
  if (n * c == 0) return;
  OCTET_CHECK(h * w > 0, "global_avgpool_int8_cuda: empty plane (h = ", h, ", w = ", w, ")");
  gpu::check_index_range(n * h * w * padded_channels(c), "global_avgpool_int8_cuda");
  const int64_t padded = padded_channels(c);
  const int64_t blocks = n * ((padded + gpu::kGlobalPoolLanes - 1) / gpu::kGlobalPoolLanes);
  gpu::check_index_range(blocks, "global_avgpool_int8_cuda blocks");
  gpu::global_avgpool_int8_kernel<<<static_cast<unsigned>(blocks), gpu::kGlobalPoolLanes * gpu::kGlobalPoolRows, 0,
                                    stream>>>(x, y, static_cast<uint32_t>(padded), static_cast<uint32_t>(c),
                                              static_cast<uint32_t>(h * w), input_scale, output_scale);
  OCTET_CUDA_CHECK_LAUNCH("global_avgpool_int8_kernel");
}

void channel_scale_int8_cuda(const int8_t* x, const float* gate, bool gate_batched, int64_t n, int64_t c, int64_t h,
                             int64_t w, float input_scale, float output_scale, int8_t* y, cudaStream_t stream) {
  gpu::check_nonnegative({n, c, h, w}, "channel_scale_int8_cuda");
  const int64_t words = padded_channels(c) / 4;
  const int64_t total = n * h * w * words;
  if (total == 0) return;
  gpu::check_index_range(total * 4, "channel_scale_int8_cuda");
  gpu::channel_scale_int8_kernel<<<gpu::grid_for(total), gpu::kThreadsPerBlock, 0, stream>>>(
      reinterpret_cast<const char4*>(x), gate, gate_batched, reinterpret_cast<char4*>(y), static_cast<uint32_t>(total),
      gpu::FastDivmod(words), gpu::FastDivmod(h * w), static_cast<uint32_t>(c), input_scale, output_scale);
  OCTET_CUDA_CHECK_LAUNCH("channel_scale_int8_kernel");
}

void concat_int8_cuda(const std::vector<const int8_t*>& inputs, const std::vector<int64_t>& channels,
                      const std::vector<float>& input_scales, int64_t n, int64_t h, int64_t w, float output_scale,
                      int8_t* y, cudaStream_t stream) {
  OCTET_CHECK(inputs.size() == channels.size() && inputs.size() == input_scales.size(),
              "concat_int8_cuda: ", inputs.size(), " inputs, ", channels.size(), " channel counts and ",
              input_scales.size(), " scales");
  gpu::check_nonnegative({n, h, w}, "concat_int8_cuda");
  int64_t total_channels = 0;
  for (int64_t ci : channels) {
    gpu::check_nonnegative({ci}, "concat_int8_cuda");
    total_channels += ci;
  }
  const int64_t pixels = n * h * w;
  const int64_t y_padded = padded_channels(total_channels);
  if (pixels == 0 || y_padded == 0) return;
  gpu::check_index_range(pixels * y_padded, "concat_int8_cuda output");

  // The widest chunk that divides every channel count and keeps every pointer aligned: 16 bytes for
  // the usual detector necks (16, 32, 64, ... channels), 4 (a word) for counts that are multiples of 4.
  const auto chunk_fits = [&](int64_t bytes) {
    if (y_padded % bytes != 0 || reinterpret_cast<uintptr_t>(y) % bytes != 0) return false;
    for (size_t i = 0; i < inputs.size(); ++i)
      if (channels[i] % bytes != 0 || reinterpret_cast<uintptr_t>(inputs[i]) % bytes != 0) return false;
    return true;
  };
  const int bytes = chunk_fits(16) ? 16 : chunk_fits(4) ? 4 : 1;

  gpu::Int8ConcatBatch batch;
  int64_t offset = 0;
  const auto launch = [&](bool last) {
    batch.first[batch.count] = static_cast<uint32_t>(offset);
    const int64_t end = last ? y_padded : offset;  // the last batch writes the pad channels too
    const int64_t chunks = (end - batch.first[0]) / bytes;
    const int64_t total = pixels * chunks;
    if (total > 0) {
      const gpu::FastDivmod chunks_div(chunks);
      const unsigned grid = gpu::grid_for(total);
      const auto y_padded32 = static_cast<uint32_t>(y_padded);
      if (bytes == 16)
        gpu::concat_int8_kernel<16><<<grid, gpu::kThreadsPerBlock, 0, stream>>>(
            batch, y, static_cast<uint32_t>(total), chunks_div, y_padded32, output_scale);
      else if (bytes == 4)
        gpu::concat_int8_kernel<4><<<grid, gpu::kThreadsPerBlock, 0, stream>>>(
            batch, y, static_cast<uint32_t>(total), chunks_div, y_padded32, output_scale);
      else
        gpu::concat_int8_kernel<1><<<grid, gpu::kThreadsPerBlock, 0, stream>>>(
            batch, y, static_cast<uint32_t>(total), chunks_div, y_padded32, output_scale);
      OCTET_CUDA_CHECK_LAUNCH("concat_int8_kernel");
    }
    batch = gpu::Int8ConcatBatch{};
    batch.first[0] = static_cast<uint32_t>(offset);
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (channels[i] == 0) continue;
    if (batch.count == gpu::kConcatInputsPerLaunch) launch(false);
    batch.x[batch.count] = inputs[i];
    batch.scale[batch.count] = input_scales[i];
    batch.padded[batch.count] = static_cast<uint32_t>(padded_channels(channels[i]));
    batch.first[batch.count] = static_cast<uint32_t>(offset);
    ++batch.count;
    offset += channels[i];
  }
  launch(true);
}

void add_int8_cuda(const int8_t* a, float a_scale, const int8_t* b, float b_scale, int64_t count, float output_scale,
                   int8_t* y, cudaStream_t stream) {
  gpu::check_nonnegative({count}, "add_int8_cuda");
  if (count == 0) return;
  gpu::check_index_range(count, "add_int8_cuda");
  const auto aligned16 = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  if (count % 16 == 0 && aligned16(a) && aligned16(b) && aligned16(y)) {
    gpu::add_int8_kernel<16><<<gpu::grid_for(count / 16), gpu::kThreadsPerBlock, 0, stream>>>(
        a, a_scale, b, b_scale, y, static_cast<uint32_t>(count / 16), output_scale);
  } else {
    gpu::add_int8_kernel<1><<<gpu::grid_for(count), gpu::kThreadsPerBlock, 0, stream>>>(
        a, a_scale, b, b_scale, y, static_cast<uint32_t>(count), output_scale);
  }
  OCTET_CUDA_CHECK_LAUNCH("add_int8_kernel");
}

}  // namespace octet::kernels
