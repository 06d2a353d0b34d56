/*
 * The one main loop of every test binary: run a Check suite, print the CK_NORMAL report, return
 * a process exit status (0 only if every test passed), so the binaries work under `bazel test`
 * and run directly on the GPU machine alike.
 */
#ifndef CONVGEMM_TESTS_CHECK_MAIN_H_
#define CONVGEMM_TESTS_CHECK_MAIN_H_

#include <check.h>

/* Runs `suite` (and frees it). fork_status: CK_FORK for host-only suites (a crash stays inside one
 * test); CK_NOFORK for suites that use CUDA, whose context does not survive fork(). */
int check_main_run(Suite* suite, enum fork_status fork_status);

#endif /* CONVGEMM_TESTS_CHECK_MAIN_H_ */
