// The mma.sync and 16-bit wgmma wrappers on single products (mma_kernel.h).
#include "tests/mma_kernel.h"

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "gemm/mma_16bit.cuh"
#include "gemm/mma_tf32.cuh"
#include "gemm/wgmma_16bit.cuh"
#include "gemm/wgmma_tf32.cuh"

namespace {

constexpr int kN = MMA_TEST_N;
constexpr int kMaxShift = WGMMA16_TEST_MAX_SHIFT;

// Two k-adjacent 16-bit values in one register, the lower k in the low half (mma_16bit.cuh).
__device__ __forceinline__ uint32_t pair(uint16_t lo, uint16_t hi) {
  return (uint32_t)lo | ((uint32_t)hi << 16);
}

// Accumulators <-> a row-major 16 x 8 matrix in the C / D fragment layout (mma_tf32.cuh):
// c[0] = C[g][2t], c[1] = C[g][2t+1], c[2] = C[g+8][2t], c[3] = C[g+8][2t+1].
__device__ __forceinline__ void load_c(const float* c, int g, int t, float (&acc)[4]) {
  acc[0] = c[g * kN + 2 * t];
  acc[1] = c[g * kN + 2 * t + 1];
  acc[2] = c[(g + 8) * kN + 2 * t];
  acc[3] = c[(g + 8) * kN + 2 * t + 1];
}

__device__ __forceinline__ void store_d(const float (&acc)[4], int g, int t, float* d) {
  d[g * kN + 2 * t] = acc[0];
  d[g * kN + 2 * t + 1] = acc[1];
  d[(g + 8) * kN + 2 * t] = acc[2];
  d[(g + 8) * kN + 2 * t + 1] = acc[3];
}

// One warp: d = a (16 x k) * b (k x 8) + c, fragments per gemm/mma_tf32.cuh (g = lane / 4,
// t = lane % 4), per k8 step k0:
//   a[0] = A[g][k0+t], a[1] = A[g+8][k0+t], a[2] = A[g][k0+t+4], a[3] = A[g+8][k0+t+4]
//   b[0] = B[k0+t][g], b[1] = B[k0+t+4][g]
__global__ void __launch_bounds__(32) mma_tf32_product_kernel(const float* a, const float* b,
                                                              const float* c, float* d, int k) {
  const int lane = threadIdx.x, g = lane / 4, t = lane % 4;
  float acc[4];
  load_c(c, g, t, acc);
  for (int k0 = 0; k0 < k; k0 += 8) {
    const uint32_t fa[4] = {__float_as_uint(a[g * k + k0 + t]),
                            __float_as_uint(a[(g + 8) * k + k0 + t]),
                            __float_as_uint(a[g * k + k0 + t + 4]),
                            __float_as_uint(a[(g + 8) * k + k0 + t + 4])};
    const uint32_t fb[2] = {__float_as_uint(b[(k0 + t) * kN + g]),
                            __float_as_uint(b[(k0 + t + 4) * kN + g])};
    convgemm::mma_m16n8k8_tf32(acc, fa, fb);
  }
  store_d(acc, g, t, d);
}

// One warp: d = a (16 x k) * b (k x 8) + c, fragments per gemm/mma_16bit.cuh, per k16 step k0:
//   a[0] = A[g][k0+2t..2t+1],   a[1] = A[g+8][k0+2t..2t+1],
//   a[2] = A[g][k0+2t+8..2t+9], a[3] = A[g+8][k0+2t+8..2t+9]
//   b[0] = B[k0+2t..2t+1][g],   b[1] = B[k0+2t+8..2t+9][g]
template <typename T>
__global__ void __launch_bounds__(32) mma_16bit_product_kernel(const uint16_t* a,
                                                               const uint16_t* b, const float* c,
                                                               float* d, int k) {
  const int lane = threadIdx.x, g = lane / 4, t = lane % 4;
  float acc[4];
  load_c(c, g, t, acc);
  for (int k0 = 0; k0 < k; k0 += 16) {
    const uint16_t* a0 = a + g * k + k0 + 2 * t;  // A[g][k0 + 2t]
    const uint16_t* a1 = a0 + 8 * k;              // A[g + 8][k0 + 2t]
    const uint16_t* b0 = b + (k0 + 2 * t) * kN + g;  // B[k0 + 2t][g]
    const uint32_t fa[4] = {pair(a0[0], a0[1]), pair(a1[0], a1[1]), pair(a0[8], a0[9]),
                            pair(a1[8], a1[9])};
    const uint32_t fb[2] = {pair(b0[0], b0[kN]), pair(b0[8 * kN], b0[9 * kN])};
    convgemm::mma_m16n8k16<T>(acc, fa, fb);
  }
  store_d(acc, g, t, d);
}

// One warpgroup: d = 2 a b for 64 x 16 x 128 in the 16-bit layouts of conv/implicit_gemm_wgmma.cu
// (the TF32 test's byte layouts with 8 k values per 16 bytes instead of 4):
//   a_s [k half][row (64 + shift, padded to 72)][8]: LBO = 72 * 16 bytes, SBO = 128 bytes
//   b_s [n / 8][k half][n % 8][8] (igemm_pack_filter_16bit_kernel's wgmma order,
//       e = ((n / 8) * 2 + kk / 8) * 64 + (n % 8) * 8 + kk % 8): LBO = 128 bytes, SBO = 256 bytes
template <typename T>
__global__ void __launch_bounds__(128) wgmma_16bit_product_kernel(const uint16_t* a, int shift,
                                                                  const uint16_t* b, float* d) {
#if CONVGEMM_HAS_WGMMA
  constexpr int kRowsA = WGMMA16_TEST_M + kMaxShift;  // a_s rows per k half (the plane)
  __shared__ __align__(128) uint16_t a_s[2 * kRowsA * 8];
  __shared__ __align__(128) uint16_t b_s[WGMMA16_TEST_K * WGMMA16_TEST_N];
  const int tid = threadIdx.x;
  for (int i = tid; i < (WGMMA16_TEST_M + shift) * WGMMA16_TEST_K; i += 128) {
    const int row = i / WGMMA16_TEST_K, k = i % WGMMA16_TEST_K;
    a_s[((k / 8) * kRowsA + row) * 8 + k % 8] = a[i];
  }
  for (int i = tid; i < WGMMA16_TEST_K * WGMMA16_TEST_N; i += 128) {
    const int k = i / WGMMA16_TEST_N, n = i % WGMMA16_TEST_N;
    b_s[((n / 8) * 2 + k / 8) * 64 + (n % 8) * 8 + k % 8] = b[i];
  }
  convgemm::fence_proxy_async_shared();
  __syncthreads();
  float acc[64];
  for (int i = 0; i < 64; ++i) acc[i] = __int_as_float(0x7FC00000);  // NaN: scale-d 0 must win
  const uint64_t desc_a = convgemm::wgmma_desc_kmajor(a_s + 8 * shift, kRowsA * 16, 128);
  const uint64_t desc_b = convgemm::wgmma_desc_kmajor(b_s, 128, 256);
  convgemm::wgmma_fence();
  convgemm::wgmma_m64n128k16<T, 0>(acc, desc_a, desc_b);
  convgemm::wgmma_m64n128k16<T, 1>(acc, desc_a, desc_b);
  convgemm::wgmma_commit();
  convgemm::wgmma_wait<0>();
  for (int i = 0; i < 64; ++i) convgemm::wgmma_fence_operand(acc[i]);
  // d[4j + 2h + e]: row 16w + g + 8h, column 8j + 2t + e (gemm/wgmma_tf32.cuh).
  const int warp = tid / 32, g = tid % 32 / 4, t = tid % 4;
  for (int j = 0; j < 16; ++j)
    for (int h = 0; h < 2; ++h)
      for (int e = 0; e < 2; ++e)
        d[(16 * warp + g + 8 * h) * WGMMA16_TEST_N + 8 * j + 2 * t + e] = acc[4 * j + 2 * h + e];
#else
  (void)a; (void)shift; (void)b; (void)d;
#endif
}

cudaError_t compute_capability(int* major, int* minor) {
  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  if (e == cudaSuccess) e = cudaDeviceGetAttribute(major, cudaDevAttrComputeCapabilityMajor, device);
  if (e == cudaSuccess) e = cudaDeviceGetAttribute(minor, cudaDevAttrComputeCapabilityMinor, device);
  return e;
}

// cudaSuccess if mma.sync runs here (sm_80 and newer).
cudaError_t check_mma_sync_device() {
  int major = 0, minor = 0;
  const cudaError_t e = compute_capability(&major, &minor);
  if (e != cudaSuccess) return e;
  return major >= 8 ? cudaSuccess : cudaErrorNotSupported;
}

}  // namespace

extern "C" cudaError_t mma_tf32_kernel_launch(const float* a, const float* b, const float* c,
                                              float* d, int k, cudaStream_t stream) {
  if (k <= 0 || k % 8 != 0) return cudaErrorInvalidValue;
  const cudaError_t e = check_mma_sync_device();
  if (e != cudaSuccess) return e;
  mma_tf32_product_kernel<<<1, 32, 0, stream>>>(a, b, c, d, k);
  return cudaGetLastError();
}

extern "C" cudaError_t mma_16bit_kernel_launch(int bfloat16, const uint16_t* a, const uint16_t* b,
                                               const float* c, float* d, int k,
                                               cudaStream_t stream) {
  if (k <= 0 || k % 16 != 0) return cudaErrorInvalidValue;
  const cudaError_t e = check_mma_sync_device();
  if (e != cudaSuccess) return e;
  if (bfloat16)
    mma_16bit_product_kernel<__nv_bfloat16><<<1, 32, 0, stream>>>(a, b, c, d, k);
  else
    mma_16bit_product_kernel<__half><<<1, 32, 0, stream>>>(a, b, c, d, k);
  return cudaGetLastError();
}

extern "C" cudaError_t wgmma_16bit_kernel_launch(int bfloat16, const uint16_t* a, int shift,
                                                 const uint16_t* b, float* d,
                                                 cudaStream_t stream) {
  int major = 0, minor = 0;
  const cudaError_t e = compute_capability(&major, &minor);
  if (e != cudaSuccess) return e;
  if (major != 9 || minor != 0 || shift < 0 || shift > kMaxShift) return cudaErrorNotSupported;
  if (bfloat16)
    wgmma_16bit_product_kernel<__nv_bfloat16><<<1, 128, 0, stream>>>(a, shift, b, d);
  else
    wgmma_16bit_product_kernel<__half><<<1, 128, 0, stream>>>(a, shift, b, d);
  return cudaGetLastError();
}
