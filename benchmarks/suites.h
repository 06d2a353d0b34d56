/* The shape suites of conv_bench --suite: fixed lists of convolutions, each run through the same
 * per-shape machinery as a single shape.
 *   kernelbench    every KernelBench level-1 2-D convolution problem
 *                  (/work/shared/problem/kernelbench_conv2d_shapes.md); problem 86 (separable)
 *                  as its two convolutions 86_dw and 86_pw.
 *   resnet50       the distinct forward convolutions of torchvision's ResNet-50 (v1.5: the stride
 *                  on the 3x3 of each stage's first bottleneck) at batch 32, 224x224 input, with
 *                  how many times each occurs in the network (53 convolutions, 23 distinct).
 *   small_channels where GEMM overtakes direct: N=8, 256x256, 3x3, pad 1; C = K in
 *                  {1,2,4,...,64} (series "dense"), and C = K = 64 with C/G in {1,2,...,32}
 *                  (series "grouped").
 * A shape's name is unique across all suites. */
#ifndef CONVGEMM_BENCHMARKS_SUITES_H_
#define CONVGEMM_BENCHMARKS_SUITES_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conv/convgemm.h"

typedef struct bench_shape {
  char name[32];    /* "55", "82_dw", "l2_3x3s2_128-128", "dense_C4", ... */
  char suite[24];   /* "kernelbench", "resnet50", "small_channels"; "" for the flags' shape */
  char series[16];  /* small_channels: "dense" or "grouped"; else "" */
  int count;        /* resnet50: occurrences in the network; else 0 */
  char note[96];    /* where it comes from (KernelBench row, torchvision module names) */
  convgemm_conv2d_params_t params;
} bench_shape_t;

/* What a convolution costs at least: FLOPs = 2*N*K*P*Q*(C/G)*R*S; compulsory traffic = read x,
 * w and bias once, write y once. */
typedef struct bench_work {
  int64_t p, q;  /* output height and width */
  double flops;
  double x_bytes, w_bytes, bias_bytes, y_bytes;
} bench_work_t;

/* Validates `params` with the library (host only) and fills *work. On failure returns the status,
 * convgemm_get_last_error() saying why. */
convgemm_status_t bench_shape_work(const convgemm_conv2d_params_t* params, bench_work_t* work);

/* The shapes of a comma list of suite names ("all" = every suite, each suite once), in suite
 * order, keeping only the names in `only` (a comma list, or NULL for all). Returns a malloc'ed
 * array (free it) and its length in *n; NULL with a one-line reason in err on an unknown suite
 * or shape name, or when nothing is left. */
bench_shape_t* bench_suite_shapes(const char* suites, const char* only, int* n, char* err,
                                  size_t err_len);

/* One line per shape: name, suite, count, the convolution, GFLOP and compulsory GB. */
void bench_suite_print_list(FILE* out, const bench_shape_t* shapes, int n);

#endif /* CONVGEMM_BENCHMARKS_SUITES_H_ */
