/*
 * The threading contract of convgemm.h: "a descriptor may be shared by any number of threads; a
 * handle may be used by one thread at a time (give each thread its own handle)". Two threads, each
 * with its own handle and stream, call forward concurrently many times on convolutions that need
 * different amounts of opt-in shared memory (above the 48 KB default) from the same tile kernel;
 * every call must succeed and every result must equal the single-threaded one bit for bit. A
 * third pair shares one descriptor between the threads.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cuda_runtime_api.h>

#include "conv/convgemm.h"
#include "tests/check_main.h"
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
  pthread_t ta, tb;
  ck_assert_int_eq(pthread_create(&ta, NULL, run_job, a), 0);
  ck_assert_int_eq(pthread_create(&tb, NULL, run_job, b), 0);
  ck_assert_int_eq(pthread_join(ta, NULL), 0);
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
   * Both exceed 48 KB, so each launch raises the kernel's opt-in limit to its own size. */
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

static Suite* threads_suite(void) {
  Suite* s = suite_create("gpu_threads");
  TCase* tc = tcase_create("handles_per_thread");
  tcase_add_test(tc, test_threads_with_different_shared_memory);
  tcase_add_test(tc, test_threads_sharing_a_descriptor);
  suite_add_tcase(s, tc);
  return s;
}

/* CK_NOFORK: CUDA and fork() don't mix. */
int main(void) { return check_main_run(threads_suite(), CK_NOFORK); }
