/* IM2COL_GEMM: on-the-fly im2col feeding cuBLASLt GEMMs per group (see im2col_gemm_plan.h). */
#ifndef CONVGEMM_IM2COL_GEMM_H_
#define CONVGEMM_IM2COL_GEMM_H_

#include "conv/im2col_gemm_plan.h"
#include "conv/internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Stages of a call, for profiling: im2col alone, GEMMs alone (on whatever the buffers hold). */
enum {
  CONVGEMM_IM2COL_STAGE_IM2COL = 1,
  CONVGEMM_IM2COL_STAGE_GEMM = 2, /* the filter packing and the GEMMs */
  CONVGEMM_IM2COL_STAGES_ALL = 3
};

/* Enqueues the chosen stages of a call with `plan` directly on `stream` (forking onto the
 * handle's streams when the plan has two buffers), no graph. */
convgemm_status_t convgemm_im2col_gemm_enqueue(struct convgemm_handle* handle,
                                               const struct convgemm_conv_desc* desc,
                                               const convgemm_im2col_gemm_plan_t* plan,
                                               const void* x, const void* w, const void* bias,
                                               void* y, void* workspace, cudaStream_t stream,
                                               int stages);

/* Queues the convolution as a cached CUDA graph (or, when `stream` is being captured, as plain
 * launches); the pointers and workspace size are already validated, the handle's device is
 * current. */
convgemm_status_t convgemm_im2col_gemm_forward(struct convgemm_handle* handle,
                                               const struct convgemm_conv_desc* desc,
                                               const void* x, const void* w, const void* bias,
                                               void* y, void* workspace, size_t workspace_bytes,
                                               cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_IM2COL_GEMM_H_ */
