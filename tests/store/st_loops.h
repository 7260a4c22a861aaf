/* Long-running st_tool commands (two-process worker, crash child/checker, live tamper); see st_loops.c. */
#ifndef CHSM_TESTS_STORE_ST_LOOPS_H
#define CHSM_TESTS_STORE_ST_LOOPS_H

#include <stdbool.h>

/* Runs cmd if it is one of the loop commands; false when cmd is not one of them. */
bool st_loops_dispatch(const char *cmd, int argc, char **argv);

#endif
