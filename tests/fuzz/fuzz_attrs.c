/*
 * libFuzzer harness over the PKCS#11 boundary: fuzzed attribute templates
 * and mechanism parameters go through the real exported entry points of
 * libcraton_hsm.so (C_CreateObject, C_CopyObject, C_SetAttributeValue,
 * C_FindObjectsInit/C_FindObjects, C_GetAttributeValue, C_DigestInit +
 * C_Digest) on a volatile token, logged in as the user. Every value buffer
 * is its own heap block of exactly the advertised length, so a read or write
 * past it is an ASan report. Any crash, sanitizer report or abort() below is
 * a finding; every CKR_* is an acceptable answer to garbage, except that a
 * created object must be destroyable and a digest must finish.
 *
 * Input: a stream of commands, each one byte of opcode then its operands;
 * templates are [count:1] then per attribute [type-selector:1 or raw:4]
 * [len:1] [bytes...]. See next_template().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "craton_hsm/pkcs11.h"
#include "fuzz_module_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ATTRS 12
#define MAX_HANDLES 8

struct cursor {
    const uint8_t *p;
    size_t n;
};

static uint8_t take8(struct cursor *c)
{
    if (c->n == 0)
        return 0;
    c->n--;
    return *c->p++;
}

static CK_ULONG take32(struct cursor *c)
{
    CK_ULONG v = 0;
    for (int i = 0; i < 4; i++)
        v |= (CK_ULONG)take8(c) << (8 * i);
    return v;
}

/* Attribute types worth hitting often: the policy-relevant ones and a few unknown ones. */
static const CK_ATTRIBUTE_TYPE g_types[] = {
    CKA_CLASS, CKA_TOKEN, CKA_PRIVATE, CKA_LABEL, CKA_APPLICATION, CKA_VALUE, CKA_OBJECT_ID,
    CKA_MODIFIABLE, CKA_COPYABLE, CKA_DESTROYABLE, CKA_UNIQUE_ID, CKA_KEY_TYPE, CKA_ID, CKA_SENSITIVE,
    CKA_EXTRACTABLE, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE, CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN,
    CKA_VERIFY, CKA_WRAP, CKA_UNWRAP, CKA_DERIVE, CKA_VALUE_LEN, CKA_START_DATE, CKA_END_DATE,
    CKA_ALLOWED_MECHANISMS, CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE, CKA_LOCAL, CKA_TRUSTED,
    CKA_ALWAYS_AUTHENTICATE, CKA_WRAP_WITH_TRUSTED, CKA_CERTIFICATE_TYPE, CKA_MODULUS, CKA_EC_PARAMS,
    CKA_EC_POINT, CKA_VENDOR_DEFINED, 0x7ffffff3UL,
};

static const CK_MECHANISM_TYPE g_mechs[] = {
    CKM_SHA_1, CKM_SHA224, CKM_SHA256, CKM_SHA384, CKM_SHA512, CKM_SHA3_256, CKM_SHA3_384, CKM_SHA3_512,
    CKM_MD5, CKM_AES_ECB, CKM_SHA256_HMAC, CKM_ECDSA, 0x7ffffff4UL,
};

struct tmpl {
    CK_ATTRIBUTE a[MAX_ATTRS];
    CK_ULONG count;
    bool null_array;
};

static void free_template(struct tmpl *t)
{
    for (CK_ULONG i = 0; i < MAX_ATTRS; i++)
        free(t->a[i].pValue);
    memset(t, 0, sizeof(*t));
}

/*
 * [count:1] (bit 7: pass a NULL array with that count) then per attribute:
 * [sel:1] (sel < 0xF0: g_types[sel % N]; else a raw 4-byte type follows)
 * [len:1] (0xFF: NULL pValue with a length from the next byte; 0xFE: a
 * CK_ULONG-sized value from 8 bytes; else len bytes follow).
 */
static void next_template(struct cursor *c, struct tmpl *t, bool want_values)
{
    memset(t, 0, sizeof(*t));
    uint8_t cnt = take8(c);
    t->null_array = (cnt & 0x80) != 0 && (cnt & 0x7f) != 0;
    t->count = (CK_ULONG)(cnt & 0x7f) % (MAX_ATTRS + 1);
    for (CK_ULONG i = 0; i < t->count && !t->null_array; i++) {
        uint8_t sel = take8(c);
        t->a[i].type = sel < 0xF0 ? g_types[sel % (sizeof g_types / sizeof g_types[0])] : take32(c);
        uint8_t len = take8(c);
        if (len == 0xFF) {
            t->a[i].ulValueLen = take8(c);
            continue;
        }
        size_t n = len == 0xFE ? sizeof(CK_ULONG) : len;
        t->a[i].ulValueLen = (CK_ULONG)n;
        t->a[i].pValue = malloc(n ? n : 1);
        if (t->a[i].pValue == NULL)
            continue;
        for (size_t k = 0; k < n; k++)
            ((uint8_t *)t->a[i].pValue)[k] = want_values ? take8(c) : 0xA5;
    }
}

static CK_SESSION_HANDLE g_session;
static CK_OBJECT_HANDLE g_handles[MAX_HANDLES];
static const CK_UTF8CHAR g_so_pin[] = "so-pin-1", g_user_pin[] = "user-pin";

/* (Re)initialise token 0 with both PINs and leave g_session open and logged in as the user. */
static CK_RV fresh_token(void)
{
    CK_UTF8CHAR label[32];
    CK_SESSION_HANDLE so;
    CK_RV rv;
    memset(label, ' ', sizeof label);
    if ((rv = C_CloseAllSessions(0)) != CKR_OK ||
        (rv = C_InitToken(0, (CK_UTF8CHAR *)g_so_pin, 8, label)) != CKR_OK ||
        (rv = C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &so)) != CKR_OK ||
        (rv = C_Login(so, CKU_SO, (CK_UTF8CHAR *)g_so_pin, 8)) != CKR_OK ||
        (rv = C_InitPIN(so, (CK_UTF8CHAR *)g_user_pin, 8)) != CKR_OK || (rv = C_CloseSession(so)) != CKR_OK ||
        (rv = C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &g_session)) != CKR_OK)
        return rv;
    return C_Login(g_session, CKU_USER, (CK_UTF8CHAR *)g_user_pin, 8);
}

static bool setup(void)
{
    static int state; /* 0 untried, 1 ready, -1 failed */
    if (state != 0)
        return state == 1;
    state = -1;
    if (!chsm_fuzz_module_env("attrs"))
        return false;
    if (C_Initialize(NULL) != CKR_OK || fresh_token() != CKR_OK) {
        fprintf(stderr, "fuzz_attrs: module setup failed\n");
        abort(); /* a harness that cannot reach the code is a broken harness */
    }
    state = 1;
    return true;
}

static CK_OBJECT_HANDLE pick_handle(struct cursor *c)
{
    uint8_t b = take8(c);
    if (b >= 0xF0)
        return (CK_OBJECT_HANDLE)take32(c); /* arbitrary, mostly invalid */
    return g_handles[b % MAX_HANDLES];
}

static void remember(CK_OBJECT_HANDLE h)
{
    for (int i = 0; i < MAX_HANDLES; i++) {
        if (g_handles[i] == CK_INVALID_HANDLE) {
            g_handles[i] = h;
            return;
        }
    }
    (void)C_DestroyObject(g_session, h); /* no slot left: do not let objects pile up */
}

static void op_create(struct cursor *c, bool copy)
{
    struct tmpl t;
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE, src = copy ? pick_handle(c) : 0;
    next_template(c, &t, true);
    CK_ATTRIBUTE *arr = t.null_array ? NULL : t.a;
    CK_RV rv = copy ? C_CopyObject(g_session, src, arr, t.count, &h) : C_CreateObject(g_session, arr, t.count, &h);
    if (rv == CKR_OK)
        remember(h);
    free_template(&t);
}

static void op_get(struct cursor *c)
{
    struct tmpl t;
    CK_OBJECT_HANDLE h = pick_handle(c);
    next_template(c, &t, false);
    (void)C_GetAttributeValue(g_session, h, t.null_array ? NULL : t.a, t.count);
    free_template(&t);
}

static void op_set(struct cursor *c)
{
    struct tmpl t;
    CK_OBJECT_HANDLE h = pick_handle(c);
    next_template(c, &t, true);
    (void)C_SetAttributeValue(g_session, h, t.null_array ? NULL : t.a, t.count);
    free_template(&t);
}

static void op_find(struct cursor *c)
{
    struct tmpl t;
    next_template(c, &t, true);
    if (C_FindObjectsInit(g_session, t.null_array ? NULL : t.a, t.count) == CKR_OK) {
        CK_OBJECT_HANDLE out[4];
        CK_ULONG n = 0;
        CK_ULONG max = take8(c) % 5;
        (void)C_FindObjects(g_session, out, max, &n);
        if (n > max)
            abort(); /* the module wrote more handles than asked for */
        if (C_FindObjectsFinal(g_session) != CKR_OK)
            abort();
    }
    free_template(&t);
}

static void op_digest(struct cursor *c)
{
    uint8_t sel = take8(c);
    CK_MECHANISM m = {sel < 0xF0 ? g_mechs[sel % (sizeof g_mechs / sizeof g_mechs[0])] : take32(c), NULL, 0};
    uint8_t plen = take8(c);
    if (plen == 0xFF) {
        m.ulParameterLen = take8(c); /* NULL parameter with a length */
    } else if (plen > 0) {
        m.pParameter = malloc(plen);
        m.ulParameterLen = plen;
        for (uint8_t i = 0; m.pParameter != NULL && i < plen; i++)
            ((uint8_t *)m.pParameter)[i] = take8(c);
    }
    if (C_DigestInit(g_session, &m) == CKR_OK) {
        CK_ULONG outlen = take8(c) % 80;
        uint8_t *out = malloc(outlen ? outlen : 1);
        CK_RV rv = C_Digest(g_session, (CK_BYTE *)"fuzz", 4, out, &outlen);
        if (rv == CKR_BUFFER_TOO_SMALL) { /* operation must still be active; finish it */
            free(out);
            out = malloc(outlen ? outlen : 1);
            if (C_Digest(g_session, (CK_BYTE *)"fuzz", 4, out, &outlen) != CKR_OK)
                abort();
        }
        free(out);
    }
    free(m.pParameter);
}

static void destroy_all(void)
{
    for (int i = 0; i < MAX_HANDLES; i++) {
        if (g_handles[i] != CK_INVALID_HANDLE) {
            /* CKA_DESTROYABLE=false objects stay; the volatile token dies at exit */
            (void)C_DestroyObject(g_session, g_handles[i]);
            g_handles[i] = CK_INVALID_HANDLE;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!setup())
        return 0;
    struct cursor c = {data, size};
    for (int steps = 0; c.n > 0 && steps < 16; steps++) {
        switch (take8(&c) % 6) {
        case 0: op_create(&c, false); break;
        case 1: op_create(&c, true); break;
        case 2: op_get(&c); break;
        case 3: op_set(&c); break;
        case 4: op_find(&c); break;
        default: op_digest(&c); break;
        }
    }
    destroy_all();
    /* Objects created with CKA_DESTROYABLE=false outlive destroy_all(); a periodic re-init bounds them. */
    static unsigned runs;
    if (++runs % 2000 == 0 && fresh_token() != CKR_OK)
        abort();
    return 0;
}
