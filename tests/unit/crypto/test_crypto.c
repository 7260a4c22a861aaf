/*
 * Crypto foundation tests: lifecycle, DRBG, digests, KDFs, HMAC, AES-GCM,
 * AES-KW, self-tests, and the host error-queue guarantee. Known answers come
 * from the Wycheproof files in tests/vectors/ (the source of truth).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "suites.h"
#include "vec.h"

int chsm_test_crypto_group_setup(void **state)
{
    (void)state;
    return chsm_crypto_init() == CKR_OK ? 0 : -1;
}

int chsm_test_crypto_group_teardown(void **state)
{
    (void)state;
    chsm_crypto_fini();
    return 0;
}

static int setup(void **state)
{
    (void)state;
    return chsm_crypto_init() == CKR_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    chsm_crypto_fini();
    return 0;
}

static void test_refcount(void **state)
{
    uint8_t b[32];
    (void)state;
    assert_int_equal(chsm_crypto_init(), CKR_OK); /* second reference */
    chsm_crypto_fini();
    assert_int_equal(chsm_rand_bytes(b, sizeof(b)), CKR_OK); /* still alive: one ref left */
    chsm_crypto_fini();
    assert_int_equal(chsm_rand_bytes(b, sizeof(b)), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(chsm_sha256("x", 1, b), CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(chsm_crypto_init(), CKR_OK); /* re-init after full fini works */
    assert_int_equal(chsm_rand_bytes(b, sizeof(b)), CKR_OK);
}

static void test_rand(void **state)
{
    uint8_t a[64], b[64], big[70000];
    (void)state;
    assert_int_equal(chsm_rand_bytes(a, sizeof(a)), CKR_OK);
    assert_int_equal(chsm_rand_bytes(b, sizeof(b)), CKR_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(chsm_rand_seed("seed", 4), CKR_OK);
    assert_int_equal(chsm_rand_bytes(b, sizeof(b)), CKR_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(chsm_rand_bytes(a, 0), CKR_OK);
    /* Larger than one CTR-DRBG request (64 KiB): must be chunked, not refused. */
    assert_int_equal(chsm_rand_bytes(big, sizeof(big)), CKR_OK);
}

static void *rand_thread(void *arg)
{
    uint8_t *out = arg;
    for (int i = 0; i < 100; i++)
        if (chsm_rand_bytes(out, 32) != CKR_OK)
            return (void *)1;
    return NULL;
}

static void test_rand_threads(void **state)
{
    pthread_t t[4];
    uint8_t out[4][32];
    void *res;
    (void)state;
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, rand_thread, out[i]), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], &res), 0);
        assert_null(res);
    }
    for (int i = 1; i < 4; i++)
        assert_memory_not_equal(out[0], out[i], 32);
}

static void test_fork(void **state)
{
    int fds[2];
    uint8_t parent[32], child[32];
    pid_t pid;
    int status;
    (void)state;
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uint8_t b[32];
        int ok = chsm_crypto_after_fork() == CKR_OK && chsm_rand_bytes(b, sizeof(b)) == CKR_OK;
        ok = ok && write(fds[1], b, sizeof(b)) == (ssize_t)sizeof(b);
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(chsm_rand_bytes(parent, sizeof(parent)), CKR_OK);
    assert_int_equal(read(fds[0], child, sizeof(child)), (ssize_t)sizeof(child));
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_memory_not_equal(parent, child, sizeof(child));
    close(fds[0]);
    close(fds[1]);
}

static void hex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void test_digests(void **state)
{
    static const struct {
        CK_MECHANISM_TYPE mech;
        const char *abc;
    } kat[] = {
        {CKM_SHA_1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {CKM_SHA224, "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
        {CKM_SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {CKM_SHA384, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
        {CKM_SHA512, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd"
                     "454d4423643ce80e2a9ac94fa54ca49f"},
        {CKM_SHA3_256, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
        {CKM_SHA3_384, "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25"},
        {CKM_SHA3_512, "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e393"
                       "4057340b4cf408d5a56592f8274eec53f0"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
        uint8_t want[64], got[64], got2[64];
        size_t n = strlen(kat[i].abc) / 2, len = 0, len2 = 0;
        struct chsm_digest *d = NULL, *c = NULL;
        hex(kat[i].abc, want, n);
        assert_int_equal(chsm_digest_size(kat[i].mech), n);
        assert_int_equal(chsm_digest_oneshot(kat[i].mech, "abc", 3, got, &len), CKR_OK);
        assert_int_equal(len, n);
        assert_memory_equal(got, want, n);
        /* Multi-part, and a dup taken midway finishes independently. */
        assert_int_equal(chsm_digest_new(kat[i].mech, &d), CKR_OK);
        assert_int_equal(chsm_digest_update(d, "a", 1), CKR_OK);
        assert_int_equal(chsm_digest_dup(d, &c), CKR_OK);
        assert_int_equal(chsm_digest_update(d, "bc", 2), CKR_OK);
        assert_int_equal(chsm_digest_update(c, "bc", 2), CKR_OK);
        assert_int_equal(chsm_digest_final(d, got, &len), CKR_OK);
        assert_int_equal(chsm_digest_final(c, got2, &len2), CKR_OK);
        assert_memory_equal(got, want, n);
        assert_memory_equal(got2, want, n);
        /* A finished context refuses more work. */
        assert_int_equal(chsm_digest_update(d, "x", 1), CKR_OPERATION_NOT_INITIALIZED);
        assert_int_equal(chsm_digest_final(d, got, &len), CKR_OPERATION_NOT_INITIALIZED);
        chsm_digest_free(d);
        chsm_digest_free(c);
    }
    {
        struct chsm_digest *d = NULL;
        uint8_t out[64];
        size_t len;
        assert_int_equal(chsm_digest_size(CKM_AES_CBC), 0);
        assert_int_equal(chsm_digest_new(CKM_AES_CBC, &d), CKR_MECHANISM_INVALID);
        assert_null(d);
        assert_int_equal(chsm_digest_oneshot(CKM_MD5, "a", 1, out, &len), CKR_MECHANISM_INVALID);
        assert_int_equal(chsm_digest_oneshot(CKM_SHA256, NULL, 1, out, &len), CKR_ARGUMENTS_BAD);
    }
}

static void test_pbkdf2_wycheproof(void **state)
{
    struct json *root = vec_load("pbkdf2_hmacsha256_test.json");
    size_t cases = 0;
    (void)state;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *g = vec_group(root, gi);
        for (size_t ti = 0; ti < vec_ntests(g); ti++) {
            const struct json *t = vec_test(g, ti);
            size_t pl, sl, dl;
            uint8_t *pw = json_hex(t, "password", &pl), *salt = json_hex(t, "salt", &sl), *dk = json_hex(t, "dk", &dl);
            long iter = json_int(t, "iterationCount", 0);
            uint8_t *out = malloc(dl + 1);
            /* Keep the run short: the file's 10^6..10^7-iteration cases add nothing over 4096. */
            if (iter <= 20000) {
                CK_RV rv = chsm_pbkdf2_sha256(pw, pl, salt, sl, (uint32_t)iter, out, dl);
                if (vec_valid(t)) {
                    assert_int_equal(rv, CKR_OK);
                    assert_memory_equal(out, dk, dl);
                } else {
                    assert_true(rv != CKR_OK || memcmp(out, dk, dl) != 0);
                }
                cases++;
            }
            free(pw), free(salt), free(dk), free(out);
        }
    }
    assert_true(cases >= 40);
    json_free(root);
}

static void test_hkdf_wycheproof(void **state)
{
    struct json *root = vec_load("hkdf_sha256_test.json");
    size_t cases = 0;
    (void)state;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *g = vec_group(root, gi);
        for (size_t ti = 0; ti < vec_ntests(g); ti++) {
            const struct json *t = vec_test(g, ti);
            size_t il, sl, nl, ol;
            uint8_t *ikm = json_hex(t, "ikm", &il), *salt = json_hex(t, "salt", &sl);
            uint8_t *info = json_hex(t, "info", &nl), *okm = json_hex(t, "okm", &ol);
            size_t size = (size_t)json_int(t, "size", 0);
            uint8_t *out = malloc(size + 1);
            CK_RV rv = chsm_hkdf_sha256(ikm, il, salt, sl, info, nl, out, size);
            if (vec_valid(t)) {
                assert_int_equal(rv, CKR_OK);
                assert_int_equal(size, ol);
                assert_memory_equal(out, okm, ol);
            } else {
                assert_int_equal(rv, CKR_KEY_SIZE_RANGE); /* the invalid cases exceed 255*HashLen */
            }
            cases++;
            free(ikm), free(salt), free(info), free(okm), free(out);
        }
    }
    assert_int_equal(cases, 86);
    json_free(root);
}

static void test_hmac_wycheproof(void **state)
{
    struct json *root = vec_load("hmac_sha256_test.json");
    size_t cases = 0;
    (void)state;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *g = vec_group(root, gi);
        size_t tag_bytes = (size_t)json_int(g, "tagSize", 256) / 8;
        for (size_t ti = 0; ti < vec_ntests(g); ti++) {
            const struct json *t = vec_test(g, ti);
            size_t kl, ml, tl;
            uint8_t *key = json_hex(t, "key", &kl), *msg = json_hex(t, "msg", &ml), *tag = json_hex(t, "tag", &tl);
            uint8_t out[32];
            assert_int_equal(chsm_hmac_sha256(key, kl, msg, ml, out), CKR_OK);
            bool match = tl == tag_bytes && chsm_ct_equal(out, tag, tl);
            assert_int_equal(match, vec_valid(t));
            cases++;
            free(key), free(msg), free(tag);
        }
    }
    assert_int_equal(cases, 174);
    json_free(root);
}

static void test_gcm_wycheproof(void **state)
{
    struct json *root = vec_load("aes_gcm_test.json");
    size_t valid = 0, invalid = 0;
    (void)state;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *g = vec_group(root, gi);
        /* The foundation API is AES-256 / 96-bit IV / 128-bit tag only. */
        if (json_int(g, "keySize", 0) != 256 || json_int(g, "ivSize", 0) != 96 || json_int(g, "tagSize", 0) != 128)
            continue;
        for (size_t ti = 0; ti < vec_ntests(g); ti++) {
            const struct json *t = vec_test(g, ti);
            size_t kl, il, al, ml, cl, tl;
            uint8_t *key = json_hex(t, "key", &kl), *iv = json_hex(t, "iv", &il), *aad = json_hex(t, "aad", &al);
            uint8_t *msg = json_hex(t, "msg", &ml), *ct = json_hex(t, "ct", &cl), *tag = json_hex(t, "tag", &tl);
            uint8_t *out = malloc(ml + cl + 1), otag[16];
            assert_int_equal(tl, 16);
            if (vec_valid(t)) {
                assert_int_equal(chsm_aes256_gcm_seal(key, iv, aad, al, msg, ml, out, otag), CKR_OK);
                assert_memory_equal(out, ct, cl);
                assert_memory_equal(otag, tag, 16);
                assert_int_equal(chsm_aes256_gcm_open(key, iv, aad, al, ct, cl, tag, out), CKR_OK);
                assert_memory_equal(out, msg, ml);
                valid++;
            } else {
                assert_int_equal(chsm_aes256_gcm_open(key, iv, aad, al, ct, cl, tag, out),
                                 CKR_ENCRYPTED_DATA_INVALID);
                invalid++;
            }
            free(key), free(iv), free(aad), free(msg), free(ct), free(tag), free(out);
        }
    }
    assert_true(valid >= 10 && invalid >= 10);
    json_free(root);
}

static void test_kw_wycheproof(void **state)
{
    struct json *root = vec_load("aes_wrap_test.json");
    size_t cases = 0;
    (void)state;
    for (size_t gi = 0; gi < vec_ngroups(root); gi++) {
        const struct json *g = vec_group(root, gi);
        if (json_int(g, "keySize", 0) != 256)
            continue;
        for (size_t ti = 0; ti < vec_ntests(g); ti++) {
            const struct json *t = vec_test(g, ti);
            size_t kl, ml, cl, ol = 0;
            uint8_t *key = json_hex(t, "key", &kl), *msg = json_hex(t, "msg", &ml), *ct = json_hex(t, "ct", &cl);
            uint8_t *out = malloc(ml + cl + 16);
            CK_RV rv = chsm_aes256_kw_unwrap(key, ct, cl, out, &ol);
            if (vec_valid(t)) {
                assert_int_equal(rv, CKR_OK);
                assert_int_equal(ol, ml);
                assert_memory_equal(out, msg, ml);
                assert_int_equal(chsm_aes256_kw_wrap(key, msg, ml, out, &ol), CKR_OK);
                assert_int_equal(ol, cl);
                assert_memory_equal(out, ct, cl);
            } else if (vec_invalid(t)) {
                assert_true(rv == CKR_WRAPPED_KEY_INVALID || rv == CKR_WRAPPED_KEY_LEN_RANGE);
            }
            cases++;
            free(key), free(msg), free(ct), free(out);
        }
    }
    assert_true(cases >= 40);
    json_free(root);
}

static void test_kw_bad_lengths(void **state)
{
    uint8_t kek[32] = {0}, in[40] = {0}, out[48];
    size_t ol;
    (void)state;
    assert_int_equal(chsm_aes256_kw_wrap(kek, in, 8, out, &ol), CKR_DATA_LEN_RANGE);
    assert_int_equal(chsm_aes256_kw_wrap(kek, in, 17, out, &ol), CKR_DATA_LEN_RANGE);
    assert_int_equal(chsm_aes256_kw_unwrap(kek, in, 16, out, &ol), CKR_WRAPPED_KEY_LEN_RANGE);
    assert_int_equal(chsm_aes256_kw_unwrap(kek, in, 25, out, &ol), CKR_WRAPPED_KEY_LEN_RANGE);
    assert_int_equal(chsm_aes256_kw_unwrap(kek, in, 40, out, &ol), CKR_WRAPPED_KEY_INVALID);
}

static void test_gcm_wipes_on_failure(void **state)
{
    uint8_t key[32] = {1}, iv[12] = {2}, pt[32], ct[32], tag[16], out[32];
    (void)state;
    memset(pt, 0x41, sizeof(pt));
    assert_int_equal(chsm_aes256_gcm_seal(key, iv, NULL, 0, pt, sizeof(pt), ct, tag), CKR_OK);
    tag[15] ^= 0x80;
    memset(out, 0x55, sizeof(out));
    assert_int_equal(chsm_aes256_gcm_open(key, iv, NULL, 0, ct, sizeof(ct), tag, out), CKR_ENCRYPTED_DATA_INVALID);
    for (size_t i = 0; i < sizeof(out); i++)
        assert_int_equal(out[i], 0); /* no unauthenticated plaintext left behind */
    assert_string_equal(chsm_err_last()->layer, "crypto");
}

/* A failing call must leave the host's OpenSSL error queue exactly as it was. */
static void test_error_queue_untouched(void **state)
{
    uint8_t kek[32] = {0}, in[40] = {0}, out[48], key[32] = {0}, iv[12] = {0}, tag[16] = {0};
    size_t ol;
    (void)state;
    ERR_clear_error();
    assert_int_equal(chsm_aes256_kw_unwrap(kek, in, 40, out, &ol), CKR_WRAPPED_KEY_INVALID);
    assert_int_equal(chsm_aes256_gcm_open(key, iv, NULL, 0, in, 16, tag, out), CKR_ENCRYPTED_DATA_INVALID);
    assert_int_equal(ERR_peek_error(), 0);
    /* With a host error already queued, it survives and nothing is added. */
    ERR_raise(ERR_LIB_USER, 42);
    unsigned long host = ERR_peek_last_error();
    assert_int_equal(chsm_aes256_kw_unwrap(kek, in, 40, out, &ol), CKR_WRAPPED_KEY_INVALID);
    assert_int_equal(ERR_peek_last_error(), host);
    assert_int_equal(ERR_get_error(), host);
    assert_int_equal(ERR_get_error(), 0);
}

struct st_log {
    int n, failed;
    char failed_name[64];
};

static void st_report(void *ctx, const char *name, bool passed)
{
    struct st_log *l = ctx;
    l->n++;
    if (!passed) {
        l->failed++;
        strncpy(l->failed_name, name, sizeof(l->failed_name) - 1);
    }
}

static void test_selftest(void **state)
{
    struct st_log l = {0};
    (void)state;
    assert_int_equal(chsm_selftest_run(st_report, &l), CKR_OK);
    assert_int_equal(l.n, 19); /* 11 foundation + 8 mechanism-family KATs */
    assert_int_equal(l.failed, 0);
    memset(&l, 0, sizeof(l));
    chsm_selftest_force_failure("AES-256-GCM");
    assert_int_equal(chsm_selftest_run(st_report, &l), CKR_FUNCTION_FAILED);
    assert_int_equal(l.failed, 1);
    assert_string_equal(l.failed_name, "AES-256-GCM");
    chsm_selftest_force_failure(NULL);
    memset(&l, 0, sizeof(l));
    assert_int_equal(chsm_selftest_run(st_report, &l), CKR_OK);
    assert_int_equal(l.failed, 0);
}

static void test_kdf_args(void **state)
{
    uint8_t out[32];
    (void)state;
    assert_int_equal(chsm_pbkdf2_sha256("p", 1, (const uint8_t *)"s", 1, 0, out, 32), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(chsm_pbkdf2_sha256("p", 1, NULL, 1, 1, out, 32), CKR_ARGUMENTS_BAD);
    assert_int_equal(chsm_hkdf_sha256(out, 32, NULL, 0, NULL, 0, out, 0), CKR_KEY_SIZE_RANGE);
    assert_true(chsm_ct_equal("abc", "abc", 3));
    assert_false(chsm_ct_equal("abc", "abd", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_rand),
        cmocka_unit_test(test_rand_threads),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_digests),
        cmocka_unit_test(test_pbkdf2_wycheproof),
        cmocka_unit_test(test_hkdf_wycheproof),
        cmocka_unit_test(test_hmac_wycheproof),
        cmocka_unit_test(test_gcm_wycheproof),
        cmocka_unit_test(test_gcm_wipes_on_failure),
        cmocka_unit_test(test_kw_wycheproof),
        cmocka_unit_test(test_kw_bad_lengths),
        cmocka_unit_test(test_error_queue_untouched),
        cmocka_unit_test(test_selftest),
        cmocka_unit_test(test_kdf_args),
    };
    int failed = cmocka_run_group_tests_name("foundation", tests, setup, teardown);
    failed += run_sign_tests();
    failed += run_cipher_tests();
    failed += run_mac_derive_tests();
    failed += run_gcm_long_tests();
    failed += run_gcm_long_edge_tests();
    return failed;
}
