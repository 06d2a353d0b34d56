/*
 * DIRECT's ROW_STRIP kernel: few input channels per group, many output channels, a large filter,
 * any stride and dilation (the plan in direct_conv2d_plan.h decides when). Built for the AlexNet
 * stem, KernelBench 50: N 256, C 3, 224 x 224, K 96, 11 x 11, stride 4, padding 2 -> 55 x 55.
 *
 *   block tile  96 output channels x one strip: 32 consecutive groups of 5 output columns, the
 *               groups numbered row-major over the image's rows of strip_q = 5 * row_groups
 *               columns (row_groups = min(ceil(Q/5), 32); Q 55: 11 groups, no padding column,
 *               a strip spans 3 or 4 rows).
 *   thread tile 12 channels x 5 consecutive columns of one row: warp w owns channels
 *               12w .. 12w+11 (its filter reads are broadcasts), lane l owns group l of the strip.
 * Shared memory: two 64-byte slots of tile coordinates (StripTile), then per channel chunk,
 * staged with TF32 rounding (ties away) in DEFAULT math as the other DIRECT kernels do:
 *   w_s   (c_chunk*R*S, 104)             the filter slice, channel fastest (float4 reads)
 *   x_s   (c_chunk, halo_h, x_row_ld)    the input window with its padding zeros, each row split
 *                                        by column phase: window column v at v % stride_w *
 *                                        x_phase_ld + v / stride_w
 *   tap_s (c_chunk*R*S)                  per tap, the x_s offset of its first input (general path)
 * With the phase split, tap (r, s) of the 5 columns q .. q+4 reads 5 adjacent words of one phase,
 * whatever the stride; the lanes' 5-word runs start 5 words apart (5 is odd: distinct banks
 * within a row) and the plan picks x_row_ld to spread the rows a warp straddles over the banks.
 *
 * Inner loops, per warp (12 x 5 = 60 FFMAs per tap); counts from the SASS (CUDA 13.0, sm_90a):
 *   general (any stride, dilation, S): per tap 1 LDS (tap offset, broadcast) + 5 LDS (window)
 *     + 3 LDS.128 (filter, broadcast) + 9 integer/loop instructions: 60 FFMAs of 78, 77%.
 *   register window (stride_w 4, dilation_w 1, S 11: the stem): per filter row (c, r) the 27
 *     window words the lane's 5 outputs use ((5-1)*4 + 11) are loaded once into registers and the
 *     11 taps read them there: 660 FFMAs, 27 LDS + 33 LDS.128 and 21 others, 741 in all, 89%
 *     (FFMA:LDS 11:1); shared-memory wavefronts per tap ~5 (window 2.5 x 2-way at worst on the
 *     stem, filter 3) against 60 FFMAs: about half the shared-memory bandwidth at full issue.
 *     Latency: every filter LDS.128 is issued 20 or more FFMAs (most 30-40) before its first
 *     use, the next tap's while this one's FFMAs issue; only the row's first window word is 6
 *     instructions before its use, one ~30-cycle stall per row and warp where loading each tap's
 *     filter at its start (737 instructions) stalled on 7 of the 11 taps as well.
 * Staging, per warp and channel on the stem: the filter in 3 batches of 18 loads a lane and the
 * window in 2 of 16, all of a batch in flight before its stores: 5 memory latencies and ~1460
 * instructions, where a load and then its store at a time took ~58 latencies (46 filter, 12
 * window) and ~2500 instructions.
 * Both sum each output in the order c, r, s with fmaf, add the bias after the sum and round to T
 * once at the store: the generic kernel's bits (direct_conv2d.cu). Offsets into x, w and y are
 * 64-bit. 256 threads, at most 128 registers (127 window path, 128 general on sm_90a: the
 * staging batches take what the sums leave; no spills; two blocks per SM: the plan keeps one
 * chunk's shared memory within CONVGEMM_DIRECT_SMEM_BUDGET),
 * so one block's staging hides behind the other's math. The stem: c_chunk 1 (71924 bytes), 4864
 * blocks of 96 x 160 outputs, 0.5% of them past P x Q.
 */
#include <cstdint>

#include <cuda_runtime.h>

#include "conv/conv_geometry.cuh"
#include "conv/direct_conv2d_plan.h"
#include "gemm/elem_type.cuh"
#include "gemm/tf32_round.cuh"

namespace convgemm {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kTK = 12;                             // channels per thread
constexpr int kTP = CONVGEMM_DIRECT_STRIP_TP;       // consecutive columns per thread
constexpr int kBlockK = CONVGEMM_DIRECT_STRIP_BLOCK_K;
constexpr int kGroups = CONVGEMM_DIRECT_STRIP_GROUPS;  // 5-column groups per strip
constexpr int kWLd = kBlockK + 8;  // w_s pitch: a warp's 4 columns x 8 channels hit 32 banks
static_assert(kTK * kWarps == kBlockK, "8 warps of 12 channels cover the block");
static_assert(kGroups == 32, "one group per lane");
static_assert(kTK % 4 == 0 && kWLd % 4 == 0, "filter rows are read as float4");

template <typename T>
struct StripArgs : ConvGeometry {
  const T* x;     // (N, C, H, W)
  const T* w;     // (K, C/G, R, S)
  const T* bias;  // (K) or nullptr
  T* y;           // (N, K, P, Q)
  int c_chunk, halo_h, halo_w, x_phase_ld, x_row_ld;
  int row_groups, strip_q;  // 5-column groups per strip row; its width in columns
  int k_tiles, p_tiles, q_tiles;
  int64_t tiles;
  bool round_tf32;
};

// The staged operand: TF32 ties away in DEFAULT math, exact in IEEE (as direct_conv2d.cu).
__device__ __forceinline__ float operand(float v, bool round_tf32) {
  return round_tf32 ? tf32_round_rna(v) : v;
}

// w_s[col][kk] = w(k0 + kk, c0*R*S + col) for col < cols, 0 past K/G. A warp stores 4 columns x
// 8 channels (lane: column l % 4, channel l / 4), 32 distinct banks with the pitch of 104, and
// reads 8 filter rows x 16 bytes. Offsets from w_tile are 32-bit: the block's filter rows hold
// 96 x C/G*R*S floats, which the plan's shared-memory bound keeps small.
// Warp w takes the (8-channel block, 4-column block) items w, w + 8, w + 16, ... of the 12 x
// ceil(cols/4), numbered channel block fastest; items 24 apart share the channel block and lie 8
// columns apart, so a lane's elements are three (channel, column) starts plus 8 columns a step,
// loaded and stored with immediate offsets. A batch issues all its loads before its first store:
// one memory latency per batch (the stem: 3 per channel). One load then its store per element
// cost a latency each, 46 per channel: w_tile is a generic pointer, so the compiler cannot move a
// load above the previous element's shared-memory store.
constexpr int kFilterBatch = 18;  // a lane's loads in flight: 6 steps of its 3 starts
static_assert(kBlockK / 8 * 2 == 3 * kWarps, "the channel block repeats every 3 items of a warp");

template <typename T>
__device__ __forceinline__ void stage_filter(const StripArgs<T>& a, const T* w_tile, int k0,
                                             int c0, int cols, float* w_s) {
  constexpr int K_BLOCKS = kBlockK / 8;
  constexpr int STEPS = kFilterBatch / 3;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int w_row = a.cg * a.r * a.s;  // floats between filter rows k, k+1
  const int k_end = a.kg - k0;         // channels of this tile that exist
  const T* w_chunk = w_tile + c0 * a.r * a.s;
  int kk[3], col[3];  // col < 8: the items w + 8j lie in the first two column blocks
#pragma unroll
  for (int j = 0; j < 3; ++j) {
    const int item = warp + j * kWarps;
    kk[j] = (item % K_BLOCKS) * 8 + (lane >> 2);
    col[j] = (item / K_BLOCKS) * 4 + (lane & 3);
  }
  for (int first = 0; first < cols; first += 8 * STEPS) {
    float v[3][STEPS];
#pragma unroll
    for (int i = 0; i < STEPS; ++i)
#pragma unroll
      for (int j = 0; j < 3; ++j) {
        const int c = col[j] + first + 8 * i;
        const float value = c < cols && kk[j] < k_end ? to_float(w_chunk[kk[j] * w_row + c]) : 0.0f;
        v[j][i] = operand(value, a.round_tf32);
      }
#pragma unroll
    for (int i = 0; i < STEPS; ++i)
#pragma unroll
      for (int j = 0; j < 3; ++j) {
        const int c = col[j] + first + 8 * i;
        if (c < cols) w_s[c * kWLd + kk[j]] = v[j][i];
      }
  }
}

// A tile's coordinates and where its operands lie, the same for all its threads: thread 0 writes
// them to shared memory at the tile's start (two slots, alternating by iteration, so the next
// tile's copy never overwrites one that a slow thread still stores from) and every thread reads
// them back when staging and storing; none of it holds a register through the sums.
template <typename T>
struct StripTile {
  const T* x_win;   // window element (0, 0) of the group's first channel (maybe outside x:
                    // only in-image elements are read)
  const T* w_tile;  // filter row of the tile's first channel
  int64_t g_first;  // the strip's first group within its column tile (P x row_groups of them)
  int row_begin, row_end, col_begin, col_end;  // the window rows / columns inside the image
  int n, g, k0, q0;                            // image, group, first channel (in the group) and
                                               // first column of the tile
  int p_first;                                 // the strip's first output row
};  // 64 bytes with the padding to 8
constexpr int kTileBytes = CONVGEMM_DIRECT_STRIP_TILE_BYTES;  // both slots
static_assert(2 * sizeof(StripTile<float>) == kTileBytes && kTileBytes % 16 == 0,
              "the filter slice after the slots stays 16-byte aligned");

// The extent [begin, end) of window positions 0 .. size-1 whose image coordinate first + i lies
// in [0, extent).
__device__ __forceinline__ void inside_range(int64_t first, int64_t extent, int size, int& begin,
                                             int& end) {
  const int64_t lo = -first, hi = extent - first;
  begin = (int)(lo < 0 ? 0 : lo < size ? lo : size);
  end = (int)(hi < begin ? begin : hi < size ? hi : size);
}

template <typename T>
__device__ __forceinline__ StripTile<T> strip_tile(const StripArgs<T>& a, int64_t tile) {
  const TileCoord tc = split_tile(tile, a.k_tiles, a.q_tiles, a.p_tiles, a.groups);
  StripTile<T> t;
  t.n = tc.n;
  t.g = tc.g;
  t.k0 = tc.kt * kBlockK;
  t.q0 = tc.qt * a.strip_q;
  t.g_first = (int64_t)tc.pt * kGroups;
  t.p_first = (int)(t.g_first / a.row_groups);
  const int64_t ih0 = (int64_t)t.p_first * a.stride_h - a.pad_h;
  const int64_t iw0 = (int64_t)t.q0 * a.stride_w - a.pad_w;
  const T* x_grp = a.x + ((int64_t)tc.n * a.c + (int64_t)tc.g * a.cg) * a.in_h * a.in_w;
  t.x_win = x_grp + ih0 * a.in_w + iw0;
  t.w_tile = a.w + ((int64_t)tc.g * a.kg + t.k0) * a.cg * a.r * a.s;
  inside_range(ih0, a.in_h, a.halo_h, t.row_begin, t.row_end);
  inside_range(iw0, a.in_w, a.halo_w, t.col_begin, t.col_end);
  return t;
}

// The group of the strip this lane computes: its own, or for a lane past the image's last group
// that one (its outputs are computed from in-window words and not stored).
struct LaneGroup {
  int p, qg;   // output row, 5-column group within the row
  bool valid;  // whether the lane's group exists
};

template <typename T>
__device__ __forceinline__ LaneGroup lane_group(const StripArgs<T>& a, int64_t g_first) {
  const int64_t g_last = (int64_t)a.p * a.row_groups - 1;
  const int64_t lane_g = g_first + threadIdx.x % 32;
  const int64_t group = lane_g <= g_last ? lane_g : g_last;
  LaneGroup lg;
  lg.p = (int)(group / a.row_groups);
  lg.qg = (int)(group - (int64_t)lg.p * a.row_groups);
  lg.valid = lane_g <= g_last;
  return lg;
}

// The window of `chunk` channels starting at channel c0: a warp per row, a lane per column
// (coalesced), each stored at its phase's slot, zeros outside the image. A batch is kWinRows rows
// of the warp (kWarps apart) x kWinCols columns of 32, all its loads issued before its first
// store (the stem's 23 rows x 227 columns: 2 batches per warp and channel, 2 memory latencies
// where a loop with two loads in flight took 4 per row, 12). Larger batches (3 x 8 here or 24
// filter loads) spill on some of the 12 kernels.
constexpr int kWinRows = 2, kWinCols = 8;

template <typename T>
__device__ __forceinline__ void stage_window(const StripArgs<T>& a, const StripTile<T>& win, int c0,
                                             int chunk, float* x_s) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int rows = chunk * a.halo_h;
  const int64_t plane = (int64_t)a.in_h * a.in_w;
  for (int row0 = warp; row0 < rows; row0 += kWinRows * kWarps) {
    for (int v0 = 0; v0 < a.halo_w; v0 += 32 * kWinCols) {
      float value[kWinRows][kWinCols];
#pragma unroll
      for (int i = 0; i < kWinRows; ++i) {
        const int row = row0 + i * kWarps;
        const int cc = row / a.halo_h, hh = row - cc * a.halo_h;
        const bool row_inside = (row < rows) & (hh >= win.row_begin) & (hh < win.row_end);
        const T* src = win.x_win + (c0 + cc) * plane + (int64_t)hh * a.in_w;
#pragma unroll
        for (int j = 0; j < kWinCols; ++j) {
          const int v = v0 + lane + 32 * j;
          const bool inside = row_inside & (v >= win.col_begin) & (v < win.col_end);
          value[i][j] = operand(inside ? to_float(src[v]) : 0.0f, a.round_tf32);
        }
      }
      // Column v goes to phase v % stride_w, index v / stride_w: the same slots in every row.
      int slot[kWinCols];
      {
        const int sw = a.stride_w, v = v0 + lane;
        int phase = v % sw, index = v / sw;
        const int step_index = 32 / sw, step_phase = 32 % sw;
#pragma unroll
        for (int j = 0; j < kWinCols; ++j) {
          slot[j] = phase * a.x_phase_ld + index;
          index += step_index;
          phase += step_phase;
          if (phase >= sw) {
            phase -= sw;
            ++index;
          }
        }
      }
#pragma unroll
      for (int i = 0; i < kWinRows; ++i) {
        const int row = row0 + i * kWarps;
        if (row >= rows) break;
        float* dst = x_s + row * a.x_row_ld;
#pragma unroll
        for (int j = 0; j < kWinCols; ++j)
          if (v0 + lane + 32 * j < a.halo_w) dst[slot[j]] = value[i][j];
      }
    }
  }
}

// tap_s[u], u = cc*R*S + r*S + s: where tap (cc, r, s)'s input for a lane's first column lies in
// x_s, relative to the lane's first word. The same for every tile and every chunk (a shorter last
// chunk uses a prefix), so staged once per block.
__device__ __forceinline__ void stage_taps(const ConvGeometry& g, int c_chunk, int halo_h,
                                           int phase_ld, int row_ld, int* tap_s) {
  const int rs = g.r * g.s;
  for (int u = threadIdx.x; u < c_chunk * rs; u += kThreads) {
    const int cc = u / rs, t = u - cc * rs;
    const int r = t / g.s, col = (t - r * g.s) * g.dilation_w;
    tap_s[u] = (cc * halo_h + r * g.dilation_h) * row_ld + (col % g.stride_w) * phase_ld +
               col / g.stride_w;
  }
}

// 12 filter values of one tap: three float4 broadcasts.
__device__ __forceinline__ void load_filter(const float* w_tap, float (&wv)[kTK]) {
#pragma unroll
  for (int j = 0; j < kTK; j += 4) {
    const float4 v4 = *reinterpret_cast<const float4*>(w_tap + j);
    wv[j] = v4.x; wv[j + 1] = v4.y; wv[j + 2] = v4.z; wv[j + 3] = v4.w;
  }
}

__device__ __forceinline__ void fma_tile(const float (&wv)[kTK], const float (&xv)[kTP],
                                         float (&acc)[kTK][kTP]) {
#pragma unroll
  for (int j = 0; j < kTK; ++j)
#pragma unroll
    for (int i = 0; i < kTP; ++i) acc[j][i] = fmaf(wv[j], xv[i], acc[j][i]);
}

// General path: taps in the order c, r, s; per tap 5 adjacent window words of one phase.
__device__ __forceinline__ void accumulate_taps(const float* x_lane, const float* w_warp,
                                                const int* tap_s, int taps,
                                                float (&acc)[kTK][kTP]) {
#pragma unroll 1  // unrolled by 2 it is 80% FFMAs instead of 77%, at 128 registers: no margin
  for (int u = 0; u < taps; ++u) {
    const float* xp = x_lane + tap_s[u];
    float xv[kTP];
#pragma unroll
    for (int i = 0; i < kTP; ++i) xv[i] = xp[i];
    float wv[kTK];
    load_filter(w_warp + u * kWLd, wv);
    fma_tile(wv, xv, acc);
  }
}

// Register-window path for a compile-time width geometry (SW, DW, S): per filter row (c, r) the
// WIN window columns the lane's 5 outputs read go into registers once; taps s = 0 .. S-1 then
// take column i*SW + s*DW for output i from there (the order c, r, s is unchanged).
// The filter values are software-pipelined in their own 12 registers: each float4 is reloaded
// with the next tap's (after tap S-1: the next row's tap 0) as soon as its 20 FFMAs have issued,
// 40 FFMAs before its first use (ptxas keeps 20 or more). Loading a tap's 3 float4s at its start,
// ptxas hoisted them for taps 0-3 only: on taps 4-10 the first was 3 instructions before its use,
// a stall of the shared-memory latency (~30 cycles) on 7 taps a row. The rows (c, r) run as one
// loop so that the last tap's loads can fetch the next row's first; after the last row they
// re-read its tap 0 (in bounds, unused). Holding the next row's window too (loaded after each
// column's last tap) took 17 more instructions a row: ptxas sank the loads to the row start
// anyway, giving each its own address register.
template <int SW, int DW, int S>
__device__ __forceinline__ void accumulate_window_rows(const float* x_lane, const float* w_warp,
                                                       int chunk, int r_count, int halo_h,
                                                       int dil_h, int row_ld, int phase_ld,
                                                       float (&acc)[kTK][kTP]) {
  constexpr int WIN = (kTP - 1) * SW + (S - 1) * DW + 1;
  const int rows = chunk * r_count;
  const float* w_row = w_warp;  // filter row (c, r): rows (c, r) and (c, r + 1) are S taps apart
  float wv[kTK];
  load_filter(w_row, wv);
  int cc = 0, r = 0;
#pragma unroll 1
  for (int row = 0; row < rows; ++row) {
    const float* x_row = x_lane + (cc * halo_h + r * dil_h) * row_ld;
    if (++r == r_count) {
      r = 0;
      ++cc;
    }
    float win[WIN];  // win[v]: window column v, counted from the lane's first
#pragma unroll
    for (int v = 0; v < WIN; ++v) win[v] = x_row[(v % SW) * phase_ld + v / SW];
    const float* w_next = row + 1 < rows ? w_row + S * kWLd : w_row;
#pragma unroll
    for (int s = 0; s < S; ++s) {
      float xv[kTP];
#pragma unroll
      for (int i = 0; i < kTP; ++i) xv[i] = win[i * SW + s * DW];
      const float* w_tap = s + 1 < S ? w_row + (s + 1) * kWLd : w_next;  // the next tap's
#pragma unroll
      for (int j = 0; j < kTK; j += 4) {
#pragma unroll
        for (int jj = j; jj < j + 4; ++jj)
#pragma unroll
          for (int i = 0; i < kTP; ++i) acc[jj][i] = fmaf(wv[jj], xv[i], acc[jj][i]);
        const float4 v4 = *reinterpret_cast<const float4*>(w_tap + j);
        wv[j] = v4.x; wv[j + 1] = v4.y; wv[j + 2] = v4.z; wv[j + 3] = v4.w;
      }
    }
    w_row = w_next;
  }
}

// y for this thread's 12 channels x 5 columns: bias after the sum, one rounding to T.
template <typename T>
__device__ __forceinline__ void store_tile(const StripArgs<T>& a, const StripTile<T>& t,
                                           const float (&acc)[kTK][kTP]) {
  const LaneGroup lg = lane_group(a, t.g_first);
  if (!lg.valid) return;
  const int k_first = t.k0 + threadIdx.x / 32 * kTK;
  const int k_global = t.g * a.kg + k_first;
  const int q_first = t.q0 + lg.qg * kTP;
  T* y = a.y + (((int64_t)t.n * a.k + k_global) * a.p + lg.p) * a.q + q_first;
  const int64_t channel_step = (int64_t)a.p * a.q;
  // The 12 bias loads first: the compiler cannot hoist a load of bias above a store to y (they
  // may alias as far as it knows), so loading each channel's before its stores cost 12 latencies.
  float b[kTK];
#pragma unroll
  for (int j = 0; j < kTK; ++j)
    b[j] = a.bias != nullptr && k_first + j < a.kg ? to_float(a.bias[k_global + j]) : 0.0f;
#pragma unroll
  for (int j = 0; j < kTK; ++j) {
    if (k_first + j >= a.kg) break;
#pragma unroll
    for (int i = 0; i < kTP; ++i)
      if (q_first + i < a.q) y[j * channel_step + i] = from_float<T>(acc[j][i] + b[j]);
  }
}

// SW == 0: the general path (any width geometry); else the register window for stride_w SW,
// dilation_w DW and S filter columns, which the launcher checks.
template <typename T, int SW, int DW, int S>
__global__ void __launch_bounds__(kThreads, 2)
    direct_conv2d_row_strip_kernel(const StripArgs<T> a) {
  extern __shared__ float4 smem_f4[];
  const int rs = a.r * a.s;
  StripTile<T>* tiles_s = reinterpret_cast<StripTile<T>*>(smem_f4);        // 2 slots
  float* w_s = reinterpret_cast<float*>(smem_f4 + kTileBytes / 16);  // (c_chunk*R*S, kWLd)
  float* x_s = w_s + a.c_chunk * rs * kWLd;                          // (c_chunk, halo_h, x_row_ld)
  int* tap_s = reinterpret_cast<int*>(x_s + a.c_chunk * a.halo_h * a.x_row_ld);  // (c_chunk*R*S)
  if constexpr (SW == 0) {
    stage_taps(a, a.c_chunk, a.halo_h, a.x_phase_ld, a.x_row_ld, tap_s);  // synced below
  }
  const float* w_warp = w_s + threadIdx.x / 32 * kTK;

  int slot = 0;
  for (int64_t tile = blockIdx.x; tile < a.tiles; tile += gridDim.x, slot ^= 1) {
    const StripTile<T>& t = tiles_s[slot];
    if (threadIdx.x == 0) tiles_s[slot] = strip_tile(a, tile);
    __syncthreads();  // the tile is visible, and the previous tile's reads of x_s, w_s are done
    const LaneGroup lg = lane_group(a, t.g_first);
    // This lane's first window word: its row's first input row, phase 0, column qg*5*stride_w.
    const float* x_lane = x_s + (lg.p - t.p_first) * a.stride_h * a.x_row_ld + lg.qg * kTP;

    float acc[kTK][kTP];
#pragma unroll
    for (int j = 0; j < kTK; ++j)
#pragma unroll
      for (int i = 0; i < kTP; ++i) acc[j][i] = 0.0f;

    for (int c0 = 0; c0 < a.cg; c0 += a.c_chunk) {
      const int chunk = min(a.c_chunk, a.cg - c0);
      if (c0 > 0) __syncthreads();  // the previous chunk's reads are done
      stage_filter(a, t.w_tile, t.k0, c0, chunk * rs, w_s);
      stage_window(a, t, c0, chunk, x_s);
      __syncthreads();
      if constexpr (SW == 0) {
        accumulate_taps(x_lane, w_warp, tap_s, chunk * rs, acc);
      } else {
        accumulate_window_rows<SW, DW, S>(x_lane, w_warp, chunk, a.r, a.halo_h, a.dilation_h,
                                          a.x_row_ld, a.x_phase_ld, acc);
      }
    }
    store_tile(a, t, acc);
  }
}

template <typename T>
using StripKernel = void (*)(StripArgs<T>);

// The stem's width geometry (plan->strip_window) gets the register window; everything else the
// general path.
template <typename T>
StripKernel<T> pick_kernel(const convgemm_direct_plan_t& plan) {
  if (plan.strip_window) return direct_conv2d_row_strip_kernel<T, 4, 1, 11>;
  return direct_conv2d_row_strip_kernel<T, 0, 0, 0>;
}

template <typename T>
cudaError_t configure(int max_smem_per_block) {
  const void* kernels[] = {
      reinterpret_cast<const void*>(direct_conv2d_row_strip_kernel<T, 0, 0, 0>),
      reinterpret_cast<const void*>(direct_conv2d_row_strip_kernel<T, 4, 1, 11>),
  };
  for (const void* k : kernels) {
    const cudaError_t e =
        cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, max_smem_per_block);
    if (e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

template <typename T>
cudaError_t launch(const struct convgemm_conv_desc* desc, const convgemm_direct_plan_t* plan,
                   const void* x, const void* w, const void* bias, void* y, cudaStream_t stream) {
  StripArgs<T> a;
  static_cast<ConvGeometry&>(a) = conv_geometry(*desc);
  a.x = static_cast<const T*>(x); a.w = static_cast<const T*>(w);
  a.bias = static_cast<const T*>(bias); a.y = static_cast<T*>(y);
  a.c_chunk = plan->c_chunk; a.halo_h = plan->halo_h; a.halo_w = plan->halo_w;
  a.x_phase_ld = plan->x_phase_ld; a.x_row_ld = plan->x_row_ld;
  a.strip_q = plan->shape.tile_q;
  a.row_groups = plan->shape.tile_q / CONVGEMM_DIRECT_STRIP_TP;
  a.k_tiles = (int)plan->k_tiles; a.p_tiles = (int)plan->p_tiles; a.q_tiles = (int)plan->q_tiles;
  a.tiles = plan->tiles;
  a.round_tf32 = desc->tf32_operands != 0;

  cudaLaunchConfig_t config = {};
  config.gridDim = dim3((unsigned)(plan->tiles < INT32_MAX ? plan->tiles : INT32_MAX));
  config.blockDim = dim3(kThreads);
  config.dynamicSmemBytes = plan->smem_bytes;
  config.stream = stream;
  return cudaLaunchKernelEx(&config, pick_kernel<T>(*plan), a);
}

}  // namespace
}  // namespace convgemm

extern "C" cudaError_t convgemm_direct_row_strip_configure(int max_smem_per_block) {
  using namespace convgemm;
  cudaError_t e = configure<float>(max_smem_per_block);
  if (e == cudaSuccess) e = configure<__half>(max_smem_per_block);
  if (e == cudaSuccess) e = configure<__nv_bfloat16>(max_smem_per_block);
  return e;
}

extern "C" cudaError_t convgemm_direct_row_strip_launch(const struct convgemm_conv_desc* desc,
                                                        const convgemm_direct_plan_t* plan,
                                                        const void* x, const void* w,
                                                        const void* bias, void* y,
                                                        cudaStream_t stream) {
  using namespace convgemm;
  switch (desc->params.data_type) {
    case CONVGEMM_DATA_FLOAT32: return launch<float>(desc, plan, x, w, bias, y, stream);
    case CONVGEMM_DATA_FLOAT16: return launch<__half>(desc, plan, x, w, bias, y, stream);
    case CONVGEMM_DATA_BFLOAT16: return launch<__nv_bfloat16>(desc, plan, x, w, bias, y, stream);
  }
  return cudaErrorInvalidValue;
}
