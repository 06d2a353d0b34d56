/*
 * DIRECT: direct 2-D convolution on CUDA cores (fp32 FMA), every configuration and data type.
 *
 * Tiled kernel (the plan in direct_conv2d_plan.h picks the shape):
 *   block tile  (BLOCK_K = TK*KG output channels) x (TILE_P = TP*PG/32 rows, TILE_Q = 32 columns)
 *   thread tile (TK channels) x (TP pixels): thread (kg, pg) owns channels kg*TK .. kg*TK+TK-1 and
 *               pixels in column pg%32 of rows pg/32 + i*(PG/32), i < TP.
 *   A warp shares one kg, so filter reads are broadcasts, and covers 32 consecutive columns, so
 *   halo reads (stride 1) and output stores are conflict-free and coalesced.
 * Per channel chunk the block stages
 *   w_s (c_chunk*R*S, W_LD)           filter slice, channel index fastest
 *   x_s (c_chunk, halo_h, halo_w)     input window incl. padding zeros
 * in shared memory, rounding both to TF32 (ties away) in DEFAULT math, then accumulates in the
 * order c, r, s. The generic kernel sums in the same order, so both give identical bits.
 * Offsets into x, w and y are 64-bit (problem 55's y is within 1% of 2^31 bytes).
 *
 * Every kernel is a template on the element type T of x, w, bias and y (float, __half,
 * __nv_bfloat16; gemm/elem_type.cuh): values are converted to float as they are loaded (shared
 * memory and registers stay fp32, so the plan's sizes are the same for every type), summed in
 * fp32, the bias added in fp32, and the sum rounded to T once, at the store. With T = float the
 * conversions are the identity and the code is what it was before the types were added.
 *
 * ROW_STRIP (few input channels, many output channels, large filters: the AlexNet stem) has its
 * own file, direct_conv2d_row_strip.cu; configure() and launch_plan() hand it over.
 */
#include <cstdint>
#include <type_traits>

#include <cuda_runtime.h>

#include "conv/conv_geometry.cuh"
#include "conv/direct_conv2d_plan.h"
#include "gemm/cp_async.cuh"
#include "gemm/elem_type.cuh"
#include "gemm/tf32_round.cuh"

namespace convgemm {
namespace {

template <typename T>
struct DirectArgs : ConvGeometry {
  const T* x;     // (N, C, H, W)
  const T* w;     // (K, C/G, R, S)
  const T* bias;  // (K) or nullptr
  T* y;           // (N, K, P, Q)
  int c_chunk, halo_h, halo_w;
  int k_tiles, p_tiles, q_tiles;
  int64_t tiles;
  bool round_tf32;
};

__device__ __forceinline__ float operand(float v, bool round_tf32) {
  return round_tf32 ? tf32_round_rna(v) : v;
}

template <typename T, int TK, int KG, int TP, int PG>
__global__ void __launch_bounds__(KG * PG)
    direct_conv2d_tiled_kernel(const DirectArgs<T> a) {
  constexpr int THREADS = KG * PG;
  constexpr int BLOCK_K = TK * KG;
  constexpr int TILE_Q = CONVGEMM_DIRECT_TILE_Q;
  constexpr int TILE_P = TP * PG / TILE_Q;
  constexpr int ROW_STEP = PG / TILE_Q;  // rows between one thread's consecutive pixels
  constexpr int W_LD = BLOCK_K >= 8 ? BLOCK_K + 8 : BLOCK_K;
  static_assert(PG % TILE_Q == 0, "a warp must cover one row of the tile");
  static_assert(THREADS == CONVGEMM_DIRECT_THREADS, "the plan assumes this block size");

  extern __shared__ float4 smem_f4[];
  const int rs = a.r * a.s;
  float* w_s = reinterpret_cast<float*>(smem_f4);  // (c_chunk*R*S, W_LD)
  float* x_s = w_s + a.c_chunk * rs * W_LD;        // (c_chunk, halo_h, halo_w)
  const int halo_hw = a.halo_h * a.halo_w;

  const int tid = threadIdx.x;
  const int t_k = tid / PG;
  const int t_pix = tid % PG;
  const int t_row = t_pix / TILE_Q;
  const int t_col = t_pix % TILE_Q;
  const int x_pixel_step = ROW_STEP * a.stride_h * a.halo_w;  // x_s floats between pixels i, i+1

  for (int64_t tile = blockIdx.x; tile < a.tiles; tile += gridDim.x) {
    const TileCoord tc = split_tile(tile, a.k_tiles, a.q_tiles, a.p_tiles, a.groups);
    const int kt = tc.kt, qt = tc.qt, pt = tc.pt, g = tc.g, n = tc.n;
    const int k0 = kt * BLOCK_K;  // within the group
    const int p0 = pt * TILE_P;
    const int q0 = qt * TILE_Q;
    const int64_t ih0 = (int64_t)p0 * a.stride_h - a.pad_h;
    const int64_t iw0 = (int64_t)q0 * a.stride_w - a.pad_w;
    const T* x_grp = a.x + ((int64_t)n * a.c + (int64_t)g * a.cg) * a.in_h * a.in_w;
    const T* w_tile = a.w + ((int64_t)g * a.kg + k0) * a.cg * rs;

    float acc[TK][TP];
#pragma unroll
    for (int j = 0; j < TK; ++j)
#pragma unroll
      for (int i = 0; i < TP; ++i) acc[j][i] = 0.0f;

    for (int c0 = 0; c0 < a.cg; c0 += a.c_chunk) {
      const int chunk = min(a.c_chunk, a.cg - c0);
      __syncthreads();  // the previous chunk's reads are done

      // Filter slice: global rows k0+kk hold (C/G*R*S) contiguous floats; this chunk is the
      // columns [c0*R*S, (c0+chunk)*R*S). A warp stores 4 columns x 8 channels (see W_LD).
      const int cols = chunk * rs;
      const int cols4 = (cols + 3) & ~3;
      for (int e = tid; e < BLOCK_K * cols4; e += THREADS) {
        const int kk = (e >> 2) % BLOCK_K;
        const int col = (e / (4 * BLOCK_K)) * 4 + (e & 3);
        if (col < cols) {
          float v = 0.0f;
          if (k0 + kk < a.kg)
            v = to_float(w_tile[(int64_t)kk * a.cg * rs + (int64_t)c0 * rs + col]);
          w_s[col * W_LD + kk] = operand(v, a.round_tf32);
        }
      }
      // Input window with zero padding, coalesced along W.
      for (int e = tid; e < chunk * halo_hw; e += THREADS) {
        const int cc = e / halo_hw;
        const int rem = e - cc * halo_hw;
        const int hh = rem / a.halo_w;
        const int64_t ih = ih0 + hh;
        const int64_t iw = iw0 + (rem - hh * a.halo_w);
        float v = 0.0f;
        if (ih >= 0 && ih < a.in_h && iw >= 0 && iw < a.in_w)
          v = to_float(x_grp[(int64_t)(c0 + cc) * a.in_h * a.in_w + ih * a.in_w + iw]);
        x_s[e] = operand(v, a.round_tf32);
      }
      __syncthreads();

      for (int cc = 0; cc < chunk; ++cc) {
        const float* x_c = x_s + cc * halo_hw + t_row * a.stride_h * a.halo_w + t_col * a.stride_w;
        const float* w_c = w_s + cc * rs * W_LD + t_k * TK;
        for (int r = 0; r < a.r; ++r) {
          const float* x_r = x_c + r * a.dilation_h * a.halo_w;
          const float* w_r = w_c + r * a.s * W_LD;
          for (int s = 0; s < a.s; ++s) {
            float wv[TK];
            if constexpr (TK % 4 == 0) {
#pragma unroll
              for (int j = 0; j < TK; j += 4) {
                const float4 v4 = *reinterpret_cast<const float4*>(w_r + s * W_LD + j);
                wv[j] = v4.x; wv[j + 1] = v4.y; wv[j + 2] = v4.z; wv[j + 3] = v4.w;
              }
            } else {
#pragma unroll
              for (int j = 0; j < TK; ++j) wv[j] = w_r[s * W_LD + j];
            }
            const float* x_s_tap = x_r + s * a.dilation_w;
            float xv[TP];
#pragma unroll
            for (int i = 0; i < TP; ++i) xv[i] = x_s_tap[i * x_pixel_step];
#pragma unroll
            for (int j = 0; j < TK; ++j)
#pragma unroll
              for (int i = 0; i < TP; ++i) acc[j][i] = fmaf(wv[j], xv[i], acc[j][i]);
          }
        }
      }
    }

    const int q = q0 + t_col;
#pragma unroll
    for (int j = 0; j < TK; ++j) {
      const int k = k0 + t_k * TK + j;
      if (k >= a.kg || q >= a.q) continue;
      const int k_global = g * a.kg + k;
      const float b = a.bias != nullptr ? to_float(a.bias[k_global]) : 0.0f;
      T* y_k = a.y + ((int64_t)n * a.k + k_global) * a.p * a.q + q;
#pragma unroll
      for (int i = 0; i < TP; ++i) {
        const int p = p0 + t_row + i * ROW_STEP;
        if (p < a.p) y_k[(int64_t)p * a.q] = from_float<T>(acc[j][i] + b);
      }
    }
  }
}

// C/G == 1 (depthwise and its channel-multiplier form): a block computes (32 x 128) output tiles
// of one (image, output channel) each; warp w owns rows 4w .. 4w+3, lane l columns l + 32j
// (j < 4), so every output store is a 128-byte warp run. Shared memory holds two stages, each
//   w_s (R*S rounded up to 4)    the tile's filter
//   x_s (halo_h, halo_w)         its input window with zero padding
// filled by cp.async. The grid is persistent (a few blocks per SM, tiles strided by the grid):
// while a block computes tile i from one stage, tile i + gridDim.x's loads are in flight into the
// other, so DRAM latency hides behind the math and the stores (the kernel is bandwidth bound:
// problem 82 does 9 FMAs per 8 bytes moved). Sums in the order r, s like the generic kernel (one
// input channel), so the bits match it. NOTES: ncu on problem 82 (H100) found the first version
// issue bound (72% of issue slots), mostly in the window fill's per-element division and 64-bit
// index math; the fill now walks rows (warp per row, lane per column) and UNIT_STRIDE_W makes the
// column step a constant, so the 16 shared loads per tap use immediate offsets.
// NOTES: cp.async copies 4, 8 or 16 bytes, never 2, so 16-bit data is loaded into registers,
// converted and stored to the stage instead (the same stages and order; the next tile's loads
// are issued before this tile's math but the stores wait for them, so only the other resident
// blocks hide their latency). Not measured yet.
template <typename T, bool UNIT_STRIDE_W>
__global__ void __launch_bounds__(CONVGEMM_DIRECT_THREADS, CONVGEMM_DIRECT_DW_BLOCKS_PER_SM)
    direct_conv2d_depthwise_kernel(const DirectArgs<T> a) {
  constexpr bool ASYNC = std::is_same<T, float>::value;  // cp.async straight into the stage
  constexpr int TILE_P = CONVGEMM_DIRECT_DW_TILE_P;
  constexpr int TILE_Q = CONVGEMM_DIRECT_DW_TILE_Q;
  constexpr int ROWS = TILE_P / (CONVGEMM_DIRECT_THREADS / 32);  // per thread
  constexpr int COLS = TILE_Q / 32;                              // per thread
  static_assert(ROWS * (CONVGEMM_DIRECT_THREADS / 32) == TILE_P, "8 warps cover the rows");
  static_assert(COLS * 32 == TILE_Q, "a warp covers the columns");

  extern __shared__ float4 smem_f4[];
  const int rs = a.r * a.s;
  const int rs_pad = (rs + 3) & ~3;
  const int halo_elems = a.halo_h * a.halo_w;
  const int stage_floats = rs_pad + halo_elems;
  float* const stages = reinterpret_cast<float*>(smem_f4);  // 2 x (w_s, x_s)
  const int tid = threadIdx.x;
  const int warp = tid / 32, lane = tid % 32;
  // This thread's first input element in x_s, and the steps between its rows and columns.
  const int stride_w = UNIT_STRIDE_W ? 1 : a.stride_w;
  const int x_base = warp * ROWS * a.stride_h * a.halo_w + lane * stride_w;
  const int row_step = a.stride_h * a.halo_w;
  const int col_step = 32 * stride_w;

  // Queues the cp.async loads of `tile`'s filter and window into `stage`.
  auto load_tile = [&](int64_t tile, float* stage) {
    const TileCoord tc = split_tile(tile, a.k_tiles, a.q_tiles, a.p_tiles, a.groups);
    const int kk = tc.kt, qt = tc.qt, pt = tc.pt, g = tc.g, n = tc.n;  // kk: channel in group
    const T* w_k = a.w + (int64_t)(g * a.kg + kk) * rs;
    for (int e = tid; e < rs; e += CONVGEMM_DIRECT_THREADS) {
      if constexpr (ASYNC)
        cp_async_4_or_zero(stage + e, w_k + e, true);
      else
        stage[e] = to_float(w_k[e]);
    }
    // Window corner (64-bit: H + 2*pad_h may exceed 2^31).
    const int64_t ih0 = (int64_t)pt * TILE_P * a.stride_h - a.pad_h;
    const int64_t iw0 = (int64_t)qt * TILE_Q * stride_w - a.pad_w;
    const T* x_plane = a.x + ((int64_t)n * a.c + g) * a.in_h * a.in_w;  // channel g (C/G 1)
    float* x_s = stage + rs_pad;
    for (int hh = warp; hh < a.halo_h; hh += CONVGEMM_DIRECT_THREADS / 32) {
      const int64_t ih = ih0 + hh;
      const bool row_inside = ih >= 0 && ih < a.in_h;
      const T* src = x_plane + (row_inside ? ih : 0) * a.in_w;
      float* dst = x_s + hh * a.halo_w;
      if constexpr (ASYNC) {
        for (int ww = lane; ww < a.halo_w; ww += 32) {
          const int64_t iw = iw0 + ww;
          const bool inside = row_inside && iw >= 0 && iw < a.in_w;
          cp_async_4_or_zero(dst + ww, inside ? src + iw : x_plane, inside);
        }
      } else {
#pragma unroll 4  // lets a lane's loads of one row be in flight together
        for (int ww = lane; ww < a.halo_w; ww += 32) {
          const int64_t iw = iw0 + ww;
          const bool inside = row_inside && iw >= 0 && iw < a.in_w;
          dst[ww] = inside ? to_float(src[iw]) : 0.0f;
        }
      }
    }
  };

  int64_t tile = blockIdx.x;
  if (tile < a.tiles) load_tile(tile, stages);
  cp_async_commit();
  for (int it = 0; tile < a.tiles; ++it, tile += gridDim.x) {
    float* const stage = stages + (it & 1) * stage_floats;
    const int64_t next = tile + gridDim.x;
    if (next < a.tiles) load_tile(next, stages + ((it + 1) & 1) * stage_floats);
    cp_async_commit();  // possibly empty: keeps one group per iteration
    cp_async_wait_group<1>();
    __syncthreads();  // every thread's part of this tile's stage has landed
    const float* w_s = stage;
    float* x_s = stage + rs_pad;
    if (a.round_tf32) {  // never for C/G == 1 today (DEFAULT math is fp32 there); kept general
      for (int e = tid; e < halo_elems; e += CONVGEMM_DIRECT_THREADS)
        x_s[e] = tf32_round_rna(x_s[e]);
      for (int e = tid; e < rs; e += CONVGEMM_DIRECT_THREADS)
        stage[e] = tf32_round_rna(stage[e]);
      __syncthreads();
    }

    float acc[ROWS][COLS];
#pragma unroll
    for (int i = 0; i < ROWS; ++i)
#pragma unroll
      for (int j = 0; j < COLS; ++j) acc[i][j] = 0.0f;
    for (int r = 0; r < a.r; ++r) {
      const float* x_r = x_s + x_base + r * a.dilation_h * a.halo_w;
      for (int s = 0; s < a.s; ++s) {
        const float wv = w_s[r * a.s + s];
        const float* x_rs = x_r + s * a.dilation_w;
#pragma unroll
        for (int i = 0; i < ROWS; ++i)
#pragma unroll
          for (int j = 0; j < COLS; ++j)
            acc[i][j] = fmaf(wv, x_rs[i * row_step + j * col_step], acc[i][j]);
      }
    }

    const TileCoord tc = split_tile(tile, a.k_tiles, a.q_tiles, a.p_tiles, a.groups);
    const int kk = tc.kt, qt = tc.qt, pt = tc.pt, g = tc.g, n = tc.n;
    const int k_global = g * a.kg + kk;
    const float b = a.bias != nullptr ? to_float(a.bias[k_global]) : 0.0f;
    T* y_k = a.y + ((int64_t)n * a.k + k_global) * a.p * a.q;
#pragma unroll
    for (int i = 0; i < ROWS; ++i) {
      const int p = pt * TILE_P + warp * ROWS + i;
      if (p >= a.p) continue;
#pragma unroll
      for (int j = 0; j < COLS; ++j) {
        const int q = qt * TILE_Q + lane + 32 * j;
        if (q < a.q) y_k[(int64_t)p * a.q + q] = from_float<T>(acc[i][j] + b);
      }
    }
    __syncthreads();  // this stage is refilled next iteration
  }
  cp_async_wait_group<0>();  // no copy may outlive the block (only empty groups remain here)
}

// Resident blocks per SM the generic kernel's registers must allow; 0 leaves it to ptxas.
// NOTES: left to itself ptxas (CUDA 13.0, sm_90a) gives the 16-bit instantiations 32 registers
// and spills 8 bytes; asking for 4 blocks lets them take 33 without spilling. float keeps 0,
// its code as before.
template <typename T>
constexpr int generic_min_blocks() {
  return std::is_same<T, float>::value ? 0 : 4;
}

// One thread per output element, for windows too large for shared memory. Same summation
// order as the tiled kernel.
template <typename T>
__global__ void __launch_bounds__(CONVGEMM_DIRECT_THREADS, generic_min_blocks<T>())
    direct_conv2d_generic_kernel(const DirectArgs<T> a) {
  const int64_t total = (int64_t)a.n * a.k * a.p * a.q;
  for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
       idx += (int64_t)gridDim.x * blockDim.x) {
    int64_t t = idx;
    const int q = (int)(t % a.q); t /= a.q;
    const int p = (int)(t % a.p); t /= a.p;
    const int k_global = (int)(t % a.k); t /= a.k;
    const int n = (int)t;
    const int g = k_global / a.kg;
    const T* x_grp = a.x + ((int64_t)n * a.c + (int64_t)g * a.cg) * a.in_h * a.in_w;
    const T* w_k = a.w + (int64_t)k_global * a.cg * a.r * a.s;
    float acc = 0.0f;
    for (int c = 0; c < a.cg; ++c) {
      for (int r = 0; r < a.r; ++r) {
        const int64_t ih = (int64_t)p * a.stride_h - a.pad_h + (int64_t)r * a.dilation_h;
#pragma unroll 1  // a fallback: unrolled, its registers spill on sm_80
        for (int s = 0; s < a.s; ++s) {
          const int64_t iw = (int64_t)q * a.stride_w - a.pad_w + (int64_t)s * a.dilation_w;
          float xv = 0.0f;
          if (ih >= 0 && ih < a.in_h && iw >= 0 && iw < a.in_w)
            xv = to_float(x_grp[(int64_t)c * a.in_h * a.in_w + ih * a.in_w + iw]);
          const float wv = to_float(w_k[((int64_t)c * a.r + r) * a.s + s]);
          acc = fmaf(operand(wv, a.round_tf32), operand(xv, a.round_tf32), acc);
        }
      }
    }
    const float b = a.bias != nullptr ? to_float(a.bias[k_global]) : 0.0f;
    a.y[idx] = from_float<T>(acc + b);
  }
}

template <typename Kernel, typename T>
cudaError_t launch(Kernel kernel, int64_t blocks, size_t smem, cudaStream_t stream,
                   const DirectArgs<T>& args) {
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3((unsigned)(blocks < INT32_MAX ? blocks : INT32_MAX));
  config.blockDim = dim3(CONVGEMM_DIRECT_THREADS);
  config.dynamicSmemBytes = smem;
  config.stream = stream;
  return cudaLaunchKernelEx(&config, kernel, args);
}

// NOTES: the dynamic shared-memory limit is a per-kernel, per-device setting shared by every
// thread of the process; setting it per launch to the launch's size races between threads
// (measured: launches failing with cudaErrorLaunchOutOfResources). Raising it once to the
// device's maximum, the same value from every caller, is race-free.
template <typename T>
cudaError_t configure(int max_smem_per_block) {
  const void* kernels[] = {
      reinterpret_cast<const void*>(direct_conv2d_tiled_kernel<T, 8, 8, 8, 32>),
      reinterpret_cast<const void*>(direct_conv2d_tiled_kernel<T, 4, 4, 8, 64>),
      reinterpret_cast<const void*>(direct_conv2d_tiled_kernel<T, 1, 1, 8, 256>),
      reinterpret_cast<const void*>(direct_conv2d_depthwise_kernel<T, true>),
      reinterpret_cast<const void*>(direct_conv2d_depthwise_kernel<T, false>),
  };
  for (const void* k : kernels) {
    const cudaError_t e =
        cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, max_smem_per_block);
    if (e != cudaSuccess) return e;
  }
  return cudaSuccess;  // ROW_STRIP's kernels: convgemm_direct_row_strip_configure
}

// The plan's kernel for element type T.
template <typename T>
cudaError_t launch_plan(const struct convgemm_conv_desc* desc, const convgemm_direct_plan_t* plan,
                        const void* x, const void* w, const void* bias, void* y,
                        cudaStream_t stream) {
  const convgemm_conv2d_params_t& p = desc->params;
  DirectArgs<T> a;
  static_cast<ConvGeometry&>(a) = conv_geometry(*desc);
  a.x = static_cast<const T*>(x); a.w = static_cast<const T*>(w);
  a.bias = static_cast<const T*>(bias); a.y = static_cast<T*>(y);
  a.c_chunk = plan->c_chunk; a.halo_h = plan->halo_h; a.halo_w = plan->halo_w;
  a.k_tiles = (int)plan->k_tiles; a.p_tiles = (int)plan->p_tiles; a.q_tiles = (int)plan->q_tiles;
  a.tiles = plan->tiles;
  a.round_tf32 = desc->tf32_operands != 0;

  cudaError_t e = cudaErrorInvalidValue;
  switch (plan->tile) {
    case CONVGEMM_DIRECT_TILE_K64:
      e = launch(direct_conv2d_tiled_kernel<T, 8, 8, 8, 32>, plan->tiles, plan->smem_bytes, stream,
                 a);
      break;
    case CONVGEMM_DIRECT_TILE_K16:
      e = launch(direct_conv2d_tiled_kernel<T, 4, 4, 8, 64>, plan->tiles, plan->smem_bytes, stream,
                 a);
      break;
    case CONVGEMM_DIRECT_TILE_K1:
      e = launch(direct_conv2d_tiled_kernel<T, 1, 1, 8, 256>, plan->tiles, plan->smem_bytes,
                 stream, a);
      break;
    case CONVGEMM_DIRECT_DEPTHWISE: {
      // Persistent: as many blocks as fit on the device at once (each strides over the tiles).
      int device = 0, sms = 0;
      e = cudaGetDevice(&device);
      if (e == cudaSuccess)
        e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
      if (e != cudaSuccess) break;
      const int64_t resident = (int64_t)sms * CONVGEMM_DIRECT_DW_BLOCKS_PER_SM;
      const int64_t blocks = plan->tiles < resident ? plan->tiles : resident;
      e = p.stride_w == 1
              ? launch(direct_conv2d_depthwise_kernel<T, true>, blocks, plan->smem_bytes, stream, a)
              : launch(direct_conv2d_depthwise_kernel<T, false>, blocks, plan->smem_bytes, stream,
                       a);
      break;
    }
    case CONVGEMM_DIRECT_ROW_STRIP:  // its own arguments (direct_conv2d_row_strip.cu)
      e = convgemm_direct_row_strip_launch(desc, plan, x, w, bias, y, stream);
      break;
    case CONVGEMM_DIRECT_GENERIC: {
      const int64_t blocks = (plan->tiles + CONVGEMM_DIRECT_THREADS - 1) / CONVGEMM_DIRECT_THREADS;
      e = launch(direct_conv2d_generic_kernel<T>, blocks, 0, stream, a);
      break;
    }
  }
  return e;
}

}  // namespace
}  // namespace convgemm

extern "C" cudaError_t convgemm_direct_configure(int max_smem_per_block) {
  using namespace convgemm;
  cudaError_t e = configure<float>(max_smem_per_block);
  if (e == cudaSuccess) e = configure<__half>(max_smem_per_block);
  if (e == cudaSuccess) e = configure<__nv_bfloat16>(max_smem_per_block);
  if (e == cudaSuccess) e = convgemm_direct_row_strip_configure(max_smem_per_block);
  return e;
}

extern "C" cudaError_t convgemm_direct_launch(const struct convgemm_conv_desc* desc,
                                              const convgemm_direct_plan_t* plan, const void* x,
                                              const void* w, const void* bias, void* y,
                                              cudaStream_t stream) {
  using namespace convgemm;
  switch (desc->params.data_type) {
    case CONVGEMM_DATA_FLOAT32: return launch_plan<float>(desc, plan, x, w, bias, y, stream);
    case CONVGEMM_DATA_FLOAT16: return launch_plan<__half>(desc, plan, x, w, bias, y, stream);
    case CONVGEMM_DATA_BFLOAT16:
      return launch_plan<__nv_bfloat16>(desc, plan, x, w, bias, y, stream);
  }
  return cudaErrorInvalidValue;
}
