/* dlopen/dlsym loader of cuDNN's legacy convolution API. */
#define _GNU_SOURCE /* dladdr */
#include "benchmarks/cudnn_api.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "benchmarks/check.h"

static const char* const kLibraryNames[] = {"libcudnn.so.9", "libcudnn.so"};
enum { REQUIRED_MAJOR = 9 };

int bench_cudnn_load(bench_cudnn_api_t* api, char* why, size_t why_len) {
  memset(api, 0, sizeof *api);
  const char* first_error = NULL;
  char first_error_copy[256] = "";
  for (size_t i = 0; i < sizeof kLibraryNames / sizeof kLibraryNames[0]; ++i) {
    api->library = dlopen(kLibraryNames[i], RTLD_NOW | RTLD_LOCAL);
    if (api->library != NULL) break;
    if (first_error == NULL) {
      first_error = dlerror();
      snprintf(first_error_copy, sizeof first_error_copy, "%s",
               first_error != NULL ? first_error : "unknown dlopen error");
    }
  }
  if (api->library == NULL) {
    snprintf(why, why_len, "dlopen(libcudnn.so.9 / libcudnn.so) failed: %s", first_error_copy);
    return 0;
  }

#define BENCH_CUDNN_RESOLVE(fn)                                                         \
  do {                                                                                  \
    void* sym = dlsym(api->library, #fn);                                               \
    if (sym == NULL) {                                                                  \
      snprintf(why, why_len, "cuDNN library has no symbol %s", #fn);                    \
      bench_cudnn_unload(api);                                                          \
      return 0;                                                                         \
    }                                                                                   \
    api->fn = (__typeof__(api->fn))sym;                                                 \
  } while (0);
  BENCH_CUDNN_FUNCTIONS(BENCH_CUDNN_RESOLVE)
#undef BENCH_CUDNN_RESOLVE

  Dl_info info;
  if (dladdr((void*)api->cudnnGetVersion, &info) != 0 && info.dli_fname != NULL)
    snprintf(api->path, sizeof api->path, "%s", info.dli_fname);
  else
    snprintf(api->path, sizeof api->path, "?");

  api->version = api->cudnnGetVersion();
  if (api->version / 10000 != REQUIRED_MAJOR) {
    snprintf(why, why_len, "%s is cuDNN %zu.%zu.%zu; conv_bench needs cuDNN %d", api->path,
             api->version / 10000, api->version / 100 % 100, api->version % 100, REQUIRED_MAJOR);
    bench_cudnn_unload(api);
    return 0;
  }
  return 1;
}

void bench_cudnn_unload(bench_cudnn_api_t* api) {
  if (api->library != NULL) dlclose(api->library);
  memset(api, 0, sizeof *api);
}

void bench_check_cudnn(const bench_cudnn_api_t* api, cudnnStatus_t status, const char* call,
                       const char* file, int line) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  char last[512] = "";
  api->cudnnGetLastErrorString(last, sizeof last);
  bench_die("%s failed: %s%s%s at %s:%d", call, api->cudnnGetErrorString(status),
            last[0] != '\0' ? ": " : "", last, file, line);
}
