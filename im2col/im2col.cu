/*
 * im2col of one chunk (layout in im2col.h).
 *
 * Grid: x = 1024-pixel blocks of the chunk, y = (group, block of kChannelsPerBlock channels) plus
 * one block per group for its bias and padding rows, z = image. Thread t owns the 4 pixels
 * 4t .. 4t+3 and writes them with one 16-byte store per row (c, r, s): col_ld is a multiple of 4
 * and the buffer 16-byte aligned, so a warp's store is one contiguous 512-byte run. Pixels past
 * the chunk's `pixels` (the last float4's tail and the columns up to col_ld) are written as zeros.
 *
 * Two kinds of kernel, chosen at launch:
 * - window (stride_w 1 and (S, dilation_w) one of the compiled (kS, kDil) pairs): per (c, r)
 *   the 4 + (kS-1)*kDil input values that the 4 pixels' kS taps cover are loaded once into
 *   registers, rounded once and sliced into the kS float4 stores; the padding test is a bit per
 *   window column, computed once per thread, and one row test. A 3x3 filter takes 6 loads and 6
 *   roundings per 12 elements where one pixel per thread took 12 of each, and both channels'
 *   windows of a filter row are loaded before either is stored (12 loads in flight). Pixels
 *   that run into the next output row or past the chunk's end are fixed up by the same thread
 *   (see the kernel).
 * - per pixel (stride_w > 1, other S or dilation_w): per (c, r, s) one load and bounds test per
 *   pixel, one float4 store.
 * SASS for sm_90a, 3x3 (problem 55): a filter row of both channels (24 elements) is 156
 * instructions in TF32 mode (96 in IEEE mode, no rounding), where the one-pixel-per-thread
 * kernel spent 83 per 4 elements.
 *
 * Every kernel is a template on the element type T of x and of the column matrix (float, __half,
 * __nv_bfloat16): values are copied as they are (16-bit data needs no rounding: the GEMM reads
 * the same type), 4 pixels per thread as one 16-byte (float) or 8-byte (16-bit) store. With
 * T = float the code is what it was before the types were added.
 */
#include <cstdint>
#include <type_traits>

#include <cuda_runtime.h>

#include "gemm/elem_type.cuh"
#include "gemm/tf32_round.cuh"
#include "im2col/im2col.h"

namespace convgemm {
namespace {

constexpr int kThreads = 256;
constexpr int kPixelsPerThread = 4;  // one Vec4 per row
constexpr int kPixelsPerBlock = kThreads * kPixelsPerThread;
constexpr int kChannelsPerBlock = CONVGEMM_IM2COL_CHANNELS_PER_BLOCK;
// Window values a thread holds at once (registers): window_rows loads both channels of a block
// together only while they fit (3x3 and 1x1), else one channel at a time.
constexpr int kMaxWindowValues = 12;

// 4 pixels of one column-matrix row, stored at once: float4 (16 bytes) for float, 4 x 16 bits
// (8 bytes) for the 16-bit types.
template <typename T>
struct Vec4 {
  struct alignas(4 * sizeof(T)) type {
    T v[kPixelsPerThread];
  };
  static __device__ __forceinline__ type make(T a, T b, T c, T d) { return type{{a, b, c, d}}; }
};
template <>
struct Vec4<float> {
  using type = float4;
  static __device__ __forceinline__ float4 make(float a, float b, float c, float d) {
    return make_float4(a, b, c, d);
  }
};
template <typename T>
using vec4_t = typename Vec4<T>::type;

template <typename T>
__device__ __forceinline__ T zero() {
  return from_float<T>(0.0f);
}

// TF32 rounding (DEFAULT math, float only: 16-bit values are copied as they are).
template <bool kRound, typename T>
__device__ __forceinline__ T rounded(T v) {
  static_assert(!kRound || std::is_same<T, float>::value, "only float data is rounded to TF32");
  if constexpr (kRound) return tf32_round_rna(v);
  return v;
}

// The data rows of `channels` channels (plane: the first one's input plane, dst: its first row)
// for 4 pixels at stride_w 1 taken as output pixels (p, q .. q+3) of one row; q may be negative
// (see the kernel). Window column k < kSpan is input column q - pad_w + k: pixel i's tap s reads
// column i + s*kDil. kPartial: only pixels first .. last-1 are stored, one float each;
// otherwise all 4 with one float4 per row.
template <typename T, int kS, int kDil, bool kRound, bool kPartial>
__device__ __forceinline__ void window_rows(const convgemm_im2col_args_t& a, const T* plane,
                                            int64_t plane_size, int channels, int p, int q,
                                            int first, int last, vec4_t<T>* dst, int64_t ld4) {
  constexpr int kSpan = kPixelsPerThread + (kS - 1) * kDil;
  static_assert(kSpan <= 32, "the window's column mask is 32 bits");
  constexpr unsigned kAllColumns = kSpan == 32 ? ~0u : (1u << kSpan) - 1;
  // Channels whose windows are loaded together.
  constexpr int kBatch = kChannelsPerBlock * kSpan <= kMaxWindowValues ? kChannelsPerBlock : 1;
  const int H = (int)a.h, W = (int)a.w, R = (int)a.r, dil_h = (int)a.dilation_h;
  const int ih0 = p * (int)a.stride_h - (int)a.pad_h;
  const int iw0 = q - (int)a.pad_w;
  // Bit k: window column k is inside the plane, i.e. lo <= k < hi.
  const int lo = min(max(-iw0, 0), kSpan);
  const int hi = max((int)min((int64_t)W - iw0, (int64_t)kSpan), lo);
  const unsigned col_mask = (unsigned)((1ull << hi) - 1) & ~(unsigned)((1ull << lo) - 1);
  // A channel past `channels` (odd C/G, last block) re-reads the first one and is not stored,
  // so the loads need no channel test.
  int64_t channel_offset[kChannelsPerBlock];
#pragma unroll
  for (int cc = 0; cc < kChannelsPerBlock; ++cc)
    channel_offset[cc] = cc < channels ? cc * plane_size : 0;
  const int64_t channel_rows = (int64_t)R * kS * ld4;  // Vec4s from a channel's rows to the next

  for (int r = 0; r < R; ++r, dst += kS * ld4) {
    const int ih = ih0 + r * dil_h;
    const bool row_ok = (unsigned)ih < (unsigned)H;
    const unsigned mask = row_ok ? col_mask : 0u;
    const T* src = plane + (int64_t)(row_ok ? ih : 0) * W + iw0;
#pragma unroll
    for (int c0 = 0; c0 < kChannelsPerBlock; c0 += kBatch) {
      if (c0 >= channels) break;
      T win[kBatch][kSpan];   // (channel c0 + cc, window column)
      if (mask == kAllColumns) {  // inside the plane: no per-column test
#pragma unroll
        for (int cc = 0; cc < kBatch; ++cc)
#pragma unroll
          for (int k = 0; k < kSpan; ++k) win[cc][k] = __ldg(src + channel_offset[c0 + cc] + k);
      } else {
#pragma unroll
        for (int cc = 0; cc < kBatch; ++cc)
#pragma unroll
          for (int k = 0; k < kSpan; ++k)
            win[cc][k] = mask >> k & 1u ? __ldg(src + channel_offset[c0 + cc] + k) : zero<T>();
      }
      // Rounded after all loads are issued (rounding keeps +0 as +0), so none waits on another.
#pragma unroll
      for (int cc = 0; cc < kBatch; ++cc)
#pragma unroll
        for (int k = 0; k < kSpan; ++k) win[cc][k] = rounded<kRound, T>(win[cc][k]);
#pragma unroll
      for (int cc = 0; cc < kBatch; ++cc) {
        if (c0 + cc >= channels) break;
#pragma unroll
        for (int s = 0; s < kS; ++s) {
          const T* v = &win[cc][s * kDil];  // pixel i's value is v[i]
          vec4_t<T>* row = dst + (c0 + cc) * channel_rows + s * ld4;
          if (!kPartial) {
            *row = Vec4<T>::make(v[0], v[1], v[2], v[3]);
          } else {
#pragma unroll
            for (int i = 0; i < kPixelsPerThread; ++i)
              if (i >= first && i < last) reinterpret_cast<T*>(row)[i] = v[i];
          }
        }
      }
    }
  }
}

// Zeros pixels from .. 3 of `rows` rows from dst (the pixels past the chunk's end).
template <typename T>
__device__ __forceinline__ void zero_pixels(vec4_t<T>* dst, int64_t ld4, int rows, int from) {
  for (int j = 0; j < rows; ++j, dst += ld4) {
    if (from == 0) {
      *dst = Vec4<T>::make(zero<T>(), zero<T>(), zero<T>(), zero<T>());
    } else {
#pragma unroll
      for (int i = 0; i < kPixelsPerThread; ++i)
        if (i >= from) reinterpret_cast<T*>(dst)[i] = zero<T>();
    }
  }
}

// The data rows of `channels` channels for the `valid` (<= 4, maybe none) pixels from output
// pixel (p, q) on in row-major order, any stride and filter; pixels past `valid` get zeros.
template <typename T, bool kRound>
__device__ __forceinline__ void pixel_rows(const convgemm_im2col_args_t& a, const T* plane,
                                           int64_t plane_size, int channels, int valid, int p,
                                           int q, vec4_t<T>* dst, int64_t ld4) {
  const int H = (int)a.h, W = (int)a.w, R = (int)a.r, S = (int)a.s;
  const int dil_h = (int)a.dilation_h, dil_w = (int)a.dilation_w;
  const int Q = (int)a.q;
  int ih0[kPixelsPerThread], iw0[kPixelsPerThread];  // window corners
#pragma unroll
  for (int i = 0; i < kPixelsPerThread; ++i) {
    const bool ok = i < valid;
    ih0[i] = ok ? p * (int)a.stride_h - (int)a.pad_h : 0;
    iw0[i] = ok ? q * (int)a.stride_w - (int)a.pad_w : 0;
    if (++q == Q) {
      q = 0;
      ++p;
    }
  }
  for (int c = 0; c < channels; ++c, plane += plane_size) {
    for (int r = 0; r < R; ++r) {
      bool row_ok[kPixelsPerThread];
      const T* src[kPixelsPerThread];
#pragma unroll
      for (int i = 0; i < kPixelsPerThread; ++i) {
        const int ih = ih0[i] + r * dil_h;
        row_ok[i] = i < valid && (unsigned)ih < (unsigned)H;
        src[i] = plane + (int64_t)(row_ok[i] ? ih : 0) * W + iw0[i];
      }
#pragma unroll 2
      for (int s = 0; s < S; ++s, dst += ld4) {
        T v[kPixelsPerThread];
#pragma unroll
        for (int i = 0; i < kPixelsPerThread; ++i)
          v[i] = row_ok[i] && (unsigned)(iw0[i] + s * dil_w) < (unsigned)W
                     ? __ldg(src[i] + s * dil_w)
                     : zero<T>();
        *dst = Vec4<T>::make(rounded<kRound, T>(v[0]), rounded<kRound, T>(v[1]),
                             rounded<kRound, T>(v[2]), rounded<kRound, T>(v[3]));
      }
    }
  }
}

// Blocks of kThreads per SM that the registers must allow (65536 / (kThreads * this) each at
// most), by filter width; 0 leaves it to ptxas (the per-pixel kernel: 45 registers). NOTES:
// ptxas's own choice spilled in some window kernels (S = 9: 8 bytes at 64 registers), and for
// 3x3 a cap of 48 (5 blocks) made it recompute the column mask in every filter row. These are
// spill-free on sm_80 and sm_90a with CUDA 13.0: 3x3 at 53-62 registers, S = 9 at 66-72.
constexpr int min_blocks(int s) { return s == 0 ? 0 : s <= 5 ? 4 : 3; }

// kS > 0: stride_w is 1, S == kS and (kS == 1 or dilation_w == kDil), so the window paths may
// run; kS == 0: the per-pixel path only.
template <typename T, int kS, int kDil, bool kRound>
__global__ void __launch_bounds__(kThreads, min_blocks(kS))
    im2col_kernel(const convgemm_im2col_args_t a, const int channel_blocks) {
  const int64_t t = (int64_t)blockIdx.x * kThreads + threadIdx.x;
  const int64_t ld4 = a.col_ld / kPixelsPerThread;  // Vec4s per row
  if (t >= ld4) return;
  const int pix = (int)t * kPixelsPerThread;  // the thread's first pixel, within the chunk
  const int img = blockIdx.z;
  const int blocks_per_group = channel_blocks + 1;
  const int g = blockIdx.y / blocks_per_group;
  const int cb = blockIdx.y - g * blocks_per_group;
  const int64_t rows = a.groups * a.krg_pad;
  // The thread's pixels below `pixels` (0..4); the rest are zero in every row.
  const int valid = (int)max((int64_t)0, min(a.pixels - pix, (int64_t)kPixelsPerThread));
  vec4_t<T>* dst = reinterpret_cast<vec4_t<T>*>(
      static_cast<T*>(a.col) + ((int64_t)img * rows + (int64_t)g * a.krg_pad) * a.col_ld + pix);

  if (cb == channel_blocks) {  // the group's bias rows (ones) and padding rows (zeros)
    for (int j = (int)a.krg; j < (int)a.krg_pad; ++j) {
      const float one = j < a.krg + a.bias_rows ? 1.0f : 0.0f;
      const T v0 = from_float<T>(valid > 0 ? one : 0.0f), v1 = from_float<T>(valid > 1 ? one : 0.0f);
      const T v2 = from_float<T>(valid > 2 ? one : 0.0f), v3 = from_float<T>(valid > 3 ? one : 0.0f);
      dst[(int64_t)j * ld4] = Vec4<T>::make(v0, v1, v2, v3);
    }
    return;
  }

  const int c_begin = cb * kChannelsPerBlock;
  const int channels = min((int)a.c_per_group - c_begin, kChannelsPerBlock);
  dst += (int64_t)c_begin * a.r * a.s * ld4;
  const int64_t plane_size = a.h * a.w;
  const T* plane =
      static_cast<const T*>(a.x) +
      (((int64_t)a.n0 + img) * a.c + (int64_t)g * a.c_per_group + c_begin) * plane_size;
  // The first pixel's output coordinates (any valid pixel's when none is: nothing is read).
  const int idx = valid > 0 ? (int)a.pix0 + pix : 0;
  const int Q = (int)a.q;
  const int p = idx / Q;
  const int q = idx - p * Q;
  if (kS == 0) {
    pixel_rows<T, kRound>(a, plane, plane_size, channels, valid, p, q, dst, ld4);
    return;
  }
  // NOTES: the window pass stores all 4 pixels as if they continued output row p (its loads
  // stay inside the plane whatever the pixel). Where they do not, the same thread then
  // overwrites them in place (its later store to an address wins): pixels split.. from row p+1,
  // where pixel i is column i - split, and on, Q pixels per row when Q < 4; then zeros past the
  // chunk's end. Problem 55 (Q = 1022): one thread in ~255 crosses a row, and its warp pays one
  // partial window pass more. A per-pixel path for these threads instead would cost every
  // thread of the kernel registers (occupancy).
  constexpr int kWindowS = kS > 0 ? kS : 1;
  if (valid > 0)
    window_rows<T, kWindowS, kDil, kRound, false>(a, plane, plane_size, channels, p, q, 0, 0,
                                                  dst, ld4);
  const int split = min(Q - q, kPixelsPerThread);  // the thread's pixels in row p
  const int step = min(Q, kPixelsPerThread);       // pixels per later row, up to the 4th
  for (int first = split, row = p + 1; first < valid; first += step, ++row)
    window_rows<T, kWindowS, kDil, kRound, true>(a, plane, plane_size, channels, row, -first,
                                                 first, min(first + step, valid), dst, ld4);
  if (valid < kPixelsPerThread) zero_pixels<T>(dst, ld4, channels * kS * (int)a.r, valid);
}

typedef void (*im2col_kernel_t)(convgemm_im2col_args_t, int);

// The kernel for the args' filter width, dilation and stride: a window kernel where one is
// compiled (the KernelBench and ResNet widths: 1, 3, 5, 7, 9; 3 also at dilation 2).
template <typename T, bool kRound>
im2col_kernel_t select_kernel(const convgemm_im2col_args_t* a) {
  if (a->stride_w == 1) {
    if (a->s == 1) return im2col_kernel<T, 1, 1, kRound>;
    if (a->s == 3 && a->dilation_w == 1) return im2col_kernel<T, 3, 1, kRound>;
    if (a->s == 3 && a->dilation_w == 2) return im2col_kernel<T, 3, 2, kRound>;
    if (a->s == 5 && a->dilation_w == 1) return im2col_kernel<T, 5, 1, kRound>;
    if (a->s == 7 && a->dilation_w == 1) return im2col_kernel<T, 7, 1, kRound>;
    if (a->s == 9 && a->dilation_w == 1) return im2col_kernel<T, 9, 1, kRound>;
  }
  return im2col_kernel<T, 0, 1, kRound>;
}

}  // namespace
}  // namespace convgemm

extern "C" cudaError_t convgemm_im2col_launch(const convgemm_im2col_args_t* args,
                                              cudaStream_t stream) {
  using namespace convgemm;
  // The Vec4 stores need rows of whole, aligned Vec4s (16 bytes for float, 8 for 16-bit).
  const uintptr_t vec_bytes = args->data_type == CONVGEMM_DATA_FLOAT32 ? 16 : 8;
  if (args->col_ld % kPixelsPerThread != 0 ||
      reinterpret_cast<uintptr_t>(args->col) % vec_bytes != 0 ||
      (args->round_tf32 && args->data_type != CONVGEMM_DATA_FLOAT32))
    return cudaErrorInvalidValue;
  const int64_t channel_blocks = (args->c_per_group + kChannelsPerBlock - 1) / kChannelsPerBlock;
  const int64_t blocks_x = (args->col_ld + kPixelsPerBlock - 1) / kPixelsPerBlock;
  const int64_t blocks_y = args->groups * (channel_blocks + 1);
  if (blocks_x > INT32_MAX || blocks_y > 65535 || args->images > 65535)
    return cudaErrorInvalidConfiguration;
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3((unsigned)blocks_x, (unsigned)blocks_y, (unsigned)args->images);
  config.blockDim = dim3(kThreads);
  config.stream = stream;
  im2col_kernel_t kernel = nullptr;
  switch (args->data_type) {
    case CONVGEMM_DATA_FLOAT32:
      kernel = args->round_tf32 ? select_kernel<float, true>(args)
                                : select_kernel<float, false>(args);
      break;
    case CONVGEMM_DATA_FLOAT16: kernel = select_kernel<__half, false>(args); break;
    case CONVGEMM_DATA_BFLOAT16: kernel = select_kernel<__nv_bfloat16, false>(args); break;
  }
  if (kernel == nullptr) return cudaErrorInvalidValue;
  return cudaLaunchKernelEx(&config, kernel, *args, (int)channel_blocks);
}
