/*
 * Statuses and error messages of the host-side API: every status has its own name; every invalid
 * descriptor field is rejected with its own status and a message naming the field and the value
 * that came; every NULL pointer is NULL_POINTER; the last error is per thread. Runs without a GPU:
 * the calls that need a handle get one bound to recorded H100 facts (fake_device.h), and the
 * convgemm_create test accepts both a machine without a GPU and one with.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <check.h>
#include <cuda_runtime_api.h>

#include "conv/convgemm.h"
#include "conv/internal.h"
#include "tests/check_main.h"
#include "tests/fake_device.h"
#include "tests/test_assert.h"

/* ---- status names ---------------------------------------------------------------------- */

static const struct {
  convgemm_status_t status;
  const char* name;
} kStatusNames[] = {
    {CONVGEMM_STATUS_SUCCESS, "CONVGEMM_STATUS_SUCCESS"},
    {CONVGEMM_STATUS_NULL_POINTER, "CONVGEMM_STATUS_NULL_POINTER"},
    {CONVGEMM_STATUS_BAD_SIZE, "CONVGEMM_STATUS_BAD_SIZE"},
    {CONVGEMM_STATUS_BAD_GROUPS, "CONVGEMM_STATUS_BAD_GROUPS"},
    {CONVGEMM_STATUS_BAD_PADDING, "CONVGEMM_STATUS_BAD_PADDING"},
    {CONVGEMM_STATUS_BAD_STRIDE, "CONVGEMM_STATUS_BAD_STRIDE"},
    {CONVGEMM_STATUS_BAD_DILATION, "CONVGEMM_STATUS_BAD_DILATION"},
    {CONVGEMM_STATUS_FILTER_TOO_LARGE, "CONVGEMM_STATUS_FILTER_TOO_LARGE"},
    {CONVGEMM_STATUS_SIZE_OVERFLOW, "CONVGEMM_STATUS_SIZE_OVERFLOW"},
    {CONVGEMM_STATUS_BAD_ENUM, "CONVGEMM_STATUS_BAD_ENUM"},
    {CONVGEMM_STATUS_NOT_SUPPORTED, "CONVGEMM_STATUS_NOT_SUPPORTED"},
    {CONVGEMM_STATUS_WORKSPACE_TOO_SMALL, "CONVGEMM_STATUS_WORKSPACE_TOO_SMALL"},
    {CONVGEMM_STATUS_BAD_POINTER, "CONVGEMM_STATUS_BAD_POINTER"},
    {CONVGEMM_STATUS_WRONG_DEVICE, "CONVGEMM_STATUS_WRONG_DEVICE"},
    {CONVGEMM_STATUS_ALLOC_FAILED, "CONVGEMM_STATUS_ALLOC_FAILED"},
    {CONVGEMM_STATUS_CUDA_ERROR, "CONVGEMM_STATUS_CUDA_ERROR"},
    {CONVGEMM_STATUS_CUBLAS_ERROR, "CONVGEMM_STATUS_CUBLAS_ERROR"},
    {CONVGEMM_STATUS_INTERNAL_ERROR, "CONVGEMM_STATUS_INTERNAL_ERROR"},
};
enum { kStatusCount = sizeof kStatusNames / sizeof kStatusNames[0] };

START_TEST(test_every_status_has_its_own_name) {
  for (int i = 0; i < kStatusCount; ++i) {
    ck_assert_int_eq(kStatusNames[i].status, i); /* the table covers every value, in order */
    ck_assert_str_eq(convgemm_status_string(kStatusNames[i].status), kStatusNames[i].name);
    for (int j = 0; j < i; ++j)
      ck_assert_str_ne(convgemm_status_string(kStatusNames[i].status),
                       convgemm_status_string(kStatusNames[j].status));
  }
}
END_TEST

START_TEST(test_unknown_status_has_a_string) {
  ck_assert_ptr_nonnull(convgemm_status_string((convgemm_status_t)kStatusCount));
  ck_assert_ptr_nonnull(convgemm_status_string((convgemm_status_t)-1));
  ck_assert_str_ne(convgemm_status_string((convgemm_status_t)99), "CONVGEMM_STATUS_SUCCESS");
}
END_TEST

START_TEST(test_version) {
  ck_assert_int_eq(convgemm_get_version(), CONVGEMM_VERSION);
  ck_assert_int_eq(CONVGEMM_VERSION, CONVGEMM_VERSION_MAJOR * 10000 +
                                         CONVGEMM_VERSION_MINOR * 100 + CONVGEMM_VERSION_PATCH);
}
END_TEST

/* ---- descriptor validation: one bad field at a time ------------------------------------ */

static convgemm_conv2d_params_t valid_params(void) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 2, 8, 16, 16, 16, 3, 3);
  return p;
}

/* desc_create must fail with `want`, leave *desc NULL and leave a message containing each of the
 * NULL-terminated `needles` (the field's name, the value that came). */
static void expect_rejected(const convgemm_conv2d_params_t* p, convgemm_status_t want,
                            const char* what, ...) {
  convgemm_conv_desc_t desc = (convgemm_conv_desc_t)(uintptr_t)0x1; /* must be overwritten */
  const convgemm_status_t got = convgemm_conv_desc_create(&desc, p);
  const char* msg = convgemm_get_last_error();
  ck_assert_msg(got == want, "%s: got %s, want %s (message: %s)", what,
                convgemm_status_string(got), convgemm_status_string(want), msg);
  ck_assert_msg(desc == NULL, "%s: *desc is not NULL after failure", what);
  ck_assert_msg(msg[0] != '\0', "%s: no message", what);
  va_list needles;
  va_start(needles, what);
  for (const char* needle = va_arg(needles, const char*); needle != NULL;
       needle = va_arg(needles, const char*))
    ck_assert_msg(strstr(msg, needle) != NULL, "%s: message \"%s\" does not contain \"%s\"",
                  what, msg, needle);
  va_end(needles);
}

START_TEST(test_nonpositive_sizes_are_bad_size) {
  static const char* const kFields[] = {"n", "c", "h", "w", "k", "r", "s", "groups"};
  static const int64_t kValues[] = {0, -1, -7, INT64_MIN};
  static const char* const kValueText[] = {"got 0", "got -1", "got -7", "got -9223372036854775808"};
  for (int f = 0; f < 8; ++f) {
    for (int v = 0; v < 4; ++v) {
      convgemm_conv2d_params_t p = valid_params();
      int64_t* field[] = {&p.n, &p.c, &p.h, &p.w, &p.k, &p.r, &p.s, &p.groups};
      *field[f] = kValues[v];
      char what[64], name[32];
      snprintf(what, sizeof what, "%s = %lld", kFields[f], (long long)kValues[v]);
      snprintf(name, sizeof name, "%s must", kFields[f]); /* the field, not a word containing it */
      expect_rejected(&p, CONVGEMM_STATUS_BAD_SIZE, what, name, kValueText[v], (char*)NULL);
    }
  }
}
END_TEST

START_TEST(test_indivisible_groups_are_bad_groups) {
  convgemm_conv2d_params_t p = valid_params(); /* c 8, k 16 */
  p.groups = 3;                                /* divides neither */
  expect_rejected(&p, CONVGEMM_STATUS_BAD_GROUPS, "groups 3", "groups (3)", "c (8)", (char*)NULL);
  p = valid_params();
  p.c = 12;
  p.groups = 3; /* divides c, not k */
  expect_rejected(&p, CONVGEMM_STATUS_BAD_GROUPS, "k 16 groups 3", "k (16)", "groups (3)",
                  (char*)NULL);
  p = valid_params();
  p.k = 12;
  p.groups = 6; /* divides k, not c */
  expect_rejected(&p, CONVGEMM_STATUS_BAD_GROUPS, "c 8 groups 6", "c (8)", "groups (6)",
                  (char*)NULL);
  p = valid_params();
  p.groups = 16; /* divides k, larger than c */
  expect_rejected(&p, CONVGEMM_STATUS_BAD_GROUPS, "groups 16 > c 8", "groups (16)", (char*)NULL);
}
END_TEST

START_TEST(test_negative_padding_is_bad_padding) {
  convgemm_conv2d_params_t p = valid_params();
  p.pad_h = -1;
  expect_rejected(&p, CONVGEMM_STATUS_BAD_PADDING, "pad_h -1", "pad_h -1", (char*)NULL);
  p = valid_params();
  p.pad_w = -5;
  expect_rejected(&p, CONVGEMM_STATUS_BAD_PADDING, "pad_w -5", "pad_w -5", (char*)NULL);
}
END_TEST

START_TEST(test_nonpositive_stride_is_bad_stride) {
  convgemm_conv2d_params_t p = valid_params();
  p.stride_h = 0;
  expect_rejected(&p, CONVGEMM_STATUS_BAD_STRIDE, "stride_h 0", "stride_h", "got 0", (char*)NULL);
  p = valid_params();
  p.stride_w = -2;
  expect_rejected(&p, CONVGEMM_STATUS_BAD_STRIDE, "stride_w -2", "stride_w", "got -2",
                  (char*)NULL);
}
END_TEST

START_TEST(test_nonpositive_dilation_is_bad_dilation) {
  convgemm_conv2d_params_t p = valid_params();
  p.dilation_h = 0;
  expect_rejected(&p, CONVGEMM_STATUS_BAD_DILATION, "dilation_h 0", "dilation_h", "got 0",
                  (char*)NULL);
  p = valid_params();
  p.dilation_w = -3;
  expect_rejected(&p, CONVGEMM_STATUS_BAD_DILATION, "dilation_w -3", "dilation_w", "got -3",
                  (char*)NULL);
}
END_TEST

START_TEST(test_filter_larger_than_padded_input) {
  convgemm_conv2d_params_t p = valid_params(); /* 16 x 16 input */
  p.r = 17;
  expect_rejected(&p, CONVGEMM_STATUS_FILTER_TOO_LARGE, "r 17 on h 16", "height", "17", "16",
                  (char*)NULL);
  /* Dilation makes a 3-wide filter span 2*(3-1)+1 = 5 > 2 + 2*1. */
  p = valid_params();
  p.w = 2;
  p.pad_w = 1;
  p.dilation_w = 2;
  expect_rejected(&p, CONVGEMM_STATUS_FILTER_TOO_LARGE, "dilated s on w 2 pad 1", "width",
                  "extent 5", "extent 4", (char*)NULL);
  /* The boundary is accepted: dilated extent 5 == 3 + 2*1. */
  p.w = 3;
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  convgemm_conv_desc_destroy(desc);
}
END_TEST

START_TEST(test_dimension_above_int32_is_size_overflow) {
  static const char* const kFields[] = {"n", "c", "h", "w", "k", "r", "s", "groups"};
  for (int f = 0; f < 8; ++f) {
    convgemm_conv2d_params_t p = valid_params();
    int64_t* field[] = {&p.n, &p.c, &p.h, &p.w, &p.k, &p.r, &p.s, &p.groups};
    *field[f] = (int64_t)INT32_MAX + 1;
    char what[64], name[32];
    snprintf(what, sizeof what, "%s = 2^31", kFields[f]);
    snprintf(name, sizeof name, "%s must", kFields[f]);
    expect_rejected(&p, CONVGEMM_STATUS_SIZE_OVERFLOW, what, name, "2147483648", (char*)NULL);
  }
  convgemm_conv2d_params_t p = valid_params();
  p.pad_h = (int64_t)INT32_MAX + 1;
  expect_rejected(&p, CONVGEMM_STATUS_SIZE_OVERFLOW, "pad_h 2^31", "pad_h 2147483648",
                  (char*)NULL);
  p = valid_params();
  p.stride_w = INT64_MAX;
  expect_rejected(&p, CONVGEMM_STATUS_SIZE_OVERFLOW, "stride_w 2^63-1", "stride_w",
                  "9223372036854775807", (char*)NULL);
  p = valid_params();
  p.dilation_h = (int64_t)INT32_MAX + 1;
  expect_rejected(&p, CONVGEMM_STATUS_SIZE_OVERFLOW, "dilation_h 2^31", "dilation_h",
                  "2147483648", (char*)NULL);
}
END_TEST

START_TEST(test_dimension_at_int32_max_is_accepted) {
  /* 2^31-1 is the largest dimension allowed; a 1 x 1 x (2^31-1) x 1 input is valid. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 1, 1, INT32_MAX, 1, 1, 1, 1);
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  convgemm_conv_desc_destroy(desc);
}
END_TEST

START_TEST(test_element_products_overflowing_are_size_overflow) {
  const int64_t big = INT32_MAX; /* every dimension valid on its own */
  /* x: (2^31-1)^2 elements fit in int64, but not their 4-byte size. */
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, big, big, 1, 1, 1, 1, 1);
  expect_rejected(&p, CONVGEMM_STATUS_SIZE_OVERFLOW, "x bytes", "input x", "2147483647",
                  (char*)NULL);
  /* x: four large dimensions overflow the element count itself. */
  convgemm_conv2d_params_init(&p, big, big, big, big, 1, 1, 1);
  expect_rejected(&p, CONVGEMM_STATUS_SIZE_OVERFLOW, "x elements", "input x", (char*)NULL);
  /* w alone: a (2^31-1)^2 filter on a 1 x 1 input padded to fit it. */
  convgemm_conv2d_params_init(&p, 1, 1, 1, 1, 1, big, big);
  p.pad_h = p.pad_w = big / 2;
  expect_rejected(&p, CONVGEMM_STATUS_SIZE_OVERFLOW, "w bytes", "filter w", (char*)NULL);
  /* y alone: x = 2^60 elements (2^62 bytes) fits, y = 2^60 x (2^31-1) elements does not. */
  convgemm_conv2d_params_init(&p, 1, 1, (int64_t)1 << 30, (int64_t)1 << 30, big, 1, 1);
  expect_rejected(&p, CONVGEMM_STATUS_SIZE_OVERFLOW, "y elements", "output y", (char*)NULL);
}
END_TEST

START_TEST(test_unknown_enums_are_bad_enum) {
  convgemm_conv2d_params_t p = valid_params();
  p.data_type = (convgemm_data_type_t)3;
  expect_rejected(&p, CONVGEMM_STATUS_BAD_ENUM, "data_type 3", "data_type", "got 3",
                  "CONVGEMM_DATA_FLOAT16 (1)", "CONVGEMM_DATA_BFLOAT16 (2)", (char*)NULL);
  p = valid_params();
  p.data_type = (convgemm_data_type_t)-1;
  expect_rejected(&p, CONVGEMM_STATUS_BAD_ENUM, "data_type -1", "data_type", "got -1",
                  (char*)NULL);
  p = valid_params();
  p.data_type = (convgemm_data_type_t)99;
  expect_rejected(&p, CONVGEMM_STATUS_BAD_ENUM, "data_type 99", "data_type", "got 99",
                  (char*)NULL);
  p = valid_params();
  p.math_mode = (convgemm_math_mode_t)2;
  expect_rejected(&p, CONVGEMM_STATUS_BAD_ENUM, "math_mode 2", "math_mode", "got 2", (char*)NULL);
  p = valid_params();
  p.math_mode = (convgemm_math_mode_t)-1;
  expect_rejected(&p, CONVGEMM_STATUS_BAD_ENUM, "math_mode -1", "math_mode", "got -1",
                  (char*)NULL);
}
END_TEST

START_TEST(test_16bit_data_types_are_accepted) {
  /* Both 16-bit types, in both math modes, with and without bias. */
  static const convgemm_data_type_t kTypes[2] = {CONVGEMM_DATA_FLOAT16, CONVGEMM_DATA_BFLOAT16};
  for (int t = 0; t < 2; ++t)
    for (int mode = 0; mode < 2; ++mode) {
      convgemm_conv2d_params_t p = valid_params();
      p.data_type = kTypes[t];
      p.math_mode = (convgemm_math_mode_t)mode;
      p.has_bias = mode;
      convgemm_conv_desc_t desc = NULL;
      CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
      convgemm_conv2d_params_t back;
      CK_CONVGEMM(convgemm_conv_desc_get_params(desc, &back));
      ck_assert_int_eq(back.data_type, kTypes[t]);
      ck_assert_int_eq(back.math_mode, mode);
      convgemm_conv_desc_destroy(desc);
    }
}
END_TEST

START_TEST(test_byte_overflow_counts_the_element_size) {
  /* x of (2^31-1)^2 elements: 2^63 - 2^34 + 4 bytes of float32 exceed 2^63-1, but 2^63 - 2^33 + 2
   * bytes of a 16-bit type do not. */
  const int64_t big = INT32_MAX;
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, big, big, 1, 1, 1, 1, 1);
  expect_rejected(&p, CONVGEMM_STATUS_SIZE_OVERFLOW, "float32 x bytes", "input x", "float32",
                  (char*)NULL);
  static const convgemm_data_type_t kTypes[2] = {CONVGEMM_DATA_FLOAT16, CONVGEMM_DATA_BFLOAT16};
  static const char* const kNames[2] = {"float16", "bfloat16"};
  for (int t = 0; t < 2; ++t) {
    convgemm_conv2d_params_init(&p, big, big, 1, 1, 1, 1, 1);
    p.data_type = kTypes[t];
    struct convgemm_conv_desc d;
    CK_CONVGEMM(convgemm_conv_desc_validate(&p, &d));
    ck_assert_int_eq(d.x_elems, big * big);
    ck_assert_int_eq(d.elem_bytes, 2);
    /* Twice that many elements overflow 2-byte counts too: N = 2^31-1, C = 2^31-1, H = 2. */
    convgemm_conv2d_params_init(&p, big, big, 2, 1, 1, 1, 1);
    p.data_type = kTypes[t];
    expect_rejected(&p, CONVGEMM_STATUS_SIZE_OVERFLOW, kNames[t], "input x", kNames[t],
                    (char*)NULL);
    /* y alone: 2^60 x (2^31-1) elements overflow any element size. */
    convgemm_conv2d_params_init(&p, 1, 1, (int64_t)1 << 30, (int64_t)1 << 30, big, 1, 1);
    p.data_type = kTypes[t];
    expect_rejected(&p, CONVGEMM_STATUS_SIZE_OVERFLOW, kNames[t], "output y", (char*)NULL);
  }
}
END_TEST

/* ---- NULL pointers ---------------------------------------------------------------------- */

START_TEST(test_null_pointers_in_descriptor_functions) {
  convgemm_conv2d_params_t p = valid_params();
  CK_CONVGEMM_STATUS(convgemm_conv2d_params_init(NULL, 1, 1, 1, 1, 1, 1, 1),
                     CONVGEMM_STATUS_NULL_POINTER);
  CK_CONVGEMM_STATUS(convgemm_conv_desc_create(NULL, &p), CONVGEMM_STATUS_NULL_POINTER);
  convgemm_conv_desc_t desc = (convgemm_conv_desc_t)(uintptr_t)0x1;
  CK_CONVGEMM_STATUS(convgemm_conv_desc_create(&desc, NULL), CONVGEMM_STATUS_NULL_POINTER);
  ck_assert_ptr_null(desc);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "params"));

  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  convgemm_conv2d_params_t out;
  CK_CONVGEMM_STATUS(convgemm_conv_desc_get_params(NULL, &out), CONVGEMM_STATUS_NULL_POINTER);
  CK_CONVGEMM_STATUS(convgemm_conv_desc_get_params(desc, NULL), CONVGEMM_STATUS_NULL_POINTER);
  int64_t n, k, pp, q;
  CK_CONVGEMM_STATUS(convgemm_get_output_shape(NULL, &n, &k, &pp, &q),
                     CONVGEMM_STATUS_NULL_POINTER);
  CK_CONVGEMM_STATUS(convgemm_get_output_shape(desc, NULL, &k, &pp, &q),
                     CONVGEMM_STATUS_NULL_POINTER);
  CK_CONVGEMM_STATUS(convgemm_get_output_shape(desc, &n, NULL, &pp, &q),
                     CONVGEMM_STATUS_NULL_POINTER);
  CK_CONVGEMM_STATUS(convgemm_get_output_shape(desc, &n, &k, NULL, &q),
                     CONVGEMM_STATUS_NULL_POINTER);
  CK_CONVGEMM_STATUS(convgemm_get_output_shape(desc, &n, &k, &pp, NULL),
                     CONVGEMM_STATUS_NULL_POINTER);
  convgemm_conv_desc_destroy(desc);
  CK_CONVGEMM(convgemm_conv_desc_destroy(NULL));
}
END_TEST

START_TEST(test_null_pointers_in_handle_functions) {
  CK_CONVGEMM_STATUS(convgemm_create(NULL), CONVGEMM_STATUS_NULL_POINTER);
  CK_CONVGEMM(convgemm_destroy(NULL));
  struct convgemm_handle fake = fake_device_handle(fake_device_h100());
  int device = -1;
  CK_CONVGEMM_STATUS(convgemm_get_device(NULL, &device), CONVGEMM_STATUS_NULL_POINTER);
  CK_CONVGEMM_STATUS(convgemm_get_device(&fake, NULL), CONVGEMM_STATUS_NULL_POINTER);
  CK_CONVGEMM(convgemm_get_device(&fake, &device));
  ck_assert_int_eq(device, 0);
}
END_TEST

START_TEST(test_null_pointers_in_algorithm_queries) {
  struct convgemm_handle fake = fake_device_handle(fake_device_h100());
  convgemm_conv2d_params_t p = valid_params();
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  convgemm_algo_t algo;
  CK_CONVGEMM_STATUS(convgemm_get_algorithm(NULL, desc, &algo), CONVGEMM_STATUS_NULL_POINTER);
  CK_CONVGEMM_STATUS(convgemm_get_algorithm(&fake, NULL, &algo), CONVGEMM_STATUS_NULL_POINTER);
  CK_CONVGEMM_STATUS(convgemm_get_algorithm(&fake, desc, NULL), CONVGEMM_STATUS_NULL_POINTER);
  CK_CONVGEMM_STATUS(convgemm_check_algorithm(NULL, desc, CONVGEMM_ALGO_DIRECT),
                     CONVGEMM_STATUS_NULL_POINTER);
  CK_CONVGEMM_STATUS(convgemm_check_algorithm(&fake, NULL, CONVGEMM_ALGO_DIRECT),
                     CONVGEMM_STATUS_NULL_POINTER);
  size_t min_bytes = 1, pref_bytes = 1;
  CK_CONVGEMM_STATUS(convgemm_get_workspace_size(NULL, desc, CONVGEMM_ALGO_DIRECT, &min_bytes,
                                                 &pref_bytes),
                     CONVGEMM_STATUS_NULL_POINTER);
  CK_CONVGEMM_STATUS(convgemm_get_workspace_size(&fake, NULL, CONVGEMM_ALGO_DIRECT, &min_bytes,
                                                 &pref_bytes),
                     CONVGEMM_STATUS_NULL_POINTER);
  /* Either output may be NULL (documented). */
  CK_CONVGEMM(convgemm_get_workspace_size(&fake, desc, CONVGEMM_ALGO_DIRECT, NULL, NULL));
  CK_CONVGEMM(convgemm_get_workspace_size(&fake, desc, CONVGEMM_ALGO_DIRECT, &min_bytes, NULL));
  ck_assert_uint_eq(min_bytes, 0);
  CK_CONVGEMM(convgemm_get_workspace_size(&fake, desc, CONVGEMM_ALGO_AUTO, NULL, &pref_bytes));
  ck_assert_uint_eq(pref_bytes, 0);
  convgemm_conv_desc_destroy(desc);
}
END_TEST

START_TEST(test_unknown_algorithm_is_bad_enum) {
  struct convgemm_handle fake = fake_device_handle(fake_device_h100());
  convgemm_conv2d_params_t p = valid_params();
  convgemm_conv_desc_t desc = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  CK_CONVGEMM_STATUS(convgemm_check_algorithm(&fake, desc, (convgemm_algo_t)4),
                     CONVGEMM_STATUS_BAD_ENUM);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "got 4"));
  CK_CONVGEMM_STATUS(convgemm_check_algorithm(&fake, desc, (convgemm_algo_t)-1),
                     CONVGEMM_STATUS_BAD_ENUM);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "got -1"));
  CK_CONVGEMM_STATUS(
      convgemm_get_workspace_size(&fake, desc, (convgemm_algo_t)17, NULL, NULL),
      CONVGEMM_STATUS_BAD_ENUM);
  convgemm_conv_desc_destroy(desc);
}
END_TEST

/* forward's NULL checks come before any CUDA call, so a fake handle reaches them. Pointers that
 * pass the NULL checks are never dereferenced or handed to CUDA before the one under test fails. */
START_TEST(test_null_pointers_in_forward) {
  struct convgemm_handle fake = fake_device_handle(fake_device_h100());
  convgemm_conv2d_params_t p = valid_params();
  convgemm_conv_desc_t desc = NULL, desc_bias = NULL;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
  p.has_bias = 1;
  CK_CONVGEMM(convgemm_conv_desc_create(&desc_bias, &p));
  float dummy[4];
  const void* x = dummy;
  const void* w = dummy;
  void* y = dummy;
  const convgemm_algo_t a = CONVGEMM_ALGO_DIRECT;
  CK_CONVGEMM_STATUS(convgemm_forward(NULL, desc, a, x, w, NULL, y, NULL, 0, NULL),
                     CONVGEMM_STATUS_NULL_POINTER);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "handle"));
  CK_CONVGEMM_STATUS(convgemm_forward(&fake, NULL, a, x, w, NULL, y, NULL, 0, NULL),
                     CONVGEMM_STATUS_NULL_POINTER);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "desc"));
  CK_CONVGEMM_STATUS(convgemm_forward(&fake, desc, a, NULL, w, NULL, y, NULL, 0, NULL),
                     CONVGEMM_STATUS_NULL_POINTER);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "x is NULL"));
  CK_CONVGEMM_STATUS(convgemm_forward(&fake, desc, a, x, NULL, NULL, y, NULL, 0, NULL),
                     CONVGEMM_STATUS_NULL_POINTER);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "w is NULL"));
  CK_CONVGEMM_STATUS(convgemm_forward(&fake, desc, a, x, w, NULL, NULL, NULL, 0, NULL),
                     CONVGEMM_STATUS_NULL_POINTER);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "y is NULL"));
  CK_CONVGEMM_STATUS(convgemm_forward(&fake, desc_bias, a, x, w, NULL, y, NULL, 0, NULL),
                     CONVGEMM_STATUS_NULL_POINTER);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "bias is NULL"));
  /* Unknown algorithm and unsupported ones also fail before CUDA. */
  CK_CONVGEMM_STATUS(convgemm_forward(&fake, desc, (convgemm_algo_t)9, x, w, NULL, y, NULL, 0,
                                      NULL),
                     CONVGEMM_STATUS_BAD_ENUM);
  CK_CONVGEMM_STATUS(convgemm_forward(&fake, desc, CONVGEMM_ALGO_IM2COL_GEMM, x, w, NULL, y,
                                      NULL, 0, NULL),
                     CONVGEMM_STATUS_WORKSPACE_TOO_SMALL);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "workspace_bytes must be at least"));
  /* IMPLICIT_GEMM needs its packed filter in the workspace. */
  CK_CONVGEMM_STATUS(convgemm_forward(&fake, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, x, w, NULL, y,
                                      NULL, 0, NULL),
                     CONVGEMM_STATUS_WORKSPACE_TOO_SMALL);
  convgemm_conv_desc_destroy(desc);
  convgemm_conv_desc_destroy(desc_bias);
}
END_TEST

/* forward's alignment checks are pure host code, before any CUDA call: a fake handle reaches
 * them. The pointers are host memory (never used: a misaligned one is refused first; an aligned
 * one then fails the device-memory query, CUDA_ERROR without a GPU, BAD_POINTER with one). */
START_TEST(test_alignment_follows_the_element_size) {
  struct convgemm_handle fake = fake_device_handle(fake_device_h100());
  static const convgemm_data_type_t kTypes[3] = {CONVGEMM_DATA_FLOAT32, CONVGEMM_DATA_FLOAT16,
                                                 CONVGEMM_DATA_BFLOAT16};
  static const char* const kWant[3] = {"aligned to 4 bytes for float32",
                                       "aligned to 2 bytes for float16",
                                       "aligned to 2 bytes for bfloat16"};
  _Alignas(16) static unsigned char buf[4][64];
  for (int t = 0; t < 3; ++t) {
    convgemm_conv2d_params_t p = valid_params();
    p.data_type = kTypes[t];
    p.has_bias = 1;
    convgemm_conv_desc_t desc = NULL;
    CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
    const size_t elem = kTypes[t] == CONVGEMM_DATA_FLOAT32 ? 4 : 2;
    static const char* const kNames[4] = {"x", "w", "bias", "y"};
    /* Each tensor in turn 1 byte off (and, for float32, 2 bytes off): BAD_POINTER naming it. */
    for (int which = 0; which < 4; ++which)
      for (size_t off = 1; off < elem; ++off) {
        unsigned char* ptr[4] = {buf[0], buf[1], buf[2], buf[3]};
        ptr[which] += off;
        const convgemm_status_t s = convgemm_forward(&fake, desc, CONVGEMM_ALGO_DIRECT, ptr[0],
                                                     ptr[1], ptr[2], ptr[3], NULL, 0, NULL);
        const char* msg = convgemm_get_last_error();
        ck_assert_msg(s == CONVGEMM_STATUS_BAD_POINTER && strstr(msg, kWant[t]) != NULL &&
                          strncmp(msg, kNames[which], strlen(kNames[which])) == 0,
                      "type %d, %s + %zu bytes: %s: %s", t, kNames[which], off,
                      convgemm_status_string(s), msg);
      }
    /* Element-aligned pointers (2 bytes off for the 16-bit types) pass the alignment check. */
    for (int which = 0; which < 4; ++which) {
      unsigned char* ptr[4] = {buf[0], buf[1], buf[2], buf[3]};
      ptr[which] += elem == 2 ? 2 : 4;
      const convgemm_status_t s = convgemm_forward(&fake, desc, CONVGEMM_ALGO_DIRECT, ptr[0],
                                                   ptr[1], ptr[2], ptr[3], NULL, 0, NULL);
      ck_assert_msg(s != CONVGEMM_STATUS_SUCCESS &&
                        strstr(convgemm_get_last_error(), "aligned") == NULL,
                    "type %d, %s + %zu bytes: %s: %s", t, kNames[which], elem,
                    convgemm_status_string(s), convgemm_get_last_error());
    }
    convgemm_conv_desc_destroy(desc);
  }
}
END_TEST

START_TEST(test_implicit_gemm_16bit_data_kernels) {
  /* 16-bit IMPLICIT_GEMM runs on both devices: problem 55 in the sm_90 TMA kernel on the H100,
   * where AUTO takes it; on the A100, and on the H100 with W not a multiple of 8 (W 1020) or
   * C/G < 16 (C 8), in the mma.sync kernel, which AUTO leaves to IM2COL_GEMM (measured slower on
   * smaller shapes, conv/internal.h). The query and the workspace query accept it (the packed
   * filter: C/G rounded up to 16 channels x 9 taps x 128 filters of 2 bytes), and forward gets
   * past the dispatch layer to the workspace check (pure host code). */
  const convgemm_device_info_t h100 = fake_device_h100(), a100 = fake_device_a100();
  static const convgemm_data_type_t kTypes[2] = {CONVGEMM_DATA_FLOAT16, CONVGEMM_DATA_BFLOAT16};
  const struct {
    const convgemm_device_info_t* info;
    int64_t c, w;
    int wgmma;
  } kCases[] = {
      {&h100, 64, 1024, 1}, /* problem 55 */
      {&a100, 64, 1024, 0},
      {&h100, 64, 1020, 0},
      {&h100, 8, 1024, 0},
  };
  for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; ++i)
    for (int t = 0; t < 2; ++t) {
      struct convgemm_handle fake = fake_device_handle(*kCases[i].info);
      convgemm_conv2d_params_t p;
      convgemm_conv2d_params_init(&p, 8, kCases[i].c, 512, kCases[i].w, 128, 3, 3);
      p.data_type = kTypes[t];
      convgemm_conv_desc_t desc = NULL;
      CK_CONVGEMM(convgemm_conv_desc_create(&desc, &p));
      float dummy[4];
      size_t min_bytes = 5, pref_bytes = 7;
      convgemm_algo_t algo = CONVGEMM_ALGO_DIRECT;
      CK_CONVGEMM(convgemm_get_algorithm(&fake, desc, &algo));
      ck_assert_int_eq(algo, kCases[i].wgmma ? CONVGEMM_ALGO_IMPLICIT_GEMM
                                             : CONVGEMM_ALGO_IM2COL_GEMM);
      CK_CONVGEMM(convgemm_check_algorithm(&fake, desc, CONVGEMM_ALGO_IMPLICIT_GEMM));
      CK_CONVGEMM(convgemm_get_workspace_size(&fake, desc, CONVGEMM_ALGO_IMPLICIT_GEMM,
                                              &min_bytes, &pref_bytes));
      const size_t channels = (size_t)(kCases[i].c + 15) / 16 * 16;
      ck_assert_uint_eq(min_bytes, channels * 9 * 128 * 2);
      ck_assert_uint_eq(pref_bytes, min_bytes);
      CK_CONVGEMM_STATUS(convgemm_forward(&fake, desc, CONVGEMM_ALGO_IMPLICIT_GEMM, dummy,
                                          dummy, NULL, dummy, NULL, 0, NULL),
                         CONVGEMM_STATUS_WORKSPACE_TOO_SMALL);
      CK_CONVGEMM(convgemm_check_algorithm(&fake, desc, CONVGEMM_ALGO_DIRECT));
      CK_CONVGEMM(convgemm_check_algorithm(&fake, desc, CONVGEMM_ALGO_IM2COL_GEMM));
      CK_CONVGEMM(convgemm_check_algorithm(&fake, desc, CONVGEMM_ALGO_AUTO));
      convgemm_conv_desc_destroy(desc);
    }
}
END_TEST

/* ---- last error ------------------------------------------------------------------------- */

/* What a second thread saw: its message before and after its own failure (copied: the
 * thread's message buffer goes away with the thread). */
typedef struct thread_view {
  char before[64];
  char after[256];
} thread_view_t;

static void* fail_in_thread(void* arg) {
  thread_view_t* view = arg;
  snprintf(view->before, sizeof view->before, "%s", convgemm_get_last_error());
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 1, 1, 1, 1, 1, 1, 1);
  p.stride_h = 0;
  convgemm_conv_desc_t desc;
  convgemm_conv_desc_create(&desc, &p);
  snprintf(view->after, sizeof view->after, "%s", convgemm_get_last_error());
  return NULL;
}

START_TEST(test_last_error_is_per_thread) {
  convgemm_conv2d_params_t p = valid_params();
  p.dilation_w = 0;
  convgemm_conv_desc_t desc;
  CK_CONVGEMM_STATUS(convgemm_conv_desc_create(&desc, &p), CONVGEMM_STATUS_BAD_DILATION);
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "dilation_w"));

  thread_view_t view = {{0}, {0}};
  pthread_t thread;
  ck_assert_int_eq(pthread_create(&thread, NULL, fail_in_thread, &view), 0);
  ck_assert_int_eq(pthread_join(thread, NULL), 0);
  /* A fresh thread starts with no message, then sees only its own. */
  ck_assert_str_eq(view.before, "");
  ck_assert_ptr_nonnull(strstr(view.after, "stride_h"));
  /* The other thread's failure left this thread's message alone. */
  ck_assert_ptr_nonnull(strstr(convgemm_get_last_error(), "dilation_w"));
}
END_TEST

/* ---- convgemm_create -------------------------------------------------------------------- */

START_TEST(test_create_without_or_with_gpu) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) cudaGetLastError();
  convgemm_handle_t handle = (convgemm_handle_t)(uintptr_t)0x1;
  const convgemm_status_t s = convgemm_create(&handle);
  if (e != cudaSuccess || count == 0) {
    /* No GPU (or no driver): CUDA_ERROR with the runtime's reason, and no handle. */
    ck_assert_msg(s == CONVGEMM_STATUS_CUDA_ERROR, "create without a GPU returned %s",
                  convgemm_status_string(s));
    ck_assert_ptr_null(handle);
    ck_assert_msg(strlen(convgemm_get_last_error()) > 0, "no message");
    return;
  }
  int device = -1, major = 0;
  ck_assert_int_eq(cudaGetDevice(&device), cudaSuccess);
  ck_assert_int_eq(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device),
                   cudaSuccess);
  if (major < 8) {
    CK_CONVGEMM_STATUS(s, CONVGEMM_STATUS_NOT_SUPPORTED);
    ck_assert_ptr_null(handle);
    return;
  }
  CK_CONVGEMM(s);
  int bound = -1;
  CK_CONVGEMM(convgemm_get_device(handle, &bound));
  ck_assert_int_eq(bound, device);
  CK_CONVGEMM(convgemm_destroy(handle));
}
END_TEST

static Suite* status_suite(void) {
  Suite* s = suite_create("cpu_status");
  TCase* names = tcase_create("names");
  tcase_add_test(names, test_every_status_has_its_own_name);
  tcase_add_test(names, test_unknown_status_has_a_string);
  tcase_add_test(names, test_version);
  suite_add_tcase(s, names);

  TCase* desc = tcase_create("descriptor_validation");
  tcase_add_test(desc, test_nonpositive_sizes_are_bad_size);
  tcase_add_test(desc, test_indivisible_groups_are_bad_groups);
  tcase_add_test(desc, test_negative_padding_is_bad_padding);
  tcase_add_test(desc, test_nonpositive_stride_is_bad_stride);
  tcase_add_test(desc, test_nonpositive_dilation_is_bad_dilation);
  tcase_add_test(desc, test_filter_larger_than_padded_input);
  tcase_add_test(desc, test_dimension_above_int32_is_size_overflow);
  tcase_add_test(desc, test_dimension_at_int32_max_is_accepted);
  tcase_add_test(desc, test_element_products_overflowing_are_size_overflow);
  tcase_add_test(desc, test_unknown_enums_are_bad_enum);
  tcase_add_test(desc, test_16bit_data_types_are_accepted);
  tcase_add_test(desc, test_byte_overflow_counts_the_element_size);
  suite_add_tcase(s, desc);

  TCase* nulls = tcase_create("null_pointers");
  tcase_add_test(nulls, test_null_pointers_in_descriptor_functions);
  tcase_add_test(nulls, test_null_pointers_in_handle_functions);
  tcase_add_test(nulls, test_null_pointers_in_algorithm_queries);
  tcase_add_test(nulls, test_unknown_algorithm_is_bad_enum);
  tcase_add_test(nulls, test_null_pointers_in_forward);
  tcase_add_test(nulls, test_alignment_follows_the_element_size);
  tcase_add_test(nulls, test_implicit_gemm_16bit_data_kernels);
  suite_add_tcase(s, nulls);

  TCase* errors = tcase_create("last_error");
  tcase_add_test(errors, test_last_error_is_per_thread);
  suite_add_tcase(s, errors);

  TCase* handle = tcase_create("create");
  tcase_add_test(handle, test_create_without_or_with_gpu);
  suite_add_tcase(s, handle);
  return s;
}

/* CK_NOFORK: the create test initializes the CUDA runtime, which must not meet fork(). The other
 * tests are pure host code and need no isolation. */
int main(void) { return check_main_run(status_suite(), CK_NOFORK); }
