/* Shared helpers for the store unit tests (temp dirs, attribute builders, a recording feed). */
#ifndef CHSM_TEST_STORE_TEST_H
#define CHSM_TEST_STORE_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"

#define T_ITER 1000u /* PBKDF2 iterations in tests: the floor is config's rule, speed is bench's */
#define T_SLOT 1u
#define MAX_SEEN 64

extern const char T_LABEL[32];
extern const char T_SERIAL[16];
extern const uint8_t T_SO_PIN[];
extern const size_t T_SO_PIN_LEN;
extern const uint8_t T_USER_PIN[];
extern const size_t T_USER_PIN_LEN;

/* mkdtemp under $TMPDIR; returns a static path "<tmp>/store" (not created). */
const char *t_tmpdir(void);
void t_rmrf(const char *path);

/* A token with both PINs set; mk receives the MK. */
void t_init_token(struct chsm_store *st, uint32_t slot, struct chsm_secbuf *mk);

/* Attribute lists. */
void t_secret_key(struct chsm_attrlist *l, const uint8_t *value, size_t len, const char *label);
void t_public_data(struct chsm_attrlist *l, const char *label, const char *value);

/* A feed that records what it sees. */
struct t_seen {
    size_t n_upsert, n_removed, n_bad;
    struct chsm_store_object objs[MAX_SEEN];
    uint8_t removed[MAX_SEEN][CHSM_OBJECT_ID_LEN];
    uint8_t bad[MAX_SEEN][CHSM_OBJECT_ID_LEN];
};
void t_seen_reset(struct t_seen *s);
CK_RV t_changes(struct chsm_store *st, uint32_t slot, uint64_t since, const struct chsm_secbuf *mk, struct t_seen *s,
                uint64_t *now);
const struct chsm_store_object *t_find(const struct t_seen *s, const uint8_t id[CHSM_OBJECT_ID_LEN]);
int t_has_id(const uint8_t (*ids)[CHSM_OBJECT_ID_LEN], size_t n, const uint8_t id[CHSM_OBJECT_ID_LEN]);

/* Run one SQL statement on <dir>/craton_hsm.db directly (tamper tests). */
void t_sql(const char *dir, const char *sql);

/* Raw access to <dir>/craton_hsm.db, as an attacker with write access to the files has. */
struct sqlite3;
struct sqlite3 *t_raw_open(const char *dir);
size_t t_raw_get(const char *dir, uint32_t slot, const uint8_t *id, const char *col, uint8_t *out, size_t cap);
void t_raw_set(const char *dir, uint32_t slot, const uint8_t *id, const char *col, const uint8_t *v, size_t n);
/* Copy a file, creating the target 0600 (fixtures). */
void t_copy_file(const char *from, const char *to);

#endif
