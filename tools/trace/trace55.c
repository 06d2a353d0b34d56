/* Experiment only: per-event clock trace of the IMPLICIT_GEMM TMA kernel on problem 55. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cuda_runtime.h>
#include "conv/convgemm.h"

int convgemm_trace_read(void* dst, void* counts);
int convgemm_trace_reset(void);

int main(int argc, char** argv) {
  int ieee = argc > 2 && strcmp(argv[2], "ieee") == 0;
  int bf16 = argc > 2 && strcmp(argv[2], "bf16") == 0;
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 8, 64, 512, 1024, 128, 3, 3);
  p.math_mode = ieee ? CONVGEMM_MATH_IEEE : CONVGEMM_MATH_DEFAULT;
  if (bf16) p.data_type = CONVGEMM_DATA_BFLOAT16;
  convgemm_handle_t h; convgemm_create(&h);
  convgemm_conv_desc_t d; convgemm_conv_desc_create(&d, &p);
  size_t xn = (size_t)8 * 64 * 512 * 1024, wn = 128 * 64 * 9, yn = (size_t)8 * 128 * 510 * 1022;
  float* hx = malloc(xn * 4);
  unsigned s = 12345;
  for (size_t i = 0; i < xn; ++i) { s = s * 1664525u + 1013904223u; hx[i] = (s >> 8) * (1.0f / 16777216.0f) - 0.5f; }
  if (bf16) { unsigned short* hb = (unsigned short*)hx; for (size_t i = 0; i < xn; ++i) { unsigned u; memcpy(&u, &hx[i], 4); hb[i] = (unsigned short)(u >> 16); } }
  float hw[128 * 64 * 9];
  for (size_t i = 0; i < wn; ++i) { s = s * 1664525u + 1013904223u; hw[i] = (s >> 8) * (1.0f / 16777216.0f) - 0.5f; }
  if (bf16) { unsigned short* hb = (unsigned short*)hw; for (size_t i = 0; i < wn; ++i) { unsigned u; memcpy(&u, &hw[i], 4); hb[i] = (unsigned short)(u >> 16); } }
  float *x, *w, *y; void* ws;
  cudaMalloc((void**)&x, xn * 4); cudaMalloc((void**)&w, wn * 4); cudaMalloc((void**)&y, yn * 4);
  cudaMemcpy(x, hx, xn * 4, cudaMemcpyHostToDevice); cudaMemcpy(w, hw, wn * 4, cudaMemcpyHostToDevice);
  size_t wmin, wpref;
  convgemm_get_workspace_size(h, d, CONVGEMM_ALGO_IMPLICIT_GEMM, &wmin, &wpref);
  cudaMalloc(&ws, wpref);
  cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
  for (int i = 0; i < 10; ++i)
    convgemm_forward(h, d, CONVGEMM_ALGO_IMPLICIT_GEMM, x, w, NULL, y, ws, wpref, 0);
  convgemm_trace_reset();
  cudaEventRecord(e0, 0);
  int st = convgemm_forward(h, d, CONVGEMM_ALGO_IMPLICIT_GEMM, x, w, NULL, y, ws, wpref, 0);
  cudaEventRecord(e1, 0);
  cudaEventSynchronize(e1);
  float ms; cudaEventElapsedTime(&ms, e0, e1);
  static unsigned tr[3][4][4096], n[3][4];
  convgemm_trace_read(tr, n);
  fprintf(stderr, "%s status %d (%s) %.3f ms\n", argc > 2 ? argv[2] : "tf32", st, convgemm_get_last_error(), ms);
  FILE* f = fopen(argv[1], "wb");
  fwrite(n, sizeof n, 1, f); fwrite(tr, sizeof tr, 1, f); fclose(f);
  return 0;
}
