/*
 * IMPLICIT_GEMM on Hopper: TF32 warpgroup MMA (wgmma.m64n128k8, sm_90a, both operands in shared
 * memory), tiling in implicit_gemm_plan.h; stride_w = 1 only (a tile row's 64 output pixels are
 * consecutive window pixels; dilation only moves the taps). Offsets into x, w and y are 64-bit.
 *
 * A persistent block (one per SM) walks its tiles' (tile, channel chunk) iterations as one
 * stream through a ring of stages, so the next tile's first chunks load while this tile's last
 * chunks are computed and its epilogue stores drain. Two warpgroups compute: per tap each issues
 * two wgmma.m64n128k8 (its two output rows) reading 64 x 8 of x_s and 8 x 128 of w_s;
 * accumulators: 2 x 64 floats per thread (warpgroup j: pixel rows 2j, 2j + 1 of the tile, all 128
 * output channels). wgmma is asynchronous: a chunk's wgmmas run while the next chunk is prepared.
 * Per stage:
 *   x_s (2, plane_ld, 4)   the chunk's input window with halo and zero padding, channel-minor:
 *                          [k half][window pixel (row-major, halo_w per row)][4 channels],
 *                          rounded to TF32. Each window pixel is one 16-byte core-matrix row, so
 *                          the A operand of a tap (64 consecutive output pixels of a row) is the
 *                          window shifted by the tap: a descriptor 16 (r dil_h halo_w + s dil_w)
 *                          bytes further, no copy. k halves plane_ld pixels apart (LBO).
 *   w_s (R*S, 1024)        per tap 16 channel groups x 2 k halves of 8 x 16-byte core matrices
 *                          (the packed filter's wgmma order, copied as is)
 * Two kernels fill the stages:
 *   TMA       (plan->tma) warp-specialized: a loader and a producer warpgroup beside the 2
 *             compute ones. The loader's first thread loads the window as one TMA box (8
 *             channels, halo_h, tma_box_w; zero fill outside the image and past C/G) and the
 *             filter by one bulk copy, counted on the stage's `full` barrier; the producers
 *             transpose the box in place into x_s (rounding; IEEE math: splitting, plan->split)
 *             and arrive on `ready`; the compute warpgroups release the stage on `empty` once
 *             their wgmmas reading it retired.
 *   CP_ASYNC  (anything else) all 256 threads queue 4-byte cp.async copies straight into x_s's
 *             layout, round their own copies, and meet at a block barrier per chunk.
 * The TMA kernel with TF32 operands has two more instantiations, chosen by the plan: the carry
 * epilogue (store-bound tiles on rows off 32-byte sectors: store_tile_staged_carry) and tap pairs
 * (K/G <= 64: two filter taps per packed tap, store_tile_staged_pairs). With 16-bit data the
 * plan may keep the whole filter resident (plan->resident_filter): copied once per block after
 * the barriers, the stages then hold the window alone; with enough k steps per tile the two
 * compute warpgroups then take tiles of 2 rows each of their own (plan->ping_pong,
 * compute_ping_pong), so one stores while the other computes. The fp16-products instantiation
 * (plan->f16_products, TF32 operands) keeps its filter resident too: 16-channel fp32 boxes
 * converted to scaled fp16 windows (produce_f16), k16 wgmmas on the fp16 filter, the sums
 * unscaled at the store.
 */
#include <cstdint>
#include <type_traits>

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime.h>

#include "conv/implicit_gemm_args.cuh"
#include "gemm/cp_async.cuh"
#include "gemm/elem_type.cuh"
#include "gemm/stmatrix.cuh"
#include "gemm/tf32_round.cuh"
#include "gemm/tma.cuh"
#include "gemm/wgmma_16bit.cuh"
#include "gemm/wgmma_tf32.cuh"

namespace convgemm {
namespace {

constexpr int kComputeThreads = CONVGEMM_IGEMM_WG_THREADS;            // 2 warpgroups
constexpr int kProducerThreads = CONVGEMM_IGEMM_WG_PRODUCER_THREADS;  // TMA kernel only
constexpr int kLoaderThreads = CONVGEMM_IGEMM_WG_LOADER_THREADS;      // TMA kernel only
constexpr int kTileP = CONVGEMM_IGEMM_WG_TILE_P;
constexpr int kTileQ = CONVGEMM_IGEMM_WG_TILE_Q;
constexpr int kBlockK = CONVGEMM_IGEMM_BLOCK_K;
constexpr int kChunk = CONVGEMM_IGEMM_C_CHUNK;
static_assert(kComputeThreads == 256 && kTileP == 4 && kTileQ == 64 && kBlockK == 128 &&
                  kChunk == 8,
              "the warpgroup split below assumes 2 warpgroups x 2 rows x 64 columns x 128 ch");

// The TMA kernel's element types: float (TF32 operands, or 3xTF32), __half and __nv_bfloat16.
// A 16-byte core-matrix row holds kPer16B channels of a window pixel; a stage holds kChunk
// channels (one k step of wgmma per tap: k8 for TF32, k16 for 16-bit), so a stage, its TMA box
// (kChunk x halo_h x tma_box_w values) and a packed tap (4 KB) have the same bytes either way.
template <typename T>
struct TmaElem {
  static constexpr int kPer16B = 16 / (int)sizeof(T);
  static constexpr int kChunk = 2 * kPer16B;
};
static_assert(TmaElem<float>::kChunk == kChunk &&
                  TmaElem<__half>::kChunk == CONVGEMM_IGEMM_C_CHUNK_16BIT,
              "stages hold the plan's C_CHUNK (float) or C_CHUNK_16BIT channels");

// 16-bit values per channel row of store_tile_staged_16bit's (128, 72) array per warpgroup.
constexpr int kStagedLd16 = 72;

#if CONVGEMM_HAS_WGMMA  // the sm_90a pass; other passes compile empty kernels
constexpr int kTapFloats = kChunk * kBlockK;  // 4-byte words per packed tap, any element type
// The TMA kernel's registers per thread of each role after setmaxnreg; the 64K of the block
// start as 128 per thread (512 threads) and must still cover the sum.
// The carry kernels' epilogue needs 8 more compute registers (168 spilled), taken from the
// producers.
constexpr int kComputeRegisters = 168, kProducerRegisters = 104, kLoaderRegisters = 56;
constexpr int kCarryComputeRegisters = 176, kCarryProducerRegisters = 96;
// The fp16-products kernel's scaled epilogue (bias loads, the unscaling) spilled at 168: the
// 8 more compute registers the block has (its producers keep kProducerRegisters).
constexpr int kF16ComputeRegisters = 176;
static_assert(kComputeThreads * kComputeRegisters + kProducerThreads * kProducerRegisters +
                      kLoaderThreads * kLoaderRegisters <= 65536 &&
                  kComputeThreads * kCarryComputeRegisters +
                          kProducerThreads * kCarryProducerRegisters +
                          kLoaderThreads * kLoaderRegisters <= 65536 &&
                  kComputeThreads * kF16ComputeRegisters + kProducerThreads * kProducerRegisters +
                          kLoaderThreads * kLoaderRegisters <= 65536,
              "the roles' registers exceed the register file");
constexpr int kRows = kTileP / (kComputeThreads / 128);  // output rows per warpgroup (2)
// 3xTF32 (kSplit) tiles have one output row per warpgroup (tile_p 2): its second set of 64
// accumulators holds the partial sums of the chunk in flight, added to the first in fp32 once
// the chunk's wgmmas retired (the TMA kernel's compute loop says why).
template <bool kSplit>
constexpr int kRowsOf = kSplit ? 1 : kRows;
// w_s's core matrices (8 rows x 16 bytes): the two k halves of an 8-channel group 128 bytes
// apart (LBO, the K direction), channel groups 256 bytes apart (SBO, the N direction).
constexpr uint32_t kLboW = 128;
constexpr uint32_t kSboW = 256;
// x_s's: 8 consecutive window pixels are 128 contiguous bytes, the next 8 follow (SBO); the LBO
// is the plane (a runtime value).
constexpr uint32_t kSboX = 128;

// A walk over this block's (tile, chunk) iterations, chunks fastest (tiles <= 2^31-1). The
// block's tiles are blockIdx.x + i gridDim.x; kRuns (the carry kernels): in round i <
// full_rounds the run of run_tiles consecutive tiles numbered blockIdx.x + i gridDim.x, then one
// contiguous range of tail_tiles tiles past all full rounds (every block gets
// ceil(tiles / gridDim.x) tiles or one fewer). Per-tile values are computed once per tile
// (integer division per iteration showed up as most of the kernel's instructions).
// kList (the recomputation after fp16 products): the walk is over entries of the tile list in
// a.f16_info (all tiles when the filter was not exact), entry i standing for tile list[i]; end is
// the number of entries (tiles otherwise). Both come through __shfl_sync, so ptxas sees them
// warp-uniform (a loop bound it takes for divergent serializes the wgmmas: C7520).
struct Cursor {
  int tile, cc, r0, stage;  // r0: the stage's first filter row (0 unless stage_rows < R)
  int round, run_left;      // kRuns: the block's round; tiles of the run after this one
  int end;                  // entries walked: a.tiles, or kList's count
  const int* list;          // kList: the tile of each entry (nullptr: entry i is tile i)
  int ordinal;              // the block's tiles before this one (ping-pong: its warpgroup)
  TileCoord tc;
};

template <bool kList>
__device__ __forceinline__ TileCoord cursor_coord(const Cursor& c, const IgemmArgs& a) {
  const int tile = kList && c.list != nullptr ? __shfl_sync(0xFFFFFFFFu, c.list[c.tile], 0) : c.tile;
  return split_tile(tile, a.k_tiles, a.q_tiles, a.p_tiles, a.groups);
}

// kRuns: the first tile of round c.round (c.tile = tiles when the block has no more).
__device__ __forceinline__ void cursor_run(Cursor& c, const IgemmArgs& a) {
  const bool full = c.round < a.full_rounds;
  const int64_t first =
      full ? ((int64_t)c.round * gridDim.x + blockIdx.x) * a.run_tiles
           : ((int64_t)a.full_rounds * gridDim.x * a.run_tiles +
              (int64_t)blockIdx.x * a.tail_tiles);
  const int64_t count = full ? a.run_tiles : c.round == a.full_rounds ? a.tail_tiles : 0;
  const int64_t left = a.tiles - first < count ? a.tiles - first : count;
  c.tile = left > 0 ? (int)first : (int)a.tiles;
  c.run_left = left > 0 ? (int)left - 1 : 0;
}

template <bool kRuns, bool kList = false>
__device__ __forceinline__ Cursor cursor_start(const IgemmArgs& a) {
  static_assert(!(kRuns && kList), "a list is walked round-robin");
  Cursor c = {(int)blockIdx.x, 0, 0, 0, 0, 0, (int)a.tiles, nullptr, 0, TileCoord()};
  if constexpr (kList) {
    const bool all = __shfl_sync(0xFFFFFFFFu, a.f16_info[1], 0) != 0;
    c.end = all ? (int)a.tiles : __shfl_sync(0xFFFFFFFFu, a.f16_info[2], 0);
    c.list = all ? nullptr : a.f16_info + CONVGEMM_IGEMM_F16_INFO_INTS;
  }
  if constexpr (kRuns) cursor_run(c, a);
  if (c.tile < c.end) c.tc = cursor_coord<kList>(c, a);
  return c;
}

template <bool kRuns, bool kList = false>
__device__ __forceinline__ void cursor_advance(Cursor& c, const IgemmArgs& a) {
  if (++c.stage == a.stages) c.stage = 0;
  c.r0 += a.stage_rows;
  if (c.r0 < a.r) return;
  c.r0 = 0;
  if (++c.cc == a.c_chunks) {
    c.cc = 0;
    ++c.ordinal;
    if constexpr (kRuns) {
      if (c.run_left > 0) {
        --c.run_left;
        ++c.tile;
      } else {
        ++c.round;
        cursor_run(c, a);
      }
    } else {
      c.tile += gridDim.x;
    }
    if (c.tile < c.end) c.tc = cursor_coord<kList>(c, a);
  }
}

// The iteration's packed filter taps (stage_rows*S x 1024 floats, contiguous: rows r0 ..
// r0 + stage_rows - 1 of the chunk's R*S taps).
__device__ __forceinline__ const float* chunk_filter(const IgemmArgs& a, const Cursor& c) {
  return a.packed + (((int64_t)c.tc.g * a.k_tiles + c.tc.kt) * a.c_chunks + c.cc) *
                        ((int64_t)a.r * a.s_taps * kTapFloats * (1 + a.split)) +
         (int64_t)c.r0 * a.s_taps * kTapFloats * (1 + a.split);
}

// The last iteration of a tile.
__device__ __forceinline__ bool last_of_tile(const IgemmArgs& a, const Cursor& c) {
  return c.cc == a.c_chunks - 1 && c.r0 + a.stage_rows == a.r;
}

// Queues warpgroup wg's wgmmas of one chunk on `stage` (all taps, its R output rows
// R wg .. R wg + R - 1 of the tile), committed as one group. The chunk's taps are w_s, after the
// window, or `taps` where the filter is resident.
// kSplit (3xTF32): x_s holds the window's big planes, then its small ones (2 plane_ld pixels
// further); each packed tap its big 1024 floats, then its small ones. Per tap and row three
// wgmmas, the small products first: small(x) big(w), big(x) small(w), big(x) big(w).
template <typename T, bool kSplit, int R>
__device__ __forceinline__ void issue_chunk(float (&acc)[R][64], const IgemmArgs& a,
                                            const float* stage, int wg,
                                            const float* taps = nullptr) {
  // Descriptor steps in 16-byte units (the address field's unit; every address stays below
  // 2^18 bytes, so adding to the descriptor never carries out of the field): a window pixel is
  // one unit, a filter tap 1024 floats = 256 (2048 = 512 split).
  const int x_next_row = a.stride_h * a.halo_w;         // one output row further
  // A packed tap moves the window by x_step pixels (tap pairs: two filter taps).
  const int x_step = a.dilation_w * (a.tap_pairs ? 2 : 1);
  const int x_tap_row = a.dilation_h * a.halo_w - a.s_taps * x_step;  // (r, S) to (r + 1, 0)
  // Output row R wg + m of the tile reads window rows from (R wg + m) stride_h on.
  const uint64_t desc_x = wgmma_desc_kmajor(stage + 4 * (R * wg * x_next_row),
                                            (uint32_t)a.x_plane_ld * 16, kSboX);
  const uint64_t desc_w =
      wgmma_desc_kmajor(taps != nullptr ? taps : stage + a.x_stage_floats, kLboW, kSboW);
  const int x_small = 2 * a.x_plane_ld;       // small planes: two k halves further
  constexpr int kTapUnits = kTapFloats / 4 * (kSplit ? 2 : 1);
  constexpr int kWSmall = kTapFloats / 4;     // a tap's small part: after its big one
  const int rs = a.stage_rows * a.s_taps;
  int x_off = 0, s = 0;
#pragma unroll 1
  for (int tap = 0; tap < rs; ++tap) {
    // After the descriptors are written. ptxas adds one more before a second wgmma (info
    // C7519): a register-ordering fence, not a wait.
    wgmma_fence();
#pragma unroll
    for (int m = 0; m < R; ++m) {
      const uint64_t dx = desc_x + x_off + m * x_next_row, dw = desc_w + tap * kTapUnits;
      if constexpr (sizeof(T) == 2) {
        wgmma_m64n128k16<T, 1>(acc[m], dx, dw);
      } else {
        if (kSplit) {
          wgmma_m64n128k8_tf32<1>(acc[m], dx + x_small, dw);
          wgmma_m64n128k8_tf32<1>(acc[m], dx, dw + kWSmall);
        }
        wgmma_m64n128k8_tf32<1>(acc[m], dx, dw);
      }
    }
    x_off += x_step;
    if (++s == a.s_taps) {
      s = 0;
      x_off += x_tap_row;
    }
  }
  wgmma_commit();
}

// Accumulator layout of compute thread `tid`: acc[m][4j + 2h + e] is pixel (row R wg + m,
// column 16 wq + fg + 8h), channel 8j + 2 ft + e of the tile.
//
// Starts tile tc's accumulators at its bias (0 without one, and past K/G), with no wgmma in
// flight: the epilogue then only stores (bias loads there kept 32 more registers live).
template <typename T, int R>
__device__ __forceinline__ void start_tile_acc(float (&acc)[R][64], const IgemmArgs& a,
                                               const TileCoord& tc, int tid) {
  const T* const bias = static_cast<const T*>(a.bias);
  wgmma_wait<0>();  // already true at every call; ptxas must see it (else C7515)
  const int ft = tid % 4;
  const int k0 = tc.g * a.kg + tc.kt * kBlockK;  // the tile's first output channel
#pragma unroll
  for (int j = 0; j < 16; ++j) {
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      const int kk = 8 * j + 2 * ft + e;
      const float b =
          bias != nullptr && tc.kt * kBlockK + kk < a.kg ? to_float(bias[k0 + kk]) : 0.0f;
#pragma unroll
      for (int m = 0; m < R; ++m) {
        acc[m][4 * j + e] = b;
        acc[m][4 * j + 2 + e] = b;
      }
    }
  }
}

// fp16 products: a tile's accumulators start at zero (its bias is added at the store, after
// the unscaling), with no wgmma in flight.
template <int R>
__device__ __forceinline__ void start_tile_zero(float (&acc)[R][64]) {
  wgmma_wait<0>();  // as in start_tile_acc
#pragma unroll
  for (int m = 0; m < R; ++m)
#pragma unroll
    for (int i = 0; i < 64; ++i) acc[m][i] = 0.0f;
}

// The accumulators are final for ptxas: no wgmma writes them any more.
template <int R>
__device__ __forceinline__ void accumulators_final(float (&acc)[R][64]) {
#pragma unroll
  for (int m = 0; m < R; ++m)
#pragma unroll
    for (int i = 0; i < 64; ++i) wgmma_fence_operand(acc[m][i]);
}

// Stores tile tc's accumulators (no wgmma in flight).
__device__ __forceinline__ void store_tile(float (&acc)[kRows][64], const IgemmArgs& a,
                                           const TileCoord& tc, int tid) {
  const int warp = tid / 32, lane = tid % 32;
  const int wg = warp / 4, wq = warp % 4, fg = lane / 4, ft = lane % 4;
  accumulators_final(acc);
  const int64_t plane = (int64_t)a.p * a.q;
  const int k0 = tc.g * a.kg + tc.kt * kBlockK;  // the tile's first output channel
  const int q0 = tc.qt * kTileQ + 16 * wq + fg;
  const bool q_in = q0 < a.q, q8_in = q0 + 8 < a.q;
#pragma unroll
  for (int m = 0; m < kRows; ++m) {
    const int p = tc.pt * kTileP + kRows * wg + m;
    if (p >= a.p) continue;
    float* y_k = static_cast<float*>(a.y) + ((int64_t)tc.n * a.k + k0 + 2 * ft) * plane +
                 (int64_t)p * a.q + q0;
#pragma unroll
    for (int j = 0; j < 16; ++j) {
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        if (tc.kt * kBlockK + 8 * j + 2 * ft + e < a.kg) {
          if (q_in) y_k[0] = acc[m][4 * j + e];
          if (q8_in) y_k[8] = acc[m][4 * j + 2 + e];
        }
        y_k += e == 0 ? plane : 7 * plane;  // channel + 1, then the next 8-channel group
      }
    }
  }
}

// TMA kernel's epilogue: stores tile tc's accumulators through shared memory so that each warp
// store instruction writes 128 contiguous bytes of one channel row (32 lanes x one pixel),
// instead of the accumulator layout's 4 sectors in 4 channel rows (store_tile). Measured with a
// store-only probe on an H100 (one block per SM on 16 SMs, problem 55's tiles): 26 GB/s per SM
// in the accumulator layout, 48 GB/s for row stores, 38 GB/s for row stores staged through
// shared memory; with all 132 SMs storing, 0.74 against 1.5 TB/s in total.
// `staging` is the tile's last stage, which the caller releases to the loader only after this
// returns; both compute warpgroups must have retired their wgmmas reading it (the 256-thread
// barrier below). Warpgroup wg uses kPassFloats of it as a (kPassCh channels, 68) array: 64
// channels where the stage holds 2 x 64 x 68 floats (problem 55's does), else 16 (any stage holds
// 2 x 16 x 68: at least one 1024-float filter tap and a 64 x 4 x 8-float window). Per pass every
// thread writes its values of the pass's channels (68 = 4 mod 32 spreads the 4 ft lanes of a
// channel over separate 8-bank groups: conflict-free), then warp wq stores channel rows wq,
// wq + 4, ... of the pass, lane l pixels l and l + 32. Every branch here is a predicate, not a
// jump: a condition ptxas takes for divergent serializes the wgmmas (C7520).
constexpr int kStagedLd = 68;  // floats per channel row of store_tile_staged's passes

// The start of a staged epilogue: the accumulators are final for ptxas (no wgmma writes them any
// more) and both compute warpgroups' wgmmas, which read the stage about to be reused as
// staging, retired (a 256-thread named barrier).
template <int R>
__device__ __forceinline__ void retire_tile(float (&acc)[R][64]) {
  accumulators_final(acc);
  named_barrier_sync(2, kComputeThreads);
}

// y's element at output channel wq, row p0, column q0 + col of tile tc (a warp then steps it by
// pointer adds: per-store 64-bit offsets would each take registers).
template <typename T>
__device__ __forceinline__ T* tile_y(const IgemmArgs& a, const TileCoord& tc, int wq, int p0,
                                     int q0, int col) {
  return static_cast<T*>(a.y) +
         ((int64_t)tc.n * a.k + tc.g * a.kg + tc.kt * kBlockK + wq) * ((int64_t)a.p * a.q) +
         (int64_t)p0 * a.q + q0 + col;
}

// kScaled (fp16 products): the accumulators hold the tile's sums times 2^(its x and w scale
// exponents) and no bias; each value is stored as fmaf(value, inv, bias) (inv = 2^-(sum): exact).
template <typename T, int kPassCh, int R, bool kScaled = false>
__device__ __forceinline__ void store_tile_staged(float (&acc)[R][64], const IgemmArgs& a,
                                                  const TileCoord& tc, int tid, float* staging,
                                                  float inv = 1.0f) {
  constexpr int kLd = kStagedLd, kPassFloats = kPassCh * kLd;
  const int warp = tid / 32, lane = tid % 32;
  const int wg = warp / 4, wq = warp % 4, fg = lane / 4, ft = lane % 4;
  retire_tile(acc);
  float* const st = staging + wg * kPassFloats;
  const int64_t plane4 = 4 * (int64_t)a.p * a.q;  // 4 channels further
  const int q0 = tc.qt * kTileQ;
  const bool q_lo = q0 + lane < a.q, q_hi = q0 + lane + 32 < a.q;
  const int p0 = tc.pt * 2 * R + R * wg;  // 2 warpgroups of R rows
  // Channel wq (then wq + 4, ...) of the tile, row p0, column q0 + lane.
  T* const y_first = tile_y<T>(a, tc, wq, p0, q0, lane);
  const bool has_bias = kScaled && a.bias != nullptr;
  const float* const bias_first = static_cast<const float*>(a.bias) + tc.g * a.kg +
                                  tc.kt * kBlockK + wq;
#pragma unroll
  for (int m = 0; m < R; ++m) {
    const bool p_in = p0 + m < a.p;
    T* y_row = y_first + m * a.q;
    const float* bias_k = bias_first;
    int c_left = a.kg - tc.kt * kBlockK - wq;  // > 0: y_row's channel is inside the group
#pragma unroll
    for (int pass = 0; pass < kBlockK / kPassCh; ++pass) {
#pragma unroll
      for (int jj = 0; jj < kPassCh / 8; ++jj) {
        const int j = pass * (kPassCh / 8) + jj;
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          float* const row = st + (8 * jj + 2 * ft + e) * kLd + 16 * wq + fg;
          row[0] = acc[m][4 * j + e];
          row[8] = acc[m][4 * j + 2 + e];
        }
      }
      named_barrier_sync(3 + wg, 128);  // the pass is in shared memory
#pragma unroll
      for (int i = 0; i < kPassCh / 4; ++i) {
        const float* const from = st + (wq + 4 * i) * kLd + lane;
        const bool c_in = p_in && c_left > 0;
        float v0 = from[0], v1 = from[32];
        if constexpr (kScaled) {
          const float b = has_bias && c_in ? *bias_k : 0.0f;
          v0 = fmaf(v0, inv, b);
          v1 = fmaf(v1, inv, b);
          bias_k += 4;
        }
        if (c_in && q_lo) y_row[0] = from_float<T>(v0);
        if (c_in && q_hi) y_row[32] = from_float<T>(v1);
        y_row += plane4;
        c_left -= 4;
      }
      named_barrier_sync(3 + wg, 128);  // read before the next pass overwrites it
    }
  }
  // The stage returns to the loader, whose TMA (async proxy) writes it next.
  fence_proxy_async_shared();
}

// The carry kernels' epilogue (TF32 operands, not split; k_tiles 1; a block's tiles in runs
// along Q): every 32-byte sector of y that a tile boundary splits is stored whole, by the
// right-hand tile. A sector written in two parts by two tiles microseconds apart costs the L2 a
// DRAM read and a second write (ncu, problem 63: 2.6 GB read and 9.1 GB written for 8.5 GB of
// output; 1.4 and 8.6 with this epilogue). Staging rows are (8 + 64 + 4) floats: slots 0..7 hold
// the previous tile's columns 56..63 of the row (copied from `carry`), slots 8..71 this tile's
// columns. a0, the row's first column on a sector boundary (0..7), is the same in every tile of
// the row; each tile stores its columns a0 - 8 .. a0 + 55, which start on a sector boundary
// (slots a0 .. a0 + 63), and keeps columns 56..63 in `carry` for the next. A run's first tile
// stores from column 0, its last up to column 64 (partial sectors only at a run's ends).
// `carry` (this warpgroup's R x 128 rows of 8 floats) is laid out per warp, [m][pass][wq][i][8],
// so each warp's rows of a pass are 128 contiguous floats, copied in and out as float4s by the
// warp that stores them: only __syncwarp is needed.
constexpr int kCarryLd = 76;  // = 12 mod 16: the fragment writes stay conflict-free

template <int kPassCh, int R>
__device__ __forceinline__ void store_tile_staged_carry(float (&acc)[R][64], const IgemmArgs& a,
                                                        const TileCoord& tc, int tid,
                                                        float* staging, bool carry_in,
                                                        bool carry_out, float* carry) {
  constexpr int kLd = kCarryLd, kPassFloats = kPassCh * kLd, kRowsPerWarp = kPassCh / 4;
  const int warp = tid / 32, lane = tid % 32;
  const int wg = warp / 4, wq = warp % 4, fg = lane / 4, ft = lane % 4;
  retire_tile(acc);
  float* const st = staging + wg * kPassFloats;
  const int64_t plane4 = 4 * (int64_t)a.p * a.q;  // 4 channels further
  const int q0 = tc.qt * kTileQ;
  const int q_len = a.q - q0 < kTileQ ? a.q - q0 : kTileQ;
  const int p0 = tc.pt * 2 * R + R * wg;  // 2 warpgroups of R rows
  // Channel wq (then wq + 4, ...) of the tile, row p0, column q0 + lane - 8.
  float* const y_first = tile_y<float>(a, tc, wq, p0, q0, lane - 8);
  // The warp's carry copies: lane l moves floats 4 l .. 4 l + 3 of its 16 rows' 128, row l / 2.
  const int copy_row = lane / 2 * kLd * 4, copy_half = lane % 2 * 4;
#pragma unroll
  for (int m = 0; m < R; ++m) {
    const bool p_in = p0 + m < a.p;
    float* y_row = y_first + m * a.q;
    int c_left = a.kg - tc.kt * kBlockK - wq;  // > 0: y_row's channel is inside the group
#pragma unroll
    for (int pass = 0; pass < kBlockK / kPassCh; ++pass) {
#pragma unroll
      for (int jj = 0; jj < kPassCh / 8; ++jj) {
        const int j = pass * (kPassCh / 8) + jj;
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          float* const row = st + (8 * jj + 2 * ft + e) * kLd + 8 + 16 * wq + fg;
          row[0] = acc[m][4 * j + e];
          row[8] = acc[m][4 * j + 2 + e];
        }
      }
      named_barrier_sync(3 + wg, 128);  // the pass is in shared memory
      {
        // The warp's rows are wq + 4 i of the pass (i < kRowsPerWarp = 16 for 64-channel passes;
        // 16-channel passes: 4 rows, lanes 8.. idle).
        float* const kept = carry + ((m * (kBlockK / kPassCh) + pass) * 4 + wq) * kRowsPerWarp * 8;
        float* const srow = st + wq * kLd + copy_row + copy_half;
        const bool copies = lane < 2 * kRowsPerWarp;
        float4 in = make_float4(0.f, 0.f, 0.f, 0.f), out = in;
        if (copies) {
          in = *reinterpret_cast<const float4*>(kept + 4 * lane);
          out = *reinterpret_cast<const float4*>(srow + 64);
        }
        if (copies && carry_in) *reinterpret_cast<float4*>(srow) = in;
        if (copies && carry_out) *reinterpret_cast<float4*>(kept + 4 * lane) = out;
        __syncwarp();
      }
      // 4 rows at a time: fully unrolled, the carry kernel spills.
#pragma unroll(kRowsPerWarp > 4 ? 4 : kRowsPerWarp)
      for (int i = 0; i < kRowsPerWarp; ++i) {
        const bool c_in = p_in && c_left > 0;
        // y_row - lane + 8 is the row's column 0; a0 from its address (8 floats per sector).
        const int a0 = (int)(8 - (reinterpret_cast<uintptr_t>(y_row - lane + 8) >> 2 & 7)) & 7;
        const int c = a0 - 8 + lane;  // this lane's first column
        const int hi = carry_out ? a0 + 56 : q_len;
        const bool s0 = (carry_in || c >= 0) && c < hi, s1 = c + 32 < hi, s2 = c + 64 < hi;
        const float* const from = st + (wq + 4 * i) * kLd + lane + a0;  // slot of column c
        const float v0 = from[0], v1 = from[32], v2 = from[s2 ? 64 : 0];
        if (c_in && s0) y_row[a0] = v0;
        if (c_in && s1) y_row[a0 + 32] = v1;
        if (c_in && s2) y_row[a0 + 64] = v2;
        y_row += plane4;
        c_left -= 4;
      }
      named_barrier_sync(3 + wg, 128);  // read before the next pass overwrites it
    }
  }
  // The stage returns to the loader, whose TMA (async proxy) writes it next.
  fence_proxy_async_shared();
}

// The tap-pairs kernel's epilogue (plan->tap_pairs, K/G <= 64): channels 64 + k of the
// accumulators hold filter taps (r, 2j + 1) applied to the window shifted by tap (r, 2j), which
// is output column q - dilation_w's share: y[k][q] = acc[k][q] + acc[64 + k][q + dilation_w].
// The tile stores its first q_step (60) of the 64 columns it computed. Per pass, warpgroup wg
// stages kPassCh output channels and their kPassCh partners as (2 kPassCh, 68) floats, then warp
// wq stores channels wq, wq + 4, ... of the pass, lane l columns l and l + 32, each the sum of
// two staged values.
template <int kPassCh, int R>
__device__ __forceinline__ void store_tile_staged_pairs(float (&acc)[R][64], const IgemmArgs& a,
                                                        const TileCoord& tc, int tid,
                                                        float* staging) {
  constexpr int kLd = kStagedLd, kPassFloats = 2 * kPassCh * kLd, kHalfJ = kBlockK / 16;
  const int warp = tid / 32, lane = tid % 32;
  const int wg = warp / 4, wq = warp % 4, fg = lane / 4, ft = lane % 4;
  retire_tile(acc);
  float* const st = staging + wg * kPassFloats;
  const int64_t plane4 = 4 * (int64_t)a.p * a.q;  // 4 channels further
  const int q0 = tc.qt * a.q_step;
  const int q_len = a.q - q0 < a.q_step ? a.q - q0 : a.q_step;
  const bool q_lo = lane < q_len, q_hi = lane + 32 < q_len;
  const int hi_off = kPassCh * kLd + a.dilation_w;  // the partner's row, dilation_w further
  const int p0 = tc.pt * 2 * R + R * wg;           // 2 warpgroups of R rows
  float* const y_first = tile_y<float>(a, tc, wq, p0, q0, lane);
#pragma unroll
  for (int m = 0; m < R; ++m) {
    const bool p_in = p0 + m < a.p;
    float* y_row = y_first + m * a.q;
    int c_left = a.kg - wq;  // > 0: y_row's channel is inside the group (k_tiles 1)
#pragma unroll
    for (int pass = 0; pass < kBlockK / 2 / kPassCh; ++pass) {
#pragma unroll
      for (int jj = 0; jj < kPassCh / 8; ++jj) {
        const int j = pass * (kPassCh / 8) + jj;
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          float* const row = st + (8 * jj + 2 * ft + e) * kLd + 16 * wq + fg;
          row[0] = acc[m][4 * j + e];
          row[8] = acc[m][4 * j + 2 + e];
          row[kPassCh * kLd] = acc[m][4 * (j + kHalfJ) + e];
          row[kPassCh * kLd + 8] = acc[m][4 * (j + kHalfJ) + 2 + e];
        }
      }
      named_barrier_sync(3 + wg, 128);  // the pass is in shared memory
#pragma unroll
      for (int i = 0; i < kPassCh / 4; ++i) {
        const float* const from = st + (wq + 4 * i) * kLd + lane;
        const bool c_in = p_in && c_left > 0;
        if (c_in && q_lo) y_row[0] = from[0] + from[hi_off];
        if (c_in && q_hi) y_row[32] = from[32] + from[hi_off + 32];
        y_row += plane4;
        c_left -= 4;
      }
      named_barrier_sync(3 + wg, 128);  // read before the next pass overwrites it
    }
  }
  // The stage returns to the loader, whose TMA (async proxy) writes it next.
  fence_proxy_async_shared();
}

// 16-bit data: the same, with the tile's values rounded to T as they are staged, so a whole
// row's 128 channels fit one pass per warpgroup ((128, 72) values of T: 2 x 18 KB of the stage)
// and a row takes 2 barriers instead of 4. kPassCh 64: two passes per row through
// WG_STAGING16_BYTES of their own (the resident filter's stages hold only the window). The rows
// are written by stmatrix (8 per row and warp; the 72-value pitch, 144 bytes, keeps each 8 x
// 16-byte matrix conflict-free). kPair: lane l stores pixels 2l and 2l + 1 as one 4-byte word (Q
// even and y 4-byte aligned, so every pair is), one store instruction per 64-pixel channel row;
// else lane l stores pixels l and l + 32.
// (kStagedLd16, values per channel row, is defined with TmaElem: the launch reads it too.)

// kPingPong (plan->ping_pong): the warpgroup's own tile of kRows rows, its own staging, and no
// barrier with the other warpgroup (which is computing).
template <typename T, bool kPair, int kPassCh, bool kPingPong = false>
__device__ __forceinline__ void store_tile_staged_16bit(float (&acc)[kRows][64],
                                                        const IgemmArgs& a, const TileCoord& tc,
                                                        int tid, float* staging) {
  static_assert(sizeof(T) == 2, "16-bit data");
  static_assert(kPassCh == kBlockK || 2 * kPassCh * kStagedLd16 * sizeof(T) ==
                                          CONVGEMM_IGEMM_WG_STAGING16_BYTES,
                "64-channel passes fill the resident filter's staging");
  constexpr int kLd = kStagedLd16;
  const int warp = tid / 32, lane = tid % 32;
  const int wg = warp / 4, wq = warp % 4;
  if constexpr (kPingPong)
    accumulators_final(acc);
  else
    retire_tile(acc);
  T* const st = reinterpret_cast<T*>(staging) + wg * kPassCh * kLd;
  const int64_t plane4 = 4 * (int64_t)a.p * a.q;  // 4 channels further
  const int q0 = tc.qt * kTileQ;
  const bool q_lo = q0 + lane < a.q, q_hi = q0 + lane + 32 < a.q;
  const bool q_pair = q0 + 2 * lane < a.q;  // Q even: the pair's second pixel too
  const int p0 = kPingPong ? tc.pt * kRows : tc.pt * kTileP + kRows * wg;
  T* const y_first = tile_y<T>(a, tc, wq, p0, q0, kPair ? 2 * lane : lane);
#pragma unroll
  for (int m = 0; m < kRows; ++m) {
    const bool p_in = p0 + m < a.p;
    T* y_row = y_first + m * a.q;
    int c_left = a.kg - tc.kt * kBlockK - wq;  // > 0: y_row's channel is inside the group
    // Channels 8j .. 8j + 15 (j even) of the warp's 16 pixels per stmatrix: matrix k is
    // channels 8 (j + k / 2) + 0..7 at pixels 16 wq + 8 (k % 2) + 0..7, transposed into 8 channel
    // rows of 8 pixels (16 bytes each, 144 bytes apart: 32 banks per matrix, no conflicts).
    // Lane l gives row l % 8 of matrix l / 8. 8 instructions per row instead of 64 2-byte stores.
    T* const st_row = st + (8 * (lane / 16) + lane % 8) * kLd + 16 * wq + 8 * (lane / 8 % 2);
#pragma unroll
    for (int pass = 0; pass < kBlockK / kPassCh; ++pass) {
#pragma unroll
      for (int jj = 0; jj < kPassCh / 8; jj += 2) {
        const int j = pass * (kPassCh / 8) + jj;
        stmatrix_x4_trans(st_row + 8 * jj * kLd, pack_16bit<T>(acc[m][4 * j], acc[m][4 * j + 1]),
                          pack_16bit<T>(acc[m][4 * j + 2], acc[m][4 * j + 3]),
                          pack_16bit<T>(acc[m][4 * j + 4], acc[m][4 * j + 5]),
                          pack_16bit<T>(acc[m][4 * j + 6], acc[m][4 * j + 7]));
      }
      named_barrier_sync(3 + wg, 128);  // the pass is in shared memory
#pragma unroll
      for (int i = 0; i < kPassCh / 4; ++i) {
        const T* const from = st + (wq + 4 * i) * kLd;
        const bool c_in = p_in && c_left > 0;
        if constexpr (kPair) {
          const uint32_t v = reinterpret_cast<const uint32_t*>(from)[lane];
          if (c_in && q_pair) *reinterpret_cast<uint32_t*>(y_row) = v;
        } else {
          if (c_in && q_lo) y_row[0] = from[lane];
          if (c_in && q_hi) y_row[32] = from[lane + 32];
        }
        y_row += plane4;
        c_left -= 4;
      }
      named_barrier_sync(3 + wg, 128);  // read before the next pass overwrites it
    }
  }
  // A stage used as staging returns to the loader, whose TMA (async proxy) writes it next.
  fence_proxy_async_shared();
}

// The TMA kernel's producers (thread pt of the producer warpgroup): each landed box into x_s's
// layout, then `ready`. A box is (kChunk channels, halo_h, tma_box_w) values, the window starting
// tma_shift columns in; x_s is [k half][window pixel][16 bytes], written over the box in place:
// all reads, then a producer barrier, then all writes.
//
// float: unit i is (k half, window pixel) gpt + kThreads i, its 4 channels rounded to TF32
// (split: the small parts, x - big rounded, go 2 plane_ld pixels further). Its offsets are the
// same every iteration, so they are computed once.
// kGroups 2 (plan->producer_groups: 3xTF32, an even number of stages, windows of at most
// 64 x kGroupUnits / 2 pixels): the producers are two groups of 64 threads, group g transposing
// the stages s with s % 2 == g, so two stages are transposed at once. A stage's transpose is a
// chain of latencies (the loads, the group barrier, the stores, the proxy fence); with one group
// at a time the wgmmas waited for `ready`: 3xTF32 problem 55 ran 6.4 ms, 5.4 with the transposes
// skipped, 5.7-6.0 with two groups (log step 53). Each group owns whole stages because `full` is
// waited on by parity: a group waiting for use n of a stage whose use n - 1 (another group's) had
// not landed would take that older phase's completion for its own (four groups taking turns
// over KernelBench 56's 3 stages hung a benchmark run).
constexpr int kGroupUnits = CONVGEMM_IGEMM_WG_GROUP_UNITS;  // a split unit: 8 floats of registers

// v's values exist before the next asm volatile statement (a barrier): an empty volatile asm
// that reads and writes them keeps its place among the others.
__device__ __forceinline__ void pin_before_barrier(float4& v) {
  asm volatile("" : "+f"(v.x), "+f"(v.y), "+f"(v.z), "+f"(v.w));
}

template <bool kSplit, bool kRuns, int kGroups, bool kList = false>
__device__ __forceinline__ void produce_float(const IgemmArgs& a, float* smem, int stage_floats,
                                              uint64_t* full, uint64_t* ready, int pt) {
  constexpr int kThreads = kProducerThreads / kGroups;
  constexpr int kUnits =
      kGroups == 1 ? 2 * CONVGEMM_IGEMM_WG_TMA_MAX_PIXELS / kProducerThreads : kGroupUnits;
  static_assert(kGroups > 1 || kUnits * kProducerThreads == 2 * CONVGEMM_IGEMM_WG_TMA_MAX_PIXELS,
                "one group: every pixel of the largest window");
  const int group = pt / kThreads, gpt = pt % kThreads;
  const int window = a.halo_h * a.halo_w;
  const int box_plane = a.halo_h * a.tma_box_w;  // floats per channel of the box
  int unit_src[kUnits];   // floats into the box (-1: no unit)
  int unit_load[kUnits];  // the same, 0 for no unit
#pragma unroll
  for (int i = 0; i < kUnits; ++i) {
    const int u = gpt + i * kThreads;
    const int kh = u >= window, pix = u - kh * window;
    const int hh = pix / a.halo_w, ww = pix - hh * a.halo_w;
    unit_src[i] = u < 2 * window ? (4 * kh * a.halo_h + hh) * a.tma_box_w + a.tma_shift + ww : -1;
    unit_load[i] = unit_src[i] >= 0 ? unit_src[i] : 0;
  }
  const int x_gap = a.x_plane_ld - window;  // x_s row of unit u: u, or u + x_gap past k half 0
  uint32_t full_parity = 0;
  for (Cursor tr = cursor_start<kRuns, kList>(a); tr.tile < tr.end;
       cursor_advance<kRuns, kList>(tr, a)) {
    float* const stage = smem + tr.stage * stage_floats;
    const uint32_t parity = full_parity >> tr.stage & 1;
    full_parity ^= 1u << tr.stage;
    if (kGroups > 1 && tr.stage % kGroups != group) continue;
    mbarrier_wait_parity(&full[tr.stage], parity);
    // Every unit's loads, with no branch (a missing unit reads the box's first values and
    // stores nothing): behind a branch per unit, each unit's loads waited for the previous unit's
    // rounding, one shared-memory round trip per unit in a row (log step 54).
    float4 v[kUnits], small[kSplit ? kUnits : 1];
#pragma unroll
    for (int i = 0; i < kUnits; ++i) {
      const float* src = stage + unit_load[i];
      v[i] = make_float4(src[0], src[box_plane], src[2 * box_plane], src[3 * box_plane]);
    }
#pragma unroll
    for (int i = 0; i < kUnits; ++i) {
      if (kSplit) {
        float4& sm = small[kSplit ? i : 0];
        tf32_split(v[i].x, v[i].x, sm.x);
        tf32_split(v[i].y, v[i].y, sm.y);
        tf32_split(v[i].z, v[i].z, sm.z);
        tf32_split(v[i].w, v[i].w, sm.w);
      } else {
        v[i] = make_float4(tf32_round_rna(v[i].x), tf32_round_rna(v[i].y),
                           tf32_round_rna(v[i].z), tf32_round_rna(v[i].w));
      }
      // Without these ptxas moved each unit's rounding into a branch around its store, after
      // the barrier, one unit after another (TF32 SASS); with them the stores are predicated.
      pin_before_barrier(v[i]);
      if (kSplit) pin_before_barrier(small[kSplit ? i : 0]);
    }
    named_barrier_sync(group == 0 ? 1 : 5, kThreads);  // compute warpgroups: 2, 3, 4
#pragma unroll
    for (int i = 0; i < kUnits; ++i) {
      const int u = gpt + i * kThreads;
      if (unit_src[i] >= 0) {
        float4* const dst = reinterpret_cast<float4*>(stage) + u + (u >= window) * x_gap;
        dst[0] = v[i];
        if (kSplit) dst[2 * a.x_plane_ld] = small[kSplit ? i : 0];
      }
    }
    fence_proxy_async_shared();  // to wgmma's proxy (and before the stage's next TMA)
    mbarrier_arrive(&ready[tr.stage]);
  }
}

// 16-bit data: unit i is (k half, box row, pair of box columns 2j, 2j + 1) pt + 128 i: eight
// 4-byte loads (8 channels x the 2 columns) become the two pixels' 16-byte rows by byte
// permutes, 4 loads a pixel as for float (2-byte loads would take 8, and measured 1.27 ms on
// problem 55 in bfloat16). A pair's columns outside the window (the box's first tma_shift
// columns, its rounding past the window) are not written. Pairs: at most 2 halo_h tma_box_w / 2
// <= 448 + 2 x 7 x 7 (halo_w >= 64, so halo_h <= 7; tma_box_w <= halo_w + 14).
constexpr int kMaxPairs16 =
    CONVGEMM_IGEMM_WG_TMA_MAX_PIXELS + 14 * (CONVGEMM_IGEMM_WG_TMA_MAX_PIXELS / kTileQ);
constexpr int kPairUnits16 = (kMaxPairs16 + kProducerThreads - 1) / kProducerThreads;

// kPingPong: the block's odd tiles (warpgroup 1's) arrive on ready_odd.
template <bool kRuns, bool kPingPong = false>
__device__ __forceinline__ void produce_16bit(const IgemmArgs& a, float* smem, int stage_floats,
                                              uint64_t* full, uint64_t* ready, uint64_t* ready_odd,
                                              int pt) {
  const int row_pairs = a.tma_box_w / 2;          // tma_box_w is a multiple of 8
  const int pairs = 2 * a.halo_h * row_pairs;
  const int box_plane_words = a.halo_h * row_pairs;  // 4-byte words per channel of the box
  int pair_src[kPairUnits16];  // words into the box (-1: no unit)
  int pair_dst[kPairUnits16];  // x_s row of the pair's first column (may be outside the window)
  int pair_keep[kPairUnits16];  // bit 0: first column inside the window, bit 1: second
#pragma unroll
  for (int i = 0; i < kPairUnits16; ++i) {
    const int u = pt + i * kProducerThreads;
    const int kh = u / (a.halo_h * row_pairs), rest = u - kh * a.halo_h * row_pairs;
    const int hh = rest / row_pairs, jp = rest - hh * row_pairs;
    const int ww = 2 * jp - a.tma_shift;  // window column of the pair's first value
    pair_src[i] = u < pairs ? (8 * kh * a.halo_h + hh) * row_pairs + jp : -1;
    pair_dst[i] = kh * a.x_plane_ld + hh * a.halo_w + ww;
    pair_keep[i] = (ww >= 0 && ww < a.halo_w) | (ww + 1 >= 0 && ww + 1 < a.halo_w) << 1;
  }
  uint32_t full_parity = 0;
  for (Cursor tr = cursor_start<kRuns>(a); tr.tile < tr.end; cursor_advance<kRuns>(tr, a)) {
    float* const stage = smem + tr.stage * stage_floats;
    mbarrier_wait_parity(&full[tr.stage], full_parity >> tr.stage & 1);
    full_parity ^= 1u << tr.stage;
    const uint32_t* const box = reinterpret_cast<const uint32_t*>(stage);
    uint32_t word[kPairUnits16][8];  // channel j's two columns: the first in the low half
#pragma unroll
    for (int i = 0; i < kPairUnits16; ++i)
      if (pair_src[i] >= 0)
#pragma unroll
        for (int j = 0; j < 8; ++j) word[i][j] = box[pair_src[i] + j * box_plane_words];
    named_barrier_sync(1, kProducerThreads);
#pragma unroll
    for (int i = 0; i < kPairUnits16; ++i) {
      if (pair_src[i] >= 0) {
        uint4 first, second;  // the 8 channels of each column, two per word, channel 2k low
        first.x = __byte_perm(word[i][0], word[i][1], 0x5410);
        first.y = __byte_perm(word[i][2], word[i][3], 0x5410);
        first.z = __byte_perm(word[i][4], word[i][5], 0x5410);
        first.w = __byte_perm(word[i][6], word[i][7], 0x5410);
        second.x = __byte_perm(word[i][0], word[i][1], 0x7632);
        second.y = __byte_perm(word[i][2], word[i][3], 0x7632);
        second.z = __byte_perm(word[i][4], word[i][5], 0x7632);
        second.w = __byte_perm(word[i][6], word[i][7], 0x7632);
        uint4* const dst = reinterpret_cast<uint4*>(stage) + pair_dst[i];
        if (pair_keep[i] & 1) dst[0] = first;
        if (pair_keep[i] & 2) dst[1] = second;
      }
    }
    fence_proxy_async_shared();  // to wgmma's proxy (and before the stage's next TMA)
    mbarrier_arrive(&(kPingPong && (tr.ordinal & 1) ? ready_odd : ready)[tr.stage]);
  }
}

// fp16 products (plan->f16_products): the box is (16 channels, halo_h, tma_box_w) floats. Unit
// i is (k half, window pixel) pt + 128 i: its 8 channels (8 loads a box plane apart) rounded to
// TF32, scaled by the tile's power of two and converted to fp16, one 16-byte row of x_s (the
// 16-bit layout). The tile's scale exponent, from the largest magnitude in its first chunk
// (F16_X_TOP_EXP), goes to the compute warpgroups in stage_exp[stage]. A value whose fp16
// conversion is not exact (too large or too small for the scale, NaN) lists the tile for
// recomputation: the producers' OR rides on their read-write barrier, and thread 0 appends the
// tile at its last chunk.
constexpr int kF16Units = 2 * CONVGEMM_IGEMM_WG_TMA_MAX_PIXELS / kProducerThreads;

__device__ __forceinline__ void produce_f16(const IgemmArgs& a, float* smem, int stage_floats,
                                            uint64_t* full, uint64_t* ready, int* stage_exp,
                                            uint32_t* scratch, int pt) {
  static_assert(kF16Units * kProducerThreads == 2 * CONVGEMM_IGEMM_WG_TMA_MAX_PIXELS,
                "every pixel of the largest window");
  const int window = a.halo_h * a.halo_w;
  const int box_plane = a.halo_h * a.tma_box_w;  // floats per channel of the box
  int unit_load[kF16Units];  // floats into the box of the unit's first channel (0: no unit)
  bool unit_in[kF16Units];
#pragma unroll
  for (int i = 0; i < kF16Units; ++i) {
    const int u = pt + i * kProducerThreads;
    const int kh = u >= window, pix = u - kh * window;
    const int hh = pix / a.halo_w, ww = pix - hh * a.halo_w;
    unit_in[i] = u < 2 * window;
    unit_load[i] = unit_in[i] ? (8 * kh * a.halo_h + hh) * a.tma_box_w + a.tma_shift + ww : 0;
  }
  const int x_gap = a.x_plane_ld - window;  // x_s row of unit u: u, or u + x_gap past k half 0
  int* const listed = a.f16_info + 2;
  int* const list = a.f16_info + CONVGEMM_IGEMM_F16_INFO_INTS;
  uint32_t full_parity = 0;
  int scale_exp = 0;
  float scale = 1.0f;
  bool tile_inexact = false;
  for (Cursor tr = cursor_start<false>(a); tr.tile < tr.end; cursor_advance<false>(tr, a)) {
    float* const stage = smem + tr.stage * stage_floats;
    mbarrier_wait_parity(&full[tr.stage], full_parity >> tr.stage & 1);
    full_parity ^= 1u << tr.stage;
    float v[kF16Units][8];
#pragma unroll
    for (int i = 0; i < kF16Units; ++i)
#pragma unroll
      for (int j = 0; j < 8; ++j) v[i][j] = tf32_round_rna(stage[unit_load[i] + j * box_plane]);
    if (tr.cc == 0) {  // the tile's scale: its first chunk's largest magnitude (NaN: largest)
      uint32_t amax = 0;
#pragma unroll
      for (int i = 0; i < kF16Units; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) {
          const uint32_t m = unit_in[i] ? __float_as_uint(v[i][j]) & 0x7FFFFFFFu : 0u;
          amax = m > amax ? m : amax;
        }
      amax = __reduce_max_sync(0xFFFFFFFFu, amax);
      if (pt % 32 == 0) scratch[pt / 32] = amax;
      named_barrier_sync(1, kProducerThreads);
#pragma unroll
      for (int w = 0; w < kProducerThreads / 32; ++w) amax = scratch[w] > amax ? scratch[w] : amax;
      scale_exp = f16_scale_exp(amax, CONVGEMM_IGEMM_F16_X_TOP_EXP);
      scale = f16_pow2(scale_exp);
      tile_inexact = false;
    }
    bool inexact = false;
    uint4 h[kF16Units];
#pragma unroll
    for (int i = 0; i < kF16Units; ++i) {
      uint32_t word[4];
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float lo = v[i][2 * j] * scale, hi = v[i][2 * j + 1] * scale;
        const __half2 pair = __floats2half2_rn(lo, hi);
        const float2 back = __half22float2(pair);
        inexact |= unit_in[i] && (back.x != lo || back.y != hi);
        word[j] = *reinterpret_cast<const uint32_t*>(&pair);
      }
      h[i] = make_uint4(word[0], word[1], word[2], word[3]);
    }
    // Every read of the box is done: x_s may overwrite it.
    tile_inexact |= named_barrier_or(1, kProducerThreads, inexact);
#pragma unroll
    for (int i = 0; i < kF16Units; ++i) {
      const int u = pt + i * kProducerThreads;
      if (unit_in[i]) reinterpret_cast<uint4*>(stage)[u + (u >= window) * x_gap] = h[i];
    }
    if (pt == 0) {
      stage_exp[tr.stage] = scale_exp;
      if (tile_inexact && last_of_tile(a, tr)) list[atomicAdd(listed, 1)] = tr.tile;
    }
    fence_proxy_async_shared();  // to wgmma's proxy (and before the stage's next TMA)
    mbarrier_arrive(&ready[tr.stage]);
  }
}

// Waits until this thread's copies for iteration it have landed: one commit group per
// iteration, stages - 2 queued ahead of the one being computed (which a stage of its own holds
// while its wgmmas run), so stages - 3 may stay in flight.
__device__ __forceinline__ void wait_current_stage(int stages) {
  static_assert(CONVGEMM_IGEMM_WG_MIN_STAGES == 3 && CONVGEMM_IGEMM_WG_MAX_STAGES == 8,
                "a wait for every stage count");
  switch (stages) {
    case 3: cp_async_wait_group<0>(); break;
    case 4: cp_async_wait_group<1>(); break;
    case 5: cp_async_wait_group<2>(); break;
    case 6: cp_async_wait_group<3>(); break;
    case 7: cp_async_wait_group<4>(); break;
    default: cp_async_wait_group<5>(); break;
  }
}

// The block's tiles walked one tile (c_chunks iterations: all R filter rows per stage) on.
__device__ __forceinline__ void cursor_skip_tile(Cursor& c, const IgemmArgs& a) {
#pragma unroll 1
  for (int i = 0; i < a.c_chunks; ++i) cursor_advance<false>(c, a);
}

// Ping-pong compute (plan->ping_pong: 16-bit data, resident filter, tile_p = kRows): warpgroup
// wg computes the block's tiles of ordinal % 2 == wg alone (kRows rows x 64 columns x 128
// channels) and stores them through its own half of the staging, so one warpgroup's epilogue
// runs while the other's wgmmas do (one warpgroup alone keeps the tensor cores 90% busy, log
// step 54). The stage ring is still filled in the block's tile order; each warpgroup waits on
// its own `ready` set (its stages' uses alternate irregularly with the other's, and a parity
// wait can't tell a phase from the one two later) and releases each stage on `empty` (128
// arrivals). pair_stores: store_tile_staged_16bit's kPair. The warpgroups run free: making them
// take turns at issuing (an mbarrier each) ran problem 55 in bfloat16 2-9% slower (log step 67).
template <typename T>
__device__ __forceinline__ void compute_ping_pong(const IgemmArgs& a, float* smem,
                                                  int stage_floats, uint64_t* ready,
                                                  uint64_t* empty, const float* taps,
                                                  float* staging, int wg, int tid,
                                                  bool pair_stores) {
  const int chunk_taps = a.r * a.s_taps * kTapFloats;  // floats per chunk of the filter
  float acc[kRows][64];
  uint32_t ready_parity = 0;
  Cursor cp = cursor_start<false>(a);
  if (wg == 1 && cp.tile < cp.end) cursor_skip_tile(cp, a);
  while (cp.tile < cp.end) {
    start_tile_acc<T>(acc, a, cp.tc, tid);
    const TileCoord tc = cp.tc;
    int pending = -1;  // the stage whose wgmmas are in flight and not yet released
#pragma unroll 1
    for (int cc = 0; cc < a.c_chunks; ++cc) {
      float* const stage = smem + cp.stage * stage_floats;
      mbarrier_wait_parity(&ready[cp.stage], ready_parity >> cp.stage & 1);
      ready_parity ^= 1u << cp.stage;
      issue_chunk<T, false>(acc, a, stage, 0, taps + (int64_t)cc * chunk_taps);
      const int this_stage = cp.stage;
      cursor_advance<false>(cp, a);
      if (cc + 1 < a.c_chunks) {
        wgmma_wait<1>();  // the previous chunk's group retired: its stage may be refilled
        if (pending >= 0) mbarrier_arrive(&empty[pending]);
        pending = this_stage;
      } else {
        wgmma_wait<0>();
        if (pending >= 0) mbarrier_arrive(&empty[pending]);
        mbarrier_arrive(&empty[this_stage]);
      }
    }
    if (pair_stores)
      store_tile_staged_16bit<T, true, kBlockK / 2, true>(acc, a, tc, tid, staging);
    else
      store_tile_staged_16bit<T, false, kBlockK / 2, true>(acc, a, tc, tid, staging);
    if (cp.tile < cp.end) cursor_skip_tile(cp, a);  // the other warpgroup's tile
  }
  wgmma_wait<0>();  // nothing is in flight here; says so to ptxas
}
#endif

// CP_ASYNC: 256 threads, all of them copying, rounding and computing.
__global__ void __launch_bounds__(kComputeThreads, 1)
    igemm_wgmma_cp_async_kernel(const IgemmArgs a) {
#if CONVGEMM_HAS_WGMMA
  constexpr int kWarps = kComputeThreads / 32;
  extern __shared__ __align__(128) float4 smem_f4[];
  float* const smem = reinterpret_cast<float*>(smem_f4);
  const int stage_floats = a.x_stage_floats + a.w_stage_floats;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int window_rows = 2 * a.halo_h;  // (k half, window row) pairs
  const int64_t plane_in = (int64_t)a.in_h * a.in_w;

  // Queues the copies of the loader's iteration into its stage: per window pixel and k half the
  // 4 channels' values (4-byte copies, zero padding) into one 16-byte row of x_s, by one thread,
  // which later rounds that row itself; the filter in 16-byte copies.
  auto load_iteration = [&](const Cursor& c) {
    float* const stage = smem + c.stage * stage_floats;
    const int64_t ih0 =
        (int64_t)c.tc.pt * kTileP * a.stride_h - a.pad_h + (int64_t)c.r0 * a.dilation_h;
    const int64_t iw0 = (int64_t)c.tc.qt * kTileQ - a.pad_w;
    const float* x_grp = static_cast<const float*>(a.x) +
                         ((int64_t)c.tc.n * a.c + (int64_t)c.tc.g * a.cg) * plane_in;
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
    const float* w_src = chunk_filter(a, c);
    const int vecs = a.stage_rows * a.s_taps * (kTapFloats / 4);
    for (int v = tid; v < vecs; v += kComputeThreads) cp_async_16(w_s + v * 4, w_src + v * 4);
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

  // Written by ordinary instructions only while no wgmma is in flight: here and right after an
  // epilogue's wgmma_wait<0> (ptxas serializes every wgmma if it can't see that: C7515).
  float acc[kRows][64];
  if (blockIdx.x < a.tiles) start_tile_acc<float>(acc, a, cursor_start<false>(a).tc, tid);
  const int ahead = a.stages - 2;  // iterations whose copies fly while one is computed
  Cursor ld = cursor_start<false>(a);
  for (int s = 0; s < ahead; ++s) {
    if (ld.tile < a.tiles) {
      load_iteration(ld);
      cursor_advance<false>(ld, a);
    }
    cp_async_commit();
  }
  Cursor cp = cursor_start<false>(a);
  while (cp.tile < a.tiles) {
    float* const stage = smem + cp.stage * stage_floats;
    wait_current_stage(a.stages);
    round_window(stage);
    fence_proxy_async_shared();  // the rounded window and the filter, to wgmma's proxy
    __syncthreads();
    // Iteration it - 2's stage is free: every warpgroup retired its wgmmas (wgmma_wait<1> at
    // the end of iteration it - 1) before the barrier above. Iteration it - 1's wgmmas may still
    // run, reading their own stage, while this thread rounds and queues copies.
    if (ld.tile < a.tiles) {
      load_iteration(ld);
      cursor_advance<false>(ld, a);
    }
    cp_async_commit();  // possibly empty: one group per iteration keeps the waits exact
    issue_chunk<float, false>(acc, a, stage, warp / 4);
    const bool last_chunk = last_of_tile(a, cp);
    const TileCoord tc = cp.tc;
    cursor_advance<false>(cp, a);
    if (!last_chunk) {
      wgmma_wait<1>();  // iteration it - 1's group: its stage may be refilled next iteration
      continue;
    }
    wgmma_wait<0>();
    store_tile(acc, a, tc, tid);
    if (cp.tile < a.tiles) start_tile_acc<float>(acc, a, cp.tc, tid);
  }
  wgmma_wait<0>();  // nothing is in flight here; says so to ptxas, which else waits every iteration
#else
  (void)a;
#endif
}

// TMA: 2 compute warpgroups (two output rows of the tile each: 128 accumulators per thread), a
// producer warpgroup (2) that transposes, and a loader warpgroup (3) of which one thread issues
// the loads; barriers per stage: full (TMA bytes), ready (the producers transposed the window),
// empty (every compute thread's wgmmas reading the stage retired). The loader refills a stage as
// soon as it is released, so no producer ever waits for a release (when the producer thread
// issuing loads also waited for releases, the other producers waited for it at their barrier:
// a third of their time, ncu). 512 threads start with 128 registers each; setmaxnreg moves them
// to the compute warpgroups (168: the bias is loaded into the accumulators at a tile's start,
// not in the epilogue, which fits that budget without spills).
// T: the tensors' element type (float: TF32 operands, or 3xTF32 with kSplit; __half and
// __nv_bfloat16: 16-bit operands as they are, k16 wgmmas). kStaged16 (16-bit data, stages of at
// least kBlockK x kStagedLd16 floats, or the resident filter's own staging): the epilogue stages
// rows as 16-bit values (store_tile_staged_16bit); a separate instantiation, so kernels with
// smaller stages carry only the float-staged epilogue (with both, 86_pw, 1x1, ran 5% slower on
// its unchanged path).
// kF16 (plan->f16_products; T float, TF32 operands): 16-channel fp32 boxes, converted by
// produce_f16 into fp16 windows, the fp16 filter resident, k16 wgmmas; the epilogue unscales and
// adds the bias (store_tile_staged's kScaled) through the tile's last stage.
// kList (TF32 operands only): the tiles fp16 products listed (Cursor), the recomputation.
// kPingPong (plan->ping_pong; kStaged16 with the resident filter): a warpgroup per tile
// (compute_ping_pong), the block's odd tiles' stages ready on a second set of barriers.
template <typename T, bool kSplit, bool kStaged16, bool kCarry, bool kPairs, bool kF16 = false,
          bool kList = false, bool kPingPong = false>
__global__ void __launch_bounds__(kComputeThreads + kProducerThreads + kLoaderThreads, 1)
    igemm_wgmma_tma_kernel(const IgemmArgs a, const __grid_constant__ CUtensorMap x_map) {
#if CONVGEMM_HAS_WGMMA
  static_assert(!kSplit || sizeof(T) == 4, "3xTF32 splits float operands only");
  static_assert(!kF16 || (sizeof(T) == 4 && !kSplit && !kStaged16 && !kCarry && !kPairs),
                "fp16 products: TF32 operands, their own epilogue");
  static_assert(!kList || (sizeof(T) == 4 && !kSplit && !kCarry && !kPairs && !kF16),
                "the recomputation: the plain TF32 kernel");
  static_assert(!kStaged16 || sizeof(T) == 2, "16-bit staging is for 16-bit data");
  static_assert(!kPingPong || kStaged16, "ping-pong: 16-bit data, resident filter");
  static_assert(!kCarry || (sizeof(T) == 4 && !kSplit), "the carry keeps TF32 kernels' sectors");
  static_assert(!kPairs || (sizeof(T) == 4 && !kSplit && !kCarry), "tap pairs: TF32 operands");
  constexpr int kElemChunk = kF16 ? CONVGEMM_IGEMM_F16_C_CHUNK : TmaElem<T>::kChunk;
  // The wgmmas' operand type.
  using Op = std::conditional_t<kF16, __half, T>;
  extern __shared__ __align__(128) float4 smem_f4[];
  float* const smem = reinterpret_cast<float*>(smem_f4);
  const int stage_floats = a.x_stage_floats + a.w_stage_floats;
  uint64_t* const full = reinterpret_cast<uint64_t*>(smem + a.stages * stage_floats);
  uint64_t* const ready = full + CONVGEMM_IGEMM_WG_MAX_STAGES;
  uint64_t* const empty = ready + CONVGEMM_IGEMM_WG_MAX_STAGES;
  // Resident filter (kStaged16 only): the epilogue's staging, then the filter, after the
  // barriers; the last `full` barrier, past the plan's stages, counts the filter's copies.
  // kF16: the stages' scale exponents and the producers' scratch, then the filter.
  const bool resident = (kStaged16 || kF16) && a.resident_filter;
  // kPingPong: the odd tiles' `ready` set comes first.
  uint64_t* const ready_odd = empty + CONVGEMM_IGEMM_WG_MAX_STAGES;
  constexpr int kBarrierBytes =
      CONVGEMM_IGEMM_WG_BARRIER_BYTES + (kPingPong ? CONVGEMM_IGEMM_WG_PING_PONG_BARRIER_BYTES : 0);
  float* const resident_staging = smem + a.stages * stage_floats + kBarrierBytes / 4;
  int* const stage_exp = reinterpret_cast<int*>(resident_staging);
  uint32_t* const f16_scratch =
      reinterpret_cast<uint32_t*>(resident_staging) + CONVGEMM_IGEMM_WG_MAX_STAGES;
  float* const resident_taps =
      resident_staging + (kF16 ? CONVGEMM_IGEMM_WG_TILE_INFO_BYTES
                               : CONVGEMM_IGEMM_WG_STAGING16_BYTES) / 4;
  uint64_t* const filter_full = &full[CONVGEMM_IGEMM_WG_MAX_STAGES - 1];
  const int tid = threadIdx.x;
  // 3xTF32 with small windows: two producer groups, alternate stages (produce_float).
  const int producer_groups = kSplit ? a.producer_groups : 1;  // 2: 3xTF32 only
  if (tid == 0) {
    for (int s = 0; s < a.stages; ++s) {
      mbarrier_init(&full[s], 1);
      mbarrier_init(&ready[s], kProducerThreads / producer_groups);
      mbarrier_init(&empty[s], kPingPong ? 128 : kComputeThreads);
      if (kPingPong) mbarrier_init(&ready_odd[s], kProducerThreads);
    }
    if (resident) mbarrier_init(filter_full, 1);
    fence_mbarrier_init();
  }
  __syncthreads();  // the only block-wide barrier: the roles never wait for each other's count

  // The role from a value ptxas can see is warp-uniform (a branch on tid alone counts as
  // divergent and serializes the wgmmas behind it: C7520).
  const int warpgroup = __shfl_sync(0xffffffffu, tid / 128, 0);
  if (warpgroup == (kComputeThreads + kProducerThreads) / 128) {
    // Loader: thread 0 of the warpgroup; the other warps leave once their registers are given.
    setmaxnreg_dec<kLoaderRegisters>();
    if (tid != kComputeThreads + kProducerThreads) return;
    const uint32_t box_bytes = (uint32_t)(kElemChunk * a.halo_h * a.tma_box_w * sizeof(T));
    const uint32_t w_bytes =
        (uint32_t)(a.stage_rows * a.s_taps * kTapFloats * 4 * (kSplit ? 2 : 1));
    // Barrier phases as parity bits per stage (bit s flips at each use of stage s): use n of a
    // stage waits for `empty` phase n - 1, then its TMA completes `full` phase n.
    uint32_t empty_parity = 0;
    uint32_t used = 0;  // bit s: stage s has been filled before (its refill waits for `empty`)
    if (resident) {  // the packed filter of group 0, k tile 0: every tile's taps, in order
      const int taps = a.c_chunks * a.r * a.s_taps;
      mbarrier_arrive_expect_tx(filter_full, (uint32_t)taps * kTapFloats * 4);
      for (int i = 0; i < taps; ++i)
        bulk_copy_to_shared(resident_taps + i * kTapFloats, a.packed + (int64_t)i * kTapFloats,
                            kTapFloats * 4, filter_full);
    }
    for (Cursor ld = cursor_start<kCarry, kList>(a); ld.tile < ld.end;
         cursor_advance<kCarry, kList>(ld, a)) {
      if (used >> ld.stage & 1) {
        mbarrier_wait_parity(&empty[ld.stage], empty_parity >> ld.stage & 1);
        empty_parity ^= 1u << ld.stage;
      }
      used |= 1u << ld.stage;
      float* const stage = smem + ld.stage * stage_floats;
      mbarrier_arrive_expect_tx(&full[ld.stage], box_bytes + (resident ? 0u : w_bytes));
      tma_load_5d(stage, &x_map, ld.tc.qt * (kPairs ? a.q_step : kTileQ) - a.pad_w - a.tma_shift,
                  ld.tc.pt * (kPingPong ? kRows : 2 * kRowsOf<kSplit>) * a.stride_h - a.pad_h +
                      ld.r0 * a.dilation_h,
                  ld.cc * kElemChunk, ld.tc.g, ld.tc.n, &full[ld.stage]);
      if (!resident)
        bulk_copy_to_shared(stage + a.x_stage_floats, chunk_filter(a, ld), w_bytes,
                            &full[ld.stage]);
    }
    return;
  }
  if (warpgroup == kComputeThreads / 128) {
    setmaxnreg_dec<kCarry ? kCarryProducerRegisters : kProducerRegisters>();
    if constexpr (kF16)
      produce_f16(a, smem, stage_floats, full, ready, stage_exp, f16_scratch,
                  tid - kComputeThreads);
    else if constexpr (sizeof(T) == 2)
      produce_16bit<kCarry, kPingPong>(a, smem, stage_floats, full, ready, ready_odd,
                                       tid - kComputeThreads);
    else if (kSplit && producer_groups == 2)  // kSplit ? 2 : 1: one instantiation otherwise
      produce_float<kSplit, kCarry, kSplit ? 2 : 1>(a, smem, stage_floats, full, ready,
                                                    tid - kComputeThreads);
    else
      produce_float<kSplit, kCarry, 1, kList>(a, smem, stage_floats, full, ready,
                                              tid - kComputeThreads);
    return;
  }

  // Compute warpgroups.
  setmaxnreg_inc<kCarry ? kCarryComputeRegisters
                 : kF16 ? kF16ComputeRegisters
                        : kComputeRegisters>();
  // kStaged16: every pixel pair (2l, 2l + 1) of a row is one aligned 4-byte word of y.
  const bool pair_stores = a.q % 2 == 0 && reinterpret_cast<uintptr_t>(a.y) % 4 == 0;
  constexpr int R = kRowsOf<kSplit>;
  if constexpr (kPingPong) {
    mbarrier_wait_parity(filter_full, 0);
    compute_ping_pong<T>(a, smem, stage_floats, warpgroup == 0 ? ready : ready_odd, empty,
                         resident_taps, resident_staging, warpgroup, tid, pair_stores);
    return;
  }
  // Written by ordinary instructions only with no wgmma in flight. kSplit: the wgmmas accumulate
  // into `partial`, which is added to `acc` (an fp32 add, rounded to nearest) and zeroed once
  // the iterations since the last addition hold kFoldTaps taps or more (problem 55: every
  // chunk's 3 filter rows, 27 wgmmas) and at the tile's end. The tensor cores' fp32 accumulation
  // truncates at every wgmma; into one accumulator over all of a tile's wgmmas (216 for problem
  // 55) that cost 10x fp32's error (log step 23). A partial sum is a small part of the total,
  // and so are its truncations (log step 37: relative L2 error about 5e-7 at any C and R*S).
  constexpr int kFoldTaps = 7;
  int taps_since_fold = 0;
  float acc[R][64];
  float partial[kSplit ? R : 1][64];
  // kF16: 2^-(the filter's scale exponent), the tiles' own exponents come with their stages.
  const float w_unscale =
      kF16 ? f16_pow2(-f16_scale_exp((uint32_t)a.f16_info[0], CONVGEMM_IGEMM_F16_W_TOP_EXP))
           : 1.0f;
  {
    const Cursor first = cursor_start<kCarry, kList>(a);
    if constexpr (kF16)
      start_tile_zero(acc);
    else if (first.tile < first.end)
      start_tile_acc<T>(acc, a, first.tc, tid);
  }
  if constexpr (kSplit) {
#pragma unroll
    for (int i = 0; i < 64; ++i) partial[0][i] = 0.0f;
  }
  int pending = -1;  // the stage whose wgmmas are in flight and not yet released
  uint32_t ready_parity = 0;
  if (resident) mbarrier_wait_parity(filter_full, 0);
  bool carry_in = false;  // the previous tile kept fragments of this one's rows
  Cursor cp = cursor_start<kCarry, kList>(a);
  while (cp.tile < cp.end) {
    float* const stage = smem + cp.stage * stage_floats;
    mbarrier_wait_parity(&ready[cp.stage], ready_parity >> cp.stage & 1);
    ready_parity ^= 1u << cp.stage;
    if constexpr (kSplit)
      issue_chunk<T, kSplit>(partial, a, stage, warpgroup);
    else
      issue_chunk<Op, kSplit>(
          acc, a, stage, warpgroup,
          resident ? resident_taps + (int64_t)cp.cc * a.r * a.s_taps * kTapFloats : nullptr);
    const bool last_chunk = last_of_tile(a, cp);
    const TileCoord tc = cp.tc;
    const int this_stage = cp.stage;
    cursor_advance<kCarry, kList>(cp, a);
    if constexpr (kSplit) {
      taps_since_fold += a.stage_rows * a.s_taps;
      if (taps_since_fold >= kFoldTaps || last_chunk) {
        taps_since_fold = 0;
        wgmma_wait<0>();  // the partial sums are final; their stages may be refilled
        if (pending >= 0) mbarrier_arrive(&empty[pending]);
        pending = -1;
#pragma unroll
        for (int i = 0; i < 64; ++i) {
          wgmma_fence_operand(partial[0][i]);
          acc[0][i] += partial[0][i];
          partial[0][i] = 0.0f;
        }
        if (!last_chunk) {
          mbarrier_arrive(&empty[this_stage]);
          continue;
        }
      }
    }
    if (!last_chunk) {
      wgmma_wait<1>();  // the previous chunk's group retired: its stage may be refilled
      if (pending >= 0) mbarrier_arrive(&empty[pending]);
      pending = this_stage;
      continue;
    }
    wgmma_wait<0>();
    if (pending >= 0) mbarrier_arrive(&empty[pending]);
    pending = -1;
    if constexpr (kF16) {
      // The tile's sums times 2^(x exponent + w exponent), unscaled exactly at the store.
      const float inv = w_unscale * f16_pow2(-stage_exp[this_stage]);
      if (stage_floats >= 2 * 32 * kStagedLd)
        store_tile_staged<float, 32, R, true>(acc, a, tc, tid, stage, inv);
      else
        store_tile_staged<float, 16, R, true>(acc, a, tc, tid, stage, inv);
      mbarrier_arrive(&empty[this_stage]);  // after the epilogue used it as staging
      if (cp.tile < cp.end) start_tile_zero(acc);
      continue;
    } else if constexpr (kStaged16) {
      if (resident) {  // the stage goes back now; two 64-channel passes per row of their own
        mbarrier_arrive(&empty[this_stage]);
        if (pair_stores)
          store_tile_staged_16bit<T, true, kBlockK / 2>(acc, a, tc, tid, resident_staging);
        else
          store_tile_staged_16bit<T, false, kBlockK / 2>(acc, a, tc, tid, resident_staging);
        if (cp.tile < cp.end) start_tile_acc<T>(acc, a, cp.tc, tid);
        continue;
      }
      // a 128-channel 16-bit row per warpgroup fits the stage
      if (pair_stores)
        store_tile_staged_16bit<T, true, kBlockK>(acc, a, tc, tid, stage);
      else
        store_tile_staged_16bit<T, false, kBlockK>(acc, a, tc, tid, stage);
    } else {
      // The next tile continues this one's rows (store_tile_staged_carry; k_tiles is 1). The
      // carry: 8 floats per (warpgroup, row, channel), after the barriers.
      const bool carry_out = kCarry && cp.tile < cp.end && cp.tc.qt == tc.qt + 1 &&
                             cp.tc.pt == tc.pt && cp.tc.g == tc.g && cp.tc.n == tc.n;
      float* const kept = smem + a.stages * stage_floats + CONVGEMM_IGEMM_WG_BARRIER_BYTES / 4 +
                          warpgroup * R * kBlockK * 8;
      if constexpr (kPairs) {
        // 2 x (kPassCh + kPassCh) staged rows: 8 + 8 fit any stage (its TMA box alone holds
        // 8 x 4 x 68 floats).
        if (stage_floats >= 2 * 2 * 32 * kStagedLd)
          store_tile_staged_pairs<32, R>(acc, a, tc, tid, stage);
        else if (stage_floats >= 2 * 2 * 16 * kStagedLd)
          store_tile_staged_pairs<16, R>(acc, a, tc, tid, stage);
        else
          store_tile_staged_pairs<8, R>(acc, a, tc, tid, stage);
      } else if constexpr (kCarry) {
        if (stage_floats >= 2 * 64 * kCarryLd)  // a 64-channel pass per warpgroup fits
          store_tile_staged_carry<64, R>(acc, a, tc, tid, stage, carry_in, carry_out, kept);
        else
          store_tile_staged_carry<16, R>(acc, a, tc, tid, stage, carry_in, carry_out, kept);
      } else if (stage_floats >= 2 * 64 * kStagedLd) {  // a 64-channel pass per warpgroup fits
        store_tile_staged<T, 64>(acc, a, tc, tid, stage);
      } else {
        store_tile_staged<T, 16>(acc, a, tc, tid, stage);
      }
      carry_in = carry_out;
    }
    mbarrier_arrive(&empty[this_stage]);  // after the epilogue used it as staging
    if (cp.tile < cp.end) start_tile_acc<T>(acc, a, cp.tc, tid);
  }
  wgmma_wait<0>();  // nothing is in flight here; says so to ptxas
#else
  (void)a;
  (void)x_map;
#endif
}

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
// 16-bit data: boxes of 16 channels (a stage's chunk), the same bytes as float's 8.
bool encode_x_map(const IgemmArgs& a, CUtensorMap* map) {
  const PFN_cuTensorMapEncodeTiled_v12000 encode = tensor_map_encoder();
  if (encode == nullptr || reinterpret_cast<uintptr_t>(a.x) % 16 != 0) return false;
  const bool is16 = a.data_type != CONVGEMM_DATA_FLOAT32;
  const CUtensorMapDataType type = a.data_type == CONVGEMM_DATA_FLOAT16
                                       ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16
                                   : a.data_type == CONVGEMM_DATA_BFLOAT16
                                       ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                       : CU_TENSOR_MAP_DATA_TYPE_FLOAT32;
  const cuuint64_t elem = is16 ? 2 : 4;
  const cuuint64_t dims[5] = {(cuuint64_t)a.in_w, (cuuint64_t)a.in_h, (cuuint64_t)a.cg,
                              (cuuint64_t)a.groups, (cuuint64_t)a.n};
  const cuuint64_t plane = (cuuint64_t)a.in_h * a.in_w * elem;
  const cuuint64_t strides[4] = {(cuuint64_t)a.in_w * elem, plane, plane * a.cg, plane * a.c};
  const cuuint32_t chunk = is16 || a.f16_products ? CONVGEMM_IGEMM_F16_C_CHUNK
                                                  : TmaElem<float>::kChunk;
  const cuuint32_t box[5] = {(cuuint32_t)a.tma_box_w, (cuuint32_t)a.halo_h, chunk, 1, 1};
  const cuuint32_t element_strides[5] = {1, 1, 1, 1, 1};
  return encode(map, type, 5, const_cast<void*>(a.x), dims, strides,
                box, element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_NONE,
                CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

}  // namespace

cudaError_t igemm_wgmma_configure(int max_smem_per_block) {
  const void* const kernels[] = {
      reinterpret_cast<const void*>(igemm_wgmma_tma_kernel<float, false, false, false, false>),
      reinterpret_cast<const void*>(
          igemm_wgmma_tma_kernel<float, false, false, false, false, true>),
      reinterpret_cast<const void*>(
          igemm_wgmma_tma_kernel<float, false, false, false, false, false, true>),
      reinterpret_cast<const void*>(igemm_wgmma_tma_kernel<float, false, false, true, false>),
      reinterpret_cast<const void*>(igemm_wgmma_tma_kernel<float, false, false, false, true>),
      reinterpret_cast<const void*>(igemm_wgmma_tma_kernel<float, true, false, false, false>),
      reinterpret_cast<const void*>(igemm_wgmma_tma_kernel<__half, false, false, false, false>),
      reinterpret_cast<const void*>(igemm_wgmma_tma_kernel<__half, false, true, false, false>),
      reinterpret_cast<const void*>(
          igemm_wgmma_tma_kernel<__half, false, true, false, false, false, false, true>),
      reinterpret_cast<const void*>(
          igemm_wgmma_tma_kernel<__nv_bfloat16, false, false, false, false>),
      reinterpret_cast<const void*>(
          igemm_wgmma_tma_kernel<__nv_bfloat16, false, true, false, false>),
      reinterpret_cast<const void*>(
          igemm_wgmma_tma_kernel<__nv_bfloat16, false, true, false, false, false, false, true>),
      reinterpret_cast<const void*>(igemm_wgmma_cp_async_kernel)};
  for (const void* kernel : kernels) {
    const cudaError_t e = cudaFuncSetAttribute(
        kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, max_smem_per_block);
    if (e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

// The TMA kernel where the plan allows it, the tensor map encodes and x is 16-byte aligned;
// else the cp.async one (same stages, same numbers). 16-bit data, 3xTF32 and fp16 products have
// only the TMA kernel: the plan requires it and the caller checked x's alignment, so a tensor map
// that does not encode (no cuTensorMapEncodeTiled in the driver) is cudaErrorNotSupported.
cudaError_t igemm_wgmma_launch(const IgemmArgs& a, const convgemm_igemm_plan_t* plan,
                               cudaStream_t stream) {
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3((unsigned)plan->blocks);
  config.dynamicSmemBytes = plan->smem_bytes;
  config.stream = stream;
  CUtensorMap x_map = {};
  const bool tma = plan->tma && encode_x_map(a, &x_map);
  if ((a.data_type != CONVGEMM_DATA_FLOAT32 || a.split || a.f16_products) && !tma)
    return cudaErrorNotSupported;
  if (tma) {
    config.blockDim = dim3(kComputeThreads + kProducerThreads + kLoaderThreads);
    const bool staged16 =
        a.resident_filter || a.x_stage_floats + a.w_stage_floats >= kBlockK * kStagedLd16;
    if (a.ping_pong && a.data_type == CONVGEMM_DATA_FLOAT16)
      return cudaLaunchKernelEx(
          &config, igemm_wgmma_tma_kernel<__half, false, true, false, false, false, false, true>,
          a, x_map);
    if (a.ping_pong && a.data_type == CONVGEMM_DATA_BFLOAT16)
      return cudaLaunchKernelEx(
          &config,
          igemm_wgmma_tma_kernel<__nv_bfloat16, false, true, false, false, false, false, true>, a,
          x_map);
    if (a.data_type == CONVGEMM_DATA_FLOAT16)
      return staged16 ? cudaLaunchKernelEx(
                            &config, igemm_wgmma_tma_kernel<__half, false, true, false, false>,
                            a, x_map)
                      : cudaLaunchKernelEx(
                            &config, igemm_wgmma_tma_kernel<__half, false, false, false, false>,
                            a, x_map);
    if (a.data_type == CONVGEMM_DATA_BFLOAT16)
      return staged16
                 ? cudaLaunchKernelEx(
                       &config, igemm_wgmma_tma_kernel<__nv_bfloat16, false, true, false, false>,
                       a, x_map)
                 : cudaLaunchKernelEx(
                       &config, igemm_wgmma_tma_kernel<__nv_bfloat16, false, false, false, false>,
                       a, x_map);
    if (a.split)
      return cudaLaunchKernelEx(&config, igemm_wgmma_tma_kernel<float, true, false, false, false>,
                                a, x_map);
    if (a.f16_products)
      return cudaLaunchKernelEx(
          &config, igemm_wgmma_tma_kernel<float, false, false, false, false, true>, a, x_map);
    if (a.carry)
      return cudaLaunchKernelEx(&config, igemm_wgmma_tma_kernel<float, false, false, true, false>,
                                a, x_map);
    if (a.tap_pairs)
      return cudaLaunchKernelEx(&config, igemm_wgmma_tma_kernel<float, false, false, false, true>,
                                a, x_map);
    return cudaLaunchKernelEx(&config, igemm_wgmma_tma_kernel<float, false, false, false, false>,
                              a, x_map);
  }
  config.blockDim = dim3(kComputeThreads);
  return cudaLaunchKernelEx(&config, igemm_wgmma_cp_async_kernel, a);
}

cudaError_t igemm_wgmma_launch_listed(const IgemmArgs& a, size_t smem_bytes, int blocks,
                                      cudaStream_t stream) {
  CUtensorMap x_map = {};
  if (!encode_x_map(a, &x_map)) return cudaErrorNotSupported;
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3((unsigned)blocks);
  config.blockDim = dim3(kComputeThreads + kProducerThreads + kLoaderThreads);
  config.dynamicSmemBytes = smem_bytes;
  config.stream = stream;
  return cudaLaunchKernelEx(
      &config, igemm_wgmma_tma_kernel<float, false, false, false, false, false, true>, a, x_map);
}

}  // namespace convgemm
