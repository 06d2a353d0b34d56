/* Host conversions of the 16-bit data types (elem_type_host.h). */
#include "tests/elem_type_host.h"

#include <math.h>
#include <string.h>

size_t test_elem_bytes(convgemm_data_type_t type) { return type == CONVGEMM_DATA_FLOAT32 ? 4 : 2; }

const char* test_type_name(convgemm_data_type_t type) {
  switch (type) {
    case CONVGEMM_DATA_FLOAT32: return "float32";
    case CONVGEMM_DATA_FLOAT16: return "float16";
    case CONVGEMM_DATA_BFLOAT16: return "bfloat16";
  }
  return "?";
}

static uint32_t float_bits(float v) {
  uint32_t b;
  memcpy(&b, &v, sizeof b);
  return b;
}

static float bits_float(uint32_t b) {
  float v;
  memcpy(&v, &b, sizeof v);
  return v;
}

uint16_t test_float_to_half_bits(float v) {
  const uint32_t x = float_bits(v);
  const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  const uint32_t a = x & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((a >> 13) & 0x3FFu)); /* quiet NaN */
  /* 65520 = 65504 + half its ulp (32): the tie rounds to the even neighbour, 2^16: Inf. */
  if (a >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u);
  if (a < 0x38800000u) { /* below 2^-14: a multiple of 2^-24 (subnormal, or the smallest normal
                            when it rounds up); rint rounds ties to even, and |v| * 2^24 is exact */
    return (uint16_t)(sign | (uint16_t)rint((double)bits_float(a) * 0x1p24));
  }
  uint32_t h = ((((a >> 23) - 127 + 15) << 10) | ((a >> 13) & 0x3FFu));
  const uint32_t rest = a & 0x1FFFu; /* the 13 bits dropped */
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h; /* a carry moves the exponent up */
  return (uint16_t)(sign | h);
}

float test_half_bits_to_float(uint16_t bits) {
  const uint32_t sign = (uint32_t)(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1Fu;
  const uint32_t mantissa = bits & 0x3FFu;
  if (exponent == 0) { /* zero or subnormal: mantissa * 2^-24 */
    const float magnitude = (float)ldexp((double)mantissa, -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return bits_float(sign | 0x7F800000u | (mantissa << 13));
  return bits_float(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

uint16_t test_float_to_bf16_bits(float v) {
  const uint32_t x = float_bits(v);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
  /* Round to nearest even on the dropped 16 bits; a carry into the exponent is right, and past
   * the largest bfloat16 it gives Inf. */
  return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

float test_bf16_bits_to_float(uint16_t bits) { return bits_float((uint32_t)bits << 16); }

float test_round_to_type(float v, convgemm_data_type_t type) {
  switch (type) {
    case CONVGEMM_DATA_FLOAT16: return test_half_bits_to_float(test_float_to_half_bits(v));
    case CONVGEMM_DATA_BFLOAT16: return test_bf16_bits_to_float(test_float_to_bf16_bits(v));
    case CONVGEMM_DATA_FLOAT32: break;
  }
  return v;
}

void test_round_array_to_type(float* values, int64_t count, convgemm_data_type_t type) {
  if (type == CONVGEMM_DATA_FLOAT32) return;
  for (int64_t i = 0; i < count; ++i) values[i] = test_round_to_type(values[i], type);
}

void test_encode(const float* src, int64_t count, convgemm_data_type_t type, void* dst) {
  if (type == CONVGEMM_DATA_FLOAT32) {
    if (count > 0) memcpy(dst, src, (size_t)count * sizeof(float));
    return;
  }
  uint16_t* out = dst;
  for (int64_t i = 0; i < count; ++i)
    out[i] = type == CONVGEMM_DATA_FLOAT16 ? test_float_to_half_bits(src[i])
                                           : test_float_to_bf16_bits(src[i]);
}

void test_decode(const void* src, int64_t count, convgemm_data_type_t type, float* dst) {
  if (type == CONVGEMM_DATA_FLOAT32) {
    if (count > 0) memcpy(dst, src, (size_t)count * sizeof(float));
    return;
  }
  const uint16_t* in = src;
  for (int64_t i = 0; i < count; ++i)
    dst[i] = type == CONVGEMM_DATA_FLOAT16 ? test_half_bits_to_float(in[i])
                                           : test_bf16_bits_to_float(in[i]);
}

double test_unit_roundoff(convgemm_data_type_t type) {
  switch (type) {
    case CONVGEMM_DATA_FLOAT16: return 0x1p-11;
    case CONVGEMM_DATA_BFLOAT16: return 0x1p-8;
    case CONVGEMM_DATA_FLOAT32: break;
  }
  return 0x1p-24;
}

double test_subnormal_half_step(convgemm_data_type_t type) {
  switch (type) {
    case CONVGEMM_DATA_FLOAT16: return 0x1p-25;
    case CONVGEMM_DATA_BFLOAT16: return 0x1p-134;
    case CONVGEMM_DATA_FLOAT32: break;
  }
  return 0x1p-150;
}
