#!/usr/bin/env python3
"""Adds a per-event clock trace to a copy of conv/implicit_gemm_wgmma.cu (experiment builds only;
never commit the result). Blocks 0-2 record clock64() relative to their start, per role: compute
warpgroup 0 (thread 0) and 1 (thread 128), the float producers (thread 256; the 16-bit producer
is not traced), the loader (thread 384).
Event codes: compute 1 before the `ready` wait, 2 after it, 3 after issuing the chunk's wgmmas,
4 after wgmma_wait<1>, 8 after a 3xTF32 fold's wgmma_wait<0>, 5 after a tile's last
wgmma_wait<0>, 6 after its epilogue, 7 after the next tile's accumulators start; producer 10
before the `full` wait, 11 after it, 13 after the loads and rounding, 14 after the producers'
barrier, 15 after the stores, 12 after the `ready` arrival; loader 20 before an `empty` wait,
21 after it. The kernel exports convgemm_trace_read / convgemm_trace_reset (tools/trace/
trace55.c). Every anchor is asserted: a kernel change that moves one fails here, not silently.
Usage: instrument.py conv/implicit_gemm_wgmma.cu   (rewrites the file in place)
Log steps 54-56 (docs/optimization_log.md) were measured with it."""
import sys

p = sys.argv[1]
s=open(p).read()
def rep(old,new):
    global s
    assert old in s, old[:80]
    s=s.replace(old,new,1)
rep('''namespace convgemm {
namespace {
''','''namespace convgemm {
__device__ unsigned int g_trace[3][4][4096];
__device__ unsigned int g_trace_n[3][4];
__device__ long long g_trace_t0[3];
namespace {
[[maybe_unused]] __device__ __forceinline__ void trace_ev(int role, unsigned code, unsigned& n, long long t0) {
  if (blockIdx.x < 3 && n < 4096) {
    g_trace[blockIdx.x][role][n] = (code << 24) | ((unsigned)(clock64() - t0) & 0xFFFFFF);
    ++n;
    g_trace_n[blockIdx.x][role] = n;
  }
}
''')
rep('''    fence_mbarrier_init();
  }
  __syncthreads();  // the only block-wide barrier: the roles never wait for each other's count''','''    fence_mbarrier_init();
    if (blockIdx.x < 3) g_trace_t0[blockIdx.x] = clock64();
  }
  __syncthreads();
  const long long tt0 = blockIdx.x < 3 ? g_trace_t0[blockIdx.x] : 0;
  unsigned tn = 0;''')
rep('''      if (used >> ld.stage & 1) {
        mbarrier_wait_parity(&empty[ld.stage], empty_parity >> ld.stage & 1);''','''      if (used >> ld.stage & 1) {
        trace_ev(3, 20, tn, tt0);
        mbarrier_wait_parity(&empty[ld.stage], empty_parity >> ld.stage & 1);
        trace_ev(3, 21, tn, tt0);''')
rep('''__device__ __forceinline__ void produce_float(const IgemmArgs& a, float* smem, int stage_floats,
                                              uint64_t* full, uint64_t* ready, int pt) {''','''__device__ __forceinline__ void produce_float(const IgemmArgs& a, float* smem, int stage_floats,
                                              uint64_t* full, uint64_t* ready, int pt, unsigned& tn, long long tt0) {''')
rep('''    if (kGroups > 1 && tr.stage % kGroups != group) continue;
    mbarrier_wait_parity(&full[tr.stage], parity);''','''    if (kGroups > 1 && tr.stage % kGroups != group) continue;
    if (pt == 0) trace_ev(2, 10, tn, tt0);
    mbarrier_wait_parity(&full[tr.stage], parity);
    if (pt == 0) trace_ev(2, 11, tn, tt0);''')
rep('''    named_barrier_sync(group == 0 ? 1 : 5, kThreads);  // compute warpgroups: 2, 3, 4''','''    if (pt == 0) trace_ev(2, 13, tn, tt0);
    named_barrier_sync(group == 0 ? 1 : 5, kThreads);  // compute warpgroups: 2, 3, 4
    if (pt == 0) trace_ev(2, 14, tn, tt0);''')
rep('''        if (kSplit) dst[2 * a.x_plane_ld] = small[kSplit ? i : 0];
      }
    }
    fence_proxy_async_shared();  // to wgmma's proxy (and before the stage's next TMA)
    mbarrier_arrive(&ready[tr.stage]);''','''        if (kSplit) dst[2 * a.x_plane_ld] = small[kSplit ? i : 0];
      }
    }
    if (pt == 0) trace_ev(2, 15, tn, tt0);
    fence_proxy_async_shared();  // to wgmma's proxy (and before the stage's next TMA)
    mbarrier_arrive(&ready[tr.stage]);
    if (pt == 0) trace_ev(2, 12, tn, tt0);''')
s=s.replace('''(a, smem, stage_floats, full, ready,
                                                    tid - kComputeThreads);''','''(a, smem, stage_floats, full, ready,
                                                    tid - kComputeThreads, tn, tt0);''')
s=s.replace('''produce_float<kSplit, kCarry, 1>(a, smem, stage_floats, full, ready, tid - kComputeThreads);''','''produce_float<kSplit, kCarry, 1>(a, smem, stage_floats, full, ready, tid - kComputeThreads, tn, tt0);''')
rep('''    float* const stage = smem + cp.stage * stage_floats;
    mbarrier_wait_parity(&ready[cp.stage], ready_parity >> cp.stage & 1);
    ready_parity ^= 1u << cp.stage;
    if constexpr (kSplit)
      issue_chunk<T, kSplit>(partial, a, stage, warpgroup);
    else
      issue_chunk<T, kSplit>(acc, a, stage, warpgroup);''','''    float* const stage = smem + cp.stage * stage_floats;
    const int trole = tid == 0 ? 0 : tid == 128 ? 1 : -1;
    if (trole >= 0) trace_ev(trole, 1, tn, tt0);
    mbarrier_wait_parity(&ready[cp.stage], ready_parity >> cp.stage & 1);
    if (trole >= 0) trace_ev(trole, 2, tn, tt0);
    ready_parity ^= 1u << cp.stage;
    if constexpr (kSplit)
      issue_chunk<T, kSplit>(partial, a, stage, warpgroup);
    else
      issue_chunk<T, kSplit>(acc, a, stage, warpgroup);
    if (trole >= 0) trace_ev(trole, 3, tn, tt0);''')
rep('''        wgmma_wait<0>();  // the partial sums are final; their stages may be refilled''','''        wgmma_wait<0>();  // the partial sums are final; their stages may be refilled
        if (trole >= 0) trace_ev(trole, 8, tn, tt0);''')
rep('''    if (!last_chunk) {
      wgmma_wait<1>();  // the previous chunk's group retired: its stage may be refilled''','''    if (!last_chunk) {
      wgmma_wait<1>();  // the previous chunk's group retired: its stage may be refilled
      if (trole >= 0) trace_ev(trole, 4, tn, tt0);''')
rep('''    wgmma_wait<0>();
    if (pending >= 0) mbarrier_arrive(&empty[pending]);
    pending = -1;
    if constexpr (kStaged16) {''','''    wgmma_wait<0>();
    if (trole >= 0) trace_ev(trole, 5, tn, tt0);
    if (pending >= 0) mbarrier_arrive(&empty[pending]);
    pending = -1;
    if constexpr (kStaged16) {''')
rep('''    mbarrier_arrive(&empty[this_stage]);  // after the epilogue used it as staging
    if (cp.tile < a.tiles) start_tile_acc<T>(acc, a, cp.tc, tid);''','''    if (trole >= 0) trace_ev(trole, 6, tn, tt0);
    mbarrier_arrive(&empty[this_stage]);  // after the epilogue used it as staging
    if (cp.tile < a.tiles) start_tile_acc<T>(acc, a, cp.tc, tid);
    if (trole >= 0) trace_ev(trole, 7, tn, tt0);''')
rep('''// cuTensorMapEncodeTiled from the driver''','''}  // namespace
extern "C" int convgemm_trace_read(void* dst, void* counts) {
  cudaMemcpyFromSymbol(dst, g_trace, sizeof(g_trace));
  return (int)cudaMemcpyFromSymbol(counts, g_trace_n, sizeof(g_trace_n));
}
extern "C" int convgemm_trace_reset(void) {
  static unsigned int zero[3][4] = {};
  return (int)cudaMemcpyToSymbol(g_trace_n, zero, sizeof(zero));
}
namespace {
// cuTensorMapEncodeTiled from the driver''')
open(p,'w').write(s)
