/*
 * Backup benchmark helper (issue 6, "Speed"): fill a fresh token through
 * the real module (dlopened, as any application loads it) with a mix of
 * token objects: mostly AES-256 secret keys (C_GenerateKey) plus EC P-256
 * and RSA-2048 key pairs (C_GenerateKeyPair), until the token holds
 * --total objects including --reserve left for the caller (the drill's
 * known key, imported with the admin CLI).
 *   populate --module M --so-pin SO --pin USER --total N [--ec P] [--rsa R] [--reserve K]
 * Prints "RESULT populate <what> <value> <unit>" lines.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench_common.h"
#include "craton_hsm/pkcs11.h"

static CK_FUNCTION_LIST *F;

static void die(const char *what, CK_RV rv)
{
    fprintf(stderr, "populate: %s failed: 0x%lx\n", what, (unsigned long)rv);
    exit(1);
}
#define P11(call)                                                                                            \
    do {                                                                                                     \
        CK_RV rv_ = (call);                                                                                  \
        if (rv_ != CKR_OK)                                                                                   \
            die(#call, rv_);                                                                                 \
    } while (0)

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

static CK_SESSION_HANDLE init_token(const char *so_pin, const char *pin)
{
    CK_C_INITIALIZE_ARGS a = {0};
    CK_UTF8CHAR lab[32];
    CK_SESSION_HANDLE s;
    a.flags = CKF_OS_LOCKING_OK;
    P11(F->C_Initialize(&a));
    memset(lab, ' ', sizeof lab);
    memcpy(lab, "backup bench", 12);
    P11(F->C_InitToken(0, (CK_UTF8CHAR *)so_pin, (CK_ULONG)strlen(so_pin), lab));
    P11(F->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s));
    P11(F->C_Login(s, CKU_SO, (CK_UTF8CHAR *)so_pin, (CK_ULONG)strlen(so_pin)));
    P11(F->C_InitPIN(s, (CK_UTF8CHAR *)pin, (CK_ULONG)strlen(pin)));
    P11(F->C_Logout(s));
    P11(F->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, (CK_ULONG)strlen(pin)));
    return s;
}

static void gen_aes(CK_SESSION_HANDLE s, long i)
{
    CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
    CK_ULONG len = 32;
    CK_BBOOL t = CK_TRUE;
    char label[32], id[32];
    snprintf(label, sizeof label, "aes-%06ld", i);
    snprintf(id, sizeof id, "id-%06ld", i);
    CK_ATTRIBUTE tmpl[] = {
        {CKA_TOKEN, &t, sizeof t},   {CKA_PRIVATE, &t, sizeof t}, {CKA_SENSITIVE, &t, sizeof t},
        {CKA_ENCRYPT, &t, sizeof t}, {CKA_DECRYPT, &t, sizeof t}, {CKA_VALUE_LEN, &len, sizeof len},
        {CKA_LABEL, label, (CK_ULONG)strlen(label)}, {CKA_ID, id, (CK_ULONG)strlen(id)},
    };
    CK_OBJECT_HANDLE h;
    P11(F->C_GenerateKey(s, &m, tmpl, sizeof tmpl / sizeof tmpl[0], &h));
}

static void gen_pair(CK_SESSION_HANDLE s, int rsa, long i)
{
    static const CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    static const CK_BYTE e65537[] = {0x01, 0x00, 0x01};
    CK_MECHANISM m = {rsa ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ULONG bits = 2048;
    CK_BBOOL t = CK_TRUE;
    char label[32];
    snprintf(label, sizeof label, "%s-%04ld", rsa ? "rsa" : "ec", i);
    CK_ATTRIBUTE pub_rsa[] = {{CKA_TOKEN, &t, sizeof t}, {CKA_VERIFY, &t, sizeof t},
                              {CKA_MODULUS_BITS, &bits, sizeof bits},
                              {CKA_PUBLIC_EXPONENT, (void *)e65537, sizeof e65537},
                              {CKA_LABEL, label, (CK_ULONG)strlen(label)}};
    CK_ATTRIBUTE pub_ec[] = {{CKA_TOKEN, &t, sizeof t}, {CKA_VERIFY, &t, sizeof t},
                             {CKA_EC_PARAMS, (void *)p256, sizeof p256},
                             {CKA_LABEL, label, (CK_ULONG)strlen(label)}};
    CK_ATTRIBUTE priv[] = {{CKA_TOKEN, &t, sizeof t}, {CKA_PRIVATE, &t, sizeof t}, {CKA_SENSITIVE, &t, sizeof t},
                           {CKA_SIGN, &t, sizeof t}, {CKA_LABEL, label, (CK_ULONG)strlen(label)}};
    CK_OBJECT_HANDLE hp, hk;
    P11(F->C_GenerateKeyPair(s, &m, rsa ? pub_rsa : pub_ec, rsa ? 5 : 4, priv, 5, &hp, &hk));
}

int main(int argc, char **argv)
{
    const char *module = NULL, *so_pin = NULL, *pin = NULL;
    long total = 10000, ec = 90, rsa = 9, reserve = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--module") == 0)
            module = argv[i + 1];
        else if (strcmp(argv[i], "--so-pin") == 0)
            so_pin = argv[i + 1];
        else if (strcmp(argv[i], "--pin") == 0)
            pin = argv[i + 1];
        else if (strcmp(argv[i], "--total") == 0)
            total = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--ec") == 0)
            ec = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--rsa") == 0)
            rsa = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--reserve") == 0)
            reserve = atol(argv[i + 1]);
    }
    long aes = total - reserve - 2 * (ec + rsa);
    if (module == NULL || so_pin == NULL || pin == NULL || aes < 0) {
        fprintf(stderr, "usage: populate --module M --so-pin SO --pin USER --total N [--ec P] [--rsa R] "
                        "[--reserve K]\n");
        return 2;
    }
    load(module);
    CK_SESSION_HANDLE s = init_token(so_pin, pin);
    uint64_t t0 = bench_now_ns();
    for (long i = 0; i < rsa; i++)
        gen_pair(s, 1, i);
    uint64_t t1 = bench_now_ns();
    for (long i = 0; i < ec; i++)
        gen_pair(s, 0, i);
    uint64_t t2 = bench_now_ns();
    for (long i = 0; i < aes; i++)
        gen_aes(s, i);
    uint64_t t3 = bench_now_ns();
    printf("RESULT populate rsa2048_pairs %ld pairs (%.1f s)\n", rsa, (double)(t1 - t0) / 1e9);
    printf("RESULT populate ec_p256_pairs %ld pairs (%.1f s)\n", ec, (double)(t2 - t1) / 1e9);
    printf("RESULT populate aes256_keys %ld keys (%.1f s, %.0f keys/s)\n", aes, (double)(t3 - t2) / 1e9,
           (double)aes * 1e9 / (double)(t3 - t2 + 1));
    P11(F->C_Logout(s));
    P11(F->C_Finalize(NULL));
    return 0;
}
