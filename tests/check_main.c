/* Runs a Check suite and turns its result into an exit status (check_main.h). */
#include "tests/check_main.h"

int check_main_run(Suite* suite, enum fork_status fork_status) {
  SRunner* runner = srunner_create(suite);
  srunner_set_fork_status(runner, fork_status);
  srunner_run_all(runner, CK_NORMAL);
  const int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed == 0 ? 0 : 1;
}
