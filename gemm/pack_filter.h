/*
 * The GEMM's B operand for IM2COL_GEMM: the filter packed per output channel, one row of
 * krg_pad elements each (column-major krg_pad x K/G per group, the layout cuBLAS reads), in the
 * filter's own data type (float32, float16 or bfloat16):
 *   packed[k][j] = w[k][j] (TF32-rounded in DEFAULT math)        j < krg = (C/G)*R*S
 *   packed[k][krg], packed[k][krg+1] = bias's TF32 high part and TF32 remainder, hi + lo within
 *                   2^-22 |bias| of the bias (DEFAULT math;
 *                   multiplied by the column matrix's rows of ones they add the bias with fp32
 *                   accuracy inside a TF32 GEMM), or packed[k][krg] = bias (IEEE math, and
 *                   16-bit data: the bias itself, times a row of ones, is exact in the GEMM's
 *                   fp32 accumulator, so it is added in fp32 before the one rounding of y)
 *   0 elsewhere (padding of krg_pad to a multiple of 4).
 * Packed on every forward call, so a caller's new weights are always seen.
 */
#ifndef CONVGEMM_GEMM_PACK_FILTER_H_
#define CONVGEMM_GEMM_PACK_FILTER_H_

#include <stdint.h>

#include <cuda_runtime_api.h>

#include "conv/convgemm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct convgemm_pack_filter_args {
  const void* w;      /* (K, krg) elements of data_type */
  const void* bias;   /* (K) or NULL */
  void* packed;       /* (K, krg_pad) */
  int64_t k, krg, krg_pad;
  int64_t bias_rows;  /* 0, 1 (IEEE math, or 16-bit data) or 2 (DEFAULT math, float32) */
  int round_tf32;     /* float32 data only */
  convgemm_data_type_t data_type; /* of w, bias and packed */
} convgemm_pack_filter_args_t;

cudaError_t convgemm_pack_filter_launch(const convgemm_pack_filter_args_t* args,
                                        cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_GEMM_PACK_FILTER_H_ */
