/*
 * IMPLICIT_GEMM on Hopper: TF32 warpgroup MMA (wgmma.m64n128k8, sm_90a, both operands in shared
 * memory), tiling in implicit_gemm_plan.h; stride_w = dilation_w = 1 only. Offsets into x, w and
 * y are 64-bit.
 *
 * A persistent block (256 threads = 2 warpgroups, one block per SM) walks its tiles' (tile,
 * channel chunk) iterations as one stream, so the cp.async copies of the next tile's first chunks
 * fly while this tile's last chunks are computed and its epilogue stores drain. wgmma is
 * asynchronous: a chunk's wgmmas run while the same threads round the next chunk's window and
 * queue later copies (stages: one computed, one being rounded, the rest in flight). Per stage:
 *   x_s (2, plane_ld, 4)   the chunk's input window with halo and zero padding, channel-minor:
 *                          [k half][window pixel (row-major, halo_w per row)][4 channels],
 *                          rounded to TF32 in place. Each window pixel is one 16-byte core-matrix
 *                          row, so the A operand of a tap (64 consecutive output pixels of a row)
 *                          is the window shifted by the tap: a descriptor 16 (r halo_w + s) bytes
 *                          further, no copy. k halves plane_ld pixels apart (LBO).
 *   w_s (R*S, 1024)        per tap 16 channel groups x 2 k halves of 8 x 16-byte core matrices
 *                          (the packed filter's wgmma order, copied as is)
 * Per tap each warpgroup issues two wgmma.m64n128k8 (its two output rows) reading 64 x 8 of x_s
 * and 8 x 128 of w_s; accumulators: 2 x 64 floats per thread (warpgroup j: pixel rows 2j, 2j + 1
 * of the tile, all 128 output channels).
 */
#include <cstdint>

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime.h>

#include "conv/implicit_gemm_args.cuh"
#include "gemm/cp_async.cuh"
#include "gemm/tf32_round.cuh"
#include "gemm/tma.cuh"
#include "gemm/wgmma_tf32.cuh"

namespace convgemm {
namespace {

constexpr int kThreads = CONVGEMM_IGEMM_WG_THREADS;
constexpr int kTileP = CONVGEMM_IGEMM_WG_TILE_P;
constexpr int kTileQ = CONVGEMM_IGEMM_WG_TILE_Q;
constexpr int kBlockK = CONVGEMM_IGEMM_BLOCK_K;
constexpr int kChunk = CONVGEMM_IGEMM_C_CHUNK;
static_assert(kThreads == 256 && kTileP == 4 && kTileQ == 64 && kBlockK == 128 && kChunk == 8,
              "the warpgroup split below assumes 2 warpgroups x 2 rows x 64 columns x 128 ch");

#if CONVGEMM_HAS_WGMMA  // the sm_90a pass; other passes compile an empty kernel
constexpr int kWarps = kThreads / 32;
constexpr int kTapFloats = kChunk * kBlockK;
// w_s's core matrices (8 rows x 16 bytes): the two k halves of an 8-channel group 128 bytes
// apart (LBO, the K direction), channel groups 256 bytes apart (SBO, the N direction).
constexpr uint32_t kLboW = 128;
constexpr uint32_t kSboW = 256;
// x_s's: 8 consecutive window pixels are 128 contiguous bytes, the next 8 follow (SBO); the LBO
// is the plane (a runtime value).
constexpr uint32_t kSboX = 128;

// Waits until this thread's copies for iteration it have landed: one commit group per
// iteration, stages - 2 queued ahead of the one being computed (which a stage of its own holds
// while its wgmmas run), so stages - 3 may stay in flight.
__device__ __forceinline__ void wait_current_stage(int stages) {
  if (stages == 3)
    cp_async_wait_group<0>();
  else
    cp_async_wait_group<1>();
}
#endif

// kTma: the window arrives by TMA as (8 channels, halo_h, tma_box_w) floats starting tma_shift
// columns left of it (16-byte aligned; zero outside the image and past C/G) and the weights by
// one bulk copy, both counted on the stage's barrier;
// the threads then transpose the box in place into x_s through registers. Else every thread
// queues 4-byte cp.async copies straight into x_s's layout.
template <bool kTma>
__global__ void __launch_bounds__(kThreads, CONVGEMM_IGEMM_WG_BLOCKS_PER_SM)
    igemm_wgmma_kernel(const IgemmArgs a, const __grid_constant__ CUtensorMap x_map) {
#if CONVGEMM_HAS_WGMMA
  extern __shared__ __align__(128) float4 smem_f4[];
  float* const smem = reinterpret_cast<float*>(smem_f4);
  // The stages' barriers follow the stages (kTma only).
  uint64_t* const full = reinterpret_cast<uint64_t*>(
      smem + a.stages * (a.x_stage_floats + a.w_stage_floats));
  const int stage_floats = a.x_stage_floats + a.w_stage_floats;
  const int rs = a.r * a.s;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int wg = warp / 4, wq = warp % 4;  // warpgroup: pixel rows 2wg, 2wg + 1; warp: columns
  const int fg = lane / 4, ft = lane % 4;  // accumulator row / column (gemm/wgmma_tf32.cuh)
  const int window_rows = 2 * a.halo_h;    // (k half, window row) pairs
  const uint32_t lbo_x = (uint32_t)a.x_plane_ld * 16;
  const int tma_box_bytes = kChunk * a.halo_h * a.tma_box_w * 4;

  // Two cursors walk this block's (tile, chunk) iterations, chunks fastest: the copies run
  // `ahead` iterations before the math. Tiles are blockIdx.x + i gridDim.x (< tiles <= 2^31-1).
  // Per-tile values are computed once per tile, not per iteration (integer division showed up
  // as most of the kernel's instructions).
  struct Cursor {
    int tile, cc, stage;
    TileCoord tc;
  };
  auto start_tile = [&](Cursor& c) {
    if (c.tile < a.tiles) c.tc = split_tile(c.tile, a.k_tiles, a.q_tiles, a.p_tiles, a.groups);
  };
  auto advance = [&](Cursor& c) {
    if (++c.stage == a.stages) c.stage = 0;
    if (++c.cc == a.c_chunks) {
      c.cc = 0;
      c.tile += gridDim.x;
      start_tile(c);
    }
  };

  const int64_t plane_in = (int64_t)a.in_h * a.in_w;
  // Queues the copies of the loader's iteration into its stage: per window pixel and k half the
  // 4 channels' values (4-byte copies, zero padding) into one 16-byte row of x_s, by one thread,
  // which later rounds that row itself; the filter in 16-byte copies.
  auto load_iteration = [&](const Cursor& c) {
    float* const stage = smem + c.stage * stage_floats;
    if constexpr (kTma) {
      if (tid == 0) {
        const uint32_t w_bytes = (uint32_t)rs * kTapFloats * 4;
        mbarrier_arrive_expect_tx(&full[c.stage], (uint32_t)tma_box_bytes + w_bytes);
        tma_load_5d(stage, &x_map, c.tc.qt * kTileQ - a.pad_w - a.tma_shift,
                    c.tc.pt * kTileP * a.stride_h - a.pad_h, c.cc * kChunk, c.tc.g, c.tc.n,
                    &full[c.stage]);
        const float* w_src =
            a.packed + (((int64_t)c.tc.g * a.k_tiles + c.tc.kt) * a.c_chunks + c.cc) *
                           ((int64_t)rs * kTapFloats);
        bulk_copy_to_shared(stage + a.x_stage_floats, w_src, w_bytes, &full[c.stage]);
      }
      return;
    }
    const int64_t ih0 = (int64_t)c.tc.pt * kTileP * a.stride_h - a.pad_h;
    const int64_t iw0 = (int64_t)c.tc.qt * kTileQ - a.pad_w;
    const float* x_grp = a.x + ((int64_t)c.tc.n * a.c + (int64_t)c.tc.g * a.cg) * plane_in;
    for (int row = warp; row < window_rows; row += kWarps) {
      const int kh = row / a.halo_h, hh = row - kh * a.halo_h;
      const int c0 = c.cc * kChunk + 4 * kh;
      const int64_t ih = ih0 + hh;
      const bool row_inside = ih >= 0 && ih < a.in_h;
      const float* src = x_grp + (row_inside ? (int64_t)c0 * plane_in + ih * a.in_w + iw0 : 0);
      float* dst = stage + 4 * (kh * a.x_plane_ld + hh * a.halo_w);
      for (int ww = lane; ww < a.halo_w; ww += 32) {
        const int64_t iw = iw0 + ww;
        const bool inside = row_inside && iw >= 0 && iw < a.in_w;
        const float* px = inside ? src + ww : x_grp;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const bool valid = inside && c0 + j < a.cg;
          cp_async_4_or_zero(dst + 4 * ww + j, valid ? px + j * plane_in : x_grp, valid);
        }
      }
    }
    float* const w_s = stage + a.x_stage_floats;
    const float* w_src =
        a.packed + (((int64_t)c.tc.g * a.k_tiles + c.tc.kt) * a.c_chunks + c.cc) *
                       ((int64_t)rs * kTapFloats);
    const int vecs = rs * (kTapFloats / 4);
    for (int v = tid; v < vecs; v += kThreads) cp_async_16(w_s + v * 4, w_src + v * 4);
  };
  // Rounds this thread's own window rows of a landed stage to TF32 (16 bytes at a time).
  auto round_window = [&](float* stage) {
    for (int row = warp; row < window_rows; row += kWarps) {
      const int kh = row / a.halo_h, hh = row - kh * a.halo_h;
      float4* dst = reinterpret_cast<float4*>(stage) + kh * a.x_plane_ld + hh * a.halo_w;
      for (int ww = lane; ww < a.halo_w; ww += 32) {
        float4 v = dst[ww];
        v.x = tf32_round_rna(v.x);
        v.y = tf32_round_rna(v.y);
        v.z = tf32_round_rna(v.z);
        v.w = tf32_round_rna(v.w);
        dst[ww] = v;
      }
    }
  };

  // kTma: moves the landed box (8 channels, halo_h, tma_box_w) into x_s's layout, rounding to
  // TF32: this thread's pixels' 4-channel groups are read into registers, then (after every
  // thread has read: the two layouts share the memory) written as 16-byte rows. Unit i of this
  // thread is (k half, window pixel) tid + 256 i; its offsets are the same every iteration, so
  // they are computed once (the divisions cost as much as the copies).
  constexpr int kMaxUnits = 2 * CONVGEMM_IGEMM_WG_TMA_MAX_PIXELS / kThreads;
  const int box_plane = a.halo_h * a.tma_box_w;  // floats per channel of the box
  int unit_src[kMaxUnits], unit_dst[kMaxUnits];  // floats into the box; float4s into x_s
  if constexpr (kTma) {
    const int window = a.halo_h * a.halo_w;
#pragma unroll
    for (int i = 0; i < kMaxUnits; ++i) {
      const int u = tid + i * kThreads;
      const int kh = u >= window, pix = u - kh * window;
      const int hh = pix / a.halo_w, ww = pix - hh * a.halo_w;
      unit_src[i] = (4 * kh * a.halo_h + hh) * a.tma_box_w + a.tma_shift + ww;
      unit_dst[i] = u < 2 * window ? kh * a.x_plane_ld + pix : -1;
    }
  }
  auto transpose_window = [&](float* stage) {
    float4 v[kMaxUnits];
#pragma unroll
    for (int i = 0; i < kMaxUnits; ++i) {
      if (unit_dst[i] >= 0) {
        const float* src = stage + unit_src[i];
        v[i] = make_float4(tf32_round_rna(src[0]), tf32_round_rna(src[box_plane]),
                           tf32_round_rna(src[2 * box_plane]),
                           tf32_round_rna(src[3 * box_plane]));
      }
    }
    __syncthreads();
#pragma unroll
    for (int i = 0; i < kMaxUnits; ++i)
      if (unit_dst[i] >= 0) reinterpret_cast<float4*>(stage)[unit_dst[i]] = v[i];
  };

  // Zeroed by ordinary instructions only while no wgmma is in flight (at the start and after
  // each epilogue's wgmma_wait<0>).
  float acc[2][64];
#pragma unroll
  for (int m = 0; m < 2; ++m)
#pragma unroll
    for (int i = 0; i < 64; ++i) acc[m][i] = 0.0f;

  // Descriptor steps in 16-byte units (the address field's unit; every address stays below
  // 2^18 bytes, so adding to the descriptor never carries out of the field): a window pixel is
  // one unit, a filter tap 1024 floats = 256.
  const int x_next_row = a.stride_h * a.halo_w;          // the warpgroup's second output row
  const int x_tap_row = a.dilation_h * a.halo_w - a.s;   // from tap (r, S) to (r + 1, 0)
  const int ahead = a.stages - 2;  // iterations whose copies fly while one is computed
  uint32_t phases = 0;             // kTma: bit s = parity of stage s's next barrier phase
  if constexpr (kTma) {
    if (tid == 0) {
      for (int s = 0; s < a.stages; ++s) mbarrier_init(&full[s], 1);
      fence_mbarrier_init();
    }
    __syncthreads();
  }
  Cursor ld = {(int)blockIdx.x, 0, 0, TileCoord()};
  start_tile(ld);
  for (int s = 0; s < ahead; ++s) {
    if (ld.tile < a.tiles) {
      load_iteration(ld);
      advance(ld);
    }
    if constexpr (!kTma) cp_async_commit();
  }
  Cursor cp = {(int)blockIdx.x, 0, 0, TileCoord()};
  start_tile(cp);
  while (cp.tile < a.tiles) {
    float* const stage = smem + cp.stage * stage_floats;
    if constexpr (kTma) {
      mbarrier_wait_parity(&full[cp.stage], (phases >> cp.stage) & 1);
      phases ^= 1u << cp.stage;
      transpose_window(stage);
    } else {
      wait_current_stage(a.stages);
      round_window(stage);
    }
    // The rounded window (and the filter) to wgmma's proxy; also orders these generic accesses
    // before the TMA that refills the stage later.
    fence_proxy_async_shared();
    __syncthreads();
    // Iteration it - 2's stage is free: every warpgroup retired its wgmmas (wgmma_wait<1> at
    // the end of iteration it - 1) before the barrier above. Iteration it - 1's wgmmas may still
    // run, reading their own stage, while this thread rounds and queues copies.
    if (ld.tile < a.tiles) {
      load_iteration(ld);
      advance(ld);
    }
    if constexpr (!kTma) cp_async_commit();  // possibly empty: one group per iteration keeps
                                             // the waits exact

    // Output row 2 wg + m of the tile reads window rows from (2 wg + m) stride_h on.
    const uint64_t desc_x = wgmma_desc_kmajor(stage + 4 * (2 * wg * x_next_row), lbo_x, kSboX);
    const uint64_t desc_w = wgmma_desc_kmajor(stage + a.x_stage_floats, kLboW, kSboW);
    int x_off = 0, s = 0;
#pragma unroll 1
    for (int tap = 0; tap < rs; ++tap) {
      // After the descriptors are written. ptxas adds one more before the second wgmma (info
      // C7519): a register-ordering fence, not a wait.
      wgmma_fence();
      wgmma_m64n128k8_tf32<1>(acc[0], desc_x + x_off, desc_w + tap * (kTapFloats / 4));
      wgmma_m64n128k8_tf32<1>(acc[1], desc_x + x_off + x_next_row,
                              desc_w + tap * (kTapFloats / 4));
      ++x_off;
      if (++s == a.s) {
        s = 0;
        x_off += x_tap_row;
      }
    }
    wgmma_commit();
    const bool last_chunk = cp.cc == a.c_chunks - 1;
    const TileCoord tc = cp.tc;
    advance(cp);
    if (!last_chunk) {
      wgmma_wait<1>();  // iteration it - 1's group: its stage may be refilled next iteration
      continue;
    }
    wgmma_wait<0>();
#pragma unroll
    for (int m = 0; m < 2; ++m)
#pragma unroll
      for (int i = 0; i < 64; ++i) wgmma_fence_operand(acc[m][i]);

    // Epilogue: acc[m][4j + 2h + e] is pixel (row 2 wg + m, column 16 wq + fg + 8h), channel
    // 8j + 2 ft + e of the tile.
    const int64_t plane = (int64_t)a.p * a.q;
    const int k0 = tc.g * a.kg + tc.kt * kBlockK;  // the tile's first output channel
#pragma unroll
    for (int m = 0; m < 2; ++m) {
      const int p = tc.pt * kTileP + 2 * wg + m;
      const int q0 = tc.qt * kTileQ + 16 * wq + fg;
      if (p >= a.p) continue;
      float* const y_px = a.y + ((int64_t)tc.n * a.k + k0) * plane + (int64_t)p * a.q + q0;
#pragma unroll
      for (int j = 0; j < 16; ++j) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int kk = 8 * j + 2 * ft + e;
          if (tc.kt * kBlockK + kk >= a.kg) continue;
          const float b = a.bias != nullptr ? a.bias[k0 + kk] : 0.0f;
          float* const y_k = y_px + kk * plane;
          if (q0 < a.q) y_k[0] = acc[m][4 * j + e] + b;
          if (q0 + 8 < a.q) y_k[8] = acc[m][4 * j + 2 + e] + b;
        }
      }
    }
#pragma unroll
    for (int m = 0; m < 2; ++m)
#pragma unroll
      for (int i = 0; i < 64; ++i) acc[m][i] = 0.0f;
  }
  wgmma_wait<0>();  // nothing is in flight here; says so to ptxas, which else waits every iteration
#else
  (void)a;
#endif
}

}  // namespace

// cuTensorMapEncodeTiled from the driver (no libcuda link), looked up once; NULL if missing.
PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static const PFN_cuTensorMapEncodeTiled_v12000 encode = [] {
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault,
                                         &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess) {
      cudaGetLastError();  // the failed lookup's error is ours, not the caller's
      fn = nullptr;
    }
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
  }();
  return encode;
}

// x as a 5-D tensor (W, H, C/G, G, N), innermost first, so a box never crosses into the next
// group's channels (those read zero, like the image's outside), and the box the kernel loads.
bool encode_x_map(const IgemmArgs& a, CUtensorMap* map) {
  const PFN_cuTensorMapEncodeTiled_v12000 encode = tensor_map_encoder();
  if (encode == nullptr || reinterpret_cast<uintptr_t>(a.x) % 16 != 0) return false;
  const cuuint64_t dims[5] = {(cuuint64_t)a.in_w, (cuuint64_t)a.in_h, (cuuint64_t)a.cg,
                              (cuuint64_t)a.groups, (cuuint64_t)a.n};
  const cuuint64_t plane = (cuuint64_t)a.in_h * a.in_w * 4;
  const cuuint64_t strides[4] = {(cuuint64_t)a.in_w * 4, plane, plane * a.cg, plane * a.c};
  const cuuint32_t box[5] = {(cuuint32_t)a.tma_box_w, (cuuint32_t)a.halo_h, kChunk, 1, 1};
  const cuuint32_t element_strides[5] = {1, 1, 1, 1, 1};
  return encode(map, CU_TENSOR_MAP_DATA_TYPE_FLOAT32, 5, const_cast<float*>(a.x), dims, strides,
                box, element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_NONE,
                CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

cudaError_t igemm_wgmma_configure(int max_smem_per_block) {
  cudaError_t e = cudaFuncSetAttribute(igemm_wgmma_kernel<true>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       max_smem_per_block);
  if (e == cudaSuccess)
    e = cudaFuncSetAttribute(igemm_wgmma_kernel<false>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize, max_smem_per_block);
  return e;
}

// The TMA kernel where the plan allows it, the tensor map encodes and x is 16-byte aligned;
// else the cp.async one (same stages, same numbers).
cudaError_t igemm_wgmma_launch(const IgemmArgs& a, const convgemm_igemm_plan_t* plan,
                               cudaStream_t stream) {
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3((unsigned)plan->blocks);
  config.blockDim = dim3(kThreads);
  config.dynamicSmemBytes = plan->smem_bytes;
  config.stream = stream;
  CUtensorMap x_map = {};
  if (plan->tma && encode_x_map(a, &x_map))
    return cudaLaunchKernelEx(&config, igemm_wgmma_kernel<true>, a, x_map);
  return cudaLaunchKernelEx(&config, igemm_wgmma_kernel<false>, a, x_map);
}

}  // namespace convgemm
