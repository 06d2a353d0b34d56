/*
 * Device facts of real GPUs, written down so the host-side decisions that depend on them (DIRECT's
 * tiling plan, algorithm choice, the queries that take a handle) are tested on machines without
 * a GPU. The numbers are what cudaDeviceGetAttribute reports on those cards.
 */
#ifndef CONVGEMM_TESTS_FAKE_DEVICE_H_
#define CONVGEMM_TESTS_FAKE_DEVICE_H_

#include "conv/internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* H100 SXM: cc 9.0, 132 SMs, 227 KB (232448 bytes) of opt-in shared memory per block, 50 MB L2. */
convgemm_device_info_t fake_device_h100(void);

/* A100 SXM: cc 8.0, 108 SMs, 163 KB (166912 bytes) of opt-in shared memory per block, 40 MB L2. */
convgemm_device_info_t fake_device_a100(void);

/* A handle bound to `info` without touching CUDA, for the host-only parts of the API. */
struct convgemm_handle fake_device_handle(convgemm_device_info_t info);

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_TESTS_FAKE_DEVICE_H_ */
