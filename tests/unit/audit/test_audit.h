/* Shared helpers of the audit unit tests. */
#ifndef CHSM_TEST_AUDIT_H
#define CHSM_TEST_AUDIT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit/audit.h"

void t_cfg(struct chsm_config *cfg, const char *path);
char *t_path(const char *name);               /* inside the per-run temp dir; caller frees */
void t_ev(struct chsm_audit *a, const char *event, CK_RV expect);
void t_verify_log(const char *log_path, const char *from_hash, struct chsm_audit_verify_result *res);
size_t t_count_lines(const char *file);

void test_two_processes(void **state);
void test_kill9_real(void **state);

/* test_audit_queue.c */
extern const struct CMUnitTest t_queue_tests[];
extern const size_t t_queue_ntests;
/* test_audit_keyuse.c */
extern const struct CMUnitTest t_keyuse_tests[];
extern const size_t t_keyuse_ntests;

#endif
