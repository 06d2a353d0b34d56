/*
 * What the library's translation units share and the public header does not show: the handle and
 * descriptor structs, the error-reporting helper, derived sizes. Not installed for users.
 */
#ifndef CONVGEMM_INTERNAL_H_
#define CONVGEMM_INTERNAL_H_

#include "conv/convgemm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Per-device facts read once by convgemm_create; the algorithms size themselves from these. */
typedef struct convgemm_device_info {
  int device;                 /* CUDA ordinal */
  int cc_major, cc_minor;     /* compute capability */
  int sm_count;
  int max_smem_per_block;     /* bytes a block may opt in to (cudaDevAttrMaxSharedMemoryPerBlockOptin) */
  int l2_bytes;
} convgemm_device_info_t;

struct convgemm_handle {
  convgemm_device_info_t info;
};

/* A validated convolution; every derived size is computed once, here. */
struct convgemm_conv_desc {
  convgemm_conv2d_params_t params;
  int64_t p, q;               /* output height and width */
  int64_t c_per_group;        /* C / G */
  int64_t k_per_group;        /* K / G */
  int64_t x_elems, w_elems, y_elems;
};

/* Returns from the enclosing function with the status of `expr` unless it is SUCCESS. */
#define CONVGEMM_TRY(expr)                                 \
  do {                                                     \
    convgemm_status_t convgemm_try_status_ = (expr);       \
    if (convgemm_try_status_ != CONVGEMM_STATUS_SUCCESS)   \
      return convgemm_try_status_;                         \
  } while (0)

/* Records printf-style `fmt` as this thread's last error and returns `status`. */
convgemm_status_t convgemm_fail(convgemm_status_t status, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Validates params; on success fills *out (derived sizes included). Pure host code. */
convgemm_status_t convgemm_conv_desc_validate(const convgemm_conv2d_params_t* params,
                                              struct convgemm_conv_desc* out);

/* AUTO's choice for `desc` on a device: a pure host function (CPU-tested). */
convgemm_algo_t convgemm_select_algorithm(const struct convgemm_conv_desc* desc,
                                          const convgemm_device_info_t* info);

/* Whether `algo` (not AUTO) can run `desc` on the device: SUCCESS or NOT_SUPPORTED with reason. */
convgemm_status_t convgemm_algorithm_supports(const struct convgemm_conv_desc* desc,
                                              const convgemm_device_info_t* info,
                                              convgemm_algo_t algo);

/* Checks handle, desc and algo, resolves AUTO into *resolved and checks that it supports desc:
 * the common front of the queries and of forward. */
convgemm_status_t convgemm_resolve_algorithm(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                                             convgemm_algo_t algo, convgemm_algo_t* resolved);

/* Workspace bounds of a resolved (supported) algorithm. */
convgemm_status_t convgemm_workspace_bytes(const struct convgemm_conv_desc* desc,
                                           const convgemm_device_info_t* info,
                                           convgemm_algo_t resolved, size_t* min_bytes,
                                           size_t* preferred_bytes);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_INTERNAL_H_ */
