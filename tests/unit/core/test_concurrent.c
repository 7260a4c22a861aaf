/*
 * Concurrency of session-object creation (issue 4 speed work): two threads
 * generate and destroy session keys on their own sessions (AES keys and EC
 * pairs, whose inserts no longer hold the module write lock around their
 * audit entries) while a third signs with a shared key. Every call must
 * succeed, the object count must come back to where it started, and the
 * audit log must name each key's creation before its destruction.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "core/core.h"

#define SO_PIN "so-pin-1234"
#define USER_PIN "user-1234"
#define U(s) (CK_UTF8CHAR_PTR)(s)
#define L(s) (CK_ULONG)strlen(s)
#define ROUNDS 200

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static const CK_BYTE P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static atomic_int failures;
static atomic_bool stop_signing;
static struct chsm_app *app;
static CK_OBJECT_HANDLE shared_priv;

static void note(CK_RV rv)
{
    if (rv != CKR_OK)
        atomic_fetch_add(&failures, 1);
}

static CK_SESSION_HANDLE open_rw(void)
{
    CK_SESSION_HANDLE h = 0;
    assert_int_equal(chsm_core_OpenSession(app, 0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h), CKR_OK);
    return h;
}

static CK_RV gen_pair(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[] = {{CKA_TOKEN, &no, 1}, {CKA_EC_PARAMS, (void *)P256, sizeof(P256)}, {CKA_LABEL, "pair", 4}};
    CK_ATTRIBUTE vt[] = {{CKA_TOKEN, &no, 1}, {CKA_SIGN, &yes, 1}, {CKA_LABEL, "pair", 4}};
    return chsm_core_GenerateKeyPair(app, h, &m, pt, 3, vt, 3, pub, priv);
}

static void *gen_destroy(void *arg)
{
    CK_SESSION_HANDLE h = *(CK_SESSION_HANDLE *)arg;
    CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
    CK_ULONG len = 32;
    CK_ATTRIBUTE t[] = {{CKA_TOKEN, &no, 1}, {CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_LABEL, "k\"ey", 4}};
    for (int i = 0; i < ROUNDS; i++) {
        CK_OBJECT_HANDLE k = 0, pub = 0, priv = 0;
        note(chsm_core_GenerateKey(app, h, &m, t, 3, &k));
        note(chsm_core_DestroyObject(app, h, k));
        if (i % 20 == 0) {
            note(gen_pair(h, &pub, &priv));
            note(chsm_core_DestroyObject(app, h, priv));
            note(chsm_core_DestroyObject(app, h, pub));
        }
    }
    return NULL;
}

static void *signer(void *arg)
{
    CK_SESSION_HANDLE h = *(CK_SESSION_HANDLE *)arg;
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    CK_BYTE hash[32] = {1, 2, 3}, sig[80];
    int n = 0;
    while (!atomic_load(&stop_signing) || n < 50) {
        CK_ULONG sl = sizeof(sig);
        note(chsm_core_SignInit(app, h, &m, shared_priv));
        note(chsm_core_Sign(app, h, hash, sizeof(hash), sig, &sl));
        n++;
    }
    return NULL;
}

static CK_ULONG count_objects(CK_SESSION_HANDLE h)
{
    CK_OBJECT_HANDLE found[64];
    CK_ULONG n = 0, total = 0;
    assert_int_equal(chsm_core_FindObjectsInit(app, h, NULL, 0), CKR_OK);
    do {
        assert_int_equal(chsm_core_FindObjects(app, h, found, 64, &n), CKR_OK);
        total += n;
    } while (n > 0);
    assert_int_equal(chsm_core_FindObjectsFinal(app, h), CKR_OK);
    return total;
}

/* Per object id: 1 once created, 2 once destroyed; a destroy of an id never created is an error. */
struct order_check {
    char ids[4 * ROUNDS][2 * 128 + 1];
    int state[4 * ROUNDS];
    size_t n;
    int errors, generated, destroyed;
};

static int on_entry(const struct chsm_audit_entry *e, const char *line, size_t len, uint64_t lineno, bool terminated,
                    void *ctx)
{
    (void)line, (void)len, (void)lineno;
    struct order_check *oc = ctx;
    if (e == NULL || !terminated) {
        oc->errors++;
        return 0;
    }
    bool gen = strcmp(e->event, "key_generate") == 0 || strcmp(e->event, "keypair_generate") == 0;
    bool des = strcmp(e->event, "object_destroy") == 0;
    if (!gen && !des)
        return 0;
    size_t i = 0;
    while (i < oc->n && strcmp(oc->ids[i], e->object_id) != 0)
        i++;
    if (gen) {
        if (i < oc->n || oc->n == 4 * ROUNDS) {
            oc->errors++;
            return 0;
        }
        snprintf(oc->ids[oc->n], sizeof(oc->ids[0]), "%s", e->object_id);
        oc->state[oc->n++] = 1;
        oc->generated++;
    } else if (i == oc->n || oc->state[i] != 1) {
        oc->errors++;
    } else {
        oc->state[i] = 2;
        oc->destroyed++;
        /* Reuse the slot: ids are unique, and the table stays small. */
        oc->n--;
        memmove(oc->ids[i], oc->ids[oc->n], sizeof(oc->ids[0]));
        oc->state[i] = oc->state[oc->n];
    }
    return 0;
}

static void test_generate_destroy_while_signing(void **state)
{
    (void)state;
    char dir[] = "/tmp/chsm-concurrent-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char logp[300];
    (void)snprintf(logp, sizeof(logp), "%s/audit.jsonl", dir);
    struct chsm_config c;
    assert_int_equal(chsm_config_defaults(&c), CKR_OK);
    free(c.token.storage_path);
    c.token.storage_path = strdup(":memory:");
    c.security.pbkdf2_iterations = 100000;
    c.audit.enabled = true;
    free(c.audit.log_path);
    c.audit.log_path = strdup(logp);
    struct chsm_core_options o = {.config = &c, .actor = "concurrency-test"};
    assert_int_equal(chsm_core_initialize(&o), CKR_OK);
    chsm_config_free(&c);
    app = chsm_core_default_app();
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    assert_int_equal(chsm_core_InitToken(app, 0, U(SO_PIN), L(SO_PIN), label), CKR_OK);
    CK_SESSION_HANDLE h0 = open_rw();
    assert_int_equal(chsm_core_Login(app, h0, CKU_SO, U(SO_PIN), L(SO_PIN)), CKR_OK);
    assert_int_equal(chsm_core_InitPIN(app, h0, U(USER_PIN), L(USER_PIN)), CKR_OK);
    assert_int_equal(chsm_core_Logout(app, h0), CKR_OK);
    assert_int_equal(chsm_core_Login(app, h0, CKU_USER, U(USER_PIN), L(USER_PIN)), CKR_OK);
    CK_OBJECT_HANDLE shared_pub = 0;
    assert_int_equal(gen_pair(h0, &shared_pub, &shared_priv), CKR_OK);
    CK_ULONG before = count_objects(h0);
    assert_int_equal(before, 2);

    CK_SESSION_HANDLE hs[3] = {open_rw(), open_rw(), open_rw()};
    pthread_t t[3];
    atomic_store(&failures, 0);
    atomic_store(&stop_signing, false);
    assert_int_equal(pthread_create(&t[2], NULL, signer, &hs[2]), 0);
    assert_int_equal(pthread_create(&t[0], NULL, gen_destroy, &hs[0]), 0);
    assert_int_equal(pthread_create(&t[1], NULL, gen_destroy, &hs[1]), 0);
    assert_int_equal(pthread_join(t[0], NULL), 0);
    assert_int_equal(pthread_join(t[1], NULL), 0);
    atomic_store(&stop_signing, true);
    assert_int_equal(pthread_join(t[2], NULL), 0);

    assert_int_equal(atomic_load(&failures), 0);
    assert_int_equal(count_objects(h0), before);
    assert_int_equal(chsm_core_finalize(), CKR_OK);

    static struct order_check oc;
    memset(&oc, 0, sizeof(oc));
    assert_int_equal(chsm_audit_read_entries(logp, on_entry, &oc), CKR_OK);
    assert_int_equal(oc.errors, 0);
    /* 1 shared pair (2 entries) + per thread ROUNDS keys and ROUNDS/20 pairs (2 objects each). */
    assert_int_equal(oc.generated, 2 + 2 * (ROUNDS + 2 * (ROUNDS / 20)));
    assert_int_equal(oc.destroyed, 2 * (ROUNDS + 2 * (ROUNDS / 20)));
    char cmd[400];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_destroy_while_signing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
