/* Command-line flags of conv_bench: the convolution (KernelBench level-1 problem 55 by default) or
 * a suite of them, which algorithms and math modes to run, how to time them, where to write. */
#ifndef CONVGEMM_BENCHMARKS_BENCH_ARGS_H_
#define CONVGEMM_BENCHMARKS_BENCH_ARGS_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conv/convgemm.h"

#define BENCH_MAX_ALGOS 4

/* Warm-up and timed calls per variant when --suite is given without --warmup / --iters. */
#define BENCH_SUITE_WARMUP 2
#define BENCH_SUITE_ITERS 10

typedef struct bench_args {
  /* The convolution; math_mode is ignored (each mode in the list below gets its own descriptor).
   * params.data_type is --dtype's, and applies to every shape of a suite too. */
  convgemm_conv2d_params_t params;
  /* convgemm algorithms to run, in order; algos_given = 0: every one the library accepts. */
  convgemm_algo_t algos[BENCH_MAX_ALGOS];
  int n_algos;
  int algos_given;
  /* Math modes to run: one or both of CONVGEMM_MATH_DEFAULT, CONVGEMM_MATH_IEEE, in that order. */
  convgemm_math_mode_t maths[2];
  int n_maths;
  int warmup;            /* untimed calls before timing each variant */
  int iters;             /* timed calls per variant; 0 = automatic */
  /* --order: 1 (interleaved, the default) times a math mode's variants in rounds of one call
   * each (bench_time_rounds); 0 (sequential) one variant's calls after another's. */
  int interleave;
  const char* json_path;     /* NULL: no JSON file */
  const char* markdown_path; /* NULL: no Markdown file */
  /* --suite: comma list of suite names (suites.h), or NULL for the one shape of the flags above. */
  const char* suites;
  const char* only;          /* --only: comma list of shape names kept from the suites; or NULL */
  int list_only;             /* --list: print the shapes and exit, no GPU needed */
  int measure_ceilings;      /* 0 with --no-ceilings: no copy/GEMM ceilings, no floors */
  int shape_given;           /* a convolution flag (--n ... --bias) was given */
  int warmup_given, iters_given, math_given;
  /* convgemm workspace: 0 = the preferred size, SIZE_MAX = the minimum, else this many MiB
   * (raised to the minimum when below it). */
  size_t workspace_mib;
} bench_args_t;

typedef enum bench_args_status {
  BENCH_ARGS_OK = 0,
  BENCH_ARGS_HELP = 1,  /* --help was given: print the help and exit 0 */
  BENCH_ARGS_ERROR = 2  /* `err` says what is wrong */
} bench_args_status_t;

/* Parses argv into *args (every default set first). With --suite and without --warmup / --iters,
 * the suite defaults apply (BENCH_SUITE_WARMUP, BENCH_SUITE_ITERS). On BENCH_ARGS_ERROR, err holds
 * one line. */
bench_args_status_t bench_args_parse(int argc, char** argv, bench_args_t* args, char* err,
                                     size_t err_len);

void bench_args_print_help(FILE* out);

/* "direct", "im2col_gemm", "implicit_gemm", "auto". */
const char* bench_algo_name(convgemm_algo_t algo);

/* "default", "ieee". */
const char* bench_math_name(convgemm_math_mode_t math);

/* "float32", "float16", "bfloat16" (--dtype's values). */
const char* bench_dtype_name(convgemm_data_type_t type);

#endif /* CONVGEMM_BENCHMARKS_BENCH_ARGS_H_ */
