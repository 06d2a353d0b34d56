/* Recorded device facts for host-only tests (fake_device.h). */
#include "tests/fake_device.h"

convgemm_device_info_t fake_device_h100(void) {
  convgemm_device_info_t info = {0};
  info.device = 0;
  info.cc_major = 9;
  info.cc_minor = 0;
  info.sm_count = 132;
  info.max_smem_per_block = 232448;
  info.l2_bytes = 50 * 1024 * 1024;
  return info;
}

convgemm_device_info_t fake_device_a100(void) {
  convgemm_device_info_t info = {0};
  info.device = 0;
  info.cc_major = 8;
  info.cc_minor = 0;
  info.sm_count = 108;
  info.max_smem_per_block = 166912;
  info.l2_bytes = 40 * 1024 * 1024;
  return info;
}

struct convgemm_handle fake_device_handle(convgemm_device_info_t info) {
  struct convgemm_handle handle;
  handle.info = info;
  return handle;
}
