/*
 * IMPLICIT_GEMM kernels (tiling in implicit_gemm_plan.h): the filter packing, the mma.sync
 * implicit-GEMM convolution (TF32 m16n8k8, or m16n8k16 for float16 / bfloat16 data), and the
 * launch of whichever kernel the plan chose (the wgmma one lives in implicit_gemm_wgmma.cu).
 * Offsets into x, w and y are 64-bit.
 */
#include <cstdint>

#include <cuda_runtime.h>

#include "conv/conv_geometry.cuh"
#include "conv/implicit_gemm_args.cuh"
#include "conv/implicit_gemm_plan.h"
#include "gemm/cp_async.cuh"
#include "gemm/elem_type.cuh"
#include "gemm/mma_16bit.cuh"
#include "gemm/mma_tf32.cuh"
#include "gemm/tf32_round.cuh"

namespace convgemm {
namespace {

constexpr int kThreads = CONVGEMM_IGEMM_THREADS;
constexpr int kTileP = CONVGEMM_IGEMM_TILE_P;
constexpr int kTileQ = CONVGEMM_IGEMM_TILE_Q;
constexpr int kBlockK = CONVGEMM_IGEMM_BLOCK_K;
constexpr int kChunk = CONVGEMM_IGEMM_C_CHUNK;
constexpr int kWLd = CONVGEMM_IGEMM_W_LD;
constexpr int kWarps = kThreads / 32;
constexpr int kMFrags = kTileQ / 16;                    // m16 fragments per warp (one row)
constexpr int kNFrags = kBlockK / (kWarps / kTileP) / 8;  // n8 fragments per warp
static_assert(kWarps % kTileP == 0, "warps split evenly over the tile's rows");
static_assert(kNFrags == 4 && kMFrags == 4, "the fragment loops below assume 4 x 4");
static_assert(kChunk == 8, "one k8 step per filter tap");
static_assert(CONVGEMM_IGEMM_C_CHUNK_16BIT == 2 * kChunk, "16-bit data: a channel pair per word");
// 16-bit windows: words (channel pairs) each thread loads before storing any, so that many loads
// are in flight (2-byte values of two channel planes can't be copied by cp.async into a word).
constexpr int kPairBatch = 4;


// packed[g][kt][cc][tap][e] = tf32(w[g*K/G + kt*kBlockK + n][cc*kChunk + kk][tap]), zero past
// K/G and C/G, where the tap's 1024 floats e are ordered
//   mma.sync: e = kk * kBlockK + n
//   wgmma:    e = ((n / 8) * 2 + kk / 4) * 32 + (n % 8) * 4 + kk % 4  (K-major core matrices of 8
//             channels x 4 k values, the two k halves of a channel group adjacent)
// split (3xTF32, wgmma order only): each tap holds its big part, then its small part (2 x 1024
// floats): big = tf32(w), small = tf32(w - big); `total` counts taps x 1024 values.
// pairs (plan->tap_pairs, wgmma order, K/G <= 64): packed tap r s_taps + j holds filter tap
// (r, 2j) in channels n < 64 and (r, 2j + 1) in n >= 64 (as channel n - 64; zero past S).
__global__ void __launch_bounds__(256) igemm_pack_filter_kernel(const float* w, float* packed,
                                                                int64_t total, int cg, int kg,
                                                                int rs, int c_chunks,
                                                                int k_tiles, bool wgmma_order,
                                                                bool split, int s, int s_taps) {
  constexpr int kTapFloats = kChunk * kBlockK;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (int64_t)gridDim.x * blockDim.x) {
    int64_t t = i;
    const int e = (int)(t % kTapFloats); t /= kTapFloats;
    const int64_t tap_index = t;  // (g, kt, cc, tap) flattened
    const int tap = (int)(t % rs);     t /= rs;
    const int cc = (int)(t % c_chunks); t /= c_chunks;
    const int kt = (int)(t % k_tiles); t /= k_tiles;
    const int g = (int)t;
    const int n = wgmma_order ? (e / 64) * 8 + (e / 4) % 8 : e % kBlockK;
    const int kk = wgmma_order ? ((e / 32) % 2) * 4 + e % 4 : e / kBlockK;
    // rs: packed taps per chunk (R s_taps); the filter's own taps are R S.
    const int half = s_taps != s && n >= kBlockK / 2;  // tap pairs: the odd tap's half
    const int ws = s_taps == s ? tap : (tap / s_taps) * s + 2 * (tap % s_taps) + half;
    const bool in_s = s_taps == s || 2 * (tap % s_taps) + half < s;
    const int k = kt * kBlockK + n - half * (kBlockK / 2), c = cc * kChunk + kk;
    const int w_taps = rs / s_taps * s;
    const float v =
        in_s && k < kg && c < cg ? w[(((int64_t)g * kg + k) * cg + c) * w_taps + ws] : 0.0f;
    if (split) {
      float big, small;
      tf32_split(v, big, small);
      packed[tap_index * 2 * kTapFloats + e] = big;
      packed[tap_index * 2 * kTapFloats + kTapFloats + e] = small;
    } else {
      packed[i] = tf32_round_rna(v);
    }
  }
}

// 16-bit data: packed[g][kt][cc][tap][e] = w[g*K/G + kt*kBlockK + n][cc*16 + kk][tap] as is
// (T: __half or __nv_bfloat16), zero past K/G and C/G; a chunk holds 16 channels, a tap's 2048
// values (the 4 KB of a TF32 tap) ordered
//   mma.sync: e = (kk / 2) * 2 kBlockK + 2 n + kk % 2  (the TF32 order in 4-byte words, each
//             holding a k pair: gemm/mma_16bit.cuh)
//   wgmma:    e = ((n / 8) * 2 + kk / 8) * 64 + (n % 8) * 8 + kk % 8  (K-major core matrices of 8
//             channels x 8 k values: gemm/wgmma_16bit.cuh)
template <typename T>
__global__ void __launch_bounds__(256) igemm_pack_filter_16bit_kernel(const T* w, T* packed,
                                                                      int64_t total, int cg,
                                                                      int kg, int rs,
                                                                      int c_chunks, int k_tiles,
                                                                      bool wgmma_order) {
  constexpr int kChunk16 = CONVGEMM_IGEMM_C_CHUNK_16BIT;
  constexpr int kTapValues = kChunk16 * kBlockK;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (int64_t)gridDim.x * blockDim.x) {
    int64_t t = i;
    const int e = (int)(t % kTapValues); t /= kTapValues;
    const int tap = (int)(t % rs);     t /= rs;
    const int cc = (int)(t % c_chunks); t /= c_chunks;
    const int kt = (int)(t % k_tiles); t /= k_tiles;
    const int g = (int)t;
    int n = (e / 2) % kBlockK, kk = (e / (2 * kBlockK)) * 2 + e % 2;  // mma.sync order
    if (wgmma_order) wgmma16_tap_coords(e, &n, &kk);
    const int k = kt * kBlockK + n, c = cc * kChunk16 + kk;
    packed[i] = k < kg && c < cg ? w[(((int64_t)g * kg + k) * cg + c) * rs + tap]
                                 : from_float<T>(0.0f);
  }
}

// T: float (TF32 operands, mma.sync m16n8k8) or __half / __nv_bfloat16 (m16n8k16). A stage
// has the same words either way: for 16-bit data each word of x_s and w_s holds a channel pair
// (channels 2j, 2j + 1 of the chunk's 16 in word plane j, the lower in the low half), so the
// fragment loads below serve both instructions (gemm/mma_16bit.cuh).
// UNIT: stride_w == dilation_w == 1, so the 16 A-fragment loads of a tap are one base address
// plus compile-time offsets (ncu on problem 55 found the first version issue bound on integer
// address arithmetic: 13 instructions per mma).
template <typename T, bool UNIT>
__global__ void __launch_bounds__(kThreads, CONVGEMM_IGEMM_BLOCKS_PER_SM)
    igemm_mma_sync_kernel(const IgemmArgs a) {
  constexpr bool kIs16 = sizeof(T) == 2;
  extern __shared__ float4 smem_f4[];
  float* const smem = reinterpret_cast<float*>(smem_f4);
  const int stage_floats = a.x_stage_floats + a.w_stage_floats;
  const int rs = a.r * a.s;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int wm = warp % kTileP;  // the warp's output row in the tile
  const int wn = warp / kTileP;  // its 32-channel slice
  const int fg = lane / 4, ft = lane % 4;  // fragment row / column (mma_tf32.cuh)
  const int window_rows = kChunk * a.halo_h;  // x_s rows of one stage

  // Per-thread fragment base (tap (0, 0), channel ft, pixel column fg of row wm); fragment mf
  // is a_frag further per mf, its rows g + 8 a_row8 further.
  const int stride_w = UNIT ? 1 : a.stride_w;
  const int dilation_w = UNIT ? 1 : a.dilation_w;
  const int a_base = ft * a.x_plane_ld + wm * a.stride_h * a.halo_w + fg * stride_w;
  const int a_frag = 16 * stride_w;
  const int a_row8 = 8 * stride_w;
  const int a_chan4 = 4 * a.x_plane_ld;
  const int b_base = ft * kWLd + wn * 32 + fg;

  // One tile per block (the plan keeps tiles within the grid's 2^31-1 blocks).
  const TileCoord tc = split_tile(blockIdx.x, a.k_tiles, a.q_tiles, a.p_tiles, a.groups);
  const int kt = tc.kt, qt = tc.qt, pt = tc.pt, g = tc.g, n = tc.n;
  const int64_t ih0 = (int64_t)pt * kTileP * a.stride_h - a.pad_h;
  const int64_t iw0 = (int64_t)qt * kTileQ * stride_w - a.pad_w;
  const int64_t plane_in = (int64_t)a.in_h * a.in_w;
  const T* x_grp = static_cast<const T*>(a.x) + ((int64_t)n * a.c + (int64_t)g * a.cg) * plane_in;
  const float* w_tile = a.packed + ((int64_t)g * a.k_tiles + kt) * a.c_chunks *
                                       ((int64_t)rs * kChunk * kBlockK);

  // Queues chunk cc's window (4-byte copies, zero padding) and filter taps (16-byte copies).
  // Window rows go to warps, columns to lanes: no division per element.
  auto load_window_float = [&](int cc, float* x_s) {
    const float* const x_f = reinterpret_cast<const float*>(x_grp);  // T is float here
    for (int row = warp; row < window_rows; row += kWarps) {
      const int cl = row / a.halo_h, hh = row - cl * a.halo_h;
      const int c = cc * kChunk + cl;
      const int64_t ih = ih0 + hh;
      const bool row_inside = c < a.cg && ih >= 0 && ih < a.in_h;
      const float* src = x_f + (row_inside ? (int64_t)c * plane_in + ih * a.in_w : 0);
      float* dst = x_s + cl * a.x_plane_ld + hh * a.halo_w;
      for (int ww = lane; ww < a.halo_w; ww += 32) {
        const int64_t iw = iw0 + ww;
        const bool inside = row_inside && iw >= 0 && iw < a.in_w;
        cp_async_4_or_zero(dst + ww, inside ? src + iw : x_f, inside);
      }
    }
  };
  // 16-bit data: writes chunk cc's window (zero padding, zero past C/G) as channel-pair words,
  // loaded by 2-byte loads, kPairBatch words per thread at a time.
  auto load_window_16bit = [&](int cc, float* x_s) {
    uint32_t* const dst = reinterpret_cast<uint32_t*>(x_s);
    const uint16_t* const src = reinterpret_cast<const uint16_t*>(x_grp);
    const int words = window_rows * a.halo_w;
    for (int base = tid; base < words; base += kThreads * kPairBatch) {
      uint32_t v[kPairBatch];
      int at[kPairBatch];
#pragma unroll
      for (int j = 0; j < kPairBatch; ++j) {
        const int i = base + j * kThreads;
        const int row = i / a.halo_w, ww = i - row * a.halo_w;
        const int cl = row / a.halo_h, hh = row - cl * a.halo_h;
        const int c = cc * 2 * kChunk + 2 * cl;
        const int64_t ih = ih0 + hh, iw = iw0 + ww;
        const bool inside = i < words && ih >= 0 && ih < a.in_h && iw >= 0 && iw < a.in_w;
        const int64_t off = inside ? (int64_t)c * plane_in + ih * a.in_w + iw : 0;
        const uint32_t lo = inside && c < a.cg ? __ldg(src + off) : 0u;
        const uint32_t hi = inside && c + 1 < a.cg ? __ldg(src + off + plane_in) : 0u;
        v[j] = lo | hi << 16;
        at[j] = i < words ? cl * a.x_plane_ld + hh * a.halo_w + ww : -1;
      }
#pragma unroll
      for (int j = 0; j < kPairBatch; ++j)
        if (at[j] >= 0) dst[at[j]] = v[j];
    }
  };
  auto load_chunk = [&](int cc, float* stage) {
    if constexpr (kIs16)
      load_window_16bit(cc, stage);
    else
      load_window_float(cc, stage);
    float* w_s = stage + a.x_stage_floats;
    const float* w_src = w_tile + (int64_t)cc * rs * kChunk * kBlockK;
    const int vecs = rs * kChunk * (kBlockK / 4);
    for (int v = tid; v < vecs; v += kThreads)
      cp_async_16(w_s + (v / (kBlockK / 4)) * kWLd + (v % (kBlockK / 4)) * 4, w_src + v * 4);
  };
  // Rounds this thread's own window copies of a landed stage to TF32 (its copies are complete
  // after its wait; the barrier that follows publishes them).
  auto round_window = [&](float* stage) {
    for (int row = warp; row < window_rows; row += kWarps) {
      const int cl = row / a.halo_h, hh = row - cl * a.halo_h;
      float* dst = stage + cl * a.x_plane_ld + hh * a.halo_w;
      for (int ww = lane; ww < a.halo_w; ww += 32) dst[ww] = tf32_round_rna(dst[ww]);
    }
  };

  float acc[kMFrags][kNFrags][4];
#pragma unroll
  for (int mf = 0; mf < kMFrags; ++mf)
#pragma unroll
    for (int nf = 0; nf < kNFrags; ++nf)
#pragma unroll
      for (int i = 0; i < 4; ++i) acc[mf][nf][i] = 0.0f;

  load_chunk(0, smem);
  cp_async_commit();
  for (int cc = 0; cc < a.c_chunks; ++cc) {
    float* const stage = smem + (cc & 1) * stage_floats;
    if (cc + 1 < a.c_chunks) load_chunk(cc + 1, smem + ((cc + 1) & 1) * stage_floats);
    cp_async_commit();  // possibly empty: one group per chunk keeps wait_group<1> exact
    cp_async_wait_group<1>();
    if constexpr (!kIs16) round_window(stage);
    __syncthreads();

    const float* x_s = stage;
    const float* w_s = stage + a.x_stage_floats;
#pragma unroll 1
    for (int r = 0; r < a.r; ++r) {
#pragma unroll 1
      for (int s = 0; s < a.s; ++s) {
        const int x_off = r * a.dilation_h * a.halo_w + s * dilation_w;
        const float* w_tap = w_s + (r * a.s + s) * kChunk * kWLd + b_base;
        uint32_t af[kMFrags][4];
        const float* xa = x_s + a_base + x_off;
        const float* xa4 = xa + a_chan4;  // channels ft + 4
#pragma unroll
        for (int mf = 0; mf < kMFrags; ++mf) {
          af[mf][0] = __float_as_uint(xa[mf * a_frag]);
          af[mf][1] = __float_as_uint(xa[mf * a_frag + a_row8]);
          af[mf][2] = __float_as_uint(xa4[mf * a_frag]);
          af[mf][3] = __float_as_uint(xa4[mf * a_frag + a_row8]);
        }
#pragma unroll
        for (int nf = 0; nf < kNFrags; ++nf) {
          const uint32_t bf[2] = {__float_as_uint(w_tap[nf * 8]),
                                  __float_as_uint(w_tap[nf * 8 + 4 * kWLd])};
#pragma unroll
          for (int mf = 0; mf < kMFrags; ++mf) {
            if constexpr (kIs16)
              mma_m16n8k16<T>(acc[mf][nf], af[mf], bf);
            else
              mma_m16n8k8_tf32(acc[mf][nf], af[mf], bf);
          }
        }
      }
    }
    __syncthreads();  // this stage is refilled two chunks on
  }

  // Epilogue: c[0..1] at pixel column mf*16 + fg, c[2..3] at +8; channels 2*ft, 2*ft + 1.
  const int p = pt * kTileP + wm;
  if (p < a.p) {
#pragma unroll
    for (int nf = 0; nf < kNFrags; ++nf) {
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const int k = kt * kBlockK + wn * 32 + nf * 8 + 2 * ft + j;
        if (k >= a.kg) continue;
        const int k_global = g * a.kg + k;
        const float b =
            a.bias != nullptr ? to_float(static_cast<const T*>(a.bias)[k_global]) : 0.0f;
        T* y_row = static_cast<T*>(a.y) + (((int64_t)n * a.k + k_global) * a.p + p) * a.q;
#pragma unroll
        for (int mf = 0; mf < kMFrags; ++mf) {
          const int q = qt * kTileQ + mf * 16 + fg;
          if (q < a.q) y_row[q] = from_float<T>(acc[mf][nf][j] + b);
          if (q + 8 < a.q) y_row[q + 8] = from_float<T>(acc[mf][nf][2 + j] + b);
        }
      }
    }
  }
}

}  // namespace
}  // namespace convgemm

namespace convgemm {
namespace {

template <typename T>
cudaError_t configure_mma_sync(int max_smem_per_block) {
  cudaError_t e = cudaFuncSetAttribute(igemm_mma_sync_kernel<T, true>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       max_smem_per_block);
  if (e == cudaSuccess)
    e = cudaFuncSetAttribute(igemm_mma_sync_kernel<T, false>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize, max_smem_per_block);
  return e;
}

template <typename T>
cudaError_t launch_mma_sync(const cudaLaunchConfig_t& config, const IgemmArgs& a) {
  return a.stride_w == 1 && a.dilation_w == 1
             ? cudaLaunchKernelEx(&config, igemm_mma_sync_kernel<T, true>, a)
             : cudaLaunchKernelEx(&config, igemm_mma_sync_kernel<T, false>, a);
}

}  // namespace
}  // namespace convgemm

extern "C" cudaError_t convgemm_igemm_configure(int max_smem_per_block) {
  using namespace convgemm;
  cudaError_t e = configure_mma_sync<float>(max_smem_per_block);
  if (e == cudaSuccess) e = configure_mma_sync<__half>(max_smem_per_block);
  if (e == cudaSuccess) e = configure_mma_sync<__nv_bfloat16>(max_smem_per_block);
  if (e == cudaSuccess) e = igemm_wgmma_configure(max_smem_per_block);
  return e;
}

extern "C" cudaError_t convgemm_igemm_launch(const struct convgemm_conv_desc* desc,
                                             const convgemm_igemm_plan_t* plan, const void* x,
                                             const void* w, const void* bias, void* y,
                                             void* workspace, cudaStream_t stream) {
  using namespace convgemm;
  const convgemm_conv2d_params_t& p = desc->params;
  float* packed = static_cast<float*>(workspace);
  // fp16 products: this packs the TF32 filter of the recomputation (plan->f16_fallback) after the
  // fp16 one; the fp16 packing follows below, with the kernel's arguments.
  const bool f16 = plan->f16_products != 0;
  float* const tf32_packed =
      f16 ? reinterpret_cast<float*>(static_cast<char*>(workspace) + plan->f16_w_offset) : packed;
  {
    // Launched with cudaLaunchKernelEx, whose own status is returned: cudaGetLastError after a
    // <<<>>> launch would also report (and clear) an error the caller left pending.
    const int is16 = p.data_type != CONVGEMM_DATA_FLOAT32;
    const size_t packed_floats = f16 ? plan->f16_fallback.packed_floats : plan->packed_floats;
    // Values: a 4-byte word holds one TF32 value (two with split: big and small) or two 16-bit.
    const int64_t total = (int64_t)packed_floats * (is16 ? 2 : 1) / (plan->split ? 2 : 1);
    const int64_t blocks = (total + 255) / 256 < 65536 ? (total + 255) / 256 : 65536;
    cudaLaunchConfig_t pack = {};
    pack.gridDim = dim3((unsigned)blocks);
    pack.blockDim = dim3(256);
    pack.stream = stream;
    const int cg = (int)desc->c_per_group, kg = (int)desc->k_per_group, rs = (int)(p.r * p.s);
    const int packed_rs = (int)p.r * plan->s_taps;  // packed taps per chunk
    const int c_chunks = (int)(f16 ? plan->f16_fallback.c_chunks : plan->c_chunks);
    const int k_tiles = (int)plan->k_tiles;
    const bool wgmma_order = plan->variant == CONVGEMM_IGEMM_WGMMA;
    cudaError_t e;
    if (p.data_type == CONVGEMM_DATA_FLOAT16)
      e = cudaLaunchKernelEx(&pack, igemm_pack_filter_16bit_kernel<__half>,
                             static_cast<const __half*>(w), reinterpret_cast<__half*>(packed),
                             total, cg, kg, rs, c_chunks, k_tiles, wgmma_order);
    else if (p.data_type == CONVGEMM_DATA_BFLOAT16)
      e = cudaLaunchKernelEx(&pack, igemm_pack_filter_16bit_kernel<__nv_bfloat16>,
                             static_cast<const __nv_bfloat16*>(w),
                             reinterpret_cast<__nv_bfloat16*>(packed), total, cg, kg, rs,
                             c_chunks, k_tiles, wgmma_order);
    else
      e = cudaLaunchKernelEx(&pack, igemm_pack_filter_kernel, static_cast<const float*>(w),
                             tf32_packed, total, cg, kg, packed_rs, c_chunks, k_tiles,
                             wgmma_order, plan->split != 0, (int)p.s, plan->s_taps);
    if (e != cudaSuccess) return e;
  }
  IgemmArgs a;
  static_cast<ConvGeometry&>(a) = conv_geometry(*desc);
  a.data_type = p.data_type;
  a.x = x; a.packed = packed; a.bias = bias; a.y = y;
  a.halo_h = plan->halo_h; a.halo_w = plan->halo_w; a.x_plane_ld = plan->x_plane_ld;
  a.x_stage_floats = plan->x_stage_floats; a.w_stage_floats = plan->w_stage_floats;
  a.c_chunks = (int)plan->c_chunks; a.k_tiles = (int)plan->k_tiles;
  a.p_tiles = (int)plan->p_tiles; a.q_tiles = (int)plan->q_tiles;
  a.stages = plan->stages;
  a.tma_box_w = plan->tma_box_w;
  a.tma_shift = plan->tma_shift;
  a.stage_rows = plan->stage_rows;
  a.split = plan->split;
  a.tiles = plan->tiles;
  {
    // Runs of plan->run_tiles round-robin over the blocks while every block gets a whole one,
    // then the rest split evenly (at most one tile more per block).
    const int64_t blocks = plan->blocks, run = plan->run_tiles > 0 ? plan->run_tiles : 1;
    const int64_t full = plan->tiles / (blocks * run);
    a.run_tiles = (int)run;
    a.full_rounds = (int)full;
    a.tail_tiles = (int)((plan->tiles - full * blocks * run + blocks - 1) / blocks);
    a.carry = plan->carry;
  }
  a.tap_pairs = plan->tap_pairs;
  a.q_step = plan->tile_q_step;
  a.s_taps = plan->s_taps;
  a.producer_groups = plan->producer_groups;
  a.resident_filter = plan->resident_filter;
  a.ping_pong = plan->ping_pong;
  a.f16_products = plan->f16_products;
  a.f16_info = nullptr;
  if (f16) {
    // The fp16 filter and its scale, the fp16-products kernel, then the TF32 kernel over the
    // tiles it listed (its blocks leave at once when none was).
    a.f16_info = reinterpret_cast<int*>(static_cast<char*>(workspace) + plan->f16_info_offset);
    cudaError_t e = igemm_f16_pack_launch(a, static_cast<const float*>(w), stream);
    if (e == cudaSuccess) e = igemm_wgmma_launch(a, plan, stream);
    if (e != cudaSuccess) return e;
    IgemmArgs listed = a;
    const convgemm_igemm_fallback_t& fb = plan->f16_fallback;
    listed.packed = tf32_packed;
    listed.c_chunks = (int)fb.c_chunks;
    listed.stages = fb.stages;
    listed.x_stage_floats = fb.x_stage_floats;
    listed.w_stage_floats = fb.w_stage_floats;
    listed.resident_filter = 0;
    listed.ping_pong = 0;
    listed.f16_products = 0;
    return igemm_wgmma_launch_listed(listed, fb.smem_bytes, plan->blocks, stream);
  }
  if (plan->variant == CONVGEMM_IGEMM_WGMMA) return igemm_wgmma_launch(a, plan, stream);
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3((unsigned)plan->blocks);
  config.blockDim = dim3(kThreads);
  config.dynamicSmemBytes = plan->smem_bytes;
  config.stream = stream;
  if (p.data_type == CONVGEMM_DATA_FLOAT16) return launch_mma_sync<__half>(config, a);
  if (p.data_type == CONVGEMM_DATA_BFLOAT16) return launch_mma_sync<__nv_bfloat16>(config, a);
  return launch_mma_sync<float>(config, a);
}
