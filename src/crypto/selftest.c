/*
 * Power-on self-tests (issue 2 item 5, issue 4 "Self-tests"): fixed published
 * vectors, outputs compared byte for byte with chsm_ct_equal — never round
 * trips. One report() per test. Mechanism-family KATs are in selftest_mech.c.
 */
#include <openssl/crypto.h>
#include <pthread.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/crypto.h"
#include "crypto/internal.h"
#include "crypto/selftest_internal.h"

static pthread_mutex_t st_lock = PTHREAD_MUTEX_INITIALIZER;
static char st_forced[64];

bool chsm_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void chsm_selftest_force_failure(const char *name)
{
    pthread_mutex_lock(&st_lock);
    st_forced[0] = '\0';
    if (name != NULL) {
        strncpy(st_forced, name, sizeof(st_forced) - 1);
        st_forced[sizeof(st_forced) - 1] = '\0';
    }
    pthread_mutex_unlock(&st_lock);
}

static bool st_is_forced(const char *name)
{
    bool forced;
    pthread_mutex_lock(&st_lock);
    forced = st_forced[0] != '\0' && strcmp(st_forced, name) == 0;
    pthread_mutex_unlock(&st_lock);
    return forced;
}

bool chsm_st_hex(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap || !chsm_hex_decode(hex, out, n / 2))
        return false;
    *len = n / 2;
    return true;
}

bool chsm_st_equal_hex(const uint8_t *got, size_t got_len, const char *hex)
{
    uint8_t want[512];
    size_t want_len = 0;
    return chsm_st_hex(hex, want, sizeof(want), &want_len) && want_len == got_len &&
           chsm_ct_equal(got, want, want_len);
}

static bool digest_abc(CK_MECHANISM_TYPE mech, const char *hex)
{
    uint8_t out[64];
    size_t len = 0;
    return chsm_digest_oneshot(mech, "abc", 3, out, &len) == CKR_OK && chsm_st_equal_hex(out, len, hex);
}

/* FIPS 180-4 / FIPS 202 example "abc". */
static bool kat_sha1(void) { return digest_abc(CKM_SHA_1, "a9993e364706816aba3e25717850c26c9cd0d89d"); }
static bool kat_sha256(void)
{
    return digest_abc(CKM_SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
static bool kat_sha384(void)
{
    return digest_abc(CKM_SHA384, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                                  "8086072ba1e7cc2358baeca134c825a7");
}
static bool kat_sha512(void)
{
    return digest_abc(CKM_SHA512, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                                  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}
static bool kat_sha3_256(void)
{
    return digest_abc(CKM_SHA3_256, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
}

/* RFC 4231 test case 2. */
static bool kat_hmac_sha256(void)
{
    static const char data[] = "what do ya want for nothing?";
    uint8_t out[32];
    return chsm_hmac_sha256((const uint8_t *)"Jefe", 4, data, sizeof(data) - 1, out) == CKR_OK &&
           chsm_st_equal_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* RFC 7914 section 11, first PBKDF2-HMAC-SHA256 vector. */
static bool kat_pbkdf2(void)
{
    uint8_t out[64];
    return chsm_pbkdf2_sha256("passwd", 6, (const uint8_t *)"salt", 4, 1, out, sizeof(out)) == CKR_OK &&
           chsm_st_equal_hex(out, sizeof(out),
                             "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                             "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
}

/* RFC 5869 test case 1. */
static bool kat_hkdf(void)
{
    uint8_t ikm[22], salt[13], info[10], out[42];
    memset(ikm, 0x0b, sizeof(ikm));
    for (size_t i = 0; i < sizeof(salt); i++)
        salt[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof(info); i++)
        info[i] = (uint8_t)(0xf0 + i);
    return chsm_hkdf_sha256(ikm, sizeof(ikm), salt, sizeof(salt), info, sizeof(info), out, sizeof(out)) ==
               CKR_OK &&
           chsm_st_equal_hex(out, sizeof(out),
                             "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

/* McGrew-Viega GCM spec test case 16 (AES-256, 96-bit IV, AAD), ciphertext and tag compared. */
static bool kat_aes_gcm(void)
{
    uint8_t key[32], iv[12], aad[20], pt[60], ct[60], tag[16], back[60];
    size_t kl, il, al, pl;
    bool ok = chsm_st_hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", key, 32, &kl) &&
              chsm_st_hex("cafebabefacedbaddecaf888", iv, 12, &il) &&
              chsm_st_hex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad, 20, &al) &&
              chsm_st_hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                          "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
                          pt, 60, &pl);
    ok = ok && chsm_aes256_gcm_seal(key, iv, aad, al, pt, pl, ct, tag) == CKR_OK &&
         chsm_st_equal_hex(ct, pl, "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                                   "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662") &&
         chsm_st_equal_hex(tag, 16, "76fc6ece0f4e1768cddf8853bb2d551b");
    ok = ok && chsm_aes256_gcm_open(key, iv, aad, al, ct, pl, tag, back) == CKR_OK && chsm_ct_equal(back, pt, pl);
    /* The tag must be checked: one flipped bit has to be refused. */
    tag[0] ^= 1;
    ok = ok && chsm_aes256_gcm_open(key, iv, aad, al, ct, pl, tag, back) == CKR_ENCRYPTED_DATA_INVALID;
    return ok;
}

/* RFC 3394 section 4.6: 256-bit key data with a 256-bit KEK. */
static bool kat_aes_kw(void)
{
    uint8_t kek[32], data[32], out[40], back[40];
    size_t dl, ol = 0, bl = 0;
    for (size_t i = 0; i < sizeof(kek); i++)
        kek[i] = (uint8_t)i;
    bool ok = chsm_st_hex("00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f", data, 32, &dl) &&
              chsm_aes256_kw_wrap(kek, data, dl, out, &ol) == CKR_OK &&
              chsm_st_equal_hex(out, ol, "28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43b"
                                         "fb988b9b7a02dd21");
    ok = ok && chsm_aes256_kw_unwrap(kek, out, ol, back, &bl) == CKR_OK && bl == dl && chsm_ct_equal(back, data, dl);
    return ok;
}

static const struct chsm_st_entry foundation[] = {
    {"SHA-1", kat_sha1},
    {"SHA-256", kat_sha256},
    {"SHA-384", kat_sha384},
    {"SHA-512", kat_sha512},
    {"SHA3-256", kat_sha3_256},
    {"HMAC-SHA256", kat_hmac_sha256},
    {"PBKDF2-HMAC-SHA256", kat_pbkdf2},
    {"HKDF-SHA256", kat_hkdf},
    {"AES-256-GCM", kat_aes_gcm},
    {"AES-KW", kat_aes_kw},
    {"CTR-DRBG", chsm_st_drbg},
};

static bool run_list(const struct chsm_st_entry *t, size_t n, chsm_selftest_report_fn report, void *ctx)
{
    bool all = true;
    for (size_t i = 0; i < n; i++) {
        bool ok = t[i].fn() && !st_is_forced(t[i].name);
        if (report != NULL)
            report(ctx, t[i].name, ok);
        all = all && ok;
    }
    return all;
}

CK_RV chsm_selftest_run(chsm_selftest_report_fn report, void *ctx)
{
    CK_RV rv = CKR_OK;
    size_t n_mech = 0;
    const struct chsm_st_entry *mech = chsm_st_mech_list(&n_mech);
    bool ok;
    CHSM_GUARD(chsm_crypto_ready());
    ok = run_list(foundation, CHSM_ARRAY_LEN(foundation), report, ctx);
    ok = run_list(mech, n_mech, report, ctx) && ok;
    CHSM_ENSURE(ok, CHSM_ERR(CKR_FUNCTION_FAILED, CHSM_LAYER_CRYPTO, "power-on self-test failed"));
out:
    return rv;
}
