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
 */
#ifndef CONVGEMM_TESTS_CONV_COMPARE_H_
#define CONVGEMM_TESTS_CONV_COMPARE_H_

#include <stddef.h>
#include <stdint.h>

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

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_CONV_COMPARE_H_ */
