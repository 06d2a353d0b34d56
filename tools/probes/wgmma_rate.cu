// Probe: the sustained wgmma rate per SM for the operand shapes the IMPLICIT_GEMM kernels use, no
// loads and no epilogue (log step 54). One block per SM; 1, 2 or 3 warpgroups, each issuing
// IMPLICIT_GEMM's per-chunk pattern (9 taps x rows, the A descriptor stepped as a window shift)
// on fixed shared memory filled with random TF32 values, committed as one group per chunk with
// wgmma_wait<1>. Prints ms, TFLOP/s and MACs per clock per SM (clock64 of each block).
// Build (sm_90a): python3 tools/probes/gen_wgmma_ops.py && nvcc -std=c++17 -O3
//   -gencode=arch=compute_90a,code=sm_90a -I. tools/probes/wgmma_rate.cu -o wgmma_rate
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <vector>
#include <algorithm>
#include <cuda_runtime.h>
#include "wg_ops.cuh"

__device__ __forceinline__ uint64_t desc(const void* p, uint32_t lbo, uint32_t sbo) {
  uint32_t a = (uint32_t)__cvta_generic_to_shared(p);
  return (uint64_t)((a >> 4) & 0x3FFF) | ((uint64_t)((lbo >> 4) & 0x3FFF) << 16) |
         ((uint64_t)((sbo >> 4) & 0x3FFF) << 32);
}
__device__ __forceinline__ void fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N> __device__ __forceinline__ void waitg() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory"); }

constexpr int kSmemBytes = 160 * 1024;
// V: 0 tf32 SS n128 x2 rows; 1 tf32 SS n256 x1; 2 tf32 RS n128 x2 rows; 3 bf16 SS n128 x2; 4 bf16 SS n256 x1;
//    5 tf32 SS n64 x4 rows (M pixels, N channels 64)
template <int V>
__global__ void __launch_bounds__(384, 1) probe(int chunks, float* out, long long* cyc) {
  extern __shared__ __align__(1024) float sm[];
  for (int i = threadIdx.x; i < kSmemBytes / 4; i += blockDim.x) {
    uint32_t h = (i * 2654435761u) ^ (blockIdx.x * 40503u);
    h ^= h >> 13; h *= 0x5bd1e995u; h ^= h >> 15;
    sm[i] = __uint_as_float((h & 0x807FE000u) | 0x3F000000u);  // tf32 values in [0.5, 1)
  }
  __syncthreads();

  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
  __syncthreads();
  const int wg = threadIdx.x / 128;
  long long t0 = clock64();
  constexpr int R = (V == 1 || V == 4) ? 1 : (V == 5 ? 4 : 2);
  constexpr int NA = (V == 1 || V == 4) ? 128 : (V == 5 ? 32 : 64);
  float acc[R][NA];
#pragma unroll
  for (int m = 0; m < R; ++m)
#pragma unroll
    for (int i = 0; i < NA; ++i) acc[m][i] = 0.f;
  // A region: window-like, 16 KB per WG; B region: 9 taps x 4 KB (n128) or 8 KB (n256) from 64 KB.
  const uint64_t da = desc(sm + wg * 4096, 8192, 128);
  const uint64_t db = desc(sm + 16384, 128, 256);
  uint32_t xr[4];
  for (int i = 0; i < 4; ++i) xr[i] = __float_as_uint(sm[threadIdx.x * 4 + i]);
  for (int c = 0; c < chunks; ++c) {
    int x_off = 0;
#pragma unroll 1
    for (int tap = 0; tap < 9; ++tap) {
      fence();
#pragma unroll
      for (int m = 0; m < R; ++m) {
        const uint64_t a = da + x_off + m * 66, b = db + tap * (V == 1 || V == 4 ? 512 : 256);
        if constexpr (V == 0) ss_tf32_n128(acc[m], a, b);
        if constexpr (V == 1) ss_tf32_n256(acc[m], b, a);  // A filter (64 ch), B window (256 px)
        if constexpr (V == 2) rs_tf32_n128(acc[m], xr, b);
        if constexpr (V == 3) ss_bf16_n128(acc[m], a, b);
        if constexpr (V == 4) ss_bf16_n256(acc[m], b, a);
        if constexpr (V == 5) ss_tf32_n64(acc[m], a, b);
      }
      x_off += tap % 3 == 2 ? 64 : 1;
    }
    commit();
    waitg<1>();
  }
  waitg<0>();
  float s = 0.f;
#pragma unroll
  for (int m = 0; m < R; ++m)
#pragma unroll
    for (int i = 0; i < NA; ++i) s += acc[m][i];
  long long t1 = clock64();
  out[blockIdx.x * blockDim.x + threadIdx.x] = s;
  if (threadIdx.x == 0) cyc[blockIdx.x] = t1 - t0;
}

template <int V>
void run(const char* name, int wgs, int chunks, int sms, float* out, long long* cyc, double macs_per_chunk_wg) {
  cudaFuncSetAttribute(probe<V>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes);
  cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
  probe<V><<<sms, 128 * wgs, kSmemBytes>>>(chunks, out, cyc);
  std::vector<float> ms;
  for (int it = 0; it < 5; ++it) {
    cudaEventRecord(e0);
    probe<V><<<sms, 128 * wgs, kSmemBytes>>>(chunks, out, cyc);
    cudaEventRecord(e1);
    cudaEventSynchronize(e1);
    float t; cudaEventElapsedTime(&t, e0, e1); ms.push_back(t);
  }
  cudaError_t err = cudaGetLastError();
  std::vector<long long> c(sms);
  cudaMemcpy(c.data(), cyc, sms * sizeof(long long), cudaMemcpyDeviceToHost);
  std::sort(ms.begin(), ms.end());
  std::sort(c.begin(), c.end());
  double macs = macs_per_chunk_wg * wgs * chunks;  // per SM
  double mac_clk = macs / (double)c[sms / 2];
  double ghz = (double)c[sms / 2] / (ms[2] * 1e6);
  printf("%-26s wgs %d  %.3f ms  %.1f TFLOP/s  %.0f MAC/clk/SM (%.1f%% of 1024)  clk %.2f GHz  %s\n", name, wgs,
         ms[2], 2 * macs * sms / (ms[2] * 1e9), mac_clk, 100 * mac_clk / 1024, ghz, cudaGetErrorString(err));
}

int main() {
  int sms; cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  float* out; long long* cyc;
  cudaMalloc(&out, sms * 384 * 4); cudaMalloc(&cyc, sms * 8);
  const int ch = 4000;
  const double tf128 = 9.0 * 2 * 64 * 128 * 8, tf256 = 9.0 * 64 * 256 * 8;
  for (int wgs = 1; wgs <= 3; ++wgs) {
    run<0>("tf32 SS m64n128k8 x2", wgs, ch, sms, out, cyc, tf128);
    run<1>("tf32 SS m64n256k8 x1", wgs, ch, sms, out, cyc, tf256);
    run<2>("tf32 RS m64n128k8 x2", wgs, ch, sms, out, cyc, tf128);
    run<5>("tf32 SS m64n64k8 x4", wgs, ch, sms, out, cyc, 9.0 * 4 * 64 * 64 * 8);
    run<3>("bf16 SS m64n128k16 x2", wgs, ch, sms, out, cyc, tf128 * 2);
    run<4>("bf16 SS m64n256k16 x1", wgs, ch, sms, out, cyc, tf256 * 2);
  }
  return 0;
}
