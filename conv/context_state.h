/*
 * What every handle on one CUDA context shares: the kernels' launch settings (the opt-in dynamic
 * shared-memory limits of DIRECT's and IMPLICIT_GEMM's kernels) and one cuBLASLt handle. Set up
 * by the first convgemm_create on the context, kept until the process ends.
 */
#ifndef CONVGEMM_CONTEXT_STATE_H_
#define CONVGEMM_CONTEXT_STATE_H_

#include "conv/convgemm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cublasLtContext;

/* For `device`, the current device, whose primary context the runtime has made current (any
 * runtime call that creates a stream or event does): configures the kernels and creates the
 * cuBLASLt handle if this context has not had them yet, and returns the handle in *lt.
 * Thread-safe. Statuses: CUDA_ERROR, CUBLAS_ERROR, with the last error set. */
convgemm_status_t convgemm_context_acquire(int device, int max_smem_per_block,
                                           struct cublasLtContext** lt);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_CONTEXT_STATE_H_ */
