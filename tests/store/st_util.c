/* Store acceptance-test helpers; see st_util.h. */
#define _POSIX_C_SOURCE 200809L
#include "st_util.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/result.h"

CK_FUNCTION_LIST *F;
unsigned st_passed, st_failed;

void st_check(bool ok, const char *file, int line, const char *what, const char *detail)
{
    if (ok) {
        st_passed++;
        return;
    }
    st_failed++;
    fprintf(stderr, "FAIL %s:%d: %s%s%s\n", file, line, what, detail ? ": " : "", detail ? detail : "");
}

const char *st_rv(CK_RV rv)
{
    return chsm_rv_name(rv);
}

const char *st_so_pin(void)
{
    const char *p = getenv("ST_SO_PIN");
    return p ? p : "so-pin-1234";
}

const char *st_user_pin(void)
{
    const char *p = getenv("ST_USER_PIN");
    return p ? p : "user-pin-5678";
}

double st_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void st_load(const char *module)
{
    void *dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        fprintf(stderr, "FAIL: dlopen %s: %s\n", module, dlerror());
        exit(2);
    }
    CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
    if (gfl == NULL || gfl(&F) != CKR_OK) {
        fprintf(stderr, "FAIL: C_GetFunctionList\n");
        exit(2);
    }
    CK_C_INITIALIZE_ARGS a = {0};
    a.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = F->C_Initialize(&a);
    if (rv != CKR_OK) {
        fprintf(stderr, "FAIL: C_Initialize: %s\n", st_rv(rv));
        exit(2);
    }
}

CK_RV st_login(CK_SESSION_HANDLE s, CK_USER_TYPE user, const char *pin)
{
    return F->C_Login(s, user, (CK_UTF8CHAR *)pin, (CK_ULONG)strlen(pin));
}

CK_RV st_open(CK_USER_TYPE user, const char *pin, CK_SESSION_HANDLE *s)
{
    CK_RV rv = F->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, s);
    if (rv == CKR_OK && pin != NULL)
        rv = st_login(*s, user, pin);
    return rv;
}

int st_finish(const char *what)
{
    CK_RV rv = F->C_Finalize(NULL);
    if (rv != CKR_OK)
        st_check(false, __FILE__, __LINE__, "C_Finalize", st_rv(rv));
    printf("%s: %u passed, %u failed\n", what, st_passed, st_failed);
    fflush(stdout);
    return (st_failed == 0 && st_passed > 0) ? 0 : 1;
}

static void sha256(const void *in, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    EVP_Digest(in, len, out, &n, EVP_sha256(), NULL);
}

void st_key_of(const char *label, unsigned char key[32])
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "chsm-store-test:%s", label);
    sha256(buf, (size_t)n, key);
}

CK_RV st_uid(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, char uid_hex[33])
{
    CK_ATTRIBUTE a = {CKA_UNIQUE_ID, uid_hex, 32};
    CK_RV rv = F->C_GetAttributeValue(s, h, &a, 1);
    uid_hex[rv == CKR_OK && a.ulValueLen == 32 ? 32 : 0] = '\0';
    return rv;
}

CK_RV st_create_aes(CK_SESSION_HANDLE s, const char *label, CK_OBJECT_HANDLE *h, char uid_hex[33])
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_BBOOL t = CK_TRUE, f = CK_FALSE;
    unsigned char key[32];
    st_key_of(label, key);
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},           {CKA_KEY_TYPE, &kt, sizeof kt},
        {CKA_TOKEN, &t, sizeof t},               {CKA_PRIVATE, &t, sizeof t},
        {CKA_SENSITIVE, &t, sizeof t},           {CKA_EXTRACTABLE, &f, sizeof f},
        {CKA_ENCRYPT, &t, sizeof t},             {CKA_DECRYPT, &t, sizeof t},
        {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)},
        {CKA_ID, (void *)label, (CK_ULONG)strlen(label)},
        {CKA_VALUE, key, sizeof key},
    };
    CK_RV rv = F->C_CreateObject(s, tmpl, sizeof tmpl / sizeof tmpl[0], h);
    if (rv == CKR_OK && uid_hex != NULL)
        rv = st_uid(s, *h, uid_hex);
    return rv;
}

CK_RV st_find(CK_SESSION_HANDLE s, CK_ATTRIBUTE_TYPE type, const char *label, CK_OBJECT_HANDLE *out, CK_ULONG max,
              CK_ULONG *n)
{
    CK_ATTRIBUTE t = {type, (void *)label, (CK_ULONG)strlen(label)};
    CK_RV rv = F->C_FindObjectsInit(s, &t, 1);
    if (rv != CKR_OK)
        return rv;
    rv = F->C_FindObjects(s, out, max, n);
    CK_RV rv2 = F->C_FindObjectsFinal(s);
    return rv != CKR_OK ? rv : rv2;
}

CK_RV st_use_key(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, const char *label, bool *match)
{
    CK_MECHANISM m = {CKM_SHA256, NULL, 0};
    unsigned char got[32], want[32], key[32];
    CK_ULONG len = sizeof got;
    *match = false;
    CK_RV rv = F->C_DigestInit(s, &m);
    if (rv != CKR_OK)
        return rv;
    rv = F->C_DigestKey(s, h);
    if (rv != CKR_OK)
        return rv; /* the failed C_DigestKey ended the operation */
    rv = F->C_DigestFinal(s, got, &len);
    if (rv != CKR_OK)
        return rv;
    st_key_of(label, key);
    sha256(key, sizeof key, want);
    *match = len == 32 && memcmp(got, want, 32) == 0;
    return CKR_OK;
}

bool st_verify_label(CK_SESSION_HANDLE s, const char *label, const char *uid_hex)
{
    CK_OBJECT_HANDLE h[4], hid[4];
    CK_ULONG n = 0, nid = 0;
    char uid[33];
    bool match = false;
    CK_RV rv = st_find(s, CKA_LABEL, label, h, 4, &n);
    if (rv != CKR_OK || n != 1) {
        fprintf(stderr, "FAIL: %s: find by label: %s, %lu handles\n", label, st_rv(rv), (unsigned long)n);
        return false;
    }
    rv = st_find(s, CKA_ID, label, hid, 4, &nid);
    if (rv != CKR_OK || nid != 1 || hid[0] != h[0]) {
        fprintf(stderr, "FAIL: %s: find by CKA_ID: %s, %lu handles\n", label, st_rv(rv), (unsigned long)nid);
        return false;
    }
    if (uid_hex != NULL) {
        rv = st_uid(s, h[0], uid);
        if (rv != CKR_OK || strcmp(uid, uid_hex) != 0) {
            fprintf(stderr, "FAIL: %s: CKA_UNIQUE_ID %s (%s), want %s\n", label, uid, st_rv(rv), uid_hex);
            return false;
        }
    }
    rv = st_use_key(s, h[0], label, &match);
    if (rv != CKR_OK || !match) {
        fprintf(stderr, "FAIL: %s: C_DigestKey %s, digest %s\n", label, st_rv(rv), match ? "matches" : "differs");
        return false;
    }
    return true;
}

CK_RV st_count(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, CK_ULONG *n)
{
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof cls};
    CK_RV rv = F->C_FindObjectsInit(s, &t, cls == (CK_OBJECT_CLASS)-1 ? 0 : 1);
    *n = 0;
    if (rv != CKR_OK)
        return rv;
    CK_OBJECT_HANDLE h[256];
    CK_ULONG got = 0;
    do {
        rv = F->C_FindObjects(s, h, 256, &got);
        *n += got;
    } while (rv == CKR_OK && got == 256);
    CK_RV rv2 = F->C_FindObjectsFinal(s);
    return rv != CKR_OK ? rv : rv2;
}
