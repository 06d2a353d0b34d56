#!/usr/bin/env python3
"""Writes wg_ops.cuh for tools/probes/wgmma_rate.cu: inline-PTX wgmma wrappers the library does
not have (m64n64k8 / m64n256k8 TF32, the RS form with A in registers, m64n256k16 bf16), each
accumulator list spelled out. Usage: gen_wgmma_ops.py (writes wg_ops.cuh in the current folder)"""
def acc_list(n, start=0):
    return ", ".join("%%%d" % (start + i) for i in range(n))
def cons(n):
    return ", ".join('"+f"(d[%d])' % i for i in range(n))
out = []
# SS tf32 m64nNk8
for N in (64, 128, 256):
    r = N // 2
    out.append(f'''__device__ __forceinline__ void ss_tf32_n{N}(float (&d)[{r}], uint64_t a, uint64_t b) {{
  asm volatile("wgmma.mma_async.sync.aligned.m64n{N}k8.f32.tf32.tf32 {{{acc_list(r)}}}, %{r}, %{r+1}, 1, 1, 1;\\n"
    : {cons(r)} : "l"(a), "l"(b));
}}''')
# RS tf32 m64n128k8: A in 4 regs
for N in (128, 256):
    r = N // 2
    out.append(f'''__device__ __forceinline__ void rs_tf32_n{N}(float (&d)[{r}], const uint32_t (&x)[4], uint64_t b) {{
  asm volatile("wgmma.mma_async.sync.aligned.m64n{N}k8.f32.tf32.tf32 {{{acc_list(r)}}}, {{%{r}, %{r+1}, %{r+2}, %{r+3}}}, %{r+4}, 1, 1, 1;\\n"
    : {cons(r)} : "r"(x[0]), "r"(x[1]), "r"(x[2]), "r"(x[3]), "l"(b));
}}''')
# SS bf16 m64n128k16 and n256
for N in (128, 256):
    r = N // 2
    out.append(f'''__device__ __forceinline__ void ss_bf16_n{N}(float (&d)[{r}], uint64_t a, uint64_t b) {{
  asm volatile("wgmma.mma_async.sync.aligned.m64n{N}k16.f32.bf16.bf16 {{{acc_list(r)}}}, %{r}, %{r+1}, 1, 1, 1, 0, 0;\\n"
    : {cons(r)} : "l"(a), "l"(b));
}}''')
open("wg_ops.cuh", "w").write("#include <cstdint>\n" + "\n".join(out) + "\n")
