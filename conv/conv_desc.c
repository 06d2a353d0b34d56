/* Convolution parameters: defaults, validation, derived sizes, the immutable descriptor. */
#include <stdint.h>
#include <stdlib.h>

#include "conv/internal.h"

/* The defaults, in one place. */
convgemm_status_t convgemm_conv2d_params_init(convgemm_conv2d_params_t* params, int64_t n,
                                              int64_t c, int64_t h, int64_t w, int64_t k,
                                              int64_t r, int64_t s) {
  if (params == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "params is NULL");
  params->n = n;
  params->c = c;
  params->h = h;
  params->w = w;
  params->k = k;
  params->r = r;
  params->s = s;
  params->pad_h = 0;
  params->pad_w = 0;
  params->stride_h = 1;
  params->stride_w = 1;
  params->dilation_h = 1;
  params->dilation_w = 1;
  params->groups = 1;
  params->has_bias = 0;
  params->data_type = CONVGEMM_DATA_FLOAT32;
  params->math_mode = CONVGEMM_MATH_DEFAULT;
  return CONVGEMM_STATUS_SUCCESS;
}

/* Every per-dimension index in the kernels is 32-bit; linear offsets are 64-bit. */
static const int64_t kMaxDim = INT32_MAX;

static convgemm_status_t check_positive(const char* name, int64_t value) {
  if (value <= 0)
    return convgemm_fail(CONVGEMM_STATUS_BAD_SIZE, "%s must be positive, got %lld", name,
                         (long long)value);
  if (value > kMaxDim)
    return convgemm_fail(CONVGEMM_STATUS_SIZE_OVERFLOW, "%s must be at most %lld, got %lld",
                         name, (long long)kMaxDim, (long long)value);
  return CONVGEMM_STATUS_SUCCESS;
}

static convgemm_status_t check_at_least_one(convgemm_status_t status, const char* name,
                                            int64_t value) {
  if (value < 1)
    return convgemm_fail(status, "%s must be at least 1, got %lld", name, (long long)value);
  if (value > kMaxDim)
    return convgemm_fail(CONVGEMM_STATUS_SIZE_OVERFLOW, "%s must be at most %lld, got %lld",
                         name, (long long)kMaxDim, (long long)value);
  return CONVGEMM_STATUS_SUCCESS;
}

/* a*b*c*d elements of `type` (its element size in bytes each), or SIZE_OVERFLOW naming the
 * tensor. */
static convgemm_status_t tensor_elems(const char* name, convgemm_data_type_t type, int64_t a,
                                      int64_t b, int64_t c, int64_t d, int64_t* elems) {
  int64_t e, bytes;
  if (__builtin_mul_overflow(a, b, &e) || __builtin_mul_overflow(e, c, &e) ||
      __builtin_mul_overflow(e, d, &e) ||
      __builtin_mul_overflow(e, convgemm_data_type_bytes(type), &bytes))
    return convgemm_fail(CONVGEMM_STATUS_SIZE_OVERFLOW,
                         "%s of %lld x %lld x %lld x %lld %s elements exceeds 2^63-1 bytes", name,
                         (long long)a, (long long)b, (long long)c, (long long)d,
                         convgemm_data_type_name(type));
  *elems = e;
  return CONVGEMM_STATUS_SUCCESS;
}

/* Output extent along one axis, or FILTER_TOO_LARGE. All inputs are already in [1, 2^31). */
static convgemm_status_t output_extent(const char* axis, int64_t in, int64_t pad, int64_t filter,
                                       int64_t stride, int64_t dilation, int64_t* out) {
  const int64_t padded = in + 2 * pad;
  const int64_t dilated = dilation * (filter - 1) + 1;
  if (dilated > padded)
    return convgemm_fail(CONVGEMM_STATUS_FILTER_TOO_LARGE,
                         "dilated filter %s extent %lld (= dilation %lld * (%lld - 1) + 1) exceeds "
                         "padded input %s extent %lld (= %lld + 2 * pad %lld)",
                         axis, (long long)dilated, (long long)dilation, (long long)filter, axis,
                         (long long)padded, (long long)in, (long long)pad);
  *out = (padded - dilated) / stride + 1;
  return CONVGEMM_STATUS_SUCCESS;
}

convgemm_status_t convgemm_conv_desc_validate(const convgemm_conv2d_params_t* p,
                                              struct convgemm_conv_desc* out) {
  if (p == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "params is NULL");
  if (out == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "descriptor is NULL");
  if (p->data_type != CONVGEMM_DATA_FLOAT32 && p->data_type != CONVGEMM_DATA_FLOAT16 &&
      p->data_type != CONVGEMM_DATA_BFLOAT16)
    return convgemm_fail(CONVGEMM_STATUS_BAD_ENUM,
                         "data_type must be CONVGEMM_DATA_FLOAT32 (0), CONVGEMM_DATA_FLOAT16 (1) "
                         "or CONVGEMM_DATA_BFLOAT16 (2), got %d", (int)p->data_type);
  if (p->math_mode != CONVGEMM_MATH_DEFAULT && p->math_mode != CONVGEMM_MATH_IEEE)
    return convgemm_fail(CONVGEMM_STATUS_BAD_ENUM,
                         "math_mode must be CONVGEMM_MATH_DEFAULT (0) or CONVGEMM_MATH_IEEE (1), "
                         "got %d", (int)p->math_mode);
  CONVGEMM_TRY(check_positive("n", p->n));
  CONVGEMM_TRY(check_positive("c", p->c));
  CONVGEMM_TRY(check_positive("h", p->h));
  CONVGEMM_TRY(check_positive("w", p->w));
  CONVGEMM_TRY(check_positive("k", p->k));
  CONVGEMM_TRY(check_positive("r", p->r));
  CONVGEMM_TRY(check_positive("s", p->s));
  CONVGEMM_TRY(check_positive("groups", p->groups));
  if (p->pad_h < 0 || p->pad_w < 0)
    return convgemm_fail(CONVGEMM_STATUS_BAD_PADDING,
                         "padding must be non-negative, got pad_h %lld, pad_w %lld",
                         (long long)p->pad_h, (long long)p->pad_w);
  if (p->pad_h > kMaxDim || p->pad_w > kMaxDim)
    return convgemm_fail(CONVGEMM_STATUS_SIZE_OVERFLOW,
                         "padding must be at most %lld, got pad_h %lld, pad_w %lld",
                         (long long)kMaxDim, (long long)p->pad_h, (long long)p->pad_w);
  CONVGEMM_TRY(check_at_least_one(CONVGEMM_STATUS_BAD_STRIDE, "stride_h", p->stride_h));
  CONVGEMM_TRY(check_at_least_one(CONVGEMM_STATUS_BAD_STRIDE, "stride_w", p->stride_w));
  CONVGEMM_TRY(check_at_least_one(CONVGEMM_STATUS_BAD_DILATION, "dilation_h", p->dilation_h));
  CONVGEMM_TRY(check_at_least_one(CONVGEMM_STATUS_BAD_DILATION, "dilation_w", p->dilation_w));
  if (p->c % p->groups != 0 || p->k % p->groups != 0)
    return convgemm_fail(CONVGEMM_STATUS_BAD_GROUPS,
                         "c (%lld) and k (%lld) must both be divisible by groups (%lld)",
                         (long long)p->c, (long long)p->k, (long long)p->groups);

  struct convgemm_conv_desc d;
  d.params = *p;
  d.params.has_bias = p->has_bias != 0;
  CONVGEMM_TRY(output_extent("height", p->h, p->pad_h, p->r, p->stride_h, p->dilation_h, &d.p));
  CONVGEMM_TRY(output_extent("width", p->w, p->pad_w, p->s, p->stride_w, p->dilation_w, &d.q));
  d.c_per_group = p->c / p->groups;
  d.k_per_group = p->k / p->groups;
  d.elem_bytes = convgemm_data_type_bytes(p->data_type);
  d.tf32_operands = p->data_type == CONVGEMM_DATA_FLOAT32 &&
                    p->math_mode == CONVGEMM_MATH_DEFAULT && d.c_per_group > 1;
  CONVGEMM_TRY(tensor_elems("input x (n, c, h, w)", p->data_type, p->n, p->c, p->h, p->w,
                            &d.x_elems));
  CONVGEMM_TRY(tensor_elems("filter w (k, c/groups, r, s)", p->data_type, p->k, d.c_per_group,
                            p->r, p->s, &d.w_elems));
  CONVGEMM_TRY(tensor_elems("output y (n, k, p, q)", p->data_type, p->n, p->k, d.p, d.q,
                            &d.y_elems));
  *out = d;
  return CONVGEMM_STATUS_SUCCESS;
}

convgemm_status_t convgemm_conv_desc_create(convgemm_conv_desc_t* desc,
                                            const convgemm_conv2d_params_t* params) {
  if (desc == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "desc is NULL");
  *desc = NULL;
  struct convgemm_conv_desc validated;
  CONVGEMM_TRY(convgemm_conv_desc_validate(params, &validated));
  struct convgemm_conv_desc* d = malloc(sizeof *d);
  if (d == NULL)
    return convgemm_fail(CONVGEMM_STATUS_ALLOC_FAILED, "out of host memory for a descriptor");
  *d = validated;
  *desc = d;
  return CONVGEMM_STATUS_SUCCESS;
}

convgemm_status_t convgemm_conv_desc_destroy(convgemm_conv_desc_t desc) {
  free(desc);
  return CONVGEMM_STATUS_SUCCESS;
}

convgemm_status_t convgemm_conv_desc_get_params(convgemm_conv_desc_t desc,
                                                convgemm_conv2d_params_t* params) {
  if (desc == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "desc is NULL");
  if (params == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "params is NULL");
  *params = desc->params;
  return CONVGEMM_STATUS_SUCCESS;
}

convgemm_status_t convgemm_get_output_shape(convgemm_conv_desc_t desc, int64_t* n, int64_t* k,
                                            int64_t* p, int64_t* q) {
  if (desc == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "desc is NULL");
  if (n == NULL || k == NULL || p == NULL || q == NULL)
    return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "an output-shape pointer is NULL");
  *n = desc->params.n;
  *k = desc->params.k;
  *p = desc->p;
  *q = desc->q;
  return CONVGEMM_STATUS_SUCCESS;
}
