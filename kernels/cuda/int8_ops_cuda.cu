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

// x float NCHW -> y int8 NHWCp; i runs over y: i = pixel * Cp + c, pixel = n * HW + hw.
__global__ void quantize_nchw_to_nhwcp_kernel(const float* __restrict__ x, int8_t* __restrict__ y, uint32_t total,
                                              FastDivmod cp_div, FastDivmod hw_div, uint32_t channels,
                                              float scale) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t pixel, c, n, hw;
    cp_div.divmod(i, pixel, c);
    if (c >= channels) {
      y[i] = 0;
      continue;
    }
    hw_div.divmod(pixel, n, hw);
    y[i] = quant::quantize(x[(n * channels + c) * hw_div.divisor + hw], scale);
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

// One input's channels into their place in y: i runs over (pixel, c < C_in);
// y[pixel * Cp_out + offset + c] = requantize(x[pixel * Cp_in + c]).
__global__ void concat_int8_input_kernel(const int8_t* __restrict__ x, int8_t* __restrict__ y, uint32_t total,
                                         FastDivmod c_div, uint32_t x_padded, uint32_t y_padded, uint32_t offset,
                                         float input_scale, float output_scale) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t pixel, c;
    c_div.divmod(i, pixel, c);
    y[pixel * y_padded + offset + c] = quant::requantize(x[pixel * x_padded + c], input_scale, output_scale);
  }
}

// The output's pad channels [C, Cp): i runs over (pixel, pad channel).
__global__ void zero_pad_channels_kernel(int8_t* __restrict__ y, uint32_t total, FastDivmod pad_div,
                                         uint32_t channels, uint32_t padded) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t pixel, j;
    pad_div.divmod(i, pixel, j);
    y[pixel * padded + channels + j] = 0;
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
  gpu::quantize_nchw_to_nhwcp_kernel<<<gpu::grid_for(total), gpu::kThreadsPerBlock, 0, stream>>>(
      x, y, static_cast<uint32_t>(total), gpu::FastDivmod(padded_channels(c)), gpu::FastDivmod(h * w),
      static_cast<uint32_t>(c), scale);
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
  int64_t offset = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const int64_t count = pixels * channels[i];
    if (count > 0) {
      gpu::concat_int8_input_kernel<<<gpu::grid_for(count), gpu::kThreadsPerBlock, 0, stream>>>(
          inputs[i], y, static_cast<uint32_t>(count), gpu::FastDivmod(channels[i]),
          static_cast<uint32_t>(padded_channels(channels[i])), static_cast<uint32_t>(y_padded),
          static_cast<uint32_t>(offset), input_scales[i], output_scale);
      OCTET_CUDA_CHECK_LAUNCH("concat_int8_input_kernel");
    }
    offset += channels[i];
  }
  const int64_t pad = y_padded - total_channels;
  if (pad > 0) {
    gpu::zero_pad_channels_kernel<<<gpu::grid_for(pixels * pad), gpu::kThreadsPerBlock, 0, stream>>>(
        y, static_cast<uint32_t>(pixels * pad), gpu::FastDivmod(pad), static_cast<uint32_t>(total_channels),
        static_cast<uint32_t>(y_padded));
    OCTET_CUDA_CHECK_LAUNCH("zero_pad_channels_kernel");
  }
}

}  // namespace octet::kernels
