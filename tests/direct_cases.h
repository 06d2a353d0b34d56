/*
 * The convolutions gpu_direct_test runs: a fixed list that names every edge DIRECT has (each tile
 * kind, partial tiles, channel chunks, padding-only outputs, the GENERIC fallback) and a seeded
 * random generator for the combinations nobody thought of. Kept apart from the GPU test so a CPU
 * test (cpu_direct_cases_test) checks, before any GPU time is spent, that every case is a valid
 * descriptor, that the list still reaches every tile kind, and that the float64 reference stays
 * cheap (the reference on the CPU is what bounds the GPU suite's run time).
 */
#ifndef CONVGEMM_TESTS_DIRECT_CASES_H_
#define CONVGEMM_TESTS_DIRECT_CASES_H_

#include <stddef.h>
#include <stdint.h>

#include "conv/convgemm.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  DIRECT_RANDOM_CASES = 48, /* random configurations per run */
  DIRECT_RANDOM_MAX_MACS = 3000000 /* reference multiply-adds per random case and math mode */
};

/* Reference multiply-adds of the fixed list, all cases, one math mode: ~0.2 s of CPU. */
#define DIRECT_FIXED_MAX_TOTAL_MACS 150000000

typedef struct direct_case {
  const char* name;
  uint64_t seed;                    /* for the inputs (and, for random cases, the shape) */
  convgemm_conv2d_params_t params;  /* math_mode is DEFAULT; the runner sets each mode.
                                       data_type float32 from the lists; the GPU suites set
                                       float16 / bfloat16 for their 16-bit passes */
} direct_case_t;

/* Number of fixed cases. */
int direct_fixed_case_count(void);

/* Fixed case i (0 <= i < count); its input seed is derived from i. */
void direct_fixed_case(int i, direct_case_t* out);

/* A random valid configuration drawn from `seed` with at most DIRECT_RANDOM_MAX_MACS reference
 * multiply-adds, in which some output reaches the input (not all padding). */
void direct_random_case(uint64_t seed, direct_case_t* out);

/* N*K*P*Q*(C/G)*R*S: the reference's work for one math mode. */
int64_t direct_case_macs(const convgemm_conv2d_params_t* p);

/* "N2 C8 H16 W16 K16 R3 S3 pad 1,1 stride 1,1 dilation 1,1 groups 1 bias 0 math DEFAULT type
 * float32". */
void direct_case_describe(const convgemm_conv2d_params_t* p, char* buf, size_t size);

/* Case `c` in math `mode`: fills *p, writes "case '<name>' seed <seed> [<describe>]" into ctx,
 * creates the descriptor and asserts (Check) that it was created and that its output shape is
 * the reference's. The caller destroys the descriptor. */
convgemm_conv_desc_t direct_case_open(const direct_case_t* c, convgemm_math_mode_t mode,
                                      convgemm_conv2d_params_t* p, char* ctx, size_t ctx_size);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_DIRECT_CASES_H_ */
