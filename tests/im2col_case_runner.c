/* IM2COL_GEMM on the GPU, checked every way the API promises (im2col_case_runner.h). */
#include "tests/im2col_case_runner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "conv/im2col_gemm_plan.h"
#include "conv/internal.h"
#include "tests/conv2d_reference.h"
#include "tests/conv_compare.h"
#include "tests/elem_type_host.h"
#include "tests/im2col_cases.h"
#include "tests/test_assert.h"
#include "tests/test_random.h"

static void* host_alloc(size_t bytes, const char* ctx) {
  void* p = malloc(bytes > 0 ? bytes : 1);
  ck_assert_msg(p != NULL, "%s: out of host memory (%zu bytes)", ctx, bytes);
  return p;
}

int64_t im2col_first_bit_difference(const float* a, const float* b, int64_t count) {
  return im2col_first_bit_difference_raw(a, b, count, sizeof(float));
}

int64_t im2col_first_bit_difference_raw(const void* a, const void* b, int64_t count,
                                        size_t elem) {
  const unsigned char* x = a;
  const unsigned char* y = b;
  for (int64_t i = 0; i < count; ++i)
    if (memcmp(x + (size_t)i * elem, y + (size_t)i * elem, elem) != 0) return i;
  return -1;
}

/* ---- stats ------------------------------------------------------------------------------- */

void im2col_stats_print(const im2col_stats_t* s, FILE* out) {
  static const char* kKinds[IM2COL_STATS_KINDS] = {"float32 DEFAULT math", "float32 IEEE math",
                                                   "float16", "bfloat16"};
  fprintf(out, "IM2COL_GEMM: %lld calls compared with the float64 reference\n",
          (long long)s->calls);
  for (int m = 0; m < IM2COL_STATS_KINDS; ++m)
    fprintf(out,
            "  %s: worst |y - ref| / bound %.3g (%s); worst rel L2 / limit %.3g (%s)\n",
            kKinds[m], s->worst_err_over_bound[m], s->worst_err_ctx[m], s->worst_l2_over_limit[m],
            s->worst_l2_ctx[m]);
  fprintf(out,
          "  bitwise identical at every workspace size: %d of %d case x math mode runs%s%s\n",
          s->identical_across_sizes, s->case_modes,
          s->identical_across_sizes < s->case_modes ? "; differing: " : "", s->differing);
}

static void stats_add(im2col_stats_t* s, const convgemm_conv2d_params_t* p,
                      const conv_compare_result_t* r, const char* ctx) {
  if (s == NULL) return;
  const int m = p->data_type == CONVGEMM_DATA_FLOAT16    ? 2
                : p->data_type == CONVGEMM_DATA_BFLOAT16 ? 3
                : p->math_mode == CONVGEMM_MATH_DEFAULT  ? 0
                                                         : 1;
  ++s->calls;
  if (r->max_err_over_bound > s->worst_err_over_bound[m]) {
    s->worst_err_over_bound[m] = r->max_err_over_bound;
    snprintf(s->worst_err_ctx[m], sizeof s->worst_err_ctx[m], "%s", ctx);
  }
  const double l2 = r->rel_l2_limit > 0.0 ? r->rel_l2 / r->rel_l2_limit : 0.0;
  if (l2 > s->worst_l2_over_limit[m]) {
    s->worst_l2_over_limit[m] = l2;
    snprintf(s->worst_l2_ctx[m], sizeof s->worst_l2_ctx[m], "%s", ctx);
  }
}

/* ---- host problem ------------------------------------------------------------------------ */

void im2col_problem_update_reference(im2col_problem_t* pr) {
  const convgemm_conv2d_params_t* p = &pr->params;
  conv2d_reference(p, pr->x, pr->w, pr->bias, conv2d_reference_operands_for(p),
                   pr->ref, pr->abs_sum);
  pr->rel_l2_extra = 0.0;
  if (conv2d_reference_operands_for(p) == CONV2D_REFERENCE_TF32 && p->has_bias) {
    const int64_t plane = pr->y_elems / (p->n * p->k);
    pr->rel_l2_extra = conv_compare_widen_for_split_bias(pr->bias, p->n, p->k, plane,
                                                         pr->n_terms, pr->ref, pr->abs_sum);
  }
}

/* The inputs (drawn from seed) and room for the reference, not yet computed. */
static void problem_inputs(im2col_problem_t* pr, const convgemm_conv2d_params_t* params,
                           uint64_t seed) {
  const convgemm_conv2d_params_t* p = params;
  pr->params = *params;
  pr->x_elems = p->n * p->c * p->h * p->w;
  pr->w_elems = p->k * (p->c / p->groups) * p->r * p->s;
  pr->b_elems = p->has_bias ? p->k : 0;
  pr->y_elems = conv2d_reference_y_elems(p);
  pr->n_terms = conv_compare_terms(p->c / p->groups, p->r, p->s);
  pr->x = host_alloc((size_t)pr->x_elems * sizeof(float), "problem");
  pr->w = host_alloc((size_t)pr->w_elems * sizeof(float), "problem");
  pr->bias = p->has_bias ? host_alloc((size_t)pr->b_elems * sizeof(float), "problem") : NULL;
  pr->ref = host_alloc((size_t)pr->y_elems * sizeof(double), "problem");
  pr->abs_sum = host_alloc((size_t)pr->y_elems * sizeof(double), "problem");
  test_rng_t rng;
  test_rng_seed(&rng, seed);
  test_fill_conv_inputs(&rng, p, pr->x, pr->w, pr->bias);
  /* 16-bit data: the values the GPU will read, so the reference sees them exactly. */
  test_round_array_to_type(pr->x, pr->x_elems, p->data_type);
  test_round_array_to_type(pr->w, pr->w_elems, p->data_type);
  if (pr->bias != NULL) test_round_array_to_type(pr->bias, pr->b_elems, p->data_type);
  pr->rel_l2_extra = 0.0;
}

void im2col_problem_init(im2col_problem_t* pr, const convgemm_conv2d_params_t* params,
                         uint64_t seed) {
  problem_inputs(pr, params, seed);
  im2col_problem_update_reference(pr);
}

void im2col_problem_free(im2col_problem_t* pr) {
  free(pr->x);
  free(pr->w);
  free(pr->bias);
  free(pr->ref);
  free(pr->abs_sum);
  memset(pr, 0, sizeof *pr);
}

void im2col_problem_check(const im2col_problem_t* pr, const float* y, const char* what,
                          const char* ctx, im2col_stats_t* stats) {
  conv_compare_result_t r;
  conv_compare_typed(y, pr->ref, pr->abs_sum, pr->y_elems, pr->n_terms, pr->params.data_type,
                     &r);
  r.rel_l2_limit += pr->rel_l2_extra;
  char summary[512];
  conv_compare_describe(&r, summary, sizeof summary);
  ck_assert_msg(conv_compare_passed(&r), "%s: %s: %s", ctx, what, summary);
  char where[200];
  snprintf(where, sizeof where, "%.120s, %s", ctx, what);
  stats_add(stats, &pr->params, &r, where);
}

/* ---- guarded device buffers -------------------------------------------------------------- */

void im2col_guarded_alloc(im2col_guarded_t* g, size_t bytes) {
  g->bytes = bytes;
  g->base_bytes = bytes + 2 * (size_t)IM2COL_GUARD_BYTES;
  CK_CUDA(cudaMalloc((void**)&g->base, g->base_bytes));
  g->data = g->base + IM2COL_GUARD_BYTES;
}

void im2col_guarded_free(im2col_guarded_t* g) {
  if (g->base != NULL) CK_CUDA(cudaFree(g->base));
  memset(g, 0, sizeof *g);
}

void im2col_guarded_poison(const im2col_guarded_t* g, cudaStream_t stream) {
  CK_CUDA(cudaMemsetAsync(g->base, IM2COL_POISON_BYTE, g->base_bytes, stream));
}

/* Offset of the first byte in [device, device + bytes) that is not poison, or -1. Scanned, then
 * asserted once by the caller: each Check assertion logs through a file. */
static int64_t first_written(const unsigned char* device, size_t bytes, cudaStream_t stream) {
  if (bytes == 0) return -1;
  unsigned char* host = host_alloc(bytes, "poison check");
  CK_CUDA(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream));
  CK_CUDA(cudaStreamSynchronize(stream));
  int64_t at = -1;
  for (size_t i = 0; i < bytes && at < 0; ++i)
    if (host[i] != IM2COL_POISON_BYTE) at = (int64_t)i;
  free(host);
  return at;
}

void im2col_guarded_fetch(const im2col_guarded_t* g, size_t used, void* host, cudaStream_t stream,
                          const char* what, const char* ctx) {
  CK_CUDA(cudaStreamSynchronize(stream));
  const int64_t before = first_written(g->base, IM2COL_GUARD_BYTES, stream);
  ck_assert_msg(before < 0, "%s: %s: written %lld bytes before the buffer", ctx, what,
                (long long)(IM2COL_GUARD_BYTES - before));
  const int64_t after = first_written(g->data + g->bytes, IM2COL_GUARD_BYTES, stream);
  ck_assert_msg(after < 0, "%s: %s: written %lld bytes past the end of the buffer", ctx, what,
                (long long)after);
  const int64_t tail = first_written(g->data + used, g->bytes - used, stream);
  ck_assert_msg(tail < 0, "%s: %s: written at byte %lld, past the %zu bytes it was given", ctx,
                what, (long long)(used + (size_t)tail), used);
  if (host != NULL && used > 0) {
    CK_CUDA(cudaMemcpyAsync(host, g->data, used, cudaMemcpyDeviceToHost, stream));
    CK_CUDA(cudaStreamSynchronize(stream));
  }
}

void im2col_guarded_expect_untouched(const im2col_guarded_t* g, size_t max_data,
                                     cudaStream_t stream, const char* what, const char* ctx) {
  CK_CUDA(cudaStreamSynchronize(stream));
  const size_t data = max_data < g->bytes ? max_data : g->bytes;
  const int64_t front = first_written(g->base, IM2COL_GUARD_BYTES + data, stream);
  ck_assert_msg(front < 0, "%s: %s was written (byte %lld of its buffer, guard included)", ctx,
                what, (long long)front);
  const int64_t back = first_written(g->data + g->bytes, IM2COL_GUARD_BYTES, stream);
  ck_assert_msg(back < 0, "%s: %s's back guard was written (byte %lld)", ctx, what,
                (long long)back);
}

void im2col_upload(float* device, const float* host, int64_t count, cudaStream_t stream) {
  im2col_upload_typed(device, host, count, CONVGEMM_DATA_FLOAT32, stream);
}

void im2col_upload_typed(void* device, const float* host, int64_t count,
                         convgemm_data_type_t type, cudaStream_t stream) {
  if (count == 0) return;
  const size_t bytes = (size_t)count * test_elem_bytes(type);
  void* encoded = host_alloc(bytes, "upload");
  test_encode(host, count, type, encoded);
  CK_CUDA(cudaMemcpyAsync(device, encoded, bytes, cudaMemcpyHostToDevice, stream));
  CK_CUDA(cudaStreamSynchronize(stream));
  free(encoded);
}

void im2col_expect_device_equals(const float* device, const float* host, int64_t count,
                                 cudaStream_t stream, const char* what, const char* ctx) {
  im2col_expect_device_equals_typed(device, host, count, CONVGEMM_DATA_FLOAT32, stream, what,
                                    ctx);
}

void im2col_expect_device_equals_typed(const void* device, const float* host, int64_t count,
                                       convgemm_data_type_t type, cudaStream_t stream,
                                       const char* what, const char* ctx) {
  if (count == 0) return;
  const size_t elem = test_elem_bytes(type);
  void* got = host_alloc((size_t)count * elem, ctx);
  void* want = host_alloc((size_t)count * elem, ctx);
  test_encode(host, count, type, want);
  CK_CUDA(cudaMemcpyAsync(got, device, (size_t)count * elem, cudaMemcpyDeviceToHost, stream));
  CK_CUDA(cudaStreamSynchronize(stream));
  const int64_t diff = im2col_first_bit_difference_raw(got, want, count, elem);
  free(got);
  free(want);
  ck_assert_msg(diff < 0, "%s: %s differs at [%lld]", ctx, what, (long long)diff);
}

/* ---- one case ---------------------------------------------------------------------------- */

typedef struct device_inputs {
  void *x, *w, *bias; /* elements of the case's data type */
} device_inputs_t;

/* Bytes a workspace check looks at past the size given (the rest of the allocation is left
 * unread: copying it back at every call would cost more than the rest of the suite). */
enum { kWorkspaceTailBytes = 1 << 16 };

/* Poisons y and the workspace, runs IM2COL_GEMM with `ws_bytes`, fetches y (raw elements) into
 * y_host and checks that nothing was written around y or past ws_bytes (up to
 * kWorkspaceTailBytes beyond). */
static void forward_checked(convgemm_handle_t handle, convgemm_conv_desc_t desc,
                            cudaStream_t stream, const device_inputs_t* in,
                            const im2col_guarded_t* y, const im2col_guarded_t* ws, size_t ws_bytes,
                            void* y_host, const char* what, const char* ctx) {
  im2col_guarded_poison(y, stream);
  im2col_guarded_poison(ws, stream);
  const convgemm_status_t s =
      convgemm_forward(handle, desc, CONVGEMM_ALGO_IM2COL_GEMM, in->x, in->w, in->bias,
                       y->data, ws->data, ws_bytes, stream);
  ck_assert_msg(s == CONVGEMM_STATUS_SUCCESS, "%s: %s: forward returned %s: %s", ctx, what,
                convgemm_status_string(s), convgemm_get_last_error());
  im2col_guarded_fetch(y, y->bytes, y_host, stream, what, ctx);
  CK_CUDA(cudaStreamSynchronize(stream));
  const int64_t before = first_written(ws->base, IM2COL_GUARD_BYTES, stream);
  ck_assert_msg(before < 0, "%s: %s: written before the workspace", ctx, what);
  const size_t tail_end =
      ws_bytes + kWorkspaceTailBytes < ws->bytes ? ws_bytes + kWorkspaceTailBytes : ws->bytes;
  const int64_t tail = first_written(ws->data + ws_bytes, tail_end - ws_bytes, stream);
  ck_assert_msg(tail < 0, "%s: %s: workspace written at byte %lld, past the %zu bytes given", ctx,
                what, (long long)(ws_bytes + (size_t)tail), ws_bytes);
  const int64_t after = first_written(ws->data + ws->bytes, IM2COL_GUARD_BYTES, stream);
  ck_assert_msg(after < 0, "%s: %s: written past the workspace allocation", ctx, what);
}

static void run_mode(convgemm_handle_t handle, cudaStream_t stream, const direct_case_t* c,
                     convgemm_math_mode_t mode, const device_inputs_t* in, im2col_problem_t* pr,
                     unsigned char* y_default, im2col_stats_t* stats) {
  convgemm_conv2d_params_t p;
  char ctx[512];
  convgemm_conv_desc_t desc = direct_case_open(c, mode, &p, ctx, sizeof ctx);
  CK_CONVGEMM(convgemm_check_algorithm(handle, desc, CONVGEMM_ALGO_IM2COL_GEMM));
  size_t min_b = 0, pref_b = 0, plan_min = 1, plan_pref = 1;
  CK_CONVGEMM(convgemm_get_workspace_size(handle, desc, CONVGEMM_ALGO_IM2COL_GEMM, &min_b,
                                          &pref_b));
  convgemm_im2col_gemm_workspace(desc, &handle->info, &plan_min, &plan_pref);
  ck_assert_msg(min_b > 0 && min_b <= pref_b && min_b == plan_min && pref_b == plan_pref,
                "%s: workspace min %zu preferred %zu (plan: %zu, %zu)", ctx, min_b, pref_b,
                plan_min, plan_pref);

  /* The reference for this mode: the inputs are the case's, drawn once by the caller. */
  pr->params = p;
  im2col_problem_update_reference(pr);

  size_t sizes[IM2COL_MAX_WORKSPACES];
  const int count = im2col_workspace_sizes(desc, &handle->info, sizes);
  const convgemm_data_type_t type = p.data_type;
  const size_t elem = test_elem_bytes(type);
  const size_t y_bytes = (size_t)pr->y_elems * elem;
  im2col_guarded_t y, ws;
  im2col_guarded_alloc(&y, y_bytes);
  im2col_guarded_alloc(&ws, sizes[count - 1]);
  unsigned char* y_host = host_alloc(y_bytes, ctx);  /* raw elements */
  unsigned char* y_first = host_alloc(y_bytes, ctx);
  float* y_values = host_alloc((size_t)pr->y_elems * sizeof(float), ctx);
  int identical = 1;
  for (int i = 0; i < count; ++i) {
    convgemm_im2col_gemm_plan_t plan;
    convgemm_im2col_gemm_make_plan(desc, &handle->info, sizes[i], &plan);
    char what[320];
    snprintf(what, sizeof what, "workspace %zu (min %zu, preferred %zu): plan ", sizes[i], min_b,
             pref_b);
    im2col_describe_plan(&plan, what + strlen(what), sizeof what - strlen(what));
    forward_checked(handle, desc, stream, in, &y, &ws, sizes[i], y_host, what, ctx);
    test_decode(y_host, pr->y_elems, type, y_values);
    im2col_problem_check(pr, y_values, what, ctx, stats);
    if (i == 0)
      memcpy(y_first, y_host, y_bytes);
    else if (im2col_first_bit_difference_raw(y_host, y_first, pr->y_elems, elem) >= 0)
      identical = 0;
  }
  /* The last size again: its cached graph replayed gives the same bits. */
  memcpy(y_first, y_host, y_bytes);
  forward_checked(handle, desc, stream, in, &y, &ws, sizes[count - 1], y_host,
                  "the last workspace size again", ctx);
  const int64_t diff = im2col_first_bit_difference_raw(y_host, y_first, pr->y_elems, elem);
  float then = 0.0f, now = 0.0f;
  if (diff >= 0) {
    test_decode(y_first + (size_t)diff * elem, 1, type, &then);
    test_decode(y_host + (size_t)diff * elem, 1, type, &now);
  }
  ck_assert_msg(diff < 0, "%s: a repeated call differs at [%lld]: %.9g then %.9g", ctx,
                (long long)diff, (double)then, (double)now);
  if (stats != NULL) {
    ++stats->case_modes;
    stats->identical_across_sizes += identical;
    if (!identical && strlen(stats->differing) + 80 < sizeof stats->differing)
      snprintf(stats->differing + strlen(stats->differing),
               sizeof stats->differing - strlen(stats->differing), "%s'%.50s' %s %s",
               stats->differing[0] != '\0' ? ", " : "", c->name,
               mode == CONVGEMM_MATH_DEFAULT ? "DEFAULT" : "IEEE", test_type_name(type));
  }

  if (mode == CONVGEMM_MATH_DEFAULT) {
    memcpy(y_default, y_host, y_bytes);
  } else if (pr->params.c == pr->params.groups || type != CONVGEMM_DATA_FLOAT32) {
    /* C/G == 1: DEFAULT math is fp32 too; 16-bit data: both modes are the same math and the same
     * GEMM (convgemm.h). Either way both modes must give the same bits. */
    const int64_t d = im2col_first_bit_difference_raw(y_default, y_host, pr->y_elems, elem);
    ck_assert_msg(d < 0, "%s: %s, yet DEFAULT and IEEE differ at [%lld]", ctx,
                  type != CONVGEMM_DATA_FLOAT32 ? "16-bit data" : "C/G == 1", (long long)d);
  } else if (pr->y_elems >= 64) {
    /* Random 24-bit inputs are almost never TF32 values, so rounding them must change results. */
    ck_assert_msg(im2col_first_bit_difference_raw(y_default, y_host, pr->y_elems, elem) >= 0,
                  "%s: DEFAULT (TF32) and IEEE results are bitwise identical", ctx);
  }
  free(y_host);
  free(y_first);
  free(y_values);
  im2col_guarded_free(&y);
  im2col_guarded_free(&ws);
  convgemm_conv_desc_destroy(desc);
}

void im2col_case_run(convgemm_handle_t handle, cudaStream_t stream, const direct_case_t* c,
                     im2col_stats_t* stats) {
  char config[256], ctx[512];
  direct_case_describe(&c->params, config, sizeof config);
  snprintf(ctx, sizeof ctx, "case '%s' seed %llu [%s]", c->name, (unsigned long long)c->seed,
           config);
  /* Fresh inputs per case (the same stream of numbers as direct_case_runner's). */
  im2col_problem_t pr;
  problem_inputs(&pr, &c->params, c->seed ^ 0x5EED5EED5EED5EEDull); /* reference per mode */
  const convgemm_data_type_t type = c->params.data_type;
  const size_t elem = test_elem_bytes(type);
  device_inputs_t in = {NULL, NULL, NULL};
  CK_CUDA(cudaMalloc(&in.x, (size_t)pr.x_elems * elem));
  CK_CUDA(cudaMalloc(&in.w, (size_t)pr.w_elems * elem));
  if (pr.b_elems > 0) CK_CUDA(cudaMalloc(&in.bias, (size_t)pr.b_elems * elem));
  im2col_upload_typed(in.x, pr.x, pr.x_elems, type, stream);
  im2col_upload_typed(in.w, pr.w, pr.w_elems, type, stream);
  im2col_upload_typed(in.bias, pr.bias, pr.b_elems, type, stream);
  unsigned char* y_default = host_alloc((size_t)pr.y_elems * elem, ctx);

  run_mode(handle, stream, c, CONVGEMM_MATH_DEFAULT, &in, &pr, y_default, stats);
  run_mode(handle, stream, c, CONVGEMM_MATH_IEEE, &in, &pr, y_default, stats);

  im2col_expect_device_equals_typed(in.x, pr.x, pr.x_elems, type, stream, "input x", ctx);
  im2col_expect_device_equals_typed(in.w, pr.w, pr.w_elems, type, stream, "input w", ctx);
  im2col_expect_device_equals_typed(in.bias, pr.bias, pr.b_elems, type, stream, "input bias",
                                    ctx);

  /* Reached only when every check passed: an assertion leaves the buffers to the process's end,
   * which the small cases can afford. */
  CK_CUDA(cudaFree(in.x));
  CK_CUDA(cudaFree(in.w));
  CK_CUDA(cudaFree(in.bias));
  free(y_default);
  im2col_problem_free(&pr);
}
