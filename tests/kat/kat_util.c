/* Known-answer test harness; see kat_util.h. */
#define _XOPEN_SOURCE 700
#include "kat_util.h"

#include <dlfcn.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/result.h"

struct kat K;
unsigned kat_passed, kat_failed;

#define SO_PIN "so-pin-1234"
#define USER_PIN "user-pin-5678"

const char *kat_rv(CK_RV rv)
{
    return chsm_rv_name(rv);
}

void kat_check(bool ok, const char *what, const char *detail)
{
    if (ok) {
        kat_passed++;
        return;
    }
    kat_failed++;
    printf("FAIL %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
}

static void vtally(struct tally *t, long tcid, const char *mech, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    t->failures++;
    printf("FAIL %s tcId=%ld %s: %s\n", t->file, tcid, mech, msg);
    kat_reset_ops();
}

void kat_reset_ops(void)
{
    (void)F->C_CloseSession(K.s);
    K.s = CK_INVALID_HANDLE;
    CK_RV rv = F->C_OpenSession(K.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &K.s);
    if (rv != CKR_OK) {
        kat_check(false, "reopen the operations session", kat_rv(rv));
        exit(kat_finish());
    }
}

void tally_valid(struct tally *t, bool ok, long tcid, const char *mech, const char *fmt, ...)
{
    if (ok) {
        t->valid_ok++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vtally(t, tcid, mech, fmt, ap);
    va_end(ap);
}

void tally_invalid(struct tally *t, bool ok, long tcid, const char *mech, const char *fmt, ...)
{
    if (ok) {
        t->invalid_rejected++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vtally(t, tcid, mech, fmt, ap);
    va_end(ap);
}

void tally_fail(struct tally *t, long tcid, const char *mech, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vtally(t, tcid, mech, fmt, ap);
    va_end(ap);
}

void tally_done(struct tally *t)
{
    printf("%s: %u valid ok, %u invalid rejected, %u acceptable, %u failures", t->file, t->valid_ok,
           t->invalid_rejected, t->acceptable, t->failures);
    if (t->skipped)
        printf(" (%u skipped: %s)", t->skipped, t->skip_reason ? t->skip_reason : "");
    printf("\n");
    fflush(stdout);
    kat_passed += t->valid_ok + t->invalid_rejected + t->acceptable;
    kat_failed += t->failures;
}

struct json *kat_load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", K.vecdir, name);
    struct json *j = json_load(path);
    if (j == NULL || json_get(j, "testGroups") == NULL) {
        kat_check(false, "load vector file", path);
        json_free(j);
        return NULL;
    }
    return j;
}

const char *vres(const struct json *t)
{
    const char *r = json_str(t, "result");
    return r ? r : "?";
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

uint8_t *hexdup(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    uint8_t *b = malloc(n ? n : 1);
    if (b == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(hexv(hex[2 * i]) << 4 | hexv(hex[2 * i + 1]));
    *len = n;
    return b;
}

bool hexeq(const uint8_t *got, size_t len, const char *hex)
{
    if (strlen(hex) != 2 * len)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((uint8_t)(hexv(hex[2 * i]) << 4 | hexv(hex[2 * i + 1])) != got[i])
            return false;
    return true;
}

void hexstr(char *dst, size_t dstlen, const uint8_t *b, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 3 <= dstlen; i++, o += 2)
        snprintf(dst + o, 3, "%02x", b[i]);
    if (dstlen)
        dst[o < dstlen ? o : dstlen - 1] = '\0';
}

void bn_trim(const uint8_t **p, size_t *n)
{
    while (*n > 1 && **p == 0) {
        (*p)++;
        (*n)--;
    }
}

static CK_BBOOL g_true = CK_TRUE, g_false = CK_FALSE;

CK_RV kat_secret(CK_KEY_TYPE kt, const uint8_t *v, size_t n, CK_OBJECT_HANDLE *h)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE a[] = {
        {CKA_CLASS, &cls, sizeof cls},          {CKA_KEY_TYPE, &kt, sizeof kt},
        {CKA_TOKEN, &g_false, 1},               {CKA_VALUE, (void *)v, (CK_ULONG)n},
        {CKA_ENCRYPT, &g_true, 1},              {CKA_DECRYPT, &g_true, 1},
        {CKA_SIGN, &g_true, 1},                 {CKA_VERIFY, &g_true, 1},
        {CKA_WRAP, &g_true, 1},                 {CKA_UNWRAP, &g_true, 1},
        {CKA_EXTRACTABLE, &g_true, 1},          {CKA_SENSITIVE, &g_false, 1},
        {CKA_DERIVE, &g_true, 1},
    };
    *h = CK_INVALID_HANDLE;
    return F->C_CreateObject(K.ks, a, sizeof a / sizeof a[0], h);
}

uint8_t *der_octet(const uint8_t *v, size_t n, size_t *out_len)
{
    uint8_t *b = malloc(n + 4);
    size_t o = 0;
    if (b == NULL)
        abort();
    b[o++] = 0x04;
    if (n < 0x80) {
        b[o++] = (uint8_t)n;
    } else if (n < 0x100) {
        b[o++] = 0x81;
        b[o++] = (uint8_t)n;
    } else {
        b[o++] = 0x82;
        b[o++] = (uint8_t)(n >> 8);
        b[o++] = (uint8_t)n;
    }
    memcpy(b + o, v, n);
    *out_len = o + n;
    return b;
}

CK_RV kat_ec_pub(CK_KEY_TYPE kt, const uint8_t *params, size_t plen, const uint8_t *point, size_t n,
                 CK_OBJECT_HANDLE *h)
{
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    size_t dl;
    uint8_t *der = der_octet(point, n, &dl);
    CK_ATTRIBUTE a[] = {
        {CKA_CLASS, &cls, sizeof cls},   {CKA_KEY_TYPE, &kt, sizeof kt},
        {CKA_TOKEN, &g_false, 1},        {CKA_EC_PARAMS, (void *)params, (CK_ULONG)plen},
        {CKA_EC_POINT, der, (CK_ULONG)dl}, {CKA_VERIFY, &g_true, 1},
    };
    *h = CK_INVALID_HANDLE;
    CK_RV rv = F->C_CreateObject(K.ks, a, sizeof a / sizeof a[0], h);
    free(der);
    return rv;
}

CK_RV kat_ec_priv(CK_KEY_TYPE kt, const uint8_t *params, size_t plen, const uint8_t *d, size_t n,
                  CK_OBJECT_HANDLE *h)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE a[] = {
        {CKA_CLASS, &cls, sizeof cls},     {CKA_KEY_TYPE, &kt, sizeof kt},
        {CKA_TOKEN, &g_false, 1},          {CKA_PRIVATE, &g_true, 1},
        {CKA_EC_PARAMS, (void *)params, (CK_ULONG)plen}, {CKA_VALUE, (void *)d, (CK_ULONG)n},
        {CKA_SIGN, &g_true, 1},            {CKA_DERIVE, &g_true, 1},
        {CKA_SENSITIVE, &g_true, 1},
    };
    *h = CK_INVALID_HANDLE;
    return F->C_CreateObject(K.ks, a, sizeof a / sizeof a[0], h);
}

/* One RSA big-integer attribute from a hex member, leading zeros trimmed. */
struct bnattr {
    uint8_t *buf;
    const uint8_t *p;
    size_t n;
};

static bool bn_get(const struct json *pk, const char *key, struct bnattr *b)
{
    const char *hx = json_str(pk, key);
    if (hx == NULL)
        return false;
    b->buf = hexdup(hx, &b->n);
    b->p = b->buf;
    bn_trim(&b->p, &b->n);
    return true;
}

CK_RV kat_rsa_pub(const struct json *pk, CK_OBJECT_HANDLE *h)
{
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    CK_KEY_TYPE kt = CKK_RSA;
    struct bnattr n = {0}, e = {0};
    CK_RV rv = CKR_ARGUMENTS_BAD;
    *h = CK_INVALID_HANDLE;
    if (bn_get(pk, "modulus", &n) && bn_get(pk, "publicExponent", &e)) {
        CK_ATTRIBUTE a[] = {
            {CKA_CLASS, &cls, sizeof cls},
            {CKA_KEY_TYPE, &kt, sizeof kt},
            {CKA_TOKEN, &g_false, 1},
            {CKA_MODULUS, (void *)n.p, (CK_ULONG)n.n},
            {CKA_PUBLIC_EXPONENT, (void *)e.p, (CK_ULONG)e.n},
            {CKA_VERIFY, &g_true, 1},
            {CKA_ENCRYPT, &g_true, 1},
        };
        rv = F->C_CreateObject(K.ks, a, sizeof a / sizeof a[0], h);
    }
    free(n.buf);
    free(e.buf);
    return rv;
}

CK_RV kat_rsa_priv(const struct json *pk, CK_OBJECT_HANDLE *h)
{
    static const char *const names[8] = {"modulus", "publicExponent", "privateExponent", "prime1",
                                          "prime2",  "exponent1",      "exponent2",       "coefficient"};
    static const CK_ATTRIBUTE_TYPE types[8] = {CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT,
                                               CKA_PRIME_1, CKA_PRIME_2,         CKA_EXPONENT_1,
                                               CKA_EXPONENT_2, CKA_COEFFICIENT};
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = CKK_RSA;
    struct bnattr b[8] = {{0}};
    CK_ATTRIBUTE a[16] = {
        {CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt}, {CKA_TOKEN, &g_false, 1},
        {CKA_PRIVATE, &g_true, 1},     {CKA_SIGN, &g_true, 1},        {CKA_DECRYPT, &g_true, 1},
        {CKA_UNWRAP, &g_true, 1},      {CKA_SENSITIVE, &g_true, 1},
    };
    CK_ULONG na = 8;
    CK_RV rv = CKR_ARGUMENTS_BAD;
    *h = CK_INVALID_HANDLE;
    for (int i = 0; i < 8; i++) {
        if (!bn_get(pk, names[i], &b[i]))
            goto out;
        a[na].type = types[i];
        a[na].pValue = (void *)b[i].p;
        a[na].ulValueLen = (CK_ULONG)b[i].n;
        na++;
    }
    rv = F->C_CreateObject(K.ks, a, na, h);
out:
    for (int i = 0; i < 8; i++)
        free(b[i].buf);
    return rv;
}

void kat_destroy(CK_OBJECT_HANDLE h)
{
    if (h != CK_INVALID_HANDLE)
        if (F->C_DestroyObject(K.ks, h) != CKR_OK)
            (void)F->C_DestroyObject(K.s, h); /* made by an unwrap or derive in the operations session */
}

bool kat_has_mech(CK_MECHANISM_TYPE m)
{
    CK_MECHANISM_INFO info;
    return F->C_GetMechanismInfo(K.slot, m, &info) == CKR_OK;
}

bool kat_session_ok(void)
{
    CK_BYTE b[8];
    return F->C_GenerateRandom(K.s, b, sizeof b) == CKR_OK;
}

static bool write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return false;
    fputs(text, fp);
    return fclose(fp) == 0;
}

/* A fresh temp dir holding configs for both modules we know, pointed at by their env vars. */
static bool make_configs(void)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[512], text[1024];
    snprintf(K.tmpdir, sizeof K.tmpdir, "%s/chsm-kat.XXXXXX", base);
    if (mkdtemp(K.tmpdir) == NULL)
        return false;
    snprintf(path, sizeof path, "%s/craton_hsm.toml", K.tmpdir);
    if (!write_file(path, "[token]\nlabel = \"KAT\"\nserial_number = \"KAT0001\"\nstorage_path = \":memory:\"\n"
                          "[security]\npbkdf2_iterations = 100000\npin_min_length = 4\n[audit]\nenabled = false\n"))
        return false;
    setenv("CRATON_HSM_CONFIG", path, 1);
    snprintf(path, sizeof path, "%s/tokens", K.tmpdir);
    if (mkdir(path, 0700) != 0)
        return false;
    snprintf(text, sizeof text, "directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n",
             K.tmpdir);
    snprintf(path, sizeof path, "%s/softhsm2.conf", K.tmpdir);
    if (!write_file(path, text))
        return false;
    setenv("SOFTHSM2_CONF", path, 1);
    return true;
}

/* Init the first slot's token, then find the initialised token (SoftHSM renumbers its slot). */
static CK_RV init_token(void)
{
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16;
    CK_UTF8CHAR label[32];
    CK_RV rv;
    memset(label, ' ', sizeof label);
    memcpy(label, "kat", 3);
    if ((rv = F->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK)
        return rv;
    if (n == 0)
        return CKR_TOKEN_NOT_PRESENT;
    if ((rv = F->C_InitToken(slots[0], (CK_UTF8CHAR *)SO_PIN, strlen(SO_PIN), label)) != CKR_OK)
        return rv;
    n = 16;
    if ((rv = F->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK)
        return rv;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        if (F->C_GetTokenInfo(slots[i], &ti) == CKR_OK && (ti.flags & CKF_TOKEN_INITIALIZED) &&
            memcmp(ti.label, label, sizeof label) == 0) {
            K.slot = slots[i];
            return CKR_OK;
        }
    }
    return CKR_TOKEN_NOT_RECOGNIZED;
}

static CK_RV login(void)
{
    CK_SESSION_HANDLE so;
    CK_RV rv = F->C_OpenSession(K.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &so);
    if (rv != CKR_OK)
        return rv;
    rv = F->C_Login(so, CKU_SO, (CK_UTF8CHAR *)SO_PIN, strlen(SO_PIN));
    if (rv == CKR_OK)
        rv = F->C_InitPIN(so, (CK_UTF8CHAR *)USER_PIN, strlen(USER_PIN));
    (void)F->C_CloseSession(so);
    if (rv != CKR_OK)
        return rv;
    if ((rv = F->C_OpenSession(K.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &K.s)) != CKR_OK)
        return rv;
    if ((rv = F->C_Login(K.s, CKU_USER, (CK_UTF8CHAR *)USER_PIN, strlen(USER_PIN))) != CKR_OK)
        return rv;
    K.ks = K.s;
    return F->C_OpenSession(K.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &K.s);
}

bool kat_open(int argc, char **argv)
{
    memset(&K, 0, sizeof K);
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODULE.so [VECTOR_DIR]\n", argv[0]);
        kat_check(false, "module path argument", NULL);
        return false;
    }
    K.vecdir = argc > 2 ? argv[2] : getenv("CHSM_TEST_VECTORS");
    if (K.vecdir == NULL)
        K.vecdir = "tests/vectors";
    if (!make_configs()) {
        kat_check(false, "temp configs", K.tmpdir);
        return false;
    }
    K.dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (K.dl == NULL) {
        kat_check(false, "dlopen", dlerror());
        return false;
    }
    CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)dlsym(K.dl, "C_GetFunctionList");
    if (gfl == NULL || gfl(&K.f) != CKR_OK) {
        kat_check(false, "C_GetFunctionList", NULL);
        return false;
    }
    CK_RV rv;
    char d[128];
    CK_INFO info;
    if ((rv = F->C_Initialize(NULL)) != CKR_OK || (rv = F->C_GetInfo(&info)) != CKR_OK ||
        (rv = init_token()) != CKR_OK || (rv = login()) != CKR_OK) {
        snprintf(d, sizeof d, "%s", kat_rv(rv));
        kat_check(false, "module setup (initialize, init token, login)", d);
        return false;
    }
    K.softhsm = memcmp(info.manufacturerID, "SoftHSM", 7) == 0;
    printf("module: %.32s %.32s\n", info.manufacturerID, info.libraryDescription);
    return true;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Size-query bugs, one line per (function, mechanism) with its first example and a count. */
static struct sizeq {
    const char *fn;
    CK_MECHANISM_TYPE mech;
    unsigned count;
    char first[160];
} g_sizeq[16];

void kat_size_query_bug(const char *fn, CK_MECHANISM_TYPE mech, unsigned long asked, unsigned long need, size_t inlen)
{
    kat_failed++;
    for (size_t i = 0; i < sizeof g_sizeq / sizeof g_sizeq[0]; i++) {
        struct sizeq *q = &g_sizeq[i];
        if (q->fn == NULL) {
            q->fn = fn;
            q->mech = mech;
            snprintf(q->first, sizeof q->first, "e.g. input %zu bytes: size query answered %lu, then wanted %lu", inlen,
                     asked, need);
        }
        if (q->fn == fn && q->mech == mech) {
            q->count++;
            return;
        }
    }
}

int kat_finish(void)
{
    for (size_t i = 0; i < sizeof g_sizeq / sizeof g_sizeq[0] && g_sizeq[i].fn != NULL; i++)
        printf("FAIL %s mechanism 0x%lx: the size query answers too little, then CKR_BUFFER_TOO_SMALL (%u times, each "
               "a failure; cases judged after a retry; %s)\n",
               g_sizeq[i].fn, g_sizeq[i].mech, g_sizeq[i].count, g_sizeq[i].first);
    if (K.f != NULL)
        (void)F->C_Finalize(NULL);
    printf("%u passed, %u failed\n", kat_passed, kat_failed);
    fflush(stdout);
    if (K.tmpdir[0] != '\0' && getenv("KAT_KEEP") == NULL)
        nftw(K.tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return (kat_failed == 0 && kat_passed > 0) ? 0 : 1;
}
