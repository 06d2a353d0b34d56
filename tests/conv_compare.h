/*
 * Judging float32 convolution outputs against the float64 reference, with tolerances derived
 * from the arithmetic rather than picked.
 *
 * The library computes each output as n-1 fp32 FMAs over the C/G*R*S products (in DEFAULT math on
 * TF32-rounded operands, whose products are exact) and one fp32 add of the bias: n = C/G*R*S + 1
 * roundings. The reference is the exact sum of the same terms with the same operands (see
 * conv2d_reference.h), so the whole difference is accumulation rounding, bounded per element by
 * (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., sec. 3.1 and 2.1):
 *
 *   |y - ref| <= gamma_n(2^-24) * S  +  gamma_n(2^-53) * S  +  n * 2^-149
 *
 *   S              sum |x*w| (+ |bias|), the reference's abs_sum
 *   gamma_n(u)     n*u / (1 - n*u), i.e. n*u to first order
 *   gamma_n(2^-53) the reference's own float64 summation error (and that of S)
 *   n * 2^-149     underflow: a result rounded in the subnormal range has an absolute error of up
 *                  to half its spacing, 2^-150, which no relative bound covers; n roundings, each
 *                  carried through the later ones (factor <= 1 + gamma_n), stay under n * 2^-149.
 *                  It is ~1e-42 per term, far below any normal output, so it hides nothing.
 *
 * The per-element bound is a worst case, about sqrt(n) times larger than typical errors, so a
 * systematic error (an operand not rounded, a wrong rounding mode) could hide under it when n is
 * large. The relative L2 error catches those: rounding errors of random sign add like a random
 * walk, giving ||y - ref|| / ||ref|| of about 0.4 * sqrt(n) * 2^-24 (each of the n partial sums,
 * typically as large as the result, contributes an error uniform in +-half an ulp, <= 2^-24
 * relative). The limit is 2 * sqrt(n) * 2^-24. Measured with a float32 emulation of the kernels'
 * summation on gpu_direct_test's cases and 400 more random ones: 0.08 to 0.33 of the limit (and
 * the per-element error at most 0.73 of its bound); an operand left unrounded in DEFAULT math
 * gives ~2e-4, over 100x the limit. cpu_reference_test keeps both facts checked.
 *
 * 16-bit outputs (float16, bfloat16): the fp32 sum acc above is rounded once more, to the 16-bit
 * type, when it is stored: y = fl16(acc), |y - acc| <= u16 |acc| + eta16 (u16 the type's unit
 * roundoff, 2^-11 for float16 and 2^-8 for bfloat16; eta16 half its smallest subnormal, 2^-25
 * and 2^-134). With |acc - ref| <= B (the bound above) and |acc| <= |ref| + B:
 *
 *   |y - ref| <= u16 |ref|  +  (1 + u16) B  +  eta16
 *
 * the output's one rounding plus the accumulation term. The inputs are 16-bit values the
 * reference sees exactly (the tests round them on the host first), so nothing else enters. For
 * short reductions B (about n 2^-24 S) is far below u16 |ref| and the bound is essentially the
 * output's rounding: a store that truncates (errors up to a whole ulp, 2 u16 |y|) or an output
 * one ulp off fails it. For long ones the worst-case B outgrows u16 |ref| (float16: once
 * n S / |ref| > 2^13, e.g. C/G = 128 with a 3x3 filter) and such an error can hide under it; the
 * suites' many short reductions are where a wrong rounding shows (cpu_reference_test checks
 * both facts). The relative L2 limit becomes u16 + 2 sqrt(n) 2^-24: a correct rounding to
 * nearest gives about 0.41 u16 (errors uniform in half an ulp, relative to significands in
 * [1, 2)), truncation about 0.82 u16. The bound is never loosened for a test to pass: it is the
 * one above, derived, not fitted.
 */
#ifndef CONVGEMM_TESTS_CONV_COMPARE_H_
#define CONVGEMM_TESTS_CONV_COMPARE_H_

#include <stddef.h>
#include <stdint.h>

#include "conv/convgemm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Roundings in one output: C/G*R*S accumulations and the bias add. */
int64_t conv_compare_terms(int64_t c_per_group, int64_t r, int64_t s);

/* The per-element bound above for an output with abs_sum S. */
double conv_compare_bound(double abs_sum, int64_t n_terms);

/* The relative L2 limit above. */
double conv_compare_rel_l2_limit(int64_t n_terms);

typedef struct conv_compare_result {
  int64_t count;
  int64_t n_terms;
  int64_t failures;       /* elements outside their bound; NaN and Inf always are */
  int64_t first_failure;  /* position of the first one in the arrays, -1 if none */
  double first_got, first_want, first_bound;
  double max_abs_err;     /* over finite elements */
  double max_err_over_bound;
  double rel_l2;          /* ||y - ref||_2 / ||ref||_2 (0 if both are 0; Inf if only ref is) */
  double rel_l2_limit;
} conv_compare_result_t;

/* Compares y[i] with ref[i] under the bound for abs_sum[i], i < count. */
void conv_compare(const float* y, const double* ref, const double* abs_sum, int64_t count,
                  int64_t n_terms, conv_compare_result_t* result);

/* Whether every element is within its bound and the relative L2 error within its limit. */
int conv_compare_passed(const conv_compare_result_t* result);

/* A one-line summary for failure messages (first failure, worst ratio, L2). */
void conv_compare_describe(const conv_compare_result_t* result, char* buf, size_t size);

/* The same for outputs of `type` (conv_compare for float32): the per-element bound and the L2
 * limit of the 16-bit paragraph above. */
void conv_compare_typed(const float* y, const double* ref, const double* abs_sum, int64_t count,
                        int64_t n_terms, convgemm_data_type_t type, conv_compare_result_t* result);

/* The per-element bound for an output of `type` with reference ref and abs_sum S. */
double conv_compare_bound_typed(double ref, double abs_sum, int64_t n_terms,
                                convgemm_data_type_t type);

/* The relative L2 limit for outputs of `type`. */
double conv_compare_rel_l2_limit_typed(int64_t n_terms, convgemm_data_type_t type);

/*
 * The bias as IM2COL_GEMM adds it in DEFAULT math: inside the TF32 GEMM, as two terms of the
 * reduction, hi = tf32(b) and lo = tf32(b - hi) (gemm/pack_filter.h), each times a row of ones.
 * The products stay exact and the reduction has n - 1 = C/G*R*S + 1 additions in whatever order
 * cuBLAS takes, so the accumulation error is at most gamma_n(2^-24) * sum|terms| (Higham 3.1:
 * any order). Two things differ from the bound above, which takes the bias as one exact term b:
 *   (a) the terms are hi and lo: with u = 2^-11 (TF32), |hi - b| <= u|b|, b - hi is exact in
 *       fp32 (Sterbenz), |lo| <= (1 + u)|b - hi|, so |hi| + |lo| <= (1 + 2^-9)|b|;
 *   (b) hi + lo = b + d with d = lo - (b - hi), |d| <= u|b - hi| <= 2^-22 |b|, an error of
 *       representation that no summation bound covers.
 * (For subnormal b add 2^-135 to (a) and 2^-136 to (b): TF32's spacing there is 2^-136.)
 * So |y - ref| <= gamma_n(2^-24) * (S + 2^-9|b| + 2^-135) + 2^-22|b| + 2^-136. The bound's
 * n*u*S part has room for (b) once n >= 4 (n*2^-24 >= 2^-22), but that room is what the
 * accumulation error uses, so the two terms are added explicitly: abs_sum[i] grows by
 * 2^-9|b| + 2^-135 + (2^-22|b| + 2^-136) / gamma_n(2^-24), which conv_compare_bound (a factor
 * >= gamma_n(2^-24) on abs_sum) turns into at least the two terms. The relative L2 limit grows by
 * ||d||_2 / ||ref||_2 <= (2^-22 ||b||_2 + 2^-136 sqrt(count)) / ||ref||_2 (triangle inequality),
 * which this returns: add it to conv_compare_result_t.rel_l2_limit before judging.
 * y, ref and abs_sum are (images, k, plane) in NCHW order; bias has k entries.
 */
double conv_compare_widen_for_split_bias(const float* bias, int64_t images, int64_t k,
                                         int64_t plane, int64_t n_terms, const double* ref,
                                         double* abs_sum);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_CONV_COMPARE_H_ */
