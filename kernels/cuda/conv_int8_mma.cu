// kTensorCore: INT8 implicit-GEMM convolution on tensor cores, mma.sync.aligned.m16n8k32 s8 x s8 -> s32
// (sm_80+), groups == 1. Contract and layouts: kernels/cuda/conv_int8_cuda.h; math: quantize/qscheme.h.
//
// GEMM view, tile order and the im2col copy: kernels/cuda/implicit_gemm_int8.cuh. B[kk][k] = w[k][r][s][c] is
// "column-major", exactly the .col operand of mma. acc[m][k] = sum_kk A[m][kk] * B[kk][k] in int32
// (exact: the pad channels of x and w are 0), then the epilogue of kernels/cuda/int8_epilogue.cuh per
// element, so every output equals conv2d_int8_ref bit for bit.
//
// Kernel structure (one thread block per BlockM x BlockN output tile, 8 warps):
//   * k loop over 64-byte slices of K_gemm. Each slice of A (BlockM x 64) and B (BlockN x 64) is
//     copied global -> shared with cp.async into a Stages-deep ring, so Stages - 1 slices are in
//     flight while one is multiplied (copy sizes and zero fill: implicit_gemm_int8.cuh).
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
// Configurations (BlockM x BlockN, warps M x N, warp tile, stages): see launch_selected(). 32-bit
// indices: supports() refuses tensors of 2^31 elements or more.
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/error.h"
#include "kernels/cuda/conv_int8_cuda.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/implicit_gemm_int8.cuh"
#include "kernels/cuda/int8_epilogue.cuh"
#include "kernels/int8_layout.h"

namespace octet::kernels {
namespace {

using namespace igemm;

// ---- PTX wrappers (sm_80+; supports() refuses older devices, so the fallbacks never run) ----------

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
  static constexpr int kBOffset = BlockM * kRowPitch;  // B's rows follow A's in a stage
  __device__ static uint32_t stage_offset(int32_t row, int32_t byte) { return row * kRowPitch + byte; }
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
__device__ __forceinline__ void store_tile(const Int8OutputView& out, const ConvGeometry& g, int32_t tile_row0,
                                           int32_t tile_col0, int32_t warp_m, int32_t warp_n,
                                           const int32_t (&acc)[Tile::kMmaM][Tile::kMmaN][4], int32_t* staging) {
  constexpr int kPitch = Tile::kStagingPitch;
  const int32_t lane = threadIdx.x % 32;
  const int32_t group = lane / 4, thread_in_group = lane % 4;
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
            *reinterpret_cast<int2*>(&staging[staged_word(row, col, kPitch)]) =
                make_int2(acc[i][j][half * 2], acc[i][j][half * 2 + 1]);
          }
    }
    __syncthreads();
    const int32_t pixel0 = tile_row0 + pass * Tile::kWarpM;
    store_staged_tile<4>(out, g.m, staging, kPitch, Tile::kWarpM, Tile::kBlockN, pixel0, tile_col0, threadIdx.x,
                      Tile::kThreads);
  }
}

template <class Tile>
__global__ void __launch_bounds__(Tile::kThreads, Tile::kMinBlocksPerSm)
    conv_int8_mma_kernel(const ConvGeometry g, const int8_t* __restrict__ x, const int8_t* __restrict__ w,
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

  // Slices 0 .. Stages-2 in flight.
  const int32_t slices = start_copy_ring<Tile, Tile::kStages - 1>(g, x, w, smem_base, copy);
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

template <class Tile>
void launch_tile(ConvGeometry g, const Int8ConvCudaArgs& args, cudaStream_t stream) {
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

// Widest tile whose column count K fills it reasonably, falling back to narrower tiles when the
// wide one would leave SMs idle (few output pixels) or does not fit the device's shared memory
// (120 KiB; the others take at most 80 KiB, below every sm_80+ device's 99 KiB).
void launch_selected(const ConvGeometry& g, const Int8ConvCudaArgs& args, cudaStream_t stream) {
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

}  // namespace

bool conv_int8_mma_supports(const Conv2dShape& shape) {
  return shape.groups == 1 && implicit_gemm_fits_int32(shape) && current_device_info().major >= 8;
}

void conv_int8_mma(const Int8ConvCudaArgs& args, cudaStream_t stream) {
  if (!conv_int8_mma_supports(args.shape))
    OCTET_UNSUPPORTED("tensorcore INT8 convolution: shape not supported (needs groups == 1, an sm_80+ device and "
                      "tensors below 2^31 elements)");
  const ConvGeometry g = make_geometry(args.shape);
  if (g.m == 0 || g.k == 0) return;
  launch_selected(g, args, stream);
}

}  // namespace octet::kernels
