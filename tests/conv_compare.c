/* Tolerance-checked comparison of float32 outputs with the float64 reference (conv_compare.h). */
#include "tests/conv_compare.h"

#include <math.h>
#include <stdio.h>

static const double kUnitRoundoffF32 = 0x1p-24;
static const double kUnitRoundoffF64 = 0x1p-53;
static const double kSubnormalStepF32 = 0x1p-149;

int64_t conv_compare_terms(int64_t c_per_group, int64_t r, int64_t s) {
  return c_per_group * r * s + 1;
}

static double gamma_n(int64_t n, double u) { return (double)n * u / (1.0 - (double)n * u); }

double conv_compare_bound(double abs_sum, int64_t n_terms) {
  return (gamma_n(n_terms, kUnitRoundoffF32) + gamma_n(n_terms, kUnitRoundoffF64)) * abs_sum +
         (double)n_terms * kSubnormalStepF32;
}

double conv_compare_rel_l2_limit(int64_t n_terms) {
  return 2.0 * sqrt((double)n_terms) * kUnitRoundoffF32;
}

/* The output type's one rounding after the fp32 accumulation (conv_compare.h): its unit
 * roundoff and half its smallest subnormal; both 0 for float32, whose fp32 result is stored as
 * it is. */
static double output_roundoff(convgemm_data_type_t type) {
  switch (type) {
    case CONVGEMM_DATA_FLOAT16: return 0x1p-11;
    case CONVGEMM_DATA_BFLOAT16: return 0x1p-8;
    case CONVGEMM_DATA_FLOAT32: break;
  }
  return 0.0;
}

static double output_subnormal_half_step(convgemm_data_type_t type) {
  switch (type) {
    case CONVGEMM_DATA_FLOAT16: return 0x1p-25;
    case CONVGEMM_DATA_BFLOAT16: return 0x1p-134;
    case CONVGEMM_DATA_FLOAT32: break;
  }
  return 0.0;
}

double conv_compare_bound_typed(double ref, double abs_sum, int64_t n_terms,
                                convgemm_data_type_t type) {
  const double u = output_roundoff(type);
  const double accumulation = conv_compare_bound(abs_sum, n_terms);
  if (u == 0.0) return accumulation;
  return u * fabs(ref) + (1.0 + u) * accumulation + output_subnormal_half_step(type);
}

double conv_compare_rel_l2_limit_typed(int64_t n_terms, convgemm_data_type_t type) {
  return output_roundoff(type) + conv_compare_rel_l2_limit(n_terms);
}

void conv_compare(const float* y, const double* ref, const double* abs_sum, int64_t count,
                  int64_t n_terms, conv_compare_result_t* out) {
  conv_compare_typed(y, ref, abs_sum, count, n_terms, CONVGEMM_DATA_FLOAT32, out);
}

void conv_compare_typed(const float* y, const double* ref, const double* abs_sum, int64_t count,
                        int64_t n_terms, convgemm_data_type_t type, conv_compare_result_t* out) {
  conv_compare_result_t r = {0};
  r.count = count;
  r.n_terms = n_terms;
  r.first_failure = -1;
  r.rel_l2_limit = conv_compare_rel_l2_limit_typed(n_terms, type);
  double err_sq = 0.0, ref_sq = 0.0;
  for (int64_t i = 0; i < count; ++i) {
    const double got = (double)y[i];
    const double err = fabs(got - ref[i]);
    const double bound = conv_compare_bound_typed(ref[i], abs_sum[i], n_terms, type);
    /* Written so that a NaN or Inf output (err NaN or Inf) fails. */
    if (!(err <= bound)) {
      if (r.failures == 0) {
        r.first_failure = i;
        r.first_got = got;
        r.first_want = ref[i];
        r.first_bound = bound;
      }
      ++r.failures;
    }
    if (isfinite(err)) {
      if (err > r.max_abs_err) r.max_abs_err = err;
      if (bound > 0.0 && err / bound > r.max_err_over_bound) r.max_err_over_bound = err / bound;
    }
    err_sq += (got - ref[i]) * (got - ref[i]);
    ref_sq += ref[i] * ref[i];
  }
  if (ref_sq > 0.0)
    r.rel_l2 = sqrt(err_sq / ref_sq);
  else
    r.rel_l2 = err_sq == 0.0 ? 0.0 : INFINITY;
  *out = r;
}

int conv_compare_passed(const conv_compare_result_t* r) {
  return r->failures == 0 && r->rel_l2 <= r->rel_l2_limit;
}

void conv_compare_describe(const conv_compare_result_t* r, char* buf, size_t size) {
  if (r->failures > 0)
    snprintf(buf, size,
             "%lld of %lld outputs outside the bound (n = %lld); first at [%lld]: got %.9g, "
             "want %.9g, |diff| %.3g > bound %.3g; max |diff| %.3g (%.3g x bound); "
             "rel L2 %.3g (limit %.3g)",
             (long long)r->failures, (long long)r->count, (long long)r->n_terms,
             (long long)r->first_failure, r->first_got, r->first_want,
             fabs(r->first_got - r->first_want), r->first_bound, r->max_abs_err,
             r->max_err_over_bound, r->rel_l2, r->rel_l2_limit);
  else
    snprintf(buf, size,
             "all %lld outputs within the bound (n = %lld); max |diff| %.3g (%.3g x bound); "
             "rel L2 %.3g (limit %.3g)",
             (long long)r->count, (long long)r->n_terms, r->max_abs_err, r->max_err_over_bound,
             r->rel_l2, r->rel_l2_limit);
}

double conv_compare_widen_for_split_bias(const float* bias, int64_t images, int64_t k,
                                         int64_t plane, int64_t n_terms, const double* ref,
                                         double* abs_sum) {
  const double gamma = gamma_n(n_terms, kUnitRoundoffF32);
  double d_sq = 0.0, ref_sq = 0.0;
  for (int64_t n = 0; n < images; ++n)
    for (int64_t kk = 0; kk < k; ++kk) {
      const double b = fabs((double)bias[kk]);
      const double d = 0x1p-22 * b + 0x1p-136;
      const double widen = 0x1p-9 * b + 0x1p-135 + d / gamma;
      const int64_t base = (n * k + kk) * plane;
      for (int64_t i = 0; i < plane; ++i) {
        abs_sum[base + i] += widen;
        d_sq += d * d;
        ref_sq += ref[base + i] * ref[base + i];
      }
    }
  if (ref_sq > 0.0) return sqrt(d_sq / ref_sq);
  return d_sq > 0.0 ? INFINITY : 0.0;
}
