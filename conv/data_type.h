/*
 * The data types' element sizes and names, for the host code in conv/ and gemm/ (header only).
 */
#ifndef CONVGEMM_DATA_TYPE_H_
#define CONVGEMM_DATA_TYPE_H_

#include <stdint.h>

#include "conv/convgemm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes per element of a data type (validated: 0, 1 or 2): 4 for float32, 2 for the 16-bit
 * types. */
static inline int64_t convgemm_data_type_bytes(convgemm_data_type_t type) {
  return type == CONVGEMM_DATA_FLOAT32 ? 4 : 2;
}

/* "float32", "float16", "bfloat16" ("?" for anything else). */
static inline const char* convgemm_data_type_name(convgemm_data_type_t type) {
  switch (type) {
    case CONVGEMM_DATA_FLOAT32: return "float32";
    case CONVGEMM_DATA_FLOAT16: return "float16";
    case CONVGEMM_DATA_BFLOAT16: return "bfloat16";
  }
  return "?";
}

#ifdef __cplusplus
}
#endif

#endif /* CONVGEMM_DATA_TYPE_H_ */
