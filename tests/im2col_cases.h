/*
 * What gpu_im2col_gemm_test runs IM2COL_GEMM on, kept apart from the GPU test so that
 * cpu_im2col_plan_test checks it before any GPU time is spent:
 *   - the cases: direct_cases.h's fixed list and random generator (every convolution edge), and
 *     a few more that only IM2COL_GEMM's chunking makes interesting (whole images per chunk with
 *     one group and with several, a partial last group of images, P*Q of 1, 128 and 129, a
 *     partial last pixel chunk, each bias-row padding);
 *   - the workspace sizes each case runs with: the minimum, the preferred and sizes in between
 *     chosen to give other plans (two buffers of the smallest chunk, pixel chunks that do not
 *     divide P*Q with one and with two buffers, two and three whole images per chunk, an odd
 *     size halfway), kept only when convgemm_im2col_gemm_make_plan gives a plan not seen yet.
 */
#ifndef CONVGEMM_TESTS_IM2COL_CASES_H_
#define CONVGEMM_TESTS_IM2COL_CASES_H_

#include <stddef.h>
#include <stdint.h>

#include "conv/im2col_gemm_plan.h"
#include "conv/internal.h"
#include "tests/direct_cases.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reference multiply-adds of the extra cases, all of them, one math mode. */
#define IM2COL_EXTRA_MAX_TOTAL_MACS 20000000

enum { IM2COL_MAX_WORKSPACES = 10 };

/* Number of extra cases. */
int im2col_extra_case_count(void);

/* Extra case i (0 <= i < count); its input seed is derived from i. */
void im2col_extra_case(int i, direct_case_t* out);

/* The workspace sizes to run `desc` with on `info`'s device, ascending, into sizes; returns how
 * many (at least 2: the minimum first, the preferred among them; at most IM2COL_MAX_WORKSPACES).
 * No two give the same plan geometry (buffers, col_ld, pixels and images per chunk). */
int im2col_workspace_sizes(const struct convgemm_conv_desc* desc,
                           const convgemm_device_info_t* info, size_t* sizes);

/* Whether two plans cut the work the same way (buffers, col_ld, pixels and images per chunk). */
int im2col_same_geometry(const convgemm_im2col_gemm_plan_t* a,
                         const convgemm_im2col_gemm_plan_t* b);

/* Kinds of plan the GPU suite must reach, each counted over cases x workspace sizes. */
typedef struct im2col_coverage {
  int one_buffer, two_buffers;
  int multi_image_groups_1, multi_image_groups_n, multi_image_partial_last;
  int pixel_chunks_partial_last, one_pixel_last_chunk, three_or_more_chunks_per_image;
  int single_chunk;
  int bias_default_padded, bias_default_exact, bias_ieee_padded, bias_ieee_exact;
} im2col_coverage_t;

/* Counts the plans `desc` gets at its workspace sizes (im2col_workspace_sizes) on `info`. */
void im2col_coverage_add(const struct convgemm_conv_desc* desc,
                         const convgemm_device_info_t* info, im2col_coverage_t* cov);

/* Whether every kind was reached at least once; the counts go into buf either way. */
int im2col_coverage_complete(const im2col_coverage_t* cov, char* buf, size_t size);

/* "buffers 2, 128 pixels x 1 image per chunk (col_ld 128), 4 chunks, 1234567 bytes". */
void im2col_describe_plan(const convgemm_im2col_gemm_plan_t* plan, char* buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_IM2COL_CASES_H_ */
