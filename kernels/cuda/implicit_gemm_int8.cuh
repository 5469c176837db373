// The parts of an INT8 implicit-GEMM convolution that the tensor-core tactics share
// (conv_int8_mma.cu: mma.sync, conv_int8_wgmma.cu: wgmma): the GEMM view of a convolution, the order in
// which blocks visit output tiles, and the im2col gather of A and B slices into shared memory with
// cp.async. Each kernel says where a copied chunk lands in its shared stage (Tile::stage_offset), so
// one copy loop serves padded rows (mma.sync) and 128-byte swizzled rows (wgmma).
//
// GEMM view (one row per output pixel, one column per output channel):
//   M      = N * OH * OW   rows,    pixel m = (n*OH + oh)*OW + ow
//   N_gemm = K             columns, output channel k
//   K_gemm = R * S * Cp    kk = (r*S + s)*Cp + c, Cp = padded_channels(C)
//   A[m][kk] = x[n][ih][iw][c] (NHWCp), ih = oh*stride_h - pad_top + r*dilation_h (iw likewise),
//              0 outside the image: the im2col gather, done while copying into shared memory.
//   B[k][kk] = w[k][r][s][c]: one output channel's filter is a contiguous row in the same (r, s, c)
//              order ("K-major" for both operands).
// Copies are 16 bytes when Cp % 16 == 0 and x, w are 16-byte aligned (a chunk then never straddles two
// (r, s) taps or the end of a row), 4 bytes (one channel word; Cp % 4 == 0 always) otherwise. Cells
// outside the image, rows past M, columns past K and kk past K_gemm are zero-filled (src-size 0).
// 32-bit indices: implicit_gemm_fits_int32 says whether a shape allows them.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <mutex>

#include "kernels/int8_layout.h"
#include "kernels/shapes.h"

namespace octet::kernels::igemm {

// ---- PTX wrappers (sm_80+; the tactics refuse older devices, so the fallbacks never run) ----------

__device__ __forceinline__ uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// Copies Bytes (16 or 4) from global to shared, or writes Bytes zeros when !valid (src-size 0 reads
// nothing; `src` must still be a mapped address, callers pass the tensor's base then).
template <int Bytes>
__device__ __forceinline__ void cp_async_or_zero(uint32_t dst, const void* src, bool valid) {
#if __CUDA_ARCH__ >= 800
  const int src_bytes = valid ? Bytes : 0;
  if constexpr (Bytes == 16) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes) : "memory");
  } else {
    static_assert(Bytes == 4, "cp.async copies 4 or 16 bytes here");
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(dst), "l"(src), "r"(src_bytes) : "memory");
  }
#else
  __trap();
#endif
}

__device__ __forceinline__ void cp_async_commit() {
#if __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}

// Waits until at most Pending of this thread's committed groups are still in flight.
template <int Pending>
__device__ __forceinline__ void cp_async_wait() {
#if __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending) : "memory");
#endif
}

// ---- Geometry and tile order ----------------------------------------------------------------------

// Tile rows per group of the tile visiting order (L2 reuse between resident blocks).
constexpr int kGroupRows = 16;

// The convolution in 32-bit integers, passed by value to the kernels.
struct ConvGeometry {
  int32_t h, w, cp;             // input, Cp = padded channels
  int32_t k;                    // output channels (GEMM columns)
  int32_t oh, ow;
  int32_t s;                    // kernel width (R is implied by k_gemm)
  int32_t stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
  int32_t m;                    // N * OH * OW (GEMM rows)
  int32_t k_gemm;               // R * S * Cp
  int32_t tiles_m, tiles_n;     // set by the launcher for its tile
};

inline ConvGeometry make_geometry(const Conv2dShape& shape) {
  ConvGeometry g{};
  g.h = static_cast<int32_t>(shape.h);
  g.w = static_cast<int32_t>(shape.w);
  g.cp = static_cast<int32_t>(padded_channels(shape.c));
  g.k = static_cast<int32_t>(shape.k);
  g.oh = static_cast<int32_t>(shape.oh);
  g.ow = static_cast<int32_t>(shape.ow);
  g.s = static_cast<int32_t>(shape.s);
  g.stride_h = static_cast<int32_t>(shape.stride_h);
  g.stride_w = static_cast<int32_t>(shape.stride_w);
  g.pad_top = static_cast<int32_t>(shape.pad_top);
  g.pad_left = static_cast<int32_t>(shape.pad_left);
  g.dilation_h = static_cast<int32_t>(shape.dilation_h);
  g.dilation_w = static_cast<int32_t>(shape.dilation_w);
  g.m = static_cast<int32_t>(shape.n * shape.oh * shape.ow);
  g.k_gemm = static_cast<int32_t>(shape.r * shape.s * g.cp);
  return g;
}

// Whether every tensor of the convolution has fewer than 2^31 elements (the kernels' and the
// int8_epilogue.cuh stores' 32-bit indices).
inline bool implicit_gemm_fits_int32(const Conv2dShape& shape) {
  constexpr int64_t kMaxIndex = (int64_t{1} << 31) - 1;
  const int64_t cp = padded_channels(shape.c);
  const int64_t kp = padded_channels(shape.k);
  return shape.n * shape.h * shape.w * cp <= kMaxIndex && shape.k * shape.r * shape.s * cp <= kMaxIndex &&
         shape.n * shape.oh * shape.ow * kp <= kMaxIndex && shape.n * shape.k * shape.oh * shape.ow <= kMaxIndex;
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline bool aligned_to(const void* p, uintptr_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

// Which tile (tile_m, tile_n) block `linear` computes: groups of kGroupRows tile rows, column by
// column inside a group (a bijection onto [0, tiles_m) x [0, tiles_n)).
__device__ __forceinline__ void tile_of_block(const ConvGeometry& g, int32_t linear, int32_t& tile_m,
                                              int32_t& tile_n) {
  const int32_t blocks_per_group = kGroupRows * g.tiles_n;
  const int32_t first_row = linear / blocks_per_group * kGroupRows;
  const int32_t rows_in_group = min(g.tiles_m - first_row, kGroupRows);
  const int32_t local = linear % blocks_per_group;
  tile_m = first_row + local % rows_in_group;
  tile_n = local / rows_in_group;
}

// ---- The im2col copy of one K slice ---------------------------------------------------------------
//
// Tile provides: kBlockM, kBlockN, kBlockK (bytes of K_gemm per slice), kThreads, kCopyBytes,
// kChunksPerRow = kBlockK / kCopyBytes, kRowsPerPass = kThreads / kChunksPerRow, kCopiesA/B =
// kBlockM/N / kRowsPerPass, kBOffset (byte offset of the B rows in a stage) and
// stage_offset(row, byte) (where byte `byte` of row `row` of A, or of B from kBOffset on, lands).
// A thread always copies the same chunk column of a slice, for a fixed set of rows.

// The copy state of one thread: the rows it copies, and the (r, s, c) position of its chunk in the
// current K slice (advanced slice by slice, so no division in the k loop).
template <class Tile>
struct CopyState {
  int32_t row_base[Tile::kCopiesA];  // offset of x[n][ih0][iw0][0] (may lie outside the image)
  int32_t ih0[Tile::kCopiesA];       // oh*stride - pad; a huge negative number for rows past M
  int32_t iw0[Tile::kCopiesA];
  int32_t w_row[Tile::kCopiesB];     // offset of w[k][0], -1 for columns past K
  int32_t kk;                        // K_gemm index of this thread's chunk in the next slice
  int32_t r, s, c;                   // kk = (r*S + s)*Cp + c
};

template <class Tile>
__device__ __forceinline__ void init_copy_state(const ConvGeometry& g, int32_t tile_m, int32_t tile_n,
                                                CopyState<Tile>& st) {
  const int32_t chunk_col = threadIdx.x % Tile::kChunksPerRow;
  const int32_t first_row = threadIdx.x / Tile::kChunksPerRow;
  const int32_t pixels_per_image = g.oh * g.ow;
#pragma unroll
  for (int i = 0; i < Tile::kCopiesA; ++i) {
    const int32_t m = tile_m * Tile::kBlockM + first_row + i * Tile::kRowsPerPass;
    if (m < g.m) {
      const int32_t n = m / pixels_per_image;
      const int32_t p = m - n * pixels_per_image;
      const int32_t oh = p / g.ow;
      const int32_t ow = p - oh * g.ow;
      st.ih0[i] = oh * g.stride_h - g.pad_top;
      st.iw0[i] = ow * g.stride_w - g.pad_left;
      st.row_base[i] = ((n * g.h + st.ih0[i]) * g.w + st.iw0[i]) * g.cp;
    } else {
      st.ih0[i] = -(1 << 30);  // every ih = ih0 + r*dh stays negative: the row reads nothing
      st.iw0[i] = 0;
      st.row_base[i] = 0;
    }
  }
#pragma unroll
  for (int i = 0; i < Tile::kCopiesB; ++i) {
    const int32_t k = tile_n * Tile::kBlockN + first_row + i * Tile::kRowsPerPass;
    st.w_row[i] = k < g.k ? k * g.k_gemm : -1;
  }
  st.kk = chunk_col * Tile::kCopyBytes;
  const int32_t tap = st.kk / g.cp;  // r*S + s
  st.c = st.kk - tap * g.cp;
  st.r = tap / g.s;
  st.s = tap - st.r * g.s;
}

// Issues the cp.async copies of one K slice into the shared stage at `stage`, then moves the
// thread's (kk, r, s, c) on by one slice.
template <class Tile>
__device__ __forceinline__ void copy_slice(const ConvGeometry& g, const int8_t* __restrict__ x,
                                           const int8_t* __restrict__ w, uint32_t stage, CopyState<Tile>& st) {
  const int32_t chunk_byte = (threadIdx.x % Tile::kChunksPerRow) * Tile::kCopyBytes;
  const int32_t first_row = threadIdx.x / Tile::kChunksPerRow;
  const bool kk_valid = st.kk < g.k_gemm;
  const int32_t dih = st.r * g.dilation_h, diw = st.s * g.dilation_w;
  const int32_t tap_offset = (dih * g.w + diw) * g.cp + st.c;
#pragma unroll
  for (int i = 0; i < Tile::kCopiesA; ++i) {
    const int32_t ih = st.ih0[i] + dih, iw = st.iw0[i] + diw;
    const bool valid = kk_valid && static_cast<uint32_t>(ih) < static_cast<uint32_t>(g.h) &&
                       static_cast<uint32_t>(iw) < static_cast<uint32_t>(g.w);
    const int8_t* src = valid ? x + (st.row_base[i] + tap_offset) : x;
    const uint32_t dst = stage + Tile::stage_offset(first_row + i * Tile::kRowsPerPass, chunk_byte);
    cp_async_or_zero<Tile::kCopyBytes>(dst, src, valid);
  }
#pragma unroll
  for (int i = 0; i < Tile::kCopiesB; ++i) {
    const bool valid = kk_valid && st.w_row[i] >= 0;
    const int8_t* src = valid ? w + (st.w_row[i] + st.kk) : w;
    const uint32_t dst = stage + Tile::kBOffset + Tile::stage_offset(first_row + i * Tile::kRowsPerPass, chunk_byte);
    cp_async_or_zero<Tile::kCopyBytes>(dst, src, valid);
  }
  // Next slice: kk += kBlockK, carried into (s, r) once per Cp (a loop, since Cp may be below kBlockK).
  st.kk += Tile::kBlockK;
  st.c += Tile::kBlockK;
  while (st.c >= g.cp) {
    st.c -= g.cp;
    if (++st.s == g.s) {
      st.s = 0;
      ++st.r;
    }
  }
}

// Starts a kernel's cp.async ring: slices 0 .. Ahead - 1 into stages 0 .. Ahead - 1, one commit group
// per slice and an empty group past the last slice, so that in the main loop "at most N groups
// pending" always means "slice t has landed". Returns the number of K slices.
template <class Tile, int Ahead>
__device__ __forceinline__ int32_t start_copy_ring(const ConvGeometry& g, const int8_t* __restrict__ x,
                                                   const int8_t* __restrict__ w, uint32_t smem_base,
                                                   CopyState<Tile>& st) {
  const int32_t slices = (g.k_gemm + Tile::kBlockK - 1) / Tile::kBlockK;
#pragma unroll
  for (int stage = 0; stage < Ahead; ++stage) {
    if (stage < slices) copy_slice<Tile>(g, x, w, smem_base + stage * Tile::kStageBytes, st);
    cp_async_commit();
  }
  return slices;
}

// ---- The device ------------------------------------------------------------------------------------

struct DeviceInfo {
  int major = 0;
  int multiprocessors = 0;
  size_t max_shared_per_block = 0;  // with the opt-in: 227 KiB on sm_90, 163 KiB sm_80, 99 KiB sm_86/89
};

// read(device) for the current device, computed once per device and per caller: each caller's
// lambda is its own instantiation, with its own cache. `none` when there is no usable device.
template <class T, class Read>
T once_per_device(T none, Read read) {
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) {
    cudaGetLastError();  // clear it: "no device" is an answer here, not an error
    return none;
  }
  static std::mutex mutex;
  static std::map<int, T> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(device);
  if (it == cache.end()) it = cache.emplace(device, read(device)).first;
  return it->second;
}

// The current device's compute capability and SM count (cudaGetDeviceProperties is slow: once per
// device). major 0 when there is no usable device.
inline DeviceInfo current_device_info() {
  return once_per_device(DeviceInfo{}, [](int device) {
    cudaDeviceProp props{};
    DeviceInfo info;
    if (cudaGetDeviceProperties(&props, device) == cudaSuccess) {
      info.major = props.major;
      info.multiprocessors = props.multiProcessorCount;
      info.max_shared_per_block = props.sharedMemPerBlockOptin;
    } else {
      cudaGetLastError();
    }
    return info;
  });
}

}  // namespace octet::kernels::igemm
