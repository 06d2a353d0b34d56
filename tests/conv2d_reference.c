/* Float64 reference convolution (see conv2d_reference.h). */
#include "tests/conv2d_reference.h"

#include <math.h>

#include "tests/tf32_round_host.h"

conv2d_reference_operands_t conv2d_reference_operands_for(const convgemm_conv2d_params_t* p) {
  return p->data_type == CONVGEMM_DATA_FLOAT32 && p->math_mode == CONVGEMM_MATH_DEFAULT &&
                 p->c / p->groups > 1
             ? CONV2D_REFERENCE_TF32
             : CONV2D_REFERENCE_EXACT;
}

int64_t conv2d_reference_out_extent(int64_t in, int64_t pad, int64_t filter, int64_t stride,
                                    int64_t dilation) {
  const int64_t span = in + 2 * pad - dilation * (filter - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

int64_t conv2d_reference_y_elems(const convgemm_conv2d_params_t* p) {
  return p->n * p->k *
         conv2d_reference_out_extent(p->h, p->pad_h, p->r, p->stride_h, p->dilation_h) *
         conv2d_reference_out_extent(p->w, p->pad_w, p->s, p->stride_w, p->dilation_w);
}

static float operand(float v, conv2d_reference_operands_t operands) {
  return operands == CONV2D_REFERENCE_TF32 ? tf32_round_rna_host(v) : v;
}

/* One output y[n][k][oh][ow], from its linear index. */
static void reference_one(const convgemm_conv2d_params_t* p, int64_t out_h, int64_t out_w,
                          const float* x, const float* w, const float* bias,
                          conv2d_reference_operands_t operands, int64_t index, double* y,
                          double* abs_sum) {
  const int64_t ow = index % out_w;
  const int64_t oh = (index / out_w) % out_h;
  const int64_t k = (index / (out_w * out_h)) % p->k;
  const int64_t n = index / (out_w * out_h * p->k);
  const int64_t c_per_group = p->c / p->groups;
  const int64_t k_per_group = p->k / p->groups;
  const int64_t g = k / k_per_group;

  double sum = 0.0, sum_abs = 0.0;
  for (int64_t cg = 0; cg < c_per_group; ++cg) {
    const int64_t c = g * c_per_group + cg;
    for (int64_t r = 0; r < p->r; ++r) {
      const int64_t ih = oh * p->stride_h - p->pad_h + r * p->dilation_h;
      if (ih < 0 || ih >= p->h) continue; /* zero padding: the term is 0 */
      for (int64_t s = 0; s < p->s; ++s) {
        const int64_t iw = ow * p->stride_w - p->pad_w + s * p->dilation_w;
        if (iw < 0 || iw >= p->w) continue;
        const double xv = operand(x[((n * p->c + c) * p->h + ih) * p->w + iw], operands);
        const double wv = operand(w[((k * c_per_group + cg) * p->r + r) * p->s + s], operands);
        const double product = xv * wv; /* exact: 24 x 24 significant bits */
        sum += product;
        sum_abs += fabs(product);
      }
    }
  }
  if (bias != NULL) {
    sum += (double)bias[k];
    sum_abs += fabs((double)bias[k]);
  }
  *y = sum;
  if (abs_sum != NULL) *abs_sum = sum_abs;
}

void conv2d_reference_at(const convgemm_conv2d_params_t* p, const float* x, const float* w,
                         const float* bias, conv2d_reference_operands_t operands,
                         const int64_t* indices, int64_t count, double* y, double* abs_sum) {
  const int64_t out_h = conv2d_reference_out_extent(p->h, p->pad_h, p->r, p->stride_h,
                                                    p->dilation_h);
  const int64_t out_w = conv2d_reference_out_extent(p->w, p->pad_w, p->s, p->stride_w,
                                                    p->dilation_w);
  for (int64_t i = 0; i < count; ++i)
    reference_one(p, out_h, out_w, x, w, bias, operands, indices[i], &y[i],
                  abs_sum != NULL ? &abs_sum[i] : NULL);
}

void conv2d_reference(const convgemm_conv2d_params_t* p, const float* x, const float* w,
                      const float* bias, conv2d_reference_operands_t operands, double* y,
                      double* abs_sum) {
  const int64_t out_h = conv2d_reference_out_extent(p->h, p->pad_h, p->r, p->stride_h,
                                                    p->dilation_h);
  const int64_t out_w = conv2d_reference_out_extent(p->w, p->pad_w, p->s, p->stride_w,
                                                    p->dilation_w);
  const int64_t total = p->n * p->k * out_h * out_w;
  for (int64_t i = 0; i < total; ++i)
    reference_one(p, out_h, out_w, x, w, bias, operands, i, &y[i],
                  abs_sum != NULL ? &abs_sum[i] : NULL);
}
