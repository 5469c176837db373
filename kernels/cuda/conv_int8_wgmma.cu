// kWgmma: INT8 implicit-GEMM convolution on Hopper's warpgroup tensor-core instruction,
// wgmma.mma_async m64nNk32 s8 x s8 -> s32 (sm_90a only; compiled by kernels/cuda/CMakeLists.txt for
// that target alone), groups == 1. Contract and layouts: kernels/cuda/conv_int8_cuda.h; math:
// quantize/qscheme.h; GEMM view, tile order and the im2col copy: kernels/cuda/implicit_gemm_int8.cuh.
//
// Why a second tensor-core kernel: mma.sync (conv_int8_mma.cu) reaches about a quarter of an H100's
// INT8 rate; the dense rate needs wgmma, which reads both operands straight from shared memory
// (no ldmatrix, no fragments in registers) and runs asynchronously while the warps copy the next slices.
//
// Kernel structure (one block of 256 threads = two warpgroups per 128 x BlockN output tile):
//   * K slices of 128 bytes (four k32 steps). A (128 rows x 128 bytes) and B (BlockN rows x 128
//     bytes) of a slice are gathered with cp.async into a Stages-deep ring by all 256 threads.
//   * Shared layout: the "128-byte swizzle" that wgmma's descriptors name: row r of a 1024-byte
//     aligned operand tile at r * 128, its 16-byte chunk j stored at chunk j ^ (r % 8). Eight rows
//     form a 1024-byte core group; groups are 1024 bytes apart (the descriptor's stride offset). A
//     k32 step is the same descriptor with the start address 32 bytes on (the hardware applies the
//     XOR to the address it forms, so the step stays inside the swizzled rows).
//   * Warpgroup g multiplies rows 64g .. 64g + 63 of A by all of B: four wgmma m64nBlockNk32 per
//     slice into BlockN / 2 int32 accumulators per thread, one commit group per slice.
//   * Pipeline, slice t: wait until this thread's copies of slice t landed; fence.proxy.async (the
//     copies are generic-proxy writes that the tensor cores read through the async proxy); barrier;
//     issue slice t's wgmma; wait until at most one wgmma group (slice t) is in flight; copy slice
//     t + Stages - 2 into the stage of slice t - 2. That stage is free: every thread passed this
//     iteration's barrier after waiting for its own slice t - 2 group in iteration t - 1, so both
//     warpgroups are done reading it. Stages - 2 slices are being copied while one is multiplied.
//   * Accumulator layout (m64nN s32, per warpgroup): warp w, lane 4q + p holds d[i] =
//     D[16w + q + 8 * ((i / 2) % 2)][8 * (i / 4) + 2p + i % 2].
//   * Epilogue: accumulators staged through shared memory as int32 (the whole tile), then
//     store_staged_tile (kernels/cuda/int8_epilogue.cuh): 16 channels per thread per step for INT8
//     outputs with Kp % 16 == 0 (4 in the four-blocks-per-SM tile).
//   * Shared memory per launch: the stages its layer's K slices touch (WgmmaTile::smem_bytes), so a
//     layer of one or two slices, latency-bound on its copies and epilogue, fits more blocks per SM.
// 32-bit indices: supports() refuses tensors of 2^31 elements or more.
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/error.h"
#include "kernels/cuda/conv_int8_cuda.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/implicit_gemm_int8.cuh"
#include "kernels/cuda/int8_epilogue.cuh"
#include "kernels/int8_layout.h"

// The arch-specific feature macro of sm_90a: wgmma exists only there. Other passes of this file (none
// with the CMake setup, kept for safety) compile kernels that trap, and supports() refuses them.
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define OCTET_WGMMA_DEVICE 1
#else
#define OCTET_WGMMA_DEVICE 0
#endif

namespace octet::kernels {
namespace {

using namespace igemm;

// ---- wgmma PTX wrappers (sm_90a) -------------------------------------------------------------------

#if OCTET_WGMMA_DEVICE
// The shared-memory matrix descriptor of a K-major operand tile in the 128-byte swizzle layout (file
// header): start address / 16 in bits 0-13, leading byte offset (unused by swizzled K-major layouts,
// conventionally 1) in bits 16-29, stride byte offset 1024 / 16 in bits 32-45, base offset 0 (tiles
// are 1024-byte aligned), swizzle mode 1 (128 bytes) in bits 62-63.
__device__ __forceinline__ uint64_t swizzle128_descriptor(uint32_t shared_addr) {
  return static_cast<uint64_t>((shared_addr & 0x3FFFF) >> 4) | (uint64_t{1} << 16) | (uint64_t{1024 >> 4} << 32) |
         (uint64_t{1} << 62);
}

// Orders this warpgroup's earlier register writes (the accumulators) before the next wgmma.
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int Pending>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(Pending) : "memory");
}
// Makes this thread's generic-proxy shared-memory writes (cp.async) visible to the async proxy.
__device__ __forceinline__ void fence_proxy_async_shared() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}

// d += A * B for one m64nNk32 step, A and B from shared memory (descriptors), accumulating into d.
__device__ __forceinline__ void wgmma_m64n64k32(int32_t (&d)[32], uint64_t desc_a, uint64_t desc_b) {
  asm volatile(
      "{\n.reg .pred accumulate;\nsetp.ne.b32 accumulate, %34, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k32.s32.s8.s8 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
      "%32, %33, accumulate;\n}\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]), "+r"(d[5]), "+r"(d[6]), "+r"(d[7]),
        "+r"(d[8]), "+r"(d[9]), "+r"(d[10]), "+r"(d[11]), "+r"(d[12]), "+r"(d[13]), "+r"(d[14]), "+r"(d[15]),
        "+r"(d[16]), "+r"(d[17]), "+r"(d[18]), "+r"(d[19]), "+r"(d[20]), "+r"(d[21]), "+r"(d[22]), "+r"(d[23]),
        "+r"(d[24]), "+r"(d[25]), "+r"(d[26]), "+r"(d[27]), "+r"(d[28]), "+r"(d[29]), "+r"(d[30]), "+r"(d[31])
      : "l"(desc_a), "l"(desc_b), "r"(1));
}

__device__ __forceinline__ void wgmma_m64n128k32(int32_t (&d)[64], uint64_t desc_a, uint64_t desc_b) {
  asm volatile(
      "{\n.reg .pred accumulate;\nsetp.ne.b32 accumulate, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
      "%64, %65, accumulate;\n}\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]), "+r"(d[5]), "+r"(d[6]), "+r"(d[7]),
        "+r"(d[8]), "+r"(d[9]), "+r"(d[10]), "+r"(d[11]), "+r"(d[12]), "+r"(d[13]), "+r"(d[14]), "+r"(d[15]),
        "+r"(d[16]), "+r"(d[17]), "+r"(d[18]), "+r"(d[19]), "+r"(d[20]), "+r"(d[21]), "+r"(d[22]), "+r"(d[23]),
        "+r"(d[24]), "+r"(d[25]), "+r"(d[26]), "+r"(d[27]), "+r"(d[28]), "+r"(d[29]), "+r"(d[30]), "+r"(d[31]),
        "+r"(d[32]), "+r"(d[33]), "+r"(d[34]), "+r"(d[35]), "+r"(d[36]), "+r"(d[37]), "+r"(d[38]), "+r"(d[39]),
        "+r"(d[40]), "+r"(d[41]), "+r"(d[42]), "+r"(d[43]), "+r"(d[44]), "+r"(d[45]), "+r"(d[46]), "+r"(d[47]),
        "+r"(d[48]), "+r"(d[49]), "+r"(d[50]), "+r"(d[51]), "+r"(d[52]), "+r"(d[53]), "+r"(d[54]), "+r"(d[55]),
        "+r"(d[56]), "+r"(d[57]), "+r"(d[58]), "+r"(d[59]), "+r"(d[60]), "+r"(d[61]), "+r"(d[62]), "+r"(d[63])
      : "l"(desc_a), "l"(desc_b), "r"(1));
}

__device__ __forceinline__ void wgmma_m64n256k32(int32_t (&d)[128], uint64_t desc_a, uint64_t desc_b) {
  asm volatile(
      "{\n.reg .pred accumulate;\nsetp.ne.b32 accumulate, %130, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n256k32.s32.s8.s8 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}, "
      "%128, %129, accumulate;\n}\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3]), "+r"(d[4]), "+r"(d[5]), "+r"(d[6]), "+r"(d[7]),
        "+r"(d[8]), "+r"(d[9]), "+r"(d[10]), "+r"(d[11]), "+r"(d[12]), "+r"(d[13]), "+r"(d[14]), "+r"(d[15]),
        "+r"(d[16]), "+r"(d[17]), "+r"(d[18]), "+r"(d[19]), "+r"(d[20]), "+r"(d[21]), "+r"(d[22]), "+r"(d[23]),
        "+r"(d[24]), "+r"(d[25]), "+r"(d[26]), "+r"(d[27]), "+r"(d[28]), "+r"(d[29]), "+r"(d[30]), "+r"(d[31]),
        "+r"(d[32]), "+r"(d[33]), "+r"(d[34]), "+r"(d[35]), "+r"(d[36]), "+r"(d[37]), "+r"(d[38]), "+r"(d[39]),
        "+r"(d[40]), "+r"(d[41]), "+r"(d[42]), "+r"(d[43]), "+r"(d[44]), "+r"(d[45]), "+r"(d[46]), "+r"(d[47]),
        "+r"(d[48]), "+r"(d[49]), "+r"(d[50]), "+r"(d[51]), "+r"(d[52]), "+r"(d[53]), "+r"(d[54]), "+r"(d[55]),
        "+r"(d[56]), "+r"(d[57]), "+r"(d[58]), "+r"(d[59]), "+r"(d[60]), "+r"(d[61]), "+r"(d[62]), "+r"(d[63]),
        "+r"(d[64]), "+r"(d[65]), "+r"(d[66]), "+r"(d[67]), "+r"(d[68]), "+r"(d[69]), "+r"(d[70]), "+r"(d[71]),
        "+r"(d[72]), "+r"(d[73]), "+r"(d[74]), "+r"(d[75]), "+r"(d[76]), "+r"(d[77]), "+r"(d[78]), "+r"(d[79]),
        "+r"(d[80]), "+r"(d[81]), "+r"(d[82]), "+r"(d[83]), "+r"(d[84]), "+r"(d[85]), "+r"(d[86]), "+r"(d[87]),
        "+r"(d[88]), "+r"(d[89]), "+r"(d[90]), "+r"(d[91]), "+r"(d[92]), "+r"(d[93]), "+r"(d[94]), "+r"(d[95]),
        "+r"(d[96]), "+r"(d[97]), "+r"(d[98]), "+r"(d[99]), "+r"(d[100]), "+r"(d[101]), "+r"(d[102]), "+r"(d[103]),
        "+r"(d[104]), "+r"(d[105]), "+r"(d[106]), "+r"(d[107]), "+r"(d[108]), "+r"(d[109]), "+r"(d[110]), "+r"(d[111]),
        "+r"(d[112]), "+r"(d[113]), "+r"(d[114]), "+r"(d[115]), "+r"(d[116]), "+r"(d[117]), "+r"(d[118]), "+r"(d[119]),
        "+r"(d[120]), "+r"(d[121]), "+r"(d[122]), "+r"(d[123]), "+r"(d[124]), "+r"(d[125]), "+r"(d[126]), "+r"(d[127])
      : "l"(desc_a), "l"(desc_b), "r"(1));
}
#endif  // OCTET_WGMMA_DEVICE

template <int N>
__device__ __forceinline__ void wgmma_step(int32_t (&d)[N / 2], uint64_t desc_a, uint64_t desc_b) {
#if OCTET_WGMMA_DEVICE
  if constexpr (N == 64) {
    wgmma_m64n64k32(d, desc_a, desc_b);
  } else if constexpr (N == 128) {
    wgmma_m64n128k32(d, desc_a, desc_b);
  } else {
    static_assert(N == 256, "wgmma tiles of 64, 128 or 256 columns");
    wgmma_m64n256k32(d, desc_a, desc_b);
  }
#endif
}

// ---- Tile configuration ---------------------------------------------------------------------------

template <int BlockN, int Stages, int CopyBytes, int MinBlocksPerSm>
struct WgmmaTile {
  static constexpr int kBlockM = 128;  // two warpgroups of 64 rows
  static constexpr int kBlockN = BlockN;
  static constexpr int kBlockK = 128;  // bytes of K_gemm per slice: one swizzled row, four k32 steps
  static constexpr int kThreads = 256;
  static constexpr int kStages = Stages;
  static constexpr int kCopyBytes = CopyBytes;
  static constexpr int kMinBlocksPerSm = MinBlocksPerSm;
  static constexpr int kAccumulators = BlockN / 2;  // int32 per thread
  // Channels per epilogue step (store_staged_tile): four blocks per SM leave 64 registers a thread,
  // where the 16-channel step's constants spill (ptxas: 2.5 KB a thread); the 4-channel one fits.
  static constexpr int kEpilogueVector = MinBlocksPerSm > 2 ? 4 : 16;
  static constexpr int kBOffset = kBlockM * kBlockK;
  static constexpr int kStageBytes = (kBlockM + BlockN) * kBlockK;
  static constexpr int kStagingPitch = BlockN + 8;  // words; 8 spreads a half warp's int2 stores over the banks
  static constexpr int kAlignSlack = 1024;          // the dynamic shared memory is aligned up to 1024 bytes
  static constexpr int kStagingBytes = kBlockM * kStagingPitch * 4;
  // A layer of `slices` K slices touches stages 0 .. min(slices, Stages) - 1 only (slice t lives in
  // stage t % Stages), and the epilogue's staging reuses them: a launch asks for what its layer
  // touches, so layers of one or two slices (1x1 and small 3x3 convolutions) fit more blocks per SM.
  static constexpr int smem_bytes(int32_t slices) {
    const int stages = slices < Stages ? static_cast<int>(slices) : Stages;
    return (stages * kStageBytes > kStagingBytes ? stages * kStageBytes : kStagingBytes) + kAlignSlack;
  }
  static constexpr int kSmemBytes = smem_bytes(Stages);
  static constexpr int kChunksPerRow = kBlockK / CopyBytes;
  static constexpr int kRowsPerPass = kThreads / kChunksPerRow;
  static constexpr int kCopiesA = kBlockM / kRowsPerPass;
  static constexpr int kCopiesB = BlockN / kRowsPerPass;

  // The 128-byte swizzle: byte `byte` of row `row` (the file header).
  __device__ static uint32_t stage_offset(int32_t row, int32_t byte) {
    return row * kBlockK + ((((byte >> 4) ^ row) & 7) << 4) + (byte & 15);
  }

  static_assert(CopyBytes == 16 || CopyBytes == 4, "16-byte or 4-byte cp.async");
  static_assert(kStageBytes % 1024 == 0 && kBOffset % 1024 == 0, "operand tiles stay 1024-byte aligned");
  static_assert(kBlockM % kRowsPerPass == 0 && BlockN % kRowsPerPass == 0, "copies cover the tile exactly");
  static_assert(Stages >= 3, "the pipeline copies Stages - 2 slices ahead");
};

// ---- The kernel -----------------------------------------------------------------------------------

template <class Tile>
__global__ void __launch_bounds__(Tile::kThreads, Tile::kMinBlocksPerSm)
    conv_int8_wgmma_kernel(const ConvGeometry g, const int8_t* __restrict__ x, const int8_t* __restrict__ w,
                           const Int8OutputView out) {
#if OCTET_WGMMA_DEVICE
  extern __shared__ int8_t smem_raw[];
  const uint32_t raw_base = shared_address(smem_raw);
  const uint32_t smem_base = (raw_base + 1023u) & ~1023u;
  int8_t* smem = smem_raw + (smem_base - raw_base);

  int32_t tile_m, tile_n;
  tile_of_block(g, static_cast<int32_t>(blockIdx.x), tile_m, tile_n);
  CopyState<Tile> copy;
  init_copy_state<Tile>(g, tile_m, tile_n, copy);

  const int32_t warpgroup = threadIdx.x / 128;
  int32_t acc[Tile::kAccumulators];
#pragma unroll
  for (int i = 0; i < Tile::kAccumulators; ++i) acc[i] = 0;

  // Slices 0 .. Stages-3 in flight.
  const int32_t slices = start_copy_ring<Tile, Tile::kStages - 2>(g, x, w, smem_base, copy);
  for (int32_t t = 0; t < slices; ++t) {
    cp_async_wait<Tile::kStages - 3>();
    fence_proxy_async_shared();
    __syncthreads();
    const uint32_t stage = smem_base + (t % Tile::kStages) * Tile::kStageBytes;
    const uint64_t desc_a = swizzle128_descriptor(stage + warpgroup * 64 * Tile::kBlockK);
    const uint64_t desc_b = swizzle128_descriptor(stage + Tile::kBOffset);
    wgmma_fence();
#pragma unroll
    for (int step = 0; step < Tile::kBlockK / 32; ++step)  // 32 bytes = 2 descriptor units per k32 step
      wgmma_step<Tile::kBlockN>(acc, desc_a + 2 * step, desc_b + 2 * step);
    wgmma_commit();
    wgmma_wait<1>();
    const int32_t next = t + Tile::kStages - 2;
    if (next < slices) copy_slice<Tile>(g, x, w, smem_base + (next % Tile::kStages) * Tile::kStageBytes, copy);
    cp_async_commit();
  }
  wgmma_wait<0>();
  cp_async_wait<0>();
  __syncthreads();  // every warpgroup is done with the stages: they become the staging area

  int32_t* staging = reinterpret_cast<int32_t*>(smem);
  const int32_t lane = threadIdx.x % 32, warp_in_group = (threadIdx.x / 32) % 4;
  const int32_t row0 = warpgroup * 64 + warp_in_group * 16 + lane / 4;
  const int32_t col0 = 2 * (lane % 4);
#pragma unroll
  for (int i = 0; i < Tile::kAccumulators; i += 2) {
    const int32_t row = row0 + 8 * ((i / 2) % 2), col = 8 * (i / 4) + col0;
    *reinterpret_cast<int2*>(&staging[staged_word(row, col, Tile::kStagingPitch)]) = make_int2(acc[i], acc[i + 1]);
  }
  __syncthreads();
  store_staged_tile<Tile::kEpilogueVector>(out, g.m, staging, Tile::kStagingPitch, Tile::kBlockM, Tile::kBlockN,
                                           tile_m * Tile::kBlockM, tile_n * Tile::kBlockN, threadIdx.x,
                                           Tile::kThreads);
#else
  __trap();
#endif
}

// ---- Configurations and launch --------------------------------------------------------------------

//                          BlockN Stages Copy MinBlocks   shared memory
using TileWide16 = WgmmaTile<256, 4, 16, 1>;    // 193 KiB: K > 128, the GEMM-like layers
using TileMid16 = WgmmaTile<128, 4, 16, 1>;     // 129 KiB
using TileShort16 = WgmmaTile<128, 3, 16, 2>;   // 97 KiB, two blocks per SM: K_gemm <= 256, one block's
                                                // epilogue overlaps the other's copies and products
using TileNarrow16 = WgmmaTile<64, 4, 16, 2>;   // 97 KiB, two blocks per SM: K <= 64
using TileNarrowShort16 = WgmmaTile<64, 4, 16, 4>;  // K <= 64 in one or two slices: 37-49 KiB, four blocks
                                                    // per SM (YOLOv8's early layers: 16-64 channels)
using TileMid4 = WgmmaTile<128, 4, 4, 1>;       // odd channel counts (Cp % 16 != 0)
using TileNarrow4 = WgmmaTile<64, 4, 4, 2>;

template <class Tile>
void launch_tile(ConvGeometry g, const Int8ConvCudaArgs& args, cudaStream_t stream) {
  g.tiles_m = static_cast<int32_t>(ceil_div(g.m, Tile::kBlockM));
  g.tiles_n = static_cast<int32_t>(ceil_div(g.k, Tile::kBlockN));
  OCTET_CUDA_CHECK(cudaFuncSetAttribute(conv_int8_wgmma_kernel<Tile>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        Tile::kSmemBytes));
  const unsigned blocks = static_cast<unsigned>(static_cast<int64_t>(g.tiles_m) * g.tiles_n);
  const int smem = Tile::smem_bytes(static_cast<int32_t>(ceil_div(g.k_gemm, Tile::kBlockK)));
  conv_int8_wgmma_kernel<Tile><<<blocks, Tile::kThreads, smem, stream>>>(g, args.x, args.w,
                                                                         make_int8_output_view(args));
  OCTET_CUDA_CHECK_LAUNCH("conv_int8_wgmma_kernel");
}

// The widest tile whose columns K fill it, unless it would leave SMs idle (few output pixels); short
// reductions (one or two slices: the epilogue is most of the work) run two blocks per SM.
void launch_selected(const ConvGeometry& g, const Int8ConvCudaArgs& args, cudaStream_t stream) {
  OCTET_CHECK(aligned_to(args.x, 4) && aligned_to(args.w, 4),
              "wgmma INT8 convolution: x and w must be 4-byte aligned device pointers");
  const bool copy16 = g.cp % 16 == 0 && aligned_to(args.x, 16) && aligned_to(args.w, 16);
  const int64_t row_tiles = ceil_div(g.m, 128);
  const int multiprocessors = current_device_info().multiprocessors;
  if (copy16) {
    if (g.k > 64 && g.k_gemm <= 2 * TileShort16::kBlockK) return launch_tile<TileShort16>(g, args, stream);
    if (g.k > 128 && row_tiles * ceil_div(g.k, 256) >= multiprocessors) return launch_tile<TileWide16>(g, args, stream);
    if (g.k > 64) return launch_tile<TileMid16>(g, args, stream);
    if (g.k_gemm <= 2 * TileNarrowShort16::kBlockK) return launch_tile<TileNarrowShort16>(g, args, stream);
    return launch_tile<TileNarrow16>(g, args, stream);
  }
  if (g.k > 64) return launch_tile<TileMid4>(g, args, stream);
  launch_tile<TileNarrow4>(g, args, stream);
}

// Whether this binary holds the sm_90a kernels and the current device runs them (an H100/H200: a
// device of another architecture has no image to load). Asked once per device: supports() runs at
// every launch.
bool wgmma_available() {
  if (current_device_info().major != 9) return false;
  return once_per_device(false, [](int) {
    cudaFuncAttributes attributes{};
    const bool loaded = cudaFuncGetAttributes(&attributes, conv_int8_wgmma_kernel<TileMid16>) == cudaSuccess;
    if (!loaded) cudaGetLastError();  // "no image for this device" is an answer here, not an error
    return loaded && attributes.binaryVersion == 90;
  });
}

}  // namespace

bool conv_int8_wgmma_supports(const Conv2dShape& shape) {
  return shape.groups == 1 && implicit_gemm_fits_int32(shape) && wgmma_available();
}

void conv_int8_wgmma(const Int8ConvCudaArgs& args, cudaStream_t stream) {
  if (!conv_int8_wgmma_supports(args.shape))
    OCTET_UNSUPPORTED("wgmma INT8 convolution: shape not supported (needs groups == 1, an sm_90 device and tensors "
                      "below 2^31 elements)");
  const ConvGeometry g = make_geometry(args.shape);
  if (g.m == 0 || g.k == 0) return;
  launch_selected(g, args, stream);
}

}  // namespace octet::kernels
