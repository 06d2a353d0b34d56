/* Hostile convolution parameters (fuzz_params.h). */
#include "tests/fuzz_params.h"

#include <limits.h>

#define COUNT(a) ((int64_t)(sizeof(a) / sizeof((a)[0])))

static const int64_t kMax32 = INT32_MAX;

/* The edges of conv_desc.c's checks (<= 0, < 1, > 2^31-1, products past 2^63) and of the
 * plans' arithmetic (2^16, 65535 grid blocks, sqrt(2^31), sqrt(2^63)). */
static const int64_t kEdges[] = {
    0,           1,           -1,          2,          3,          4,
    7,           8,           INT64_MIN,   INT64_MIN + 1, INT64_MAX, INT64_MAX - 1,
    INT32_MAX,   INT32_MAX - 1, (int64_t)INT32_MAX + 1, INT32_MIN, (int64_t)INT32_MIN - 1,
    (int64_t)1 << 32, ((int64_t)1 << 32) - 1, (int64_t)1 << 62, 65535, 65536, 32768,
    46341 /* > sqrt(2^31) */, 3037000500 /* > sqrt(2^63) */, 715827882 /* (2^31-1) / 3 */,
};

/* Enum values: the valid ones, their neighbours, and the int edges. */
static const int kEnumValues[] = {0, 1, 2, 3, 4, -1, INT_MAX, INT_MIN, 99};

int64_t fuzz_hostile_int64(test_rng_t* rng) {
  switch (test_rng_next(rng) % 4) {
    case 0:
      return kEdges[test_rng_int(rng, 0, COUNT(kEdges) - 1)];
    case 1:
      return test_rng_int(rng, -8, 64);
    case 2: {
      const int64_t power = (int64_t)1 << test_rng_int(rng, 0, 62);
      const int64_t v = power + test_rng_int(rng, -1, 1);
      return test_rng_next(rng) % 4 == 0 ? -v : v;
    }
    default:
      return (int64_t)test_rng_next(rng);
  }
}

/* A positive extent biased towards the limits: mostly small, sometimes 2^31-1 or 2^31-2, or a
 * power of two up to 2^30 give or take one. */
static int64_t extent(test_rng_t* rng, int small_max) {
  switch (test_rng_next(rng) % 8) {
    case 0:
      return kMax32 - test_rng_int(rng, 0, 1);
    case 1: {
      const int64_t power = (int64_t)1 << test_rng_int(rng, 0, 30);
      const int64_t v = power + test_rng_int(rng, -1, 1);
      return v < 1 ? 1 : v;
    }
    default:
      return test_rng_int(rng, 1, small_max);
  }
}

/* The largest filter extent that fits `in` padded by `pad` at `dilation`, or 1 when an input
 * is out of range (the generator then leaves the filter alone). */
static int64_t largest_filter(int64_t in, int64_t pad, int64_t dilation) {
  if (in < 1 || in > kMax32 || pad < 0 || pad > kMax32 || dilation < 1 || dilation > kMax32)
    return 1;
  return (in + 2 * pad - 1) / dilation + 1;
}

/* The filter extent: small, the largest that fits, one more than that, or anything up to it. */
static int64_t filter_extent(test_rng_t* rng, int64_t in, int64_t pad, int64_t dilation) {
  const int64_t largest = largest_filter(in, pad, dilation);
  switch (test_rng_next(rng) % 4) {
    case 0: return largest;
    case 1: return largest + 1;
    case 2: return 1 + (int64_t)(test_rng_next(rng) % (uint64_t)largest);
    default: {
      const int64_t small = test_rng_int(rng, 1, 7);
      return small < largest ? small : largest;
    }
  }
}

static void set_common(test_rng_t* rng, convgemm_conv2d_params_t* p, int64_t n, int64_t groups,
                       int64_t c_per_group, int64_t k_per_group, int64_t h, int64_t w) {
  p->n = n;
  p->groups = groups;
  p->c = c_per_group * groups; /* both at most 2^31: no overflow */
  p->k = k_per_group * groups;
  if (test_rng_next(rng) % 16 == 0) p->c += 1; /* groups that do not divide */
  if (test_rng_next(rng) % 16 == 0) p->k += 1;
  p->h = h;
  p->w = w;
  p->r = filter_extent(rng, p->h, p->pad_h, p->dilation_h);
  p->s = filter_extent(rng, p->w, p->pad_w, p->dilation_w);
  p->has_bias = (int)(test_rng_next(rng) % 2);
  /* float32 half the time, else one of the 16-bit types. */
  const uint64_t type_draw = test_rng_next(rng) % 4;
  p->data_type = type_draw < 2 ? CONVGEMM_DATA_FLOAT32
                 : type_draw == 2 ? CONVGEMM_DATA_FLOAT16
                                  : CONVGEMM_DATA_BFLOAT16;
  p->math_mode = (convgemm_math_mode_t)(test_rng_next(rng) % 2);
}

/* What a caller plausibly asks for: small tensors, small windows, a few groups or depthwise. */
static void plausible(test_rng_t* rng, convgemm_conv2d_params_t* p) {
  p->pad_h = test_rng_int(rng, 0, 3);
  p->pad_w = test_rng_int(rng, 0, 3);
  p->stride_h = test_rng_int(rng, 1, 3);
  p->stride_w = test_rng_int(rng, 1, 3);
  p->dilation_h = test_rng_int(rng, 1, 3);
  p->dilation_w = test_rng_int(rng, 1, 3);
  const int64_t groups = test_rng_next(rng) % 4 == 0 ? test_rng_int(rng, 1, 64)
                                                     : test_rng_int(rng, 1, 4);
  const int64_t c_per_group = test_rng_next(rng) % 4 == 0 ? 1 : test_rng_int(rng, 1, 80);
  const int64_t n = test_rng_int(rng, 1, 4);
  const int64_t k_per_group = test_rng_int(rng, 1, 160);
  const int64_t h = test_rng_int(rng, 1, 64);
  const int64_t w = test_rng_int(rng, 1, 64);
  set_common(rng, p, n, groups, c_per_group, k_per_group, h, w);
}

/* Valid-looking parameters at the limits: any field may be 2^31-1 or a large power of two, with
 * padding, stride and dilation large half the time. */
static void extreme(test_rng_t* rng, convgemm_conv2d_params_t* p) {
  p->pad_h = test_rng_next(rng) % 2 ? extent(rng, 4) : 0;
  p->pad_w = test_rng_next(rng) % 2 ? extent(rng, 4) : 0;
  p->stride_h = test_rng_next(rng) % 2 ? extent(rng, 4) : 1;
  p->stride_w = test_rng_next(rng) % 2 ? extent(rng, 4) : 1;
  p->dilation_h = test_rng_next(rng) % 2 ? extent(rng, 4) : 1;
  p->dilation_w = test_rng_next(rng) % 2 ? extent(rng, 4) : 1;
  /* One draw per statement: the order of a call's arguments is unspecified, the sequence of
   * draws must not be. */
  const int64_t n = extent(rng, 8);
  const int64_t groups = extent(rng, 8);
  const int64_t c_per_group = extent(rng, 16);
  const int64_t k_per_group = extent(rng, 256);
  const int64_t h = extent(rng, 64);
  const int64_t w = extent(rng, 64);
  set_common(rng, p, n, groups, c_per_group, k_per_group, h, w);
}

/* Replaces one field with a hostile value. */
static void mutate(test_rng_t* rng, convgemm_conv2d_params_t* p) {
  int64_t* const fields[] = {&p->n,        &p->c,        &p->h,          &p->w,
                             &p->k,        &p->r,        &p->s,          &p->pad_h,
                             &p->pad_w,    &p->stride_h, &p->stride_w,   &p->dilation_h,
                             &p->dilation_w, &p->groups};
  const int64_t which = test_rng_int(rng, 0, COUNT(fields) + 2);
  if (which < COUNT(fields)) {
    *fields[which] = fuzz_hostile_int64(rng);
  } else if (which == COUNT(fields)) {
    p->has_bias = (int)fuzz_hostile_int64(rng); /* any int: nonzero means a bias */
  } else if (which == COUNT(fields) + 1) {
    p->data_type = (convgemm_data_type_t)kEnumValues[test_rng_int(rng, 0, COUNT(kEnumValues) - 1)];
  } else {
    p->math_mode = (convgemm_math_mode_t)kEnumValues[test_rng_int(rng, 0, COUNT(kEnumValues) - 1)];
  }
}

void fuzz_params(test_rng_t* rng, convgemm_conv2d_params_t* p) {
  const uint64_t kind = test_rng_next(rng) % 20;
  if (kind < 8) { /* 40%: plausible */
    plausible(rng, p);
  } else if (kind < 13) { /* 25%: at the limits */
    extreme(rng, p);
  } else if (kind < 18) { /* 25%: either, with one to three hostile fields */
    if (kind % 2) plausible(rng, p);
    else extreme(rng, p);
    for (int64_t i = test_rng_int(rng, 1, 3); i > 0; --i) mutate(rng, p);
  } else { /* 10%: every field hostile */
    plausible(rng, p);
    for (int i = 0; i < 20; ++i) mutate(rng, p);
  }
}
