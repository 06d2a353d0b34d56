/* Which algorithm runs a descriptor: support checks, AUTO's choice, workspace sizes.
 * Pure host code, CPU-tested. */
#include "conv/direct_conv2d_plan.h"
#include "conv/im2col_gemm_plan.h"
#include "conv/implicit_gemm_plan.h"
#include "conv/internal.h"

const char* convgemm_algo_name(convgemm_algo_t algo) {
  switch (algo) {
    case CONVGEMM_ALGO_DIRECT: return "DIRECT";
    case CONVGEMM_ALGO_IM2COL_GEMM: return "IM2COL_GEMM";
    case CONVGEMM_ALGO_IMPLICIT_GEMM: return "IMPLICIT_GEMM";
    case CONVGEMM_ALGO_AUTO: return "AUTO";
  }
  return "?";
}

static int algo_is_known(convgemm_algo_t algo) {
  return algo == CONVGEMM_ALGO_DIRECT || algo == CONVGEMM_ALGO_IM2COL_GEMM ||
         algo == CONVGEMM_ALGO_IMPLICIT_GEMM || algo == CONVGEMM_ALGO_AUTO;
}

/* Whether IMPLICIT_GEMM's wgmma kernel (sm_90) runs `desc`, given whether its plan `igemm`
 * fits at stride 1 (`igemm_fits`), with enough channels per group and a wide enough output
 * (conv/internal.h): AUTO's first choice. */
static int wgmma_rule(const struct convgemm_conv_desc* desc, int igemm_fits,
                      const convgemm_igemm_plan_t* igemm) {
  const convgemm_conv2d_params_t* p = &desc->params;
  return igemm_fits && igemm->variant == CONVGEMM_IGEMM_WGMMA &&
         desc->c_per_group >= CONVGEMM_AUTO_IGEMM_WGMMA_MIN_CHANNELS &&
         desc->k_per_group >= CONVGEMM_AUTO_IGEMM_WGMMA_MIN_CHANNELS &&
         desc->q >= (p->r * p->s > 1 ? CONVGEMM_AUTO_IGEMM_WGMMA_MIN_Q : CONVGEMM_AUTO_IGEMM_MIN_Q);
}

/* AUTO for 16-bit data: IMPLICIT_GEMM's TMA kernel where the wgmma rule takes it (never its
 * 16-bit mma.sync kernel: conv/internal.h), else IM2COL_GEMM (tensor-core 16-bit GEMMs) where
 * the GEMM is large enough (K/G >= 8, (C/G)*R*S >= 64: conv/internal.h), else DIRECT. */
static convgemm_algo_t select_16bit(const struct convgemm_conv_desc* desc, int igemm_fits,
                                    const convgemm_igemm_plan_t* igemm) {
  if (wgmma_rule(desc, igemm_fits, igemm)) return CONVGEMM_ALGO_IMPLICIT_GEMM;
  const int64_t reduction = desc->c_per_group * desc->params.r * desc->params.s;
  if (desc->k_per_group >= CONVGEMM_AUTO_GEMM_MIN_K_PER_GROUP_16BIT &&
      reduction >= CONVGEMM_AUTO_GEMM_MIN_REDUCTION && convgemm_im2col_gemm_fits(desc))
    return CONVGEMM_ALGO_IM2COL_GEMM;
  return CONVGEMM_ALGO_DIRECT;
}

convgemm_algo_t convgemm_select_algorithm(const struct convgemm_conv_desc* desc,
                                          const convgemm_device_info_t* info) {
  const convgemm_conv2d_params_t* p = &desc->params;
  const int unit_stride = p->stride_h == 1 && p->stride_w == 1;
  convgemm_igemm_plan_t igemm; /* its kernel: wgmma or mma.sync */
  const int igemm_fits = unit_stride && convgemm_igemm_fits(desc, info, &igemm);
  if (convgemm_desc_is_16bit(desc)) return select_16bit(desc, igemm_fits, &igemm);
  /* IMPLICIT_GEMM's wgmma kernel (sm_90) first: with TF32 operands it wins from 8 channels per
   * group on, with fp32 operands (3xTF32) from C/G 16 and K/G 32 on (rules and measurements in
   * conv/internal.h; forward takes DIRECT instead where x is not 16-byte aligned, which the
   * 3xTF32 kernel's TMA loads need). */
  if (wgmma_rule(desc, igemm_fits, &igemm) &&
      (desc->tf32_operands ||
       (desc->c_per_group >= CONVGEMM_AUTO_IGEMM_SPLIT_MIN_C_PER_GROUP &&
        desc->k_per_group >= CONVGEMM_AUTO_IGEMM_SPLIT_MIN_K_PER_GROUP)))
    return CONVGEMM_ALGO_IMPLICIT_GEMM;
  /* DIRECT's ROW_STRIP kernel beats the GEMMs on its register-window path (stride_w 4, S 11):
   * the AlexNet stem (KernelBench 50) 1.48 ms against IM2COL_GEMM's 1.82 in DEFAULT math and
   * 2.47 in IEEE math, the same with C = 4 0.53 against 0.61. Its general path loses to
   * IM2COL_GEMM (5x5 stride 1 C 3: 2.24 against 1.16 ms; 7x7 stride 2: 0.79 against 0.53; 9x9
   * C 2: 0.53 against 0.36), so those keep the GEMM rule below (H100,
   * docs/optimization_log.md DIRECT 10). */
  if (convgemm_direct_takes_strip_window(desc, info->max_smem_per_block))
    return CONVGEMM_ALGO_DIRECT;
  /* GEMM pays off once each output channel has enough reduction work and enough channels share
   * a column matrix; small channel counts per group (depthwise, grouped, few filters) stay
   * DIRECT. Thresholds from the small_channels suite (docs/optimization_log.md). */
  const int64_t reduction = desc->c_per_group * desc->params.r * desc->params.s;
  const int64_t min_k_per_group = desc->tf32_operands ? CONVGEMM_AUTO_GEMM_MIN_K_PER_GROUP_TF32
                                                     : CONVGEMM_AUTO_GEMM_MIN_K_PER_GROUP_FP32;
  if (desc->k_per_group < min_k_per_group || reduction < CONVGEMM_AUTO_GEMM_MIN_REDUCTION)
    return CONVGEMM_ALGO_DIRECT;
  /* IMPLICIT_GEMM's mma.sync kernel: stride 1, R*S > 1 and a full 64-column tile (TF32
   * operands: the 3xTF32 kernel for fp32 operands is not AUTO's choice). */
  if (igemm_fits && desc->tf32_operands && p->r * p->s > 1 && desc->q >= CONVGEMM_AUTO_IGEMM_MIN_Q)
    return CONVGEMM_ALGO_IMPLICIT_GEMM;
  if (convgemm_im2col_gemm_fits(desc)) return CONVGEMM_ALGO_IM2COL_GEMM;
  return CONVGEMM_ALGO_DIRECT;
}

convgemm_status_t convgemm_algorithm_supports(const struct convgemm_conv_desc* desc,
                                              const convgemm_device_info_t* info,
                                              convgemm_algo_t algo) {
  switch (algo) {
    case CONVGEMM_ALGO_DIRECT:
      return CONVGEMM_STATUS_SUCCESS;
    case CONVGEMM_ALGO_IM2COL_GEMM:
      return convgemm_im2col_gemm_supports(desc);
    case CONVGEMM_ALGO_IMPLICIT_GEMM:
      return convgemm_igemm_supports(desc, info);
    case CONVGEMM_ALGO_AUTO:
      break;
  }
  return convgemm_fail(CONVGEMM_STATUS_INTERNAL_ERROR, "algorithm_supports got %d",
                       (int)algo);
}

convgemm_status_t convgemm_resolve_algorithm(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                                             convgemm_algo_t algo, convgemm_algo_t* resolved) {
  if (handle == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "handle is NULL");
  if (desc == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "desc is NULL");
  if (!algo_is_known(algo))
    return convgemm_fail(CONVGEMM_STATUS_BAD_ENUM,
                         "algo must be DIRECT (0), IM2COL_GEMM (1), IMPLICIT_GEMM (2) or AUTO (3), "
                         "got %d", (int)algo);
  *resolved = algo == CONVGEMM_ALGO_AUTO ? convgemm_select_algorithm(desc, &handle->info) : algo;
  return convgemm_algorithm_supports(desc, &handle->info, *resolved);
}

convgemm_status_t convgemm_get_algorithm(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                                         convgemm_algo_t* algo) {
  if (algo == NULL) return convgemm_fail(CONVGEMM_STATUS_NULL_POINTER, "algo is NULL");
  return convgemm_resolve_algorithm(handle, desc, CONVGEMM_ALGO_AUTO, algo);
}

convgemm_status_t convgemm_check_algorithm(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                                           convgemm_algo_t algo) {
  convgemm_algo_t resolved;
  return convgemm_resolve_algorithm(handle, desc, algo, &resolved);
}

convgemm_status_t convgemm_workspace_bytes(const struct convgemm_conv_desc* desc,
                                           const convgemm_device_info_t* info,
                                           convgemm_algo_t resolved, size_t* min_bytes,
                                           size_t* preferred_bytes) {
  switch (resolved) {
    case CONVGEMM_ALGO_DIRECT:
      *min_bytes = 0;
      *preferred_bytes = 0;
      return CONVGEMM_STATUS_SUCCESS;
    case CONVGEMM_ALGO_IM2COL_GEMM:
      convgemm_im2col_gemm_workspace(desc, info, min_bytes, preferred_bytes);
      return CONVGEMM_STATUS_SUCCESS;
    case CONVGEMM_ALGO_IMPLICIT_GEMM: {
      convgemm_igemm_plan_t plan;
      convgemm_igemm_make_plan(desc, info, &plan);
      *min_bytes = plan.workspace_bytes; /* the packed filter */
      *preferred_bytes = plan.workspace_bytes;
      return CONVGEMM_STATUS_SUCCESS;
    }
    default:
      return convgemm_fail(CONVGEMM_STATUS_INTERNAL_ERROR, "no workspace rule for algorithm %s",
                           convgemm_algo_name(resolved));
  }
}

convgemm_status_t convgemm_get_workspace_size(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                                              convgemm_algo_t algo, size_t* min_bytes,
                                              size_t* preferred_bytes) {
  convgemm_algo_t resolved;
  CONVGEMM_TRY(convgemm_resolve_algorithm(handle, desc, algo, &resolved));
  size_t min_b, pref_b;
  CONVGEMM_TRY(convgemm_workspace_bytes(desc, &handle->info, resolved, &min_b, &pref_b));
  if (min_bytes != NULL) *min_bytes = min_b;
  if (preferred_bytes != NULL) *preferred_bytes = pref_b;
  return CONVGEMM_STATUS_SUCCESS;
}
