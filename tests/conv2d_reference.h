/*
 * The float64 reference every convgemm result is judged against: a direct 2-D convolution with
 * PyTorch nn.Conv2d semantics (NCHW, cross-correlation, zero padding, stride, dilation, groups,
 * optional bias), written as plainly as possible and sharing no code with the library. It reads
 * the convolution from a convgemm_conv2d_params_t only as plain data (sizes and options) and
 * derives the output shape itself.
 *
 * Each output is a float64 sum of float64 products of the float inputs. A product of two floats is
 * exact in float64 (24 + 24 significant bits <= 53), so the only reference error is the float64
 * summation, ~2^29 times smaller than the float32 errors the tests bound.
 *
 * Besides y it gives, per output, abs_sum = sum |x*w| (+ |bias|): the quantity a rounding-error
 * bound of the accumulation is proportional to (see conv_compare.h).
 */
#ifndef CONVGEMM_TESTS_CONV2D_REFERENCE_H_
#define CONVGEMM_TESTS_CONV2D_REFERENCE_H_

#include <stdint.h>

#include "conv/convgemm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How x and w enter the products. bias is never rounded (the library adds it in fp32). */
typedef enum conv2d_reference_operands {
  CONV2D_REFERENCE_EXACT = 0, /* as given: what CONVGEMM_MATH_IEEE computes */
  CONV2D_REFERENCE_TF32 = 1   /* each rounded to TF32 ties-away first: CONVGEMM_MATH_DEFAULT */
} conv2d_reference_operands_t;

/* The operands the library uses for `p`: TF32 for float32 data in DEFAULT math when C/G > 1;
 * exact in IEEE math, for C/G == 1 (depthwise), where DEFAULT math is fp32 as in PyTorch, and for
 * 16-bit data in either mode (the caller passes x, w and bias already rounded to the 16-bit type,
 * tests/elem_type_host.h: exactly the values the GPU reads; their products are exact in float64
 * as well, 11 + 11 significant bits). */
conv2d_reference_operands_t conv2d_reference_operands_for(const convgemm_conv2d_params_t* p);

/* Output extent along one axis, floor((in + 2*pad - dilation*(filter-1) - 1) / stride) + 1,
 * or 0 when the dilated filter does not fit in the padded input. */
int64_t conv2d_reference_out_extent(int64_t in, int64_t pad, int64_t filter, int64_t stride,
                                    int64_t dilation);

/* N*K*P*Q of the convolution (0 if it has no output). */
int64_t conv2d_reference_y_elems(const convgemm_conv2d_params_t* p);

/* Every output, in NCHW order (N, K, P, Q).
 *   x     (N, C, H, W), w (K, C/groups, R, S), bias (K) or NULL for none (params->has_bias is
 *         not consulted: the caller says with the pointer)
 *   y     (N, K, P, Q) float64 results
 *   abs_sum  (N, K, P, Q) sum of |x*w| over the taps (+ |bias|); may be NULL */
void conv2d_reference(const convgemm_conv2d_params_t* p, const float* x, const float* w,
                      const float* bias, conv2d_reference_operands_t operands, double* y,
                      double* abs_sum);

/* Only the outputs at the given linear (N, K, P, Q) indices: y[i] and abs_sum[i] belong to
 * indices[i]. For problems whose full reference would take too long. abs_sum may be NULL. */
void conv2d_reference_at(const convgemm_conv2d_params_t* p, const float* x, const float* w,
                         const float* bias, conv2d_reference_operands_t operands,
                         const int64_t* indices, int64_t count, double* y, double* abs_sum);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_CONV2D_REFERENCE_H_ */
