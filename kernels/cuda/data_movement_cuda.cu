// Slice, Expand, Tile, DepthToSpace, SpaceToDepth (one strided copy), Gather, Split, and the INT8
// window on NHWCp (Slice and Split of int8). Contracts in
// data_movement_cuda.h, the index math in kernels/data_movement.h.
//
// Strided copy and Gather: one thread per output element of a grid-stride loop, coordinates by
// FastDivmod, reads gathered, writes coalesced. Elements move as unsigned integers of their size.
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/data_movement_cuda.h"
#include "kernels/cuda/kernel_utils.cuh"
#include "kernels/int8_layout.h"

namespace octet::kernels {
namespace gpu {
namespace {

// Calls launch(T{}) with T the unsigned integer of `element_bytes` bytes.
template <typename Launch>
void dispatch_element_size(size_t element_bytes, const char* what, Launch&& launch) {
  switch (element_bytes) {
    case 1: return launch(uint8_t{});
    case 2: return launch(uint16_t{});
    case 4: return launch(uint32_t{});
    case 8: return launch(uint64_t{});
  }
  OCTET_UNSUPPORTED(what, ": elements of ", element_bytes, " bytes");
}

// ---- strided copy ----------------------------------------------------------------------------------

// A tile of a rank-6 tensor is 12 view dimensions before simplify() merges them.
constexpr int kMaxViewRank = 12;

struct ViewGeometry {
  int rank = 0;
  FastDivmod dims[kMaxViewRank];
  // Strides as 32-bit two's complement: offset + sum coordinate * stride is then exact modulo 2^32,
  // and the true sum lies in [0, 2^31) (an element of x), so negative strides need no signed math.
  uint32_t stride[kMaxViewRank] = {};
  uint32_t offset = 0;
};

template <typename T>
__global__ void strided_copy_kernel(const T* __restrict__ x, T* __restrict__ y, uint32_t total, ViewGeometry g) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t rest = i, at = g.offset;
#pragma unroll
    for (int d = kMaxViewRank - 1; d >= 0; --d) {
      if (d < g.rank) {
        uint32_t q, r;
        g.dims[d].divmod(rest, q, r);
        at += r * g.stride[d];
        rest = q;
      }
    }
    y[i] = x[at];
  }
}

// ---- Gather ----------------------------------------------------------------------------------------

// y [outer, count, inner] from x [outer, n, inner].
template <typename T, typename I>
__global__ void gather_kernel(const T* __restrict__ x, const I* __restrict__ indices, T* __restrict__ y,
                              uint32_t total, FastDivmod inner, FastDivmod count, int64_t n) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t rest, k, o, j;
    inner.divmod(i, rest, k);
    count.divmod(rest, o, j);
    int64_t v = static_cast<int64_t>(indices[j]);
    if (v < 0) v += n;
    v = v < 0 ? 0 : (v >= n ? n - 1 : v);  // out of range: clamped (see data_movement_cuda.h)
    y[i] = x[(o * static_cast<uint32_t>(n) + static_cast<uint32_t>(v)) * inner.divisor + k];
  }
}

// ---- INT8 window on NHWCp ----------------------------------------------------------------------

struct Int8Window {
  FastDivmod words, out_w, out_h;  // output words per pixel, W', H'
  int32_t start[4] = {};          // NCHW
  int32_t step[4] = {};           // NCHW (step[1] = 1)
  uint32_t in_h = 1, in_w = 1, in_cp = 4;
  uint32_t out_c = 0;             // C', the channels copied; words past them are pad 0
};

__global__ void window_int8_kernel(const int8_t* __restrict__ x, uint32_t* __restrict__ y, uint32_t total,
                                   Int8Window g) {
  for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    uint32_t pixel, word, rows, w, n, h;
    g.words.divmod(i, pixel, word);
    g.out_w.divmod(pixel, rows, w);
    g.out_h.divmod(rows, n, h);
    // x's coordinates, signed: a negative step walks backwards from its start; each lies inside x.
    const int64_t image = g.start[0] + static_cast<int64_t>(n) * g.step[0];
    const int64_t row = g.start[2] + static_cast<int64_t>(h) * g.step[2];
    const int64_t col = g.start[3] + static_cast<int64_t>(w) * g.step[3];
    const int8_t* source = x + ((image * g.in_h + row) * g.in_w + col) * g.in_cp + g.start[1];
    uint32_t packed = 0;
#pragma unroll
    for (uint32_t b = 0; b < 4; ++b) {
      const uint32_t c = word * 4 + b;
      if (c < g.out_c) packed |= static_cast<uint32_t>(static_cast<uint8_t>(source[c])) << (8 * b);
    }
    y[i] = packed;
  }
}

}  // namespace
}  // namespace gpu

// ---- entry points ----------------------------------------------------------------------------------

void strided_copy_cuda(const void* x, int64_t x_elements, const StridedView& view, void* y, size_t element_bytes,
                       cudaStream_t stream) {
  using namespace gpu;
  const int64_t total = numel(view.dims);
  if (total == 0) return;
  check_index_range(total, "strided copy output");
  check_index_range(x_elements, "strided copy input");
  const StridedView v = simplify(view);
  if (v.dims.size() > static_cast<size_t>(kMaxViewRank))
    OCTET_UNSUPPORTED("strided copy: ", v.dims.size(), " dimensions after merging, the CUDA kernel handles ",
                      kMaxViewRank);
  OCTET_CHECK(v.offset >= 0 && v.offset < x_elements, "strided copy: offset ", v.offset, " outside the input's ",
              x_elements, " elements");
  ViewGeometry g;
  g.rank = static_cast<int>(v.dims.size());
  for (int d = 0; d < g.rank; ++d) {
    g.dims[d] = FastDivmod(v.dims[static_cast<size_t>(d)]);
    g.stride[d] = static_cast<uint32_t>(v.strides[static_cast<size_t>(d)]);  // modulo 2^32
  }
  g.offset = static_cast<uint32_t>(v.offset);
  dispatch_element_size(element_bytes, "strided copy", [&](auto element) {
    using T = decltype(element);
    strided_copy_kernel<T><<<grid_for(total), kThreadsPerBlock, 0, stream>>>(
        static_cast<const T*>(x), static_cast<T*>(y), static_cast<uint32_t>(total), g);
    OCTET_CUDA_CHECK_LAUNCH("strided_copy_kernel");
  });
}

void split_cuda(const void* x, const Dims& x_dims, int64_t axis, const Dims& sizes, size_t element_bytes,
                const std::vector<void*>& outputs, cudaStream_t stream) {
  OCTET_CHECK(axis >= 0 && axis < static_cast<int64_t>(x_dims.size()) && sizes.size() == outputs.size(),
              "Split: axis ", axis, " and ", sizes.size(), " sizes for ", outputs.size(), " outputs of ",
              to_string(x_dims));
  const int64_t outer = numel(Dims(x_dims.begin(), x_dims.begin() + axis));
  const int64_t inner = numel(Dims(x_dims.begin() + axis + 1, x_dims.end()));
  // x viewed as [outer, n * inner]: output k is the columns [offset_k, offset_k + sizes[k]) * inner.
  const size_t src_pitch = static_cast<size_t>(x_dims[static_cast<size_t>(axis)] * inner) * element_bytes;
  size_t offset_bytes = 0;
  for (size_t k = 0; k < outputs.size(); ++k) {
    const size_t width = static_cast<size_t>(sizes[k] * inner) * element_bytes;
    if (outputs[k] != nullptr && width != 0 && outer != 0) {
      OCTET_CUDA_CHECK(cudaMemcpy2DAsync(outputs[k], width, static_cast<const char*>(x) + offset_bytes, src_pitch,
                                         width, static_cast<size_t>(outer), cudaMemcpyDeviceToDevice, stream));
    }
    offset_bytes += width;
  }
  OCTET_CHECK(offset_bytes == src_pitch, "Split: sizes ", to_string(sizes), " do not sum to dimension ", axis,
              " of ", to_string(x_dims));
}

void window_int8_nhwcp_cuda(const int8_t* x, const Dims& x_dims, const std::vector<SliceAxis>& window, int8_t* y,
                            cudaStream_t stream) {
  using namespace gpu;
  OCTET_CHECK(x_dims.size() == 4 && window.size() == 4 && window[1].step == 1, "window_int8_nhwcp_cuda: ",
              window.size(), " window axes on ", to_string(x_dims), " (4 expected, the channel one with step 1)");
  OCTET_CHECK(reinterpret_cast<uintptr_t>(y) % 4 == 0, "window_int8_nhwcp_cuda: y must be 4-byte aligned");
  const int64_t words = padded_channels(window[1].count) / 4;
  const int64_t total = window[0].count * window[2].count * window[3].count * words;
  if (total == 0) return;
  check_index_range(total * 4, "INT8 window output");
  check_index_range(x_dims[0] * x_dims[2] * x_dims[3] * padded_channels(x_dims[1]), "INT8 window input");
  Int8Window g;
  g.words = FastDivmod(words);
  g.out_w = FastDivmod(window[3].count);
  g.out_h = FastDivmod(window[2].count);
  for (size_t d = 0; d < 4; ++d) {
    const SliceAxis& a = window[d];
    const int64_t last = a.start + (a.count - 1) * a.step;
    OCTET_CHECK(a.start >= 0 && a.start < x_dims[d] && last >= 0 && last < x_dims[d], "window_int8_nhwcp_cuda: axis ",
                d, " window {", a.start, ", ", a.step, ", ", a.count, "} leaves ", to_string(x_dims));
    g.start[d] = static_cast<int32_t>(a.start);
    g.step[d] = static_cast<int32_t>(a.step);
  }
  g.in_h = static_cast<uint32_t>(x_dims[2]);
  g.in_w = static_cast<uint32_t>(x_dims[3]);
  g.in_cp = static_cast<uint32_t>(padded_channels(x_dims[1]));
  g.out_c = static_cast<uint32_t>(window[1].count);
  window_int8_kernel<<<grid_for(total), kThreadsPerBlock, 0, stream>>>(x, reinterpret_cast<uint32_t*>(y),
                                                                       static_cast<uint32_t>(total), g);
  OCTET_CUDA_CHECK_LAUNCH("window_int8_kernel");
}

void gather_cuda(const void* x, const Dims& x_dims, int64_t axis, const void* indices, DataType index_type,
                 int64_t count, size_t element_bytes, void* y, cudaStream_t stream) {
  using namespace gpu;
  OCTET_CHECK(axis >= 0 && axis < static_cast<int64_t>(x_dims.size()), "Gather: axis ", axis, " for ",
              to_string(x_dims));
  const int64_t outer = numel(Dims(x_dims.begin(), x_dims.begin() + axis));
  const int64_t n = x_dims[static_cast<size_t>(axis)];
  const int64_t inner = numel(Dims(x_dims.begin() + axis + 1, x_dims.end()));
  const int64_t total = outer * count * inner;
  if (total == 0) return;
  OCTET_CHECK(n > 0, "Gather: ", count, " indices into an empty axis ", axis, " of ", to_string(x_dims));
  check_index_range(total, "Gather output");
  check_index_range(numel(x_dims), "Gather input");
  const FastDivmod inner_div(inner), count_div(count);
  const auto launch = [&](auto index) {
    using I = decltype(index);
    dispatch_element_size(element_bytes, "Gather", [&](auto element) {
      using T = decltype(element);
      gather_kernel<T, I><<<grid_for(total), kThreadsPerBlock, 0, stream>>>(
          static_cast<const T*>(x), static_cast<const I*>(indices), static_cast<T*>(y), static_cast<uint32_t>(total),
          inner_div, count_div, n);
      OCTET_CUDA_CHECK_LAUNCH("gather_kernel");
    });
  };
  switch (index_type) {
    case DataType::kInt64: return launch(int64_t{});
    case DataType::kInt32: return launch(int32_t{});
    case DataType::kFloat32:
    case DataType::kInt8:
    case DataType::kUInt8:
    case DataType::kBool: break;
  }
  OCTET_CHECK(false, "Gather: indices of type ", to_string(index_type), " (int64 or int32 expected)");
}

}  // namespace octet::kernels
