/*
 * The cuBLAS back end: strided-batched GEMMs through cuBLASLt, A, B and D all float32, float16
 * or bfloat16, with the algorithm chosen once per shape and cached.
 *
 * Column-major, per batch b: D_b (m x n, ldd) = A_b (m x k, lda) * B_b (k x n, ldb), no transposes,
 * A_b = A + b*stride_a and likewise for B and D.
 * Math: float32 data with TF32 uses CUBLAS_COMPUTE_32F_FAST_TF32 (the caller feeds operands
 * already rounded to TF32, so cuBLAS's own conversion is exact); float32 without it uses
 * CUBLAS_COMPUTE_32F_PEDANTIC, which keeps fp32 math even where NVIDIA_TF32_OVERRIDE or a handle
 * setting would allow TF32. 16-bit data uses CUBLAS_COMPUTE_32F (exact products of the 16-bit
 * values accumulated in fp32 on the tensor cores, D rounded once to the 16-bit type: split-K
 * algorithms may only reduce their parts in fp32), scale type float. alpha = 1 and beta = 0
 * always; there is no C.
 */
#ifndef CONVGEMM_GEMM_CUBLASLT_GEMM_H_
#define CONVGEMM_GEMM_CUBLASLT_GEMM_H_

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "conv/convgemm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct convgemm_gemm_shape {
  int64_t m, n, k;
  int64_t lda, ldb, ldd;
  int64_t batch;
  int64_t stride_a, stride_b, stride_d;
  int tf32; /* float32 data only: nonzero TF32 tensor-core math, zero fp32 */
  /* SMs the GEMM should spread over (cuBLASLt's SM_COUNT_TARGET); 0: all of the device's.
   * Fewer leave SMs free for kernels running beside it on other streams. */
  int32_t sm_count;
  /* Alignment in bytes (a power of two <= 256) every batch entry's A, B and D pointer has;
   * convgemm_gemm_run fills these from the pointers and strides. */
  uint32_t align_a, align_b, align_d;
  convgemm_data_type_t data_type; /* of A, B and D (strides and leading dimensions in elements) */
} convgemm_gemm_shape_t;

typedef struct convgemm_gemm convgemm_gemm_t;

struct cublasLtContext; /* cublasLt.h's cublasLtHandle_t points to one */

/* Creates a cuBLASLt handle on the current context, for every convgemm_gemm_t of the context to
 * share (cuBLASLt's functions are thread-safe on one handle). Never destroyed: cublasLtDestroy
 * synchronizes the context (see conv/context_state.c). Statuses: CUBLAS_ERROR. */
convgemm_status_t convgemm_gemm_library_create(struct cublasLtContext** lt);

/* An empty algorithm cache running its GEMMs through `lt` (shared, not owned).
 * Statuses: ALLOC_FAILED. */
convgemm_status_t convgemm_gemm_create(convgemm_gemm_t** gemm, struct cublasLtContext* lt);

/* Frees the cache and its cuBLASLt descriptors; the shared handle stays. */
void convgemm_gemm_destroy(convgemm_gemm_t* gemm);

/* Queues D = A * B on `stream` (the algorithm is chosen for the pointers' actual alignment); `workspace` (workspace_bytes) is cuBLASLt's scratch and must not
 * be used by another stream at the same time. Statuses: CUBLAS_ERROR (no algorithm, or the call
 * failed), ALLOC_FAILED. */
convgemm_status_t convgemm_gemm_run(convgemm_gemm_t* gemm, const convgemm_gemm_shape_t* shape,
                                    const void* a, const void* b, void* d, void* workspace,
                                    size_t workspace_bytes, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_GEMM_CUBLASLT_GEMM_H_ */
