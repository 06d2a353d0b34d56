/* The fuzzer's independent model of the library's promises (fuzz_model.h). */
#include "tests/fuzz_model.h"

#include <string.h>

#include "im2col/im2col.h"

static const int64_t kMax32 = INT32_MAX;
static const fuzz_wide_t kMax64 = INT64_MAX;

static int in_range(int64_t v, int64_t lo) { return v >= lo && v <= kMax32; }

/* A size, padding, stride or dilation: below `lo` is `low_status`, above 2^31-1 SIZE_OVERFLOW. */
static uint32_t range_reasons(int64_t v, int64_t lo, convgemm_status_t low_status) {
  if (v < lo) return FUZZ_BIT(low_status);
  if (v > kMax32) return FUZZ_BIT(CONVGEMM_STATUS_SIZE_OVERFLOW);
  return 0;
}

/* One output extent, when every input of it is in range; FILTER_TOO_LARGE when the dilated
 * filter is longer than the padded input. Returns whether *out was set. */
static int output_extent(int64_t in, int64_t pad, int64_t filter, int64_t stride,
                         int64_t dilation, uint32_t* reasons, int64_t* out) {
  if (!in_range(in, 1) || !in_range(pad, 0) || !in_range(filter, 1) || !in_range(stride, 1) ||
      !in_range(dilation, 1))
    return 0;
  const fuzz_wide_t padded = (fuzz_wide_t)in + 2 * (fuzz_wide_t)pad;
  const fuzz_wide_t dilated = (fuzz_wide_t)dilation * (filter - 1) + 1;
  if (dilated > padded) {
    *reasons |= FUZZ_BIT(CONVGEMM_STATUS_FILTER_TOO_LARGE);
    return 0;
  }
  *out = (int64_t)((padded - dilated) / stride + 1);
  return 1;
}

/* a*b*c*d elements of `elem` bytes, or -1 when the bytes exceed 2^63-1. Each factor is in
 * [1, 2^34). */
static int64_t tensor_elems(int64_t a, int64_t b, int64_t c, int64_t d, int elem) {
  fuzz_wide_t e = a;
  const int64_t factors[3] = {b, c, d};
  for (int i = 0; i < 3; ++i) {
    e *= factors[i]; /* below 2^63 * 2^34 */
    if (e * elem > kMax64) return -1;
  }
  return (int64_t)e;
}

int fuzz_model_elem_bytes(convgemm_data_type_t type) {
  return (int)type == (int)CONVGEMM_DATA_FLOAT16 || (int)type == (int)CONVGEMM_DATA_BFLOAT16 ? 2
                                                                                             : 4;
}

void fuzz_model_desc(const convgemm_conv2d_params_t* p, fuzz_model_t* m) {
  memset(m, 0, sizeof *m);
  uint32_t r = 0;
  const int type_known = (int)p->data_type == (int)CONVGEMM_DATA_FLOAT32 ||
                         (int)p->data_type == (int)CONVGEMM_DATA_FLOAT16 ||
                         (int)p->data_type == (int)CONVGEMM_DATA_BFLOAT16;
  if (!type_known) r |= FUZZ_BIT(CONVGEMM_STATUS_BAD_ENUM);
  const int elem = fuzz_model_elem_bytes(p->data_type); /* 4 for an unknown type: BAD_ENUM */
  if ((int)p->math_mode != (int)CONVGEMM_MATH_DEFAULT &&
      (int)p->math_mode != (int)CONVGEMM_MATH_IEEE)
    r |= FUZZ_BIT(CONVGEMM_STATUS_BAD_ENUM);
  const int64_t sizes[8] = {p->n, p->c, p->h, p->w, p->k, p->r, p->s, p->groups};
  for (int i = 0; i < 8; ++i) r |= range_reasons(sizes[i], 1, CONVGEMM_STATUS_BAD_SIZE);
  r |= range_reasons(p->pad_h, 0, CONVGEMM_STATUS_BAD_PADDING);
  r |= range_reasons(p->pad_w, 0, CONVGEMM_STATUS_BAD_PADDING);
  r |= range_reasons(p->stride_h, 1, CONVGEMM_STATUS_BAD_STRIDE);
  r |= range_reasons(p->stride_w, 1, CONVGEMM_STATUS_BAD_STRIDE);
  r |= range_reasons(p->dilation_h, 1, CONVGEMM_STATUS_BAD_DILATION);
  r |= range_reasons(p->dilation_w, 1, CONVGEMM_STATUS_BAD_DILATION);
  int groups_divide = 0;
  if (p->groups >= 1) {
    if (p->c % p->groups != 0 || p->k % p->groups != 0)
      r |= FUZZ_BIT(CONVGEMM_STATUS_BAD_GROUPS);
    else
      groups_divide = 1;
  }
  int64_t out_p = 0, out_q = 0;
  const int have_p = output_extent(p->h, p->pad_h, p->r, p->stride_h, p->dilation_h, &r, &out_p);
  const int have_q = output_extent(p->w, p->pad_w, p->s, p->stride_w, p->dilation_w, &r, &out_q);
  /* Each tensor's byte count, wherever its factors are known. */
  const int nchw = in_range(p->n, 1) && in_range(p->c, 1) && in_range(p->h, 1) &&
                   in_range(p->w, 1);
  const int weights = in_range(p->k, 1) && in_range(p->c, 1) && in_range(p->groups, 1) &&
                      groups_divide && in_range(p->r, 1) && in_range(p->s, 1);
  const int output = in_range(p->n, 1) && in_range(p->k, 1) && have_p && have_q;
  int64_t x_elems = 0, w_elems = 0, y_elems = 0;
  if (nchw && (x_elems = tensor_elems(p->n, p->c, p->h, p->w, elem)) < 0)
    r |= FUZZ_BIT(CONVGEMM_STATUS_SIZE_OVERFLOW);
  if (weights && (w_elems = tensor_elems(p->k, p->c / p->groups, p->r, p->s, elem)) < 0)
    r |= FUZZ_BIT(CONVGEMM_STATUS_SIZE_OVERFLOW);
  if (output && (y_elems = tensor_elems(p->n, p->k, out_p, out_q, elem)) < 0)
    r |= FUZZ_BIT(CONVGEMM_STATUS_SIZE_OVERFLOW);
  m->reasons = r;
  if (r != 0) return;
  m->p = out_p;
  m->q = out_q;
  m->c_per_group = p->c / p->groups;
  m->k_per_group = p->k / p->groups;
  m->x_elems = x_elems;
  m->w_elems = w_elems;
  m->y_elems = y_elems;
  m->elem_bytes = elem;
  m->tf32_operands = p->data_type == CONVGEMM_DATA_FLOAT32 &&
                     p->math_mode == CONVGEMM_MATH_DEFAULT && m->c_per_group > 1;
  m->bias_rows = !p->has_bias ? 0 : m->tf32_operands ? 2 : 1;
}

static fuzz_wide_t ceil_div(fuzz_wide_t a, fuzz_wide_t b) { return (a + b - 1) / b; }

int fuzz_model_im2col_fits(const convgemm_conv2d_params_t* p, const fuzz_model_t* m) {
  const fuzz_wide_t rows_per_group =
      ceil_div((fuzz_wide_t)m->c_per_group * p->r * p->s + m->bias_rows, 4) * 4;
  const fuzz_wide_t row_blocks =
      p->groups * (ceil_div(m->c_per_group, CONVGEMM_IM2COL_CHANNELS_PER_BLOCK) + 1);
  return (fuzz_wide_t)m->p * m->q <= kMax32 &&
         (fuzz_wide_t)p->h + 2 * (fuzz_wide_t)p->pad_h <= kMax32 &&
         (fuzz_wide_t)p->w + 2 * (fuzz_wide_t)p->pad_w <= kMax32 &&
         p->groups * rows_per_group <= kMax32 && row_blocks <= 65535;
}

convgemm_direct_tile_t fuzz_model_direct_tile(const fuzz_model_t* m) {
  if (m->c_per_group == 1) return CONVGEMM_DIRECT_DEPTHWISE;
  if (m->k_per_group >= 48) return CONVGEMM_DIRECT_TILE_K64;
  if (m->k_per_group >= 8) return CONVGEMM_DIRECT_TILE_K16;
  return CONVGEMM_DIRECT_TILE_K1;
}

int fuzz_model_row_strip_suits(const convgemm_conv2d_params_t* p, const fuzz_model_t* m) {
  const fuzz_wide_t padded = ceil_div(m->k_per_group, 96) * 96;
  return m->c_per_group >= 2 && m->c_per_group <= 4 && (fuzz_wide_t)p->r * p->s >= 25 &&
         m->k_per_group >= 72 && 3 * padded <= 4 * (fuzz_wide_t)m->k_per_group;
}

int64_t fuzz_model_row_strip_row_groups(const fuzz_model_t* m) {
  const int64_t groups = (int64_t)ceil_div(m->q, 5);
  return groups < 32 ? groups : 32;
}

fuzz_wide_t fuzz_model_row_strip_halo_h(const convgemm_conv2d_params_t* p,
                                        const fuzz_model_t* m) {
  const int64_t row_groups = fuzz_model_row_strip_row_groups(m);
  int64_t rows = 0;
  for (int64_t start = 0; start < 32 * row_groups; start += 32) {
    const int64_t span = (start % row_groups + 31) / row_groups + 1;
    if (span > rows) rows = span;
  }
  if (rows > m->p) rows = m->p;
  return fuzz_model_direct_halo(rows, p->stride_h, p->r, p->dilation_h);
}

fuzz_wide_t fuzz_model_row_strip_smem(const convgemm_conv2d_params_t* p, fuzz_wide_t halo_h,
                                      fuzz_wide_t row_ld, int64_t c_chunk) {
  const fuzz_wide_t taps = (fuzz_wide_t)c_chunk * p->r * p->s;
  return 128 + 4 * (taps * 104 + c_chunk * halo_h * row_ld + taps);
}

fuzz_wide_t fuzz_model_direct_halo(int64_t tile, int64_t stride, int64_t filter,
                                   int64_t dilation) {
  return (fuzz_wide_t)(tile - 1) * stride + (fuzz_wide_t)(filter - 1) * dilation + 1;
}

fuzz_wide_t fuzz_model_direct_smem(const convgemm_conv2d_params_t* p, convgemm_direct_tile_t tile,
                                   int w_ld, fuzz_wide_t halo_h, fuzz_wide_t halo_w,
                                   int64_t c_chunk) {
  const fuzz_wide_t taps = (fuzz_wide_t)p->r * p->s;
  if (tile == CONVGEMM_DIRECT_DEPTHWISE) return 2 * (ceil_div(taps, 4) * 4 + halo_h * halo_w) * 4;
  return (c_chunk * taps * w_ld + c_chunk * halo_h * halo_w) * 4;
}
