// The wgmma wrapper on one 64 x 8 x 128 product (wgmma_kernel.h).
#include "tests/wgmma_kernel.h"

#include <cuda_runtime.h>

#include "gemm/wgmma_tf32.cuh"

namespace {

constexpr int kMaxShift = 8;

// Shared layouts, those of conv/implicit_gemm_wgmma.cu:
//   a_s [k half][row (64 + shift, padded to 72)][4]: LBO = 72 * 16 bytes, SBO = 128 bytes
//   b_s [n / 8][k half][n % 8][4]:                   LBO = 128 bytes, SBO = 256 bytes
__global__ void __launch_bounds__(128) wgmma_product_kernel(const float* a, int shift,
                                                            const float* b, float* d) {
#if CONVGEMM_HAS_WGMMA
  __shared__ __align__(128) float a_s[2 * (64 + kMaxShift) * 4];
  __shared__ __align__(128) float b_s[8 * 128];
  const int tid = threadIdx.x;
  for (int i = tid; i < (64 + shift) * 8; i += 128) {
    const int row = i / 8, k = i % 8;
    a_s[((k / 4) * (64 + kMaxShift) + row) * 4 + k % 4] = a[i];
  }
  for (int i = tid; i < 8 * 128; i += 128) {
    const int k = i / 128, n = i % 128;
    b_s[((n / 8) * 2 + k / 4) * 32 + (n % 8) * 4 + k % 4] = b[i];
  }
  convgemm::fence_proxy_async_shared();
  __syncthreads();
  float acc[64];
  for (int i = 0; i < 64; ++i) acc[i] = __int_as_float(0x7FC00000);  // NaN: scale-d 0 must win
  const uint64_t desc_a =
      convgemm::wgmma_desc_kmajor(a_s + 4 * shift, (64 + kMaxShift) * 16, 128);
  const uint64_t desc_b = convgemm::wgmma_desc_kmajor(b_s, 128, 256);
  convgemm::wgmma_fence();
  convgemm::wgmma_m64n128k8_tf32<0>(acc, desc_a, desc_b);
  convgemm::wgmma_m64n128k8_tf32<1>(acc, desc_a, desc_b);
  convgemm::wgmma_commit();
  convgemm::wgmma_wait<0>();
  for (int i = 0; i < 64; ++i) convgemm::wgmma_fence_operand(acc[i]);
  const int warp = tid / 32, g = tid % 32 / 4, t = tid % 4;
  for (int j = 0; j < 16; ++j)
    for (int h = 0; h < 2; ++h)
      for (int e = 0; e < 2; ++e)
        d[(16 * warp + g + 8 * h) * 128 + 8 * j + 2 * t + e] = acc[4 * j + 2 * h + e];
#else
  (void)a; (void)shift; (void)b; (void)d;
#endif
}

}  // namespace

extern "C" cudaError_t wgmma_kernel_launch(const float* a, int shift, const float* b, float* d,
                                           cudaStream_t stream) {
  int device = 0, major = 0, minor = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e == cudaSuccess) e = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
  if (e == cudaSuccess) e = cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device);
  if (e != cudaSuccess) return e;
  if (major != 9 || minor != 0 || shift < 0 || shift > kMaxShift) return cudaErrorNotSupported;
  wgmma_product_kernel<<<1, 128, 0, stream>>>(a, shift, b, d);
  return cudaGetLastError();
}
