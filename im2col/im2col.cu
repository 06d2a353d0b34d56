/*
 * im2col of one chunk (layout in im2col.h).
 *
 * Grid: x = 256-pixel blocks of the chunk, y = (group, block of kChannelsPerBlock channels) plus
 * one block per group for its bias and padding rows, z = image. Thread t owns pixel t and writes
 * that pixel's value in each of the block's rows (c, r, s): every warp load (stride 1) and every
 * warp store is one contiguous 128-byte run. The pixel's window corner is computed once; per
 * channel one 64-bit plane offset, per filter row one bounds test and row pointer, so the
 * innermost loop over s is an add, a compare, a load, the rounding and a store.
 */
#include <cstdint>

#include <cuda_runtime.h>

#include "gemm/tf32_round.cuh"
#include "im2col/im2col.h"

namespace convgemm {
namespace {

constexpr int kThreads = 256;
constexpr int kChannelsPerBlock = CONVGEMM_IM2COL_CHANNELS_PER_BLOCK;

__global__ void __launch_bounds__(kThreads) im2col_kernel(const convgemm_im2col_args_t a,
                                                          const int channel_blocks) {
  const int pix = blockIdx.x * kThreads + threadIdx.x;  // within the chunk
  if (pix >= a.col_ld) return;
  const int img = blockIdx.z;
  const int blocks_per_group = channel_blocks + 1;
  const int g = blockIdx.y / blocks_per_group;
  const int cb = blockIdx.y - g * blocks_per_group;
  const int rows = (int)(a.groups * a.krg_pad);
  const int R = (int)a.r, S = (int)a.s, H = (int)a.h, W = (int)a.w;
  const bool valid = pix < a.pixels;
  float* dst = a.col + ((int64_t)img * rows + (int64_t)g * a.krg_pad) * a.col_ld + pix;

  if (cb == channel_blocks) {  // the group's bias rows (ones) and padding rows (zeros)
    for (int j = (int)a.krg; j < (int)a.krg_pad; ++j)
      dst[(int64_t)j * a.col_ld] = valid && j < a.krg + a.bias_rows ? 1.0f : 0.0f;
    return;
  }

  // Padding columns past P*Q get clamped coordinates; their values are never read (valid).
  const int idx = valid ? (int)a.pix0 + pix : 0;
  const int p = idx / (int)a.q;
  const int ih0 = p * (int)a.stride_h - (int)a.pad_h;
  const int iw0 = (idx - p * (int)a.q) * (int)a.stride_w - (int)a.pad_w;
  const int dil_h = (int)a.dilation_h, dil_w = (int)a.dilation_w;
  const int c_begin = cb * kChannelsPerBlock;
  const int c_end = min((int)a.c_per_group, c_begin + kChannelsPerBlock);
  dst += (int64_t)c_begin * R * S * a.col_ld;
  const float* plane = a.x + (((int64_t)a.n0 + img) * a.c + (int64_t)g * a.c_per_group + c_begin) *
                                 ((int64_t)H * W);
  for (int c = c_begin; c < c_end; ++c, plane += (int64_t)H * W) {
    for (int r = 0; r < R; ++r) {
      const int ih = ih0 + r * dil_h;
      const bool row_ok = valid && (unsigned)ih < (unsigned)H;
      const float* src = plane + (int64_t)(row_ok ? ih : 0) * W + iw0;
#pragma unroll 4
      for (int s = 0; s < S; ++s) {
        const int iw = iw0 + s * dil_w;
        float v = 0.0f;
        if (row_ok && (unsigned)iw < (unsigned)W) v = __ldg(src + s * dil_w);
        *dst = a.round_tf32 ? tf32_round_rna(v) : v;
        dst += a.col_ld;
      }
    }
  }
}

}  // namespace
}  // namespace convgemm

extern "C" cudaError_t convgemm_im2col_launch(const convgemm_im2col_args_t* args,
                                              cudaStream_t stream) {
  using namespace convgemm;
  const int64_t channel_blocks = (args->c_per_group + kChannelsPerBlock - 1) / kChannelsPerBlock;
  const int64_t blocks_x = (args->col_ld + kThreads - 1) / kThreads;
  const int64_t blocks_y = args->groups * (channel_blocks + 1);
  if (blocks_x > INT32_MAX || blocks_y > 65535 || args->images > 65535)
    return cudaErrorInvalidConfiguration;
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3((unsigned)blocks_x, (unsigned)blocks_y, (unsigned)args->images);
  config.blockDim = dim3(kThreads);
  config.stream = stream;
  return cudaLaunchKernelEx(&config, im2col_kernel, *args, (int)channel_blocks);
}
