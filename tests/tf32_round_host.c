/* Host model of cvt.rna.tf32.f32 (see tf32_round_host.h). */
#include "tests/tf32_round_host.h"

#include <string.h>

enum {
  kSignBit = 0x80000000u,
  kInfBits = 0x7F800000u,    /* +Inf; a larger magnitude is a NaN */
  kDroppedHalf = 0x1000u,    /* half the weight of the 13 dropped mantissa bits */
  kKeptMask = 0xFFFFE000u    /* sign, exponent and the 10 kept mantissa bits */
};

uint32_t tf32_round_rna_host_bits(uint32_t bits) {
  const uint32_t magnitude = bits & ~(uint32_t)kSignBit;
  /* NaN and Inf pass through. Adding kDroppedHalf to a NaN's payload could carry into the sign
   * bit (0x7FFFF000 + 0x1000), so they are kept out of the arithmetic below. */
  if (magnitude >= kInfBits) return bits;
  /* Sign-magnitude: adding half an ulp of the result to the magnitude and truncating rounds half
   * away from zero. A carry out of the mantissa bumps the exponent, which is the correct rounded
   * value, and from the largest binade it lands exactly on Inf (0x7F7FF000 + 0x1000 = 0x7F800000).
   * Subnormals take the same path: their bits are a fixed-point value with the same ulp. */
  return (bits & kSignBit) | ((magnitude + kDroppedHalf) & kKeptMask);
}

uint32_t float_to_bits(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  return bits;
}

float bits_to_float(uint32_t bits) {
  float x;
  memcpy(&x, &bits, sizeof x);
  return x;
}

float tf32_round_rna_host(float x) { return bits_to_float(tf32_round_rna_host_bits(float_to_bits(x))); }
