/*
 * Store benchmark (issue 3): dlopens any PKCS#11 module (ours, SoftHSMv2)
 * and measures what the "Speed and scale" asks. Modes:
 *   storebench --module M --impl NAME --pin PIN [--slot N | --token-label L] MODE [options]
 *   populate --to N [--init SO]   create token AES keys obj-<i> (CKA_ID id-<i>) until N exist;
 *                                 prints the create rate of this batch
 *   find [--max-seconds S]        random C_FindObjectsInit+FindObjects+Final by CKA_LABEL and by
 *                                 CKA_ID over the existing obj-<i>: p50/p99 in microseconds
 *   login --iterations I          fresh process: C_Initialize and C_Login wall time, one PBKDF2-
 *                                 HMAC-SHA256 at I iterations (OpenSSL, this process) for
 *                                 comparison, then VmRSS logged in with every object loaded
 *   create --seconds S --tag T    token AES keys for S seconds in one session: keys/s
 *   count                         token secret keys visible after login
 * Output lines: "RESULT <impl> <metric> <value> <unit> [detail]".
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../bench_common.h"
#include "craton_hsm/pkcs11.h"

static CK_FUNCTION_LIST *F;
static CK_SLOT_ID slot;
static const char *impl = "?", *pin, *so_pin, *token_label, *tag = "x";
static long to_count = 1000, iterations = 100000;
static double seconds = 5, max_seconds = 5;

static void die(const char *what, CK_RV rv)
{
    fprintf(stderr, "storebench: %s failed: 0x%lx\n", what, (unsigned long)rv);
    exit(1);
}
#define P11(call)                                                                                            \
    do {                                                                                                     \
        CK_RV rv_ = (call);                                                                                  \
        if (rv_ != CKR_OK)                                                                                   \
            die(#call, rv_);                                                                                 \
    } while (0)

static double us_since(uint64_t t0)
{
    return (double)(bench_now_ns() - t0) / 1000.0;
}

static void load(const char *module)
{
    void *dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        fprintf(stderr, "dlopen %s: %s\n", module, dlerror());
        exit(1);
    }
    CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
    if (gfl == NULL)
        die("dlsym C_GetFunctionList", 0);
    P11(gfl(&F));
}

static void initialize(void)
{
    CK_C_INITIALIZE_ARGS a = {0};
    a.flags = CKF_OS_LOCKING_OK;
    P11(F->C_Initialize(&a));
    if (token_label == NULL)
        return;
    CK_SLOT_ID ids[32];
    CK_ULONG n = 32;
    P11(F->C_GetSlotList(CK_TRUE, ids, &n));
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        P11(F->C_GetTokenInfo(ids[i], &ti));
        size_t l = strlen(token_label);
        if (memcmp(ti.label, token_label, l) == 0 && (l == 32 || ti.label[l] == ' ')) {
            slot = ids[i];
            return;
        }
    }
    die("token label lookup", 0);
}

static CK_SESSION_HANDLE session_login(void)
{
    CK_SESSION_HANDLE s;
    P11(F->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
    CK_RV rv = F->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, (CK_ULONG)strlen(pin));
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
        die("C_Login", rv);
    return s;
}

static void init_token(void)
{
    CK_UTF8CHAR lab[32];
    memset(lab, ' ', sizeof lab);
    memcpy(lab, "storebench", 10);
    P11(F->C_InitToken(slot, (CK_UTF8CHAR *)so_pin, (CK_ULONG)strlen(so_pin), lab));
    CK_SESSION_HANDLE s;
    P11(F->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
    P11(F->C_Login(s, CKU_SO, (CK_UTF8CHAR *)so_pin, (CK_ULONG)strlen(so_pin)));
    P11(F->C_InitPIN(s, (CK_UTF8CHAR *)pin, (CK_ULONG)strlen(pin)));
    P11(F->C_Logout(s));
    P11(F->C_CloseSession(s));
}

static CK_RV create_key(CK_SESSION_HANDLE s, const char *label, const char *id)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_BBOOL t = CK_TRUE;
    unsigned char key[32];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(label[i % strlen(label)] ^ (int)i);
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt},
        {CKA_TOKEN, &t, sizeof t},     {CKA_PRIVATE, &t, sizeof t},
        {CKA_ENCRYPT, &t, sizeof t},   {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)},
        {CKA_ID, (void *)id, (CK_ULONG)strlen(id)},
        {CKA_VALUE, key, sizeof key},
    };
    CK_OBJECT_HANDLE h;
    return F->C_CreateObject(s, tmpl, sizeof tmpl / sizeof tmpl[0], &h);
}

static CK_ULONG count_keys(CK_SESSION_HANDLE s)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof cls};
    CK_OBJECT_HANDLE h[512];
    CK_ULONG n = 0, got = 0;
    P11(F->C_FindObjectsInit(s, &t, 1));
    do {
        P11(F->C_FindObjects(s, h, 512, &got));
        n += got;
    } while (got == 512);
    P11(F->C_FindObjectsFinal(s));
    return n;
}

static void mode_populate(void)
{
    if (so_pin != NULL)
        init_token();
    CK_SESSION_HANDLE s = session_login();
    long have = (long)count_keys(s);
    uint64_t t0 = bench_now_ns();
    for (long i = have; i < to_count; i++) {
        char label[32], id[32];
        snprintf(label, sizeof label, "obj-%06ld", i);
        snprintf(id, sizeof id, "id-%06ld", i);
        P11(create_key(s, label, id));
    }
    double us = us_since(t0);
    if (to_count > have)
        printf("RESULT %s populate_rate %.0f keys/s %ld..%ld\n", impl, (double)(to_count - have) * 1e6 / us, have,
               to_count);
    printf("RESULT %s objects %lu count\n", impl, (unsigned long)count_keys(s));
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void find_lat(CK_SESSION_HANDLE s, CK_ATTRIBUTE_TYPE type, const char *prefix, long n, const char *name)
{
    enum { MAXS = 2000 };
    static double lat[MAXS];
    int k = 0;
    uint64_t start = bench_now_ns();
    while (k < MAXS && (k < 20 || (double)(bench_now_ns() - start) / 1e9 < max_seconds)) {
        char v[32];
        snprintf(v, sizeof v, "%s%06ld", prefix, random() % n);
        CK_ATTRIBUTE t = {type, v, (CK_ULONG)strlen(v)};
        CK_OBJECT_HANDLE h[2];
        CK_ULONG got = 0;
        uint64_t t0 = bench_now_ns();
        P11(F->C_FindObjectsInit(s, &t, 1));
        P11(F->C_FindObjects(s, h, 2, &got));
        P11(F->C_FindObjectsFinal(s));
        lat[k++] = us_since(t0);
        if (got != 1)
            die("find returned other than one object", got);
    }
    qsort(lat, (size_t)k, sizeof lat[0], cmp_d);
    printf("RESULT %s %s_p50@%ld %.1f us (%d lookups)\n", impl, name, n, lat[k / 2], k);
    printf("RESULT %s %s_p99@%ld %.1f us\n", impl, name, n, lat[(k * 99) / 100]);
}

static void mode_find(void)
{
    CK_SESSION_HANDLE s = session_login();
    long n = (long)count_keys(s);
    srandom(1);
    find_lat(s, CKA_LABEL, "obj-", n, "find_label");
    find_lat(s, CKA_ID, "id-", n, "find_id");
}

static long vmrss_kib(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (fp != NULL && fgets(line, sizeof line, fp) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (fp != NULL)
        fclose(fp);
    return kib;
}

static void mode_login(const char *module)
{
    uint64_t t0 = bench_now_ns();
    load(module);
    initialize();
    double init_ms = us_since(t0) / 1000.0;
    CK_SESSION_HANDLE s;
    P11(F->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
    uint64_t t1 = bench_now_ns();
    P11(F->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, (CK_ULONG)strlen(pin)));
    double login_ms = us_since(t1) / 1000.0;
    /* First find after login: in a lazily loading module this is where objects get read. */
    uint64_t t2 = bench_now_ns();
    CK_ULONG n = count_keys(s);
    double first_ms = us_since(t2) / 1000.0;
    double total_ms = us_since(t0) / 1000.0;
    unsigned char salt[16] = {1}, out[32];
    uint64_t t3 = bench_now_ns();
    PKCS5_PBKDF2_HMAC(pin, (int)strlen(pin), salt, sizeof salt, (int)iterations, EVP_sha256(), sizeof out, out);
    double pbkdf2_ms = us_since(t3) / 1000.0;
    printf("RESULT %s init_ms@%lu %.1f ms (dlopen+C_Initialize)\n", impl, (unsigned long)n, init_ms);
    printf("RESULT %s login_ms@%lu %.1f ms (C_Login)\n", impl, (unsigned long)n, login_ms);
    printf("RESULT %s first_enum_ms@%lu %.1f ms (first find of all keys after login)\n", impl, (unsigned long)n,
           first_ms);
    printf("RESULT %s init_login_total_ms@%lu %.1f ms\n", impl, (unsigned long)n, total_ms);
    printf("RESULT %s pbkdf2_ms %.1f ms (one PBKDF2-HMAC-SHA256, %ld iterations, OpenSSL in this process)\n", impl,
           pbkdf2_ms, iterations);
    printf("RESULT %s init_login_beyond_pbkdf2_ms@%lu %.1f ms\n", impl, (unsigned long)n, total_ms - pbkdf2_ms);
    printf("RESULT %s vmrss_mib@%lu %.1f MiB (logged in, every object loaded)\n", impl, (unsigned long)n,
           (double)vmrss_kib() / 1024.0);
}

static void mode_create(void)
{
    CK_SESSION_HANDLE s = session_login();
    long n = 0;
    uint64_t t0 = bench_now_ns();
    while ((double)(bench_now_ns() - t0) / 1e9 < seconds) {
        char label[48], id[48];
        snprintf(label, sizeof label, "new-%s-%ld", tag, n);
        snprintf(id, sizeof id, "nid-%s-%ld", tag, n);
        P11(create_key(s, label, id));
        n++;
    }
    double us = us_since(t0);
    printf("RESULT %s create_keys_per_s[%s] %.0f keys/s (%ld created)\n", impl, tag, (double)n * 1e6 / us, n);
    printf("CREATED %s %ld\n", tag, n);
}

int main(int argc, char **argv)
{
    const char *module = NULL, *mode = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--module") == 0 && v) module = v, i++;
        else if (strcmp(a, "--impl") == 0 && v) impl = v, i++;
        else if (strcmp(a, "--pin") == 0 && v) pin = v, i++;
        else if (strcmp(a, "--init") == 0 && v) so_pin = v, i++;
        else if (strcmp(a, "--slot") == 0 && v) slot = strtoul(v, NULL, 0), i++;
        else if (strcmp(a, "--token-label") == 0 && v) token_label = v, i++;
        else if (strcmp(a, "--to") == 0 && v) to_count = atol(v), i++;
        else if (strcmp(a, "--iterations") == 0 && v) iterations = atol(v), i++;
        else if (strcmp(a, "--seconds") == 0 && v) seconds = atof(v), i++;
        else if (strcmp(a, "--max-seconds") == 0 && v) max_seconds = atof(v), i++;
        else if (strcmp(a, "--tag") == 0 && v) tag = v, i++;
        else if (a[0] != '-' && mode == NULL) mode = a;
        else {
            fprintf(stderr, "storebench: bad argument %s\n", a);
            return 2;
        }
    }
    if (module == NULL || pin == NULL || mode == NULL) {
        fprintf(stderr, "usage: storebench --module M --impl NAME --pin PIN [--slot N|--token-label L] "
                        "populate|find|login|create|count [options]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(mode, "login") == 0) {
        mode_login(module);
    } else {
        load(module);
        initialize();
        if (strcmp(mode, "populate") == 0)
            mode_populate();
        else if (strcmp(mode, "find") == 0)
            mode_find();
        else if (strcmp(mode, "create") == 0)
            mode_create();
        else if (strcmp(mode, "count") == 0)
            printf("RESULT %s count %lu keys\n", impl, (unsigned long)count_keys(session_login()));
        else
            return 2;
    }
    P11(F->C_Finalize(NULL));
    return 0;
}
