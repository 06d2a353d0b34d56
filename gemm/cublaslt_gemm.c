/* cuBLASLt GEMMs with a per-shape algorithm cache (see cublaslt_gemm.h). */
#include "gemm/cublaslt_gemm.h"

#include <stdlib.h>
#include <string.h>

#include <cublasLt.h>

#include "conv/data_type.h"
#include "conv/error.h"

enum { CONVGEMM_GEMM_CACHE_ENTRIES = 8 };

/* One shape's cuBLASLt descriptors and chosen algorithm. */
typedef struct gemm_plan {
  int used;
  uint64_t last_use;
  convgemm_gemm_shape_t shape;
  size_t workspace_bytes;
  cublasLtMatmulDesc_t op;
  cublasLtMatrixLayout_t a, b, d;
  cublasLtMatmulAlgo_t algo;
} gemm_plan_t;

struct convgemm_gemm {
  cublasLtHandle_t lt; /* the context's, shared (conv/context_state.c) */
  uint64_t clock;
  gemm_plan_t cache[CONVGEMM_GEMM_CACHE_ENTRIES];
};

static convgemm_status_t lt_fail(cublasStatus_t s, const char* what) {
  return convgemm_fail(CONVGEMM_STATUS_CUBLAS_ERROR, "cuBLASLt %s failed: %s (%d)", what,
                       cublasLtGetStatusString(s), (int)s);
}

#define LT_TRY(call, what)                                   \
  do {                                                       \
    const cublasStatus_t lt_try_status_ = (call);            \
    if (lt_try_status_ != CUBLAS_STATUS_SUCCESS)             \
      return lt_fail(lt_try_status_, what);                  \
  } while (0)

convgemm_status_t convgemm_gemm_library_create(struct cublasLtContext** lt) {
  cublasLtHandle_t handle = NULL;
  LT_TRY(cublasLtCreate(&handle), "cublasLtCreate");
  *lt = handle;
  return CONVGEMM_STATUS_SUCCESS;
}

convgemm_status_t convgemm_gemm_create(convgemm_gemm_t** gemm, struct cublasLtContext* lt) {
  convgemm_gemm_t* g = calloc(1, sizeof *g);
  if (g == NULL) return convgemm_fail(CONVGEMM_STATUS_ALLOC_FAILED, "out of host memory");
  g->lt = lt;
  *gemm = g;
  return CONVGEMM_STATUS_SUCCESS;
}

/* Destroys what exists of a plan (a plan that failed half-way has NULL for what was never
 * created: plan_build starts from a zeroed plan) and marks it unused. */
static void plan_release(gemm_plan_t* p) {
  if (!p->used) return;
  if (p->a != NULL) cublasLtMatrixLayoutDestroy(p->a);
  if (p->b != NULL) cublasLtMatrixLayoutDestroy(p->b);
  if (p->d != NULL) cublasLtMatrixLayoutDestroy(p->d);
  if (p->op != NULL) cublasLtMatmulDescDestroy(p->op);
  p->a = p->b = p->d = NULL;
  p->op = NULL;
  p->used = 0;
}

void convgemm_gemm_destroy(convgemm_gemm_t* gemm) {
  if (gemm == NULL) return;
  for (int i = 0; i < CONVGEMM_GEMM_CACHE_ENTRIES; ++i) plan_release(&gemm->cache[i]);
  free(gemm);
}

static cudaDataType_t cuda_type(convgemm_data_type_t type) {
  switch (type) {
    case CONVGEMM_DATA_FLOAT16: return CUDA_R_16F;
    case CONVGEMM_DATA_BFLOAT16: return CUDA_R_16BF;
    case CONVGEMM_DATA_FLOAT32: break;
  }
  return CUDA_R_32F;
}

static const char* math_name(const convgemm_gemm_shape_t* s) {
  switch (s->data_type) {
    case CONVGEMM_DATA_FLOAT16: return "FP16 (fp32 accumulation)";
    case CONVGEMM_DATA_BFLOAT16: return "BF16 (fp32 accumulation)";
    case CONVGEMM_DATA_FLOAT32: break;
  }
  return s->tf32 ? "TF32" : "FP32";
}

static convgemm_status_t layout(cublasLtMatrixLayout_t* out, cudaDataType_t type, int64_t rows,
                                int64_t cols, int64_t ld, int64_t batch, int64_t stride) {
  const cublasStatus_t created =
      cublasLtMatrixLayoutCreate(out, type, (uint64_t)rows, (uint64_t)cols, ld);
  if (created != CUBLAS_STATUS_SUCCESS) {
    *out = NULL; /* nothing for plan_release to destroy */
    return lt_fail(created, "cublasLtMatrixLayoutCreate");
  }
  if (batch > 1) {
    const int32_t count = (int32_t)batch;
    LT_TRY(cublasLtMatrixLayoutSetAttribute(*out, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
                                            sizeof count),
           "setting the batch count");
    LT_TRY(cublasLtMatrixLayoutSetAttribute(*out, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                            &stride, sizeof stride),
           "setting the batch stride");
  }
  return CONVGEMM_STATUS_SUCCESS;
}

static convgemm_status_t plan_build(convgemm_gemm_t* g, const convgemm_gemm_shape_t* s,
                                    size_t workspace_bytes, gemm_plan_t* p) {
  memset(p, 0, sizeof *p);
  const cublasComputeType_t compute = s->data_type != CONVGEMM_DATA_FLOAT32 ? CUBLAS_COMPUTE_32F
                                      : s->tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32
                                                : CUBLAS_COMPUTE_32F_PEDANTIC;
  const cudaDataType_t type = cuda_type(s->data_type);
  /* The scale type (alpha, beta) is float for every data type (CUBLAS_COMPUTE_32F's). */
  const cublasStatus_t created = cublasLtMatmulDescCreate(&p->op, compute, CUDA_R_32F);
  if (created != CUBLAS_STATUS_SUCCESS) {
    p->op = NULL;
    return lt_fail(created, "cublasLtMatmulDescCreate");
  }
  p->used = 1; /* from here plan_release cleans up what exists */
  convgemm_status_t st = CONVGEMM_STATUS_SUCCESS;
  if (s->sm_count > 0) {
    const cublasStatus_t as = cublasLtMatmulDescSetAttribute(
        p->op, CUBLASLT_MATMUL_DESC_SM_COUNT_TARGET, &s->sm_count, sizeof s->sm_count);
    if (as != CUBLAS_STATUS_SUCCESS) {
      plan_release(p);
      return lt_fail(as, "setting the SM count target");
    }
  }
  /* A layout that failed part-way (its batch attributes) was created: plan_release frees it and
   * the ones before it (they used to leak). */
  if ((st = layout(&p->a, type, s->m, s->k, s->lda, s->batch, s->stride_a)) !=
          CONVGEMM_STATUS_SUCCESS ||
      (st = layout(&p->b, type, s->k, s->n, s->ldb, s->batch, s->stride_b)) !=
          CONVGEMM_STATUS_SUCCESS ||
      (st = layout(&p->d, type, s->m, s->n, s->ldd, s->batch, s->stride_d)) !=
          CONVGEMM_STATUS_SUCCESS) {
    plan_release(p);
    return st;
  }
  /* Destroyed only if created: after a failed create `pref` is no handle, and destroying it
   * passed an uninitialized pointer to cuBLASLt (a host crash on that error path). */
  cublasLtMatmulPreference_t pref = NULL;
  cublasStatus_t ls = cublasLtMatmulPreferenceCreate(&pref);
  const int have_pref = ls == CUBLAS_STATUS_SUCCESS;
  if (ls == CUBLAS_STATUS_SUCCESS)
    ls = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                              &workspace_bytes, sizeof workspace_bytes);
  /* Without these cuBLASLt assumes 256-byte aligned pointers; D = y + an offset may be only
   * element-aligned (4 bytes, or 2 for 16-bit data). C is D. */
  if (ls == CUBLAS_STATUS_SUCCESS)
    ls = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                              &s->align_a, sizeof s->align_a);
  if (ls == CUBLAS_STATUS_SUCCESS)
    ls = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                              &s->align_b, sizeof s->align_b);
  if (ls == CUBLAS_STATUS_SUCCESS)
    ls = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                              &s->align_d, sizeof s->align_d);
  if (ls == CUBLAS_STATUS_SUCCESS)
    ls = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                              &s->align_d, sizeof s->align_d);
  /* 16-bit D: split-K partial sums only in the compute type (fp32). The in-place and output-type
   * schemes add the parts up in D's type, which would round y more than once. (For float32 D the
   * output type is the compute type: no restriction.) */
  if (ls == CUBLAS_STATUS_SUCCESS && s->data_type != CONVGEMM_DATA_FLOAT32) {
    const uint32_t schemes =
        CUBLASLT_REDUCTION_SCHEME_NONE | CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE;
    ls = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK,
                                              &schemes, sizeof schemes);
  }
  cublasLtMatmulHeuristicResult_t result;
  int found = 0;
  if (ls == CUBLAS_STATUS_SUCCESS)
    ls = cublasLtMatmulAlgoGetHeuristic(g->lt, p->op, p->a, p->b, p->d, p->d, pref, 1, &result,
                                        &found);
  if (have_pref) cublasLtMatmulPreferenceDestroy(pref);
  if (ls != CUBLAS_STATUS_SUCCESS || found == 0) {
    plan_release(p);
    if (ls != CUBLAS_STATUS_SUCCESS) return lt_fail(ls, "choosing an algorithm");
    return convgemm_fail(CONVGEMM_STATUS_CUBLAS_ERROR,
                         "cuBLASLt has no %s algorithm for m %lld, n %lld, k %lld, batch %lld "
                         "(alignment of A %u, B %u, D %u bytes)",
                         math_name(s), (long long)s->m, (long long)s->n, (long long)s->k,
                         (long long)s->batch, s->align_a, s->align_b, s->align_d);
  }
  p->algo = result.algo;
  p->shape = *s;
  p->workspace_bytes = workspace_bytes;
  return CONVGEMM_STATUS_SUCCESS;
}

/* The largest power of two <= 256 dividing the address of every batch entry. */
static uint32_t alignment(const void* ptr, int64_t stride_elems, int64_t batch,
                          convgemm_data_type_t type) {
  uint64_t bits = (uint64_t)(uintptr_t)ptr | 256u;
  if (batch > 1) bits |= (uint64_t)stride_elems * (uint64_t)convgemm_data_type_bytes(type);
  return (uint32_t)(bits & (~bits + 1));
}

static int shape_equal(const convgemm_gemm_shape_t* x, const convgemm_gemm_shape_t* y) {
  return x->m == y->m && x->n == y->n && x->k == y->k && x->lda == y->lda && x->ldb == y->ldb &&
         x->ldd == y->ldd && x->batch == y->batch && x->stride_a == y->stride_a &&
         x->stride_b == y->stride_b && x->stride_d == y->stride_d && x->tf32 == y->tf32 &&
         x->sm_count == y->sm_count && x->data_type == y->data_type &&
         x->align_a == y->align_a && x->align_b == y->align_b && x->align_d == y->align_d;
}

/* The cached plan for shape `s`, built on a miss (replacing the least recently used). */
static convgemm_status_t plan_get(convgemm_gemm_t* g, const convgemm_gemm_shape_t* s,
                                  size_t workspace_bytes, gemm_plan_t** out) {
  gemm_plan_t* victim = &g->cache[0];
  for (int i = 0; i < CONVGEMM_GEMM_CACHE_ENTRIES; ++i) {
    gemm_plan_t* p = &g->cache[i];
    if (p->used && p->workspace_bytes == workspace_bytes && shape_equal(&p->shape, s)) {
      p->last_use = ++g->clock;
      *out = p;
      return CONVGEMM_STATUS_SUCCESS;
    }
    if (!p->used || (victim->used && p->last_use < victim->last_use)) victim = p;
  }
  plan_release(victim);
  CONVGEMM_TRY(plan_build(g, s, workspace_bytes, victim));
  victim->last_use = ++g->clock;
  *out = victim;
  return CONVGEMM_STATUS_SUCCESS;
}

convgemm_status_t convgemm_gemm_run(convgemm_gemm_t* gemm, const convgemm_gemm_shape_t* shape,
                                    const void* a, const void* b, void* d, void* workspace,
                                    size_t workspace_bytes, cudaStream_t stream) {
  convgemm_gemm_shape_t key = *shape;
  key.align_a = alignment(a, shape->stride_a, shape->batch, shape->data_type);
  key.align_b = alignment(b, shape->stride_b, shape->batch, shape->data_type);
  key.align_d = alignment(d, shape->stride_d, shape->batch, shape->data_type);
  gemm_plan_t* p;
  CONVGEMM_TRY(plan_get(gemm, &key, workspace_bytes, &p));
  const float alpha = 1.0f, beta = 0.0f;
  LT_TRY(cublasLtMatmul(gemm->lt, p->op, &alpha, a, p->a, b, p->b, &beta, d, p->d, d, p->d,
                        &p->algo, workspace, workspace_bytes, stream),
         "cublasLtMatmul");
  return CONVGEMM_STATUS_SUCCESS;
}
