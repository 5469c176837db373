// kTensorCore: INT8 implicit-GEMM convolution on tensor cores, mma.sync.aligned.m16n8k32 s8 x s8 -> s32
// (sm_80+), groups == 1. Contract and layouts: kernels/cuda/conv_int8_cuda.h; math: quantize/qscheme.h.
//
// GEMM view (one row per output pixel, one column per output channel):
//   M      = N * OH * OW   rows,    pixel m = (n*OH + oh)*OW + ow
//   N_gemm = K             columns, output channel k
//   K_gemm = R * S * Cp    kk = (r*S + s)*Cp + c, Cp = padded_channels(C)
//   A[m][kk] = x[n][ih][iw][c] (NHWCp), ih = oh*stride_h - pad_top + r*dilation_h (iw likewise),
//              0 outside the image: the im2col gather, done while copying into shared memory.
//   B[kk][k] = w[k][r][s][c]: one output channel's filter is a contiguous row in the same (r, s, c)
//              order, i.e. B is "column-major", exactly the .col operand of mma.
//   acc[m][k] = sum_kk A[m][kk] * B[kk][k] in int32 (exact: the pad channels of x and w are 0), then
//   the epilogue of kernels/cuda/int8_epilogue.cuh per element, so every output equals
//   conv2d_int8_ref bit for bit.
//
// Kernel structure (one thread block per BlockM x BlockN output tile, 8 warps):
//   * k loop over 64-byte slices of K_gemm. Each slice of A (BlockM x 64) and B (BlockN x 64) is
//     copied global -> shared with cp.async into a Stages-deep ring, so Stages - 1 slices are in
//     flight while one is multiplied. 16-byte copies when Cp % 16 == 0 and x, w are 16-byte
//     aligned (a 16-byte chunk then never straddles two (r, s) taps or the end of a row); 4-byte
//     copies (one __dp4a word, Cp % 4 == 0 always) otherwise. Cells outside the image, rows past M,
//     columns past K and kk past K_gemm are zero-filled by cp.async with src-size 0.
//   * Shared rows are 64 + 16 bytes apart: the 8 row addresses of one ldmatrix phase then fall into
//     8 different 16-byte bank groups (80 = 5 x 16, and 5 is odd), so fragment loads are free of
//     bank conflicts without a swizzle.
//   * Fragments by ldmatrix.x4 (b16 view: an int8 16x32 A tile is a b16 16x16 tile, and the PTX
//     register layouts coincide):
//       A 16x32 row-major, lane l = 4g + t:  a0 = A[g][4t..4t+3]    a1 = A[g+8][4t..]
//                                            a2 = A[g][16+4t..]     a3 = A[g+8][16+4t..]
//       B 32x8 col-major:                    b0 = B[4t..4t+3][g]    b1 = B[16+4t..][g]
//       C/D 16x8 s32:                        d0 = D[g][2t]  d1 = D[g][2t+1]  d2 = D[g+8][2t]  d3 = D[g+8][2t+1]
//   * Tiles are visited in groups of kGroupRows tile rows (column-major inside a group), so the
//     blocks resident at one time share their A rows and B columns in L2.
//   * Epilogue: accumulators staged through shared memory one warp row at a time, then a plain loop
//     over the tile's elements calls store_int8_conv_output / store_int8_pad (pad channels [K, Kp)
//     of an int8 output lie in the tile that holds channel K-1).
//
// Configurations (BlockM x BlockN, warps M x N, warp tile, stages): see select_config(). 32-bit
// indices: supports() refuses tensors of 2^31 elements or more.
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <mutex>

#include "engine/error.h"
#include "kernels/cuda/conv_int8_cuda.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/int8_epilogue.cuh"
#include "kernels/int8_layout.h"

namespace octet::kernels {
namespace {

// ---- PTX wrappers (sm_80+; supports() refuses older devices, so the fallbacks never run) ----------

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

__device__ __forceinline__ void ldmatrix_x4(uint32_t& r0, uint32_t& r1, uint32_t& r2, uint32_t& r3, uint32_t addr) {
#if __CUDA_ARCH__ >= 800
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
               : "r"(addr));
#else
  __trap();
#endif
}

// d += a * b for one 16x8x32 tile (layouts in the file header). No .satfinite: int32 sums are exact
// for K_gemm < 131072 (qscheme.h), the builder's limit.
__device__ __forceinline__ void mma_s8_16x8x32(int32_t (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
#if __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  __trap();
#endif
}

// ---- Tile configuration ---------------------------------------------------------------------------

template <int BlockM, int BlockN, int WarpsM, int WarpsN, int Stages, int CopyBytes, int MinBlocksPerSm>
struct MmaTile {
  static constexpr int kBlockM = BlockM, kBlockN = BlockN;
  static constexpr int kBlockK = 64;  // bytes of K_gemm per pipeline stage: two m16n8k32 steps
  static constexpr int kWarpsN = WarpsN;
  static constexpr int kThreads = 32 * WarpsM * WarpsN;
  static constexpr int kWarpM = BlockM / WarpsM, kWarpN = BlockN / WarpsN;  // one warp's output tile
  static constexpr int kMmaM = kWarpM / 16, kMmaN = kWarpN / 8;            // mma tiles per warp
  static constexpr int kStages = Stages;
  static constexpr int kCopyBytes = CopyBytes;
  static constexpr int kMinBlocksPerSm = MinBlocksPerSm;
  static constexpr int kRowPitch = kBlockK + 16;  // bytes; the 16-byte pad avoids bank conflicts
  static constexpr int kStageBytes = (BlockM + BlockN) * kRowPitch;
  static constexpr int kSmemBytes = Stages * kStageBytes;
  // Epilogue staging of one warp row of accumulators; the 8-word pad spreads the int2 stores of a
  // half warp (rows g..g+3) over all 32 banks.
  static constexpr int kStagingPitch = BlockN + 8;
  // Copy work: a thread always copies the same chunk column of a slice, for a fixed set of rows.
  static constexpr int kChunksPerRow = kBlockK / CopyBytes;
  static constexpr int kRowsPerPass = kThreads / kChunksPerRow;  // rows covered by one chunk per thread
  static constexpr int kCopiesA = BlockM / kRowsPerPass;
  static constexpr int kCopiesB = BlockN / kRowsPerPass;

  static_assert(CopyBytes == 16 || CopyBytes == 4, "16-byte or 4-byte cp.async");
  static_assert(kWarpM % 16 == 0 && kWarpN % 16 == 0, "warp tile: m16 steps, n in ldmatrix.x4 pairs of n8");
  static_assert(BlockM == kWarpM * WarpsM && BlockN == kWarpN * WarpsN, "warps tile the block exactly");
  static_assert(kThreads % kChunksPerRow == 0, "a thread keeps one chunk column");
  static_assert(BlockM % kRowsPerPass == 0 && BlockN % kRowsPerPass == 0, "copies cover the tile exactly");
  static_assert(kRowPitch % 16 == 0 && (kRowPitch / 16) % 2 == 1, "16-byte rows, odd pitch in 16-byte units");
  static_assert(Stages >= 2, "a pipeline needs two stages");
  static_assert(kWarpM * kStagingPitch * 4 <= kSmemBytes, "the epilogue staging fits in the pipeline's memory");
};

// Tile rows per group of the tile visiting order (L2 reuse between resident blocks).
constexpr int kGroupRows = 16;

// The convolution in 32-bit integers, passed by value to the kernel.
struct MmaConvGeometry {
  int32_t h, w, cp;             // input, Cp = padded channels
  int32_t k;                    // output channels (GEMM columns)
  int32_t oh, ow;
  int32_t s;                    // kernel width (R is implied by k_gemm)
  int32_t stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
  int32_t m;                    // N * OH * OW (GEMM rows)
  int32_t k_gemm;               // R * S * Cp
  int32_t tiles_m, tiles_n;
};

// Which tile (tile_m, tile_n) block `linear` computes: groups of kGroupRows tile rows, column by
// column inside a group (a bijection onto [0, tiles_m) x [0, tiles_n)).
__device__ __forceinline__ void tile_of_block(const MmaConvGeometry& g, int32_t linear, int32_t& tile_m,
                                              int32_t& tile_n) {
  const int32_t blocks_per_group = kGroupRows * g.tiles_n;
  const int32_t first_row = linear / blocks_per_group * kGroupRows;
  const int32_t rows_in_group = min(g.tiles_m - first_row, kGroupRows);
  const int32_t local = linear % blocks_per_group;
  tile_m = first_row + local % rows_in_group;
  tile_n = local / rows_in_group;
}

// The copy state of one thread: its chunk column, the rows it copies, and the (r, s, c) position of
// its chunk in the current K slice (advanced slice by slice, so no division in the k loop).
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
__device__ __forceinline__ void init_copy_state(const MmaConvGeometry& g, int32_t tile_m, int32_t tile_n,
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

// Issues the cp.async copies of one K slice into shared stage `stage`, then moves the thread's
// (kk, r, s, c) on by one slice.
template <class Tile>
__device__ __forceinline__ void copy_slice(const MmaConvGeometry& g, const int8_t* __restrict__ x,
                                           const int8_t* __restrict__ w, uint32_t stage, CopyState<Tile>& st) {
  const uint32_t chunk_offset = (threadIdx.x % Tile::kChunksPerRow) * Tile::kCopyBytes;
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
    const uint32_t dst = stage + (first_row + i * Tile::kRowsPerPass) * Tile::kRowPitch + chunk_offset;
    cp_async_or_zero<Tile::kCopyBytes>(dst, src, valid);
  }
  const uint32_t b_stage = stage + Tile::kBlockM * Tile::kRowPitch;
#pragma unroll
  for (int i = 0; i < Tile::kCopiesB; ++i) {
    const bool valid = kk_valid && st.w_row[i] >= 0;
    const int8_t* src = valid ? w + (st.w_row[i] + st.kk) : w;
    const uint32_t dst = b_stage + (first_row + i * Tile::kRowsPerPass) * Tile::kRowPitch + chunk_offset;
    cp_async_or_zero<Tile::kCopyBytes>(dst, src, valid);
  }
  // Next slice: kk += 64, carried into (s, r) once per Cp (a loop, since Cp may be below 64).
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

// acc += the products of one shared stage: kBlockK / 32 steps of kMmaM x kMmaN mma tiles per warp.
template <class Tile>
__device__ __forceinline__ void multiply_slice(uint32_t a_lane, uint32_t b_lane,
                                               int32_t (&acc)[Tile::kMmaM][Tile::kMmaN][4]) {
#pragma unroll
  for (int step = 0; step < Tile::kBlockK / 32; ++step) {
    uint32_t a[Tile::kMmaM][4];
    uint32_t b[Tile::kMmaN][2];
#pragma unroll
    for (int i = 0; i < Tile::kMmaM; ++i)
      ldmatrix_x4(a[i][0], a[i][1], a[i][2], a[i][3], a_lane + i * 16 * Tile::kRowPitch + step * 32);
#pragma unroll
    for (int j = 0; j < Tile::kMmaN; j += 2)
      ldmatrix_x4(b[j][0], b[j][1], b[j + 1][0], b[j + 1][1], b_lane + j * 8 * Tile::kRowPitch + step * 32);
#pragma unroll
    for (int i = 0; i < Tile::kMmaM; ++i)
#pragma unroll
      for (int j = 0; j < Tile::kMmaN; ++j) mma_s8_16x8x32(acc[i][j], a[i], b[j]);
  }
}

// The epilogue. The accumulators go through shared memory one warp row at a time (kWarpM x BlockN
// int32, rows kStagingPitch words apart), so that the element loop is one short loop instead of
// kMmaM * kMmaN * 4 inlined epilogues (instruction-cache pressure), and consecutive threads store
// consecutive channels of a pixel (coalesced NHWCp int8 stores), or consecutive pixels of a channel
// for a float NCHW output.
template <class Tile>
__device__ __forceinline__ void store_tile(const Int8OutputView& out, const MmaConvGeometry& g, int32_t tile_row0,
                                           int32_t tile_col0, int32_t warp_m, int32_t warp_n,
                                           const int32_t (&acc)[Tile::kMmaM][Tile::kMmaN][4], int32_t* staging) {
  constexpr int kPitch = Tile::kStagingPitch;
  const int32_t lane = threadIdx.x % 32;
  const int32_t group = lane / 4, thread_in_group = lane % 4;
  const bool channel_fastest = out.epilogue.output_int8;
#pragma unroll 1
  for (int pass = 0; pass < Tile::kBlockM / Tile::kWarpM; ++pass) {
    __syncthreads();  // the main loop, or the previous pass, is done with the shared memory
    if (warp_m == pass) {
#pragma unroll
      for (int i = 0; i < Tile::kMmaM; ++i)
#pragma unroll
        for (int j = 0; j < Tile::kMmaN; ++j)
#pragma unroll
          for (int half = 0; half < 2; ++half) {
            const int32_t row = i * 16 + group + half * 8;
            const int32_t col = warp_n * Tile::kWarpN + j * 8 + thread_in_group * 2;
            *reinterpret_cast<int2*>(&staging[row * kPitch + col]) =
                make_int2(acc[i][j][half * 2], acc[i][j][half * 2 + 1]);
          }
    }
    __syncthreads();
    const int32_t pixel0 = tile_row0 + pass * Tile::kWarpM;
    if (channel_fastest) {  // INT8 NHWCp: four channels per thread, one 4-byte store
      constexpr int32_t kQuads = Tile::kBlockN / 4;
      for (int32_t idx = threadIdx.x; idx < Tile::kWarpM * kQuads; idx += Tile::kThreads) {
        const int32_t row = idx / kQuads, col = idx % kQuads * 4;
        const int32_t pixel = pixel0 + row, k0 = tile_col0 + col;
        if (pixel >= g.m || k0 >= out.kp) continue;
        const int32_t* staged = &staging[row * kPitch + col];
        const int32_t quad[4] = {staged[0], staged[1], staged[2], staged[3]};
        store_int8_conv_output4(out, pixel, k0, quad);
      }
      continue;
    }
    for (int32_t idx = threadIdx.x; idx < Tile::kWarpM * Tile::kBlockN; idx += Tile::kThreads) {
      const int32_t row = channel_fastest ? idx / Tile::kBlockN : idx % Tile::kWarpM;
      const int32_t col = channel_fastest ? idx % Tile::kBlockN : idx / Tile::kWarpM;
      const int32_t pixel = pixel0 + row, k = tile_col0 + col;
      if (pixel >= g.m) continue;
      if (k < g.k) {
        store_int8_conv_output(out, pixel, k, staging[row * kPitch + col]);
      } else if (k < out.kp) {
        store_int8_pad(out, pixel, k);
      }
    }
  }
}

template <class Tile>
__global__ void __launch_bounds__(Tile::kThreads, Tile::kMinBlocksPerSm)
    conv_int8_mma_kernel(const MmaConvGeometry g, const int8_t* __restrict__ x, const int8_t* __restrict__ w,
                         const Int8OutputView out) {
  extern __shared__ __align__(128) int8_t smem[];
  int32_t tile_m, tile_n;
  tile_of_block(g, static_cast<int32_t>(blockIdx.x), tile_m, tile_n);

  CopyState<Tile> copy;
  init_copy_state<Tile>(g, tile_m, tile_n, copy);

  const uint32_t smem_base = shared_address(smem);
  const int32_t lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int32_t warp_m = warp / Tile::kWarpsN, warp_n = warp % Tile::kWarpsN;
  // ldmatrix row addresses of this lane inside a stage (file header): A lanes 0-15 rows 0-15 bytes
  // 0-15, lanes 16-31 the same rows bytes 16-31; B lanes 0-7 / 8-15 / 16-23 / 24-31 address channels
  // 0-7 bytes 0-15 / 0-7 bytes 16-31 / 8-15 bytes 0-15 / 8-15 bytes 16-31.
  const uint32_t a_lane = (warp_m * Tile::kWarpM + lane % 16) * Tile::kRowPitch + (lane / 16) * 16;
  const uint32_t b_lane = Tile::kBlockM * Tile::kRowPitch +
                          (warp_n * Tile::kWarpN + lane % 8 + (lane / 16) * 8) * Tile::kRowPitch + (lane / 8) % 2 * 16;

  int32_t acc[Tile::kMmaM][Tile::kMmaN][4];
#pragma unroll
  for (int i = 0; i < Tile::kMmaM; ++i)
#pragma unroll
    for (int j = 0; j < Tile::kMmaN; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0;

  const int32_t slices = (g.k_gemm + Tile::kBlockK - 1) / Tile::kBlockK;
  // Prologue: slices 0 .. Stages-2 in flight. One commit per slice, empty past the end, so the
  // wait count below always means "slice t has landed".
#pragma unroll
  for (int st = 0; st < Tile::kStages - 1; ++st) {
    if (st < slices) copy_slice<Tile>(g, x, w, smem_base + st * Tile::kStageBytes, copy);
    cp_async_commit();
  }
  for (int32_t t = 0; t < slices; ++t) {
    cp_async_wait<Tile::kStages - 2>();
    // Slice t is visible to all threads, and every warp is done with slice t-1, whose stage the
    // copy below overwrites.
    __syncthreads();
    const int32_t next = t + Tile::kStages - 1;
    if (next < slices) copy_slice<Tile>(g, x, w, smem_base + (next % Tile::kStages) * Tile::kStageBytes, copy);
    cp_async_commit();
    const uint32_t stage = smem_base + (t % Tile::kStages) * Tile::kStageBytes;
    multiply_slice<Tile>(stage + a_lane, stage + b_lane, acc);
  }
  cp_async_wait<0>();

  store_tile<Tile>(out, g, tile_m * Tile::kBlockM, tile_n * Tile::kBlockN, warp_m, warp_n, acc,
                   reinterpret_cast<int32_t*>(smem));
}

// ---- Configurations and launch --------------------------------------------------------------------

//                        BlockM BlockN WarpsM WarpsN Stages Copy MinBlocks  warp tile
using TileWide16 = MmaTile<128, 256, 2, 4, 4, 16, 1>;  // 64 x 64: K > 128, the GEMM-like layers
using TileMid16 = MmaTile<128, 128, 2, 4, 4, 16, 2>;   // 64 x 32
using TileNarrow16 = MmaTile<128, 64, 4, 2, 4, 16, 2>;  // 32 x 32: K <= 64
using TileMid4 = MmaTile<128, 128, 2, 4, 4, 4, 1>;     // odd channel counts (Cp % 16 != 0)
using TileNarrow4 = MmaTile<128, 64, 4, 2, 4, 4, 2>;
constexpr int kSmallestSm80SharedBytes = 99 * 1024;  // sm_86 / sm_89 opt-in limit
static_assert(TileMid16::kSmemBytes <= kSmallestSm80SharedBytes && TileNarrow16::kSmemBytes <= kSmallestSm80SharedBytes &&
                  TileMid4::kSmemBytes <= kSmallestSm80SharedBytes && TileNarrow4::kSmemBytes <= kSmallestSm80SharedBytes,
              "every tile but the wide one runs on every sm_80+ device");

struct DeviceInfo {
  int major = 0;
  int multiprocessors = 0;
  size_t max_shared_per_block = 0;  // with the opt-in: 227 KiB on sm_90, 163 KiB sm_80, 99 KiB sm_86/89
};

// The current device's compute capability and SM count, read once per device (cudaGetDeviceProperties
// is slow). major 0 when there is no usable device.
DeviceInfo current_device_info() {
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) {
    cudaGetLastError();  // clear it: "no device" is an answer here, not an error
    return {};
  }
  static std::mutex mutex;
  static std::map<int, DeviceInfo> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(device);
  if (it != cache.end()) return it->second;
  cudaDeviceProp props{};
  DeviceInfo info;
  if (cudaGetDeviceProperties(&props, device) == cudaSuccess) {
    info.major = props.major;
    info.multiprocessors = props.multiProcessorCount;
    info.max_shared_per_block = props.sharedMemPerBlockOptin;
  } else {
    cudaGetLastError();
  }
  cache.emplace(device, info);
  return info;
}

MmaConvGeometry make_geometry(const Conv2dShape& shape) {
  MmaConvGeometry g{};
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

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

template <class Tile>
void launch_tile(MmaConvGeometry g, const Int8ConvCudaArgs& args, cudaStream_t stream) {
  g.tiles_m = static_cast<int32_t>(ceil_div(g.m, Tile::kBlockM));
  g.tiles_n = static_cast<int32_t>(ceil_div(g.k, Tile::kBlockN));
  // Above 48 KiB of dynamic shared memory needs an opt-in, per device; setting it is a cheap host
  // call, so it is done at every launch instead of tracking devices.
  OCTET_CUDA_CHECK(cudaFuncSetAttribute(conv_int8_mma_kernel<Tile>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        Tile::kSmemBytes));
  const unsigned blocks = static_cast<unsigned>(static_cast<int64_t>(g.tiles_m) * g.tiles_n);
  conv_int8_mma_kernel<Tile><<<blocks, Tile::kThreads, Tile::kSmemBytes, stream>>>(
      g, args.x, args.w, make_int8_output_view(args));
  OCTET_CUDA_CHECK_LAUNCH("conv_int8_mma_kernel");
}

bool aligned_to(const void* p, uintptr_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

// Widest tile whose column count K fills it reasonably, falling back to narrower tiles when the
// wide one would leave SMs idle (few output pixels) or does not fit the device's shared memory
// (120 KiB; the others take at most 80 KiB, below every sm_80+ device's 99 KiB).
void launch_selected(const MmaConvGeometry& g, const Int8ConvCudaArgs& args, cudaStream_t stream) {
  const bool copy16 = g.cp % 16 == 0 && aligned_to(args.x, 16) && aligned_to(args.w, 16);
  OCTET_CHECK(aligned_to(args.x, 4) && aligned_to(args.w, 4),
              "tensorcore INT8 convolution: x and w must be 4-byte aligned device pointers");
  const DeviceInfo device = current_device_info();
  const int64_t row_tiles = ceil_div(g.m, 128);
  const bool wide_fits = static_cast<size_t>(TileWide16::kSmemBytes) <= device.max_shared_per_block;
  if (copy16) {
    if (g.k > 128 && wide_fits && row_tiles * ceil_div(g.k, 256) >= device.multiprocessors)
      return launch_tile<TileWide16>(g, args, stream);
    if (g.k > 64) return launch_tile<TileMid16>(g, args, stream);
    return launch_tile<TileNarrow16>(g, args, stream);
  }
  if (g.k > 64) return launch_tile<TileMid4>(g, args, stream);
  launch_tile<TileNarrow4>(g, args, stream);
}

constexpr int64_t kMaxIndex = (int64_t{1} << 31) - 1;

}  // namespace

bool conv_int8_mma_supports(const Conv2dShape& shape) {
  if (shape.groups != 1) return false;
  const int64_t cp = padded_channels(shape.c);
  const int64_t kp = padded_channels(shape.k);
  // 32-bit indices in the kernel (and in the int8_epilogue.cuh stores).
  if (shape.n * shape.h * shape.w * cp > kMaxIndex) return false;
  if (shape.k * shape.r * shape.s * cp > kMaxIndex) return false;
  if (shape.n * shape.oh * shape.ow * kp > kMaxIndex || shape.n * shape.k * shape.oh * shape.ow > kMaxIndex)
    return false;
  return current_device_info().major >= 8;
}

void conv_int8_mma(const Int8ConvCudaArgs& args, cudaStream_t stream) {
  if (!conv_int8_mma_supports(args.shape))
    OCTET_UNSUPPORTED("tensorcore INT8 convolution: shape not supported (needs groups == 1, an sm_80+ device and "
                      "tensors below 2^31 elements)");
  const MmaConvGeometry g = make_geometry(args.shape);
  if (g.m == 0 || g.k == 0) return;
  launch_selected(g, args, stream);
}

}  // namespace octet::kernels
