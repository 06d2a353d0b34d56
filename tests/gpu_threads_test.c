/*
 * The threading contract of convgemm.h: "a descriptor may be shared by any number of threads; a
 * handle may be used by one thread at a time (give each thread its own handle); the last-error
 * message is kept per host thread".
 *   - Two threads, each with its own handle and stream, call forward (DIRECT) concurrently many
 *     times on convolutions that need different amounts of opt-in shared memory (above the 48 KB
 *     default) from the same tile kernel; every call must succeed and every result must equal
 *     the single-threaded one bit for bit. A second pair shares one descriptor between threads.
 *   - Eight threads, each with its own handle, non-blocking stream, inputs, outputs and
 *     workspace, run every algorithm (DIRECT, IM2COL_GEMM, IMPLICIT_GEMM, AUTO) on three shared
 *     descriptors, many rounds at once. Each thread's calls are first made alone, and those
 *     results are judged against the float64 reference; every concurrent result, into a y
 *     poisoned with NaN before each call, must then equal them bit for bit. Each thread's last
 *     error is its own. $CONVGEMM_THREAD_ROUNDS sets the rounds (300).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cuda_runtime_api.h>

#include "conv/convgemm.h"
#include "tests/check_main.h"
#include "tests/conv2d_reference.h"
#include "tests/conv_compare.h"
#include "tests/test_assert.h"
#include "tests/test_random.h"

enum { kIterations = 2000 };

/* One convolution with its device buffers and its single-threaded result. */
typedef struct conv_job {
  convgemm_conv2d_params_t params;
  convgemm_conv_desc_t desc;
  float *x, *w, *y;
  size_t y_bytes;
  float* want;  /* host: the result of one call made alone */
  /* filled by the thread */
  int failures;
  convgemm_status_t first_failure;
  char first_message[256];
} conv_job_t;

static void job_init(conv_job_t* job, const convgemm_conv2d_params_t* p, uint64_t seed) {
  memset(job, 0, sizeof *job);
  job->params = *p;
  CK_CONVGEMM(convgemm_conv_desc_create(&job->desc, p));
  int64_t n, k, pp, q;
  CK_CONVGEMM(convgemm_get_output_shape(job->desc, &n, &k, &pp, &q));
  const size_t x_elems = (size_t)(p->n * p->c * p->h * p->w);
  const size_t w_elems = (size_t)(p->k * (p->c / p->groups) * p->r * p->s);
  job->y_bytes = (size_t)(n * k * pp * q) * sizeof(float);
  float* x = malloc(x_elems * sizeof(float));
  float* w = malloc(w_elems * sizeof(float));
  job->want = malloc(job->y_bytes);
  ck_assert(x != NULL && w != NULL && job->want != NULL);
  test_rng_t rng;
  test_rng_seed(&rng, seed);
  test_fill_conv_inputs(&rng, p, x, w, NULL);
  CK_CUDA(cudaMalloc((void**)&job->x, x_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&job->w, w_elems * sizeof(float)));
  CK_CUDA(cudaMalloc((void**)&job->y, job->y_bytes));
  CK_CUDA(cudaMemcpy(job->x, x, x_elems * sizeof(float), cudaMemcpyHostToDevice));
  CK_CUDA(cudaMemcpy(job->w, w, w_elems * sizeof(float), cudaMemcpyHostToDevice));
  free(x);
  free(w);
  /* The result of a call made alone. */
  convgemm_handle_t h;
  CK_CONVGEMM(convgemm_create(&h));
  CK_CONVGEMM(convgemm_forward(h, job->desc, CONVGEMM_ALGO_DIRECT, job->x, job->w, NULL, job->y,
                               NULL, 0, NULL));
  CK_CUDA(cudaDeviceSynchronize());
  CK_CUDA(cudaMemcpy(job->want, job->y, job->y_bytes, cudaMemcpyDeviceToHost));
  CK_CONVGEMM(convgemm_destroy(h));
}

static void job_free(conv_job_t* job) {
  CK_CUDA(cudaFree(job->x));
  CK_CUDA(cudaFree(job->w));
  CK_CUDA(cudaFree(job->y));
  convgemm_conv_desc_destroy(job->desc);
  free(job->want);
}

/* A thread's loop: its own handle and stream, kIterations calls, no Check assertions (they are
 * not thread-safe): failures are counted for the main thread to assert on. */
static void* run_job(void* arg) {
  conv_job_t* job = arg;
  convgemm_handle_t h = NULL;
  cudaStream_t stream = NULL;
  if (convgemm_create(&h) != CONVGEMM_STATUS_SUCCESS ||
      cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) != cudaSuccess) {
    job->failures = -1;
    convgemm_destroy(h); /* NULL (nothing) if convgemm_create failed */
    return NULL;
  }
  for (int i = 0; i < kIterations; ++i) {
    const convgemm_status_t s = convgemm_forward(h, job->desc, CONVGEMM_ALGO_DIRECT, job->x,
                                                 job->w, NULL, job->y, NULL, 0, stream);
    if (s != CONVGEMM_STATUS_SUCCESS && job->failures++ == 0) {
      job->first_failure = s;
      snprintf(job->first_message, sizeof job->first_message, "%s", convgemm_get_last_error());
    }
  }
  if (cudaStreamSynchronize(stream) != cudaSuccess) job->failures = -2;
  cudaStreamDestroy(stream);
  convgemm_destroy(h);
  return NULL;
}

static void run_concurrently(conv_job_t* a, conv_job_t* b) {
  /* No assertion while a thread runs: a failed one longjmps (CK_NOFORK) out of the test, whose
   * stack frame holds *a and *b, and the running thread would write into a dead frame. */
  pthread_t ta, tb;
  ck_assert_int_eq(pthread_create(&ta, NULL, run_job, a), 0);
  const int created_b = pthread_create(&tb, NULL, run_job, b);
  ck_assert_int_eq(pthread_join(ta, NULL), 0);
  ck_assert_int_eq(created_b, 0);
  ck_assert_int_eq(pthread_join(tb, NULL), 0);
  conv_job_t* jobs[2] = {a, b};
  for (int j = 0; j < 2; ++j) {
    ck_assert_msg(jobs[j]->failures == 0,
                  "thread %d: %d of %d forward calls failed (-1: setup, -2: stream); first: %s: "
                  "%s",
                  j, jobs[j]->failures, kIterations,
                  convgemm_status_string(jobs[j]->first_failure), jobs[j]->first_message);
    float* got = malloc(jobs[j]->y_bytes);
    ck_assert_ptr_nonnull(got);
    CK_CUDA(cudaMemcpy(got, jobs[j]->y, jobs[j]->y_bytes, cudaMemcpyDeviceToHost));
    const int same = memcmp(got, jobs[j]->want, jobs[j]->y_bytes) == 0;
    free(got);
    ck_assert_msg(same, "thread %d: the result differs from the single-threaded one", j);
  }
}

START_TEST(test_threads_with_different_shared_memory) {
  /* Both use the 64-channel tile. (a) 1x1 with stride_w 129: one channel's window is 8 x 4000
   * floats, 128288 bytes of shared memory. (b) 11x11 on 16 channels: chunks of 2, 75744 bytes.
   * Both exceed 48 KB: the kernel's opt-in limit is raised (to the device's maximum, once per
   * handle) while the other thread's launches are in flight. */
  convgemm_conv2d_params_t pa, pb;
  convgemm_conv2d_params_init(&pa, 1, 4, 16, 5000, 64, 1, 1);
  pa.stride_w = 129;
  convgemm_conv2d_params_init(&pb, 1, 16, 16, 40, 64, 11, 11);
  pb.pad_h = pb.pad_w = 5;
  conv_job_t a, b;
  job_init(&a, &pa, 1);
  job_init(&b, &pb, 2);
  run_concurrently(&a, &b);
  job_free(&a);
  job_free(&b);
}
END_TEST

START_TEST(test_threads_sharing_a_descriptor) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, 2, 8, 20, 24, 32, 3, 3);
  p.pad_h = p.pad_w = 1;
  conv_job_t a, b;
  job_init(&a, &p, 3);
  job_init(&b, &p, 4);
  /* b uses a's descriptor (its own buffers): a descriptor is immutable and shareable. */
  convgemm_conv_desc_destroy(b.desc);
  b.desc = a.desc;
  run_concurrently(&a, &b);
  b.desc = NULL; /* destroyed once, with a */
  job_free(&a);
  job_free(&b);
}
END_TEST

/* ---- eight threads, every algorithm ------------------------------------------------------- */

enum {
  kWorkers = 8,
  kShapes = 3,
  kAlgos = 4,
  kCalls = kShapes * kAlgos,
  kRounds = 300,      /* each round makes every call once: 3600 calls per thread;
                         $CONVGEMM_THREAD_ROUNDS overrides it (fewer under compute-sanitizer) */
  kCheckEvery = 25,   /* rounds between comparisons (the calls in between queue back to back) */
  kPoisonByte = 0xFF  /* 0xFFFFFFFF is a NaN: an output a call skips can't pass */
};

static const convgemm_algo_t kAllAlgos[kAlgos] = {CONVGEMM_ALGO_DIRECT, CONVGEMM_ALGO_IM2COL_GEMM,
                                                  CONVGEMM_ALGO_IMPLICIT_GEMM, CONVGEMM_ALGO_AUTO};
static const char* const kAlgoNames[kAlgos] = {"DIRECT", "IM2COL_GEMM", "IMPLICIT_GEMM", "AUTO"};

/* kRounds, or $CONVGEMM_THREAD_ROUNDS if it is a positive decimal number. */
static int thread_rounds(void) {
  const char* env = getenv("CONVGEMM_THREAD_ROUNDS");
  char* end = NULL;
  const long rounds = env != NULL ? strtol(env, &end, 10) : 0;
  return env != NULL && *env != '\0' && *end == '\0' && rounds > 0 && rounds <= 1000000
             ? (int)rounds
             : kRounds;
}

/* A descriptor every thread shares. */
typedef struct shape {
  convgemm_conv2d_params_t params;
  convgemm_conv_desc_t desc;
  int64_t x_elems, w_elems, y_elems;
} shape_t;

/* One (shape, algorithm) call of a worker, with its own output. */
typedef struct call {
  int shape;
  int algo;          /* index into kAllAlgos */
  convgemm_algo_t resolved;
  size_t ws_bytes;   /* the algorithm's preferred workspace: the same alone and concurrently,
                        since IM2COL_GEMM's chunking (and so its GEMMs) depends on it */
  float* y;          /* device */
  float* want;       /* host: the call made alone */
} call_t;

typedef struct worker {
  int index;
  int rounds;
  const shape_t* shapes;
  pthread_barrier_t* barrier;
  float *hx[kShapes], *hw[kShapes], *hbias[kShapes]; /* host inputs, kept for the reference */
  float *x[kShapes], *w[kShapes], *bias[kShapes];    /* device; bias NULL without has_bias */
  call_t calls[kCalls];
  void* workspace;  /* device, the largest ws_bytes of the calls; reused by every call, which
                       is safe because the calls are ordered on the worker's one stream */
  float* fetched;   /* pinned host, the largest y */
  /* filled by the thread */
  int failures;
  char first_failure[384];
} worker_t;

static void shapes_init(shape_t shapes[kShapes]) {
  /* All DEFAULT math with C/G > 1, so IMPLICIT_GEMM runs each. Today's AUTO rule (conv/internal.h)
   * sends (a) to IMPLICIT_GEMM (stride 1, Q 64), (b) to IM2COL_GEMM (Q 12; with bias, AUTO and
   * IM2COL_GEMM share a cached graph slot and so re-capture with each other's pointers every
   * call) and (c) to DIRECT (K/G 16); which one AUTO picks is cpu_plan_test's business. */
  convgemm_conv2d_params_t* p = &shapes[0].params;
  convgemm_conv2d_params_init(p, 2, 32, 8, 64, 32, 3, 3);
  p->pad_h = p->pad_w = 1;
  p = &shapes[1].params;
  convgemm_conv2d_params_init(p, 3, 32, 10, 12, 32, 3, 3);
  p->pad_h = p->pad_w = 1;
  p->has_bias = 1;
  p = &shapes[2].params;
  convgemm_conv2d_params_init(p, 2, 32, 9, 11, 32, 3, 3);
  p->groups = 2;
  p->stride_h = p->stride_w = 2;
  p->pad_h = p->pad_w = 1;
  p->has_bias = 1;
  for (int i = 0; i < kShapes; ++i) {
    shape_t* s = &shapes[i];
    CK_CONVGEMM(convgemm_conv_desc_create(&s->desc, &s->params));
    s->x_elems = s->params.n * s->params.c * s->params.h * s->params.w;
    s->w_elems = s->params.k * (s->params.c / s->params.groups) * s->params.r * s->params.s;
    s->y_elems = conv2d_reference_y_elems(&s->params);
  }
}

static void* host_alloc(size_t bytes) {
  void* p = malloc(bytes);
  ck_assert_ptr_nonnull(p);
  return p;
}

static float* upload(const float* host, int64_t count) {
  float* device = NULL;
  CK_CUDA(cudaMalloc((void**)&device, (size_t)count * sizeof(float)));
  CK_CUDA(cudaMemcpy(device, host, (size_t)count * sizeof(float), cudaMemcpyHostToDevice));
  return device;
}

/* Inputs of its own (drawn from `seed`), outputs and workspace sized with `handle`'s queries. */
static void worker_init(worker_t* wk, int index, const shape_t* shapes, convgemm_handle_t handle,
                        pthread_barrier_t* barrier, uint64_t seed) {
  memset(wk, 0, sizeof *wk);
  wk->index = index;
  wk->rounds = thread_rounds();
  wk->shapes = shapes;
  wk->barrier = barrier;
  size_t ws_max = 0;
  int64_t y_max = 0;
  for (int i = 0; i < kShapes; ++i) {
    const shape_t* s = &shapes[i];
    wk->hx[i] = host_alloc((size_t)s->x_elems * sizeof(float));
    wk->hw[i] = host_alloc((size_t)s->w_elems * sizeof(float));
    if (s->params.has_bias) wk->hbias[i] = host_alloc((size_t)s->params.k * sizeof(float));
    test_rng_t rng;
    test_rng_seed(&rng, seed + (uint64_t)i);
    test_fill_conv_inputs(&rng, &s->params, wk->hx[i], wk->hw[i], wk->hbias[i]);
    wk->x[i] = upload(wk->hx[i], s->x_elems);
    wk->w[i] = upload(wk->hw[i], s->w_elems);
    if (s->params.has_bias) wk->bias[i] = upload(wk->hbias[i], s->params.k);
    if (s->y_elems > y_max) y_max = s->y_elems;
  }
  for (int c = 0; c < kCalls; ++c) {
    call_t* call = &wk->calls[c];
    call->shape = c / kAlgos;
    call->algo = c % kAlgos;
    const shape_t* s = &shapes[call->shape];
    const convgemm_algo_t algo = kAllAlgos[call->algo];
    call->resolved = algo;
    if (algo == CONVGEMM_ALGO_AUTO)
      CK_CONVGEMM(convgemm_get_algorithm(handle, s->desc, &call->resolved));
    CK_CONVGEMM(convgemm_get_workspace_size(handle, s->desc, algo, NULL, &call->ws_bytes));
    if (call->ws_bytes > ws_max) ws_max = call->ws_bytes;
    CK_CUDA(cudaMalloc((void**)&call->y, (size_t)s->y_elems * sizeof(float)));
    call->want = host_alloc((size_t)s->y_elems * sizeof(float));
  }
  /* IM2COL_GEMM always needs some, so there is a workspace to give; each thread its own. */
  ck_assert_uint_gt(ws_max, 0);
  CK_CUDA(cudaMalloc(&wk->workspace, ws_max));
  CK_CUDA(cudaMallocHost((void**)&wk->fetched, (size_t)y_max * sizeof(float)));
}

static void worker_free(worker_t* wk) {
  for (int i = 0; i < kShapes; ++i) {
    free(wk->hx[i]);
    free(wk->hw[i]);
    free(wk->hbias[i]);
    CK_CUDA(cudaFree(wk->x[i]));
    CK_CUDA(cudaFree(wk->w[i]));
    CK_CUDA(cudaFree(wk->bias[i]));
  }
  for (int c = 0; c < kCalls; ++c) {
    CK_CUDA(cudaFree(wk->calls[c].y));
    free(wk->calls[c].want);
  }
  CK_CUDA(cudaFree(wk->workspace));
  CK_CUDA(cudaFreeHost(wk->fetched));
}

/* Queues a call's poison and forward; the status is returned, not asserted (threads can't). */
static convgemm_status_t call_enqueue(const worker_t* wk, convgemm_handle_t handle,
                                      const call_t* call, cudaStream_t stream) {
  const shape_t* s = &wk->shapes[call->shape];
  if (cudaMemsetAsync(call->y, kPoisonByte, (size_t)s->y_elems * sizeof(float), stream) !=
      cudaSuccess)
    return CONVGEMM_STATUS_CUDA_ERROR;
  return convgemm_forward(handle, s->desc, kAllAlgos[call->algo], wk->x[call->shape],
                          wk->w[call->shape], wk->bias[call->shape], call->y,
                          call->ws_bytes > 0 ? wk->workspace : NULL, call->ws_bytes, stream);
}

/* The main thread makes each of the worker's calls alone and keeps the results. */
static void worker_run_alone(worker_t* wk, convgemm_handle_t handle, cudaStream_t stream) {
  for (int c = 0; c < kCalls; ++c) {
    const call_t* call = &wk->calls[c];
    CK_CONVGEMM(call_enqueue(wk, handle, call, stream));
    CK_CUDA(cudaMemcpyAsync(call->want, call->y,
                            (size_t)wk->shapes[call->shape].y_elems * sizeof(float),
                            cudaMemcpyDeviceToHost, stream));
    CK_CUDA(cudaStreamSynchronize(stream));
  }
}

/* The results made alone against the float64 reference, within conv_compare.h's bounds; for
 * IM2COL_GEMM in DEFAULT math with bias, widened for its split bias. */
static void worker_check_reference(const worker_t* wk) {
  for (int i = 0; i < kShapes; ++i) {
    const shape_t* s = &wk->shapes[i];
    const convgemm_conv2d_params_t* p = &s->params;
    double* ref = host_alloc((size_t)s->y_elems * sizeof(double));
    double* abs_sum = host_alloc((size_t)s->y_elems * sizeof(double));
    double* abs_sum_split = host_alloc((size_t)s->y_elems * sizeof(double));
    const conv2d_reference_operands_t operands = conv2d_reference_operands_for(p);
    conv2d_reference(p, wk->hx[i], wk->hw[i], wk->hbias[i], operands, ref, abs_sum);
    const int64_t n_terms = conv_compare_terms(p->c / p->groups, p->r, p->s);
    int64_t on, ok, op, oq;
    CK_CONVGEMM(convgemm_get_output_shape(s->desc, &on, &ok, &op, &oq));
    for (int a = 0; a < kAlgos; ++a) {
      const call_t* call = &wk->calls[i * kAlgos + a];
      const double* bound_sum = abs_sum;
      double l2_extra = 0.0;
      if (call->resolved == CONVGEMM_ALGO_IM2COL_GEMM && operands == CONV2D_REFERENCE_TF32 &&
          p->has_bias) {
        memcpy(abs_sum_split, abs_sum, (size_t)s->y_elems * sizeof(double));
        l2_extra = conv_compare_widen_for_split_bias(wk->hbias[i], on, ok, op * oq, n_terms, ref,
                                                     abs_sum_split);
        bound_sum = abs_sum_split;
      }
      conv_compare_result_t result;
      conv_compare(call->want, ref, bound_sum, s->y_elems, n_terms, &result);
      result.rel_l2_limit += l2_extra;
      char summary[512];
      conv_compare_describe(&result, summary, sizeof summary);
      ck_assert_msg(conv_compare_passed(&result),
                    "worker %d, shape %d, %s (runs as algorithm %d) alone: %s", wk->index, i,
                    kAlgoNames[a], (int)call->resolved, summary);
    }
    free(ref);
    free(abs_sum);
    free(abs_sum_split);
  }
}

/* Records a failure of the thread (Check's assertions are not thread-safe); the main thread
 * asserts on the count and reports the first. */
static void worker_fail(worker_t* wk, const char* fmt, ...) {
  if (wk->failures++ > 0) return;
  va_list args;
  va_start(args, fmt);
  vsnprintf(wk->first_failure, sizeof wk->first_failure, fmt, args);
  va_end(args);
}

static int64_t first_bit_difference(const float* a, const float* b, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    if (memcmp(&a[i], &b[i], sizeof(float)) != 0) return i;
  return -1;
}

/* Waits for the worker's stream and compares the latest result of each call with its `want`. */
static void worker_compare(worker_t* wk, cudaStream_t stream, int round) {
  for (int c = 0; c < kCalls; ++c) {
    const call_t* call = &wk->calls[c];
    const int64_t count = wk->shapes[call->shape].y_elems;
    if (cudaMemcpyAsync(wk->fetched, call->y, (size_t)count * sizeof(float),
                        cudaMemcpyDeviceToHost, stream) != cudaSuccess ||
        cudaStreamSynchronize(stream) != cudaSuccess) {
      worker_fail(wk, "round %d: fetching y failed: %s", round,
                  cudaGetErrorString(cudaGetLastError()));
      return;
    }
    const int64_t diff = first_bit_difference(wk->fetched, call->want, count);
    if (diff >= 0)
      worker_fail(wk, "round %d, shape %d, %s: y[%lld] is %.9g, alone it was %.9g", round,
                  call->shape, kAlgoNames[call->algo], (long long)diff,
                  (double)wk->fetched[diff], (double)call->want[diff]);
  }
}

/* The concurrent part: its own handle and stream, AUTO's choice checked against the main
 * thread's, then every call wk->rounds times, all threads released at once by the barrier. */
static void worker_loop(worker_t* wk) {
  convgemm_handle_t handle = NULL;
  cudaStream_t stream = NULL;
  if (convgemm_create(&handle) != CONVGEMM_STATUS_SUCCESS)
    worker_fail(wk, "convgemm_create: %s", convgemm_get_last_error());
  else if (cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) != cudaSuccess)
    worker_fail(wk, "creating a stream failed");
  for (int c = 0; c < kCalls && wk->failures == 0; ++c) {
    const call_t* call = &wk->calls[c];
    convgemm_algo_t mine = CONVGEMM_ALGO_AUTO;
    if (kAllAlgos[call->algo] == CONVGEMM_ALGO_AUTO &&
        (convgemm_get_algorithm(handle, wk->shapes[call->shape].desc, &mine) !=
             CONVGEMM_STATUS_SUCCESS ||
         mine != call->resolved))
      worker_fail(wk, "shape %d: AUTO picks %d on this thread's handle, %d on the main one's",
                  call->shape, (int)mine, (int)call->resolved);
  }
  pthread_barrier_wait(wk->barrier); /* reached even after a failure: the others wait here */
  for (int round = 0; round < wk->rounds && wk->failures == 0; ++round) {
    for (int c = 0; c < kCalls; ++c) {
      const convgemm_status_t s = call_enqueue(wk, handle, &wk->calls[c], stream);
      if (s != CONVGEMM_STATUS_SUCCESS)
        worker_fail(wk, "round %d, shape %d, %s: %s: %s", round, wk->calls[c].shape,
                    kAlgoNames[wk->calls[c].algo], convgemm_status_string(s),
                    convgemm_get_last_error());
    }
    if ((round + 1) % kCheckEvery == 0 || round + 1 == wk->rounds)
      worker_compare(wk, stream, round);
  }
  if (stream != NULL && cudaStreamSynchronize(stream) != cudaSuccess)
    worker_fail(wk, "the stream failed: %s", cudaGetErrorString(cudaGetLastError()));
  if (stream != NULL) cudaStreamDestroy(stream);
  convgemm_destroy(handle);
}

/* The last error is per thread: every worker makes a call fail with a message of its own, waits
 * until all have, then reads its own message back. */
static void worker_check_last_error(worker_t* wk) {
  convgemm_conv2d_params_t p;
  convgemm_conv2d_params_init(&p, -1000 - wk->index, 1, 1, 1, 1, 1, 1);
  convgemm_conv_desc_t desc = NULL;
  const convgemm_status_t s = convgemm_conv_desc_create(&desc, &p);
  pthread_barrier_wait(wk->barrier);
  char want[32];
  snprintf(want, sizeof want, "got %d", -1000 - wk->index);
  const char* message = convgemm_get_last_error();
  if (s != CONVGEMM_STATUS_BAD_SIZE || strstr(message, want) == NULL)
    worker_fail(wk, "desc_create(n = %d): %s, last error \"%s\", want one with \"%s\"",
                -1000 - wk->index, convgemm_status_string(s), message, want);
}

static void* worker_main(void* arg) {
  worker_t* wk = arg;
  worker_loop(wk);
  worker_check_last_error(wk);
  return NULL;
}

START_TEST(test_eight_threads_every_algorithm) {
  /* Static, like the workers: if a pthread_create failed, the assertion below longjmps out of
   * this function (CK_NOFORK) while the threads already started wait at the barrier for good;
   * what they point to must outlive this frame. */
  static shape_t shapes[kShapes];
  shapes_init(shapes);
  static pthread_barrier_t barrier;
  ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, kWorkers), 0);
  convgemm_handle_t handle;
  cudaStream_t stream;
  CK_CONVGEMM(convgemm_create(&handle));
  CK_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  static worker_t workers[kWorkers];
  const uint64_t seed = test_base_seed(70);
  for (int t = 0; t < kWorkers; ++t) {
    worker_init(&workers[t], t, shapes, handle, &barrier, seed + 16 * (uint64_t)t);
    worker_run_alone(&workers[t], handle, stream);
    worker_check_reference(&workers[t]);
  }
  CK_CUDA(cudaStreamDestroy(stream));
  CK_CONVGEMM(convgemm_destroy(handle));

  /* The main thread's own last error, which the workers' must not replace. */
  convgemm_conv2d_params_t bad;
  convgemm_conv2d_params_init(&bad, -999, 1, 1, 1, 1, 1, 1);
  convgemm_conv_desc_t no_desc = NULL;
  CK_CONVGEMM_STATUS(convgemm_conv_desc_create(&no_desc, &bad), CONVGEMM_STATUS_BAD_SIZE);

  pthread_t threads[kWorkers];
  for (int t = 0; t < kWorkers; ++t)
    ck_assert_int_eq(pthread_create(&threads[t], NULL, worker_main, &workers[t]), 0);
  for (int t = 0; t < kWorkers; ++t) ck_assert_int_eq(pthread_join(threads[t], NULL), 0);
  for (int t = 0; t < kWorkers; ++t)
    ck_assert_msg(workers[t].failures == 0, "worker %d (seed %llu): %d failures; first: %s", t,
                  (unsigned long long)(seed + 16 * (uint64_t)t), workers[t].failures,
                  workers[t].first_failure);
  ck_assert_msg(strstr(convgemm_get_last_error(), "got -999") != NULL,
                "the main thread's last error became \"%s\"", convgemm_get_last_error());

  ck_assert_int_eq(pthread_barrier_destroy(&barrier), 0);
  for (int t = 0; t < kWorkers; ++t) worker_free(&workers[t]);
  for (int i = 0; i < kShapes; ++i) convgemm_conv_desc_destroy(shapes[i].desc);
}
END_TEST

static Suite* threads_suite(void) {
  Suite* s = suite_create("gpu_threads");
  TCase* tc = tcase_create("handles_per_thread");
  tcase_add_test(tc, test_threads_with_different_shared_memory);
  tcase_add_test(tc, test_threads_sharing_a_descriptor);
  tcase_add_test(tc, test_eight_threads_every_algorithm);
  suite_add_tcase(s, tc);
  return s;
}

/* CK_NOFORK: CUDA and fork() don't mix. */
int main(void) { return check_main_run(threads_suite(), CK_NOFORK); }
