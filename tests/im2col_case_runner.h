/*
 * IM2COL_GEMM on the GPU, checked with Check assertions (call from inside a test).
 *
 * im2col_case_run: one convolution (direct_cases.h's form), for each math mode (DEFAULT, then
 * IEEE):
 *   - the descriptor's output shape is the reference's; check_algorithm accepts IM2COL_GEMM;
 *     get_workspace_size gives 0 < min <= preferred, the plan's own numbers;
 *   - at every workspace size of im2col_workspace_sizes (the minimum, the preferred, sizes in
 *     between giving other plans), on a non-blocking stream, into a y and a workspace poisoned
 *     with NaN bytes before every call: y matches the float64 reference within the derived
 *     bounds of conv_compare.h (for DEFAULT math with bias, widened for the split bias:
 *     conv_compare_widen_for_split_bias), nothing is written around y, nor past the
 *     workspace size given;
 *   - a repeated call (the cached graph replayed) gives the same bits;
 *   - DEFAULT's result differs from IEEE's (the math mode is honored);
 *   - x, w and bias are bitwise unchanged afterwards.
 * Whether the results at the different workspace sizes are bitwise identical is recorded in the
 * stats (not asserted: cuBLASLt may pick another kernel for another chunk shape), with the worst
 * error-to-bound and L2-to-limit ratios per math mode, for the suite's report.
 *
 * A case whose params.data_type is float16 or bfloat16 runs the same checks in that type (the
 * inputs rounded to it on the host, the 16-bit bound of conv_compare.h), except that both math
 * modes must then give the same bits (the math mode changes nothing for 16-bit data).
 *
 * The pieces are exported for the graph-cache, capture and alignment tests: a host problem
 * (inputs, reference, bound) and guarded device buffers.
 */
#ifndef CONVGEMM_TESTS_IM2COL_CASE_RUNNER_H_
#define CONVGEMM_TESTS_IM2COL_CASE_RUNNER_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cuda_runtime_api.h>

#include "conv/convgemm.h"
#include "tests/direct_cases.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Rows of the report: float32 DEFAULT, float32 IEEE, float16, bfloat16 (both modes). */
enum { IM2COL_STATS_KINDS = 4 };

/* What the suite reports besides pass/fail. */
typedef struct im2col_stats {
  int64_t calls;                   /* forward calls compared with the reference */
  double worst_err_over_bound[IM2COL_STATS_KINDS];  /* [kind] max |y - ref| / bound */
  double worst_l2_over_limit[IM2COL_STATS_KINDS];   /* [kind] rel L2 / its limit */
  char worst_err_ctx[IM2COL_STATS_KINDS][200], worst_l2_ctx[IM2COL_STATS_KINDS][200];
  int case_modes;                  /* case x math mode run at several workspace sizes */
  int identical_across_sizes;      /* of those, how many gave the same bits at every size */
  char differing[600];             /* the first few that did not */
} im2col_stats_t;

void im2col_stats_print(const im2col_stats_t* stats, FILE* out);

/* Runs case c as described above, adding to stats. */
void im2col_case_run(convgemm_handle_t handle, cudaStream_t stream, const direct_case_t* c,
                     im2col_stats_t* stats);

/* ---- pieces ------------------------------------------------------------------------------ */

/* A convolution's host side: inputs, the float64 reference for its math mode and the bound. */
typedef struct im2col_problem {
  convgemm_conv2d_params_t params;      /* math_mode and data_type included */
  int64_t x_elems, w_elems, b_elems, y_elems, n_terms;
  float *x, *w, *bias;                  /* values of params.data_type; bias NULL without has_bias */
  double *ref, *abs_sum;                /* abs_sum widened for a split bias */
  double rel_l2_extra;                  /* added to the L2 limit (split bias) */
} im2col_problem_t;

/* Fresh inputs drawn from `seed` (test_fill_conv_inputs, rounded to params->data_type) and the
 * reference. */
void im2col_problem_init(im2col_problem_t* pr, const convgemm_conv2d_params_t* params,
                         uint64_t seed);

/* The reference again, after the caller changed pr->x, pr->w or pr->bias. */
void im2col_problem_update_reference(im2col_problem_t* pr);

void im2col_problem_free(im2col_problem_t* pr);

/* Asserts y (y_elems floats, host; a 16-bit output decoded to float) is within the bound of pr's
 * reference for pr's data type; what and ctx name the call in the failure message. Adds to stats
 * when not NULL. */
void im2col_problem_check(const im2col_problem_t* pr, const float* y, const char* what,
                          const char* ctx, im2col_stats_t* stats);

/* A device buffer with kIm2colGuardBytes of poison on each side of `data` (256-byte aligned). */
typedef struct im2col_guarded {
  unsigned char* base;
  unsigned char* data;
  size_t bytes;        /* of data */
  size_t base_bytes;   /* guards included */
} im2col_guarded_t;

enum { IM2COL_GUARD_BYTES = 16384, IM2COL_POISON_BYTE = 0xFF };

void im2col_guarded_alloc(im2col_guarded_t* g, size_t bytes);
void im2col_guarded_free(im2col_guarded_t* g);

/* Fills data and guards with the poison byte (0xFF: every float a NaN), on stream. */
void im2col_guarded_poison(const im2col_guarded_t* g, cudaStream_t stream);

/* Waits for stream, copies [data, data + bytes) to host and asserts the guards and the bytes of
 * data from `used` on are still poison (nothing written outside the first `used` bytes). */
void im2col_guarded_fetch(const im2col_guarded_t* g, size_t used, void* host, cudaStream_t stream,
                          const char* what, const char* ctx);

/* Waits for stream and asserts the whole buffer (guards and data) is still poison: nothing of a
 * call wrote it. Checks at most the first `max_data` bytes of data (and both guards). */
void im2col_guarded_expect_untouched(const im2col_guarded_t* g, size_t max_data,
                                     cudaStream_t stream, const char* what, const char* ctx);

/* Uploads host floats to a device pointer on stream (and waits). */
void im2col_upload(float* device, const float* host, int64_t count, cudaStream_t stream);

/* The same, encoded as `type` (the floats must be values of it: test_round_to_type). */
void im2col_upload_typed(void* device, const float* host, int64_t count,
                         convgemm_data_type_t type, cudaStream_t stream);

/* Asserts count floats at device equal host bit for bit. */
void im2col_expect_device_equals(const float* device, const float* host, int64_t count,
                                 cudaStream_t stream, const char* what, const char* ctx);

/* The same for count elements of `type` at device and host floats encoded as `type`. */
void im2col_expect_device_equals_typed(const void* device, const float* host, int64_t count,
                                       convgemm_data_type_t type, cudaStream_t stream,
                                       const char* what, const char* ctx);

/* Index of the first float whose bits differ, or -1. */
int64_t im2col_first_bit_difference(const float* a, const float* b, int64_t count);

/* Index of the first element of `elem` bytes whose bits differ, or -1. */
int64_t im2col_first_bit_difference_raw(const void* a, const void* b, int64_t count,
                                        size_t elem);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_IM2COL_CASE_RUNNER_H_ */
