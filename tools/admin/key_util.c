#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "key_util.h"

int adm_file_read(const char *path, struct adm_file *f)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 4096;
    memset(f, 0, sizeof(*f));
    if (fp == NULL)
        return adm_fail(ADM_FAILED, "cannot read %s: %s; check the path", path, strerror(errno));
    f->data = malloc(cap);
    while (f->data != NULL) {
        size_t got = fread(f->data + f->len, 1, cap - f->len, fp);
        f->len += got;
        if (got == 0)
            break;
        if (f->len == cap) {
            uint8_t *n = realloc(f->data, cap *= 2);
            if (n == NULL) {
                free(f->data);
                f->data = NULL;
            } else {
                f->data = n;
            }
        }
    }
    bool err = ferror(fp) != 0;
    if (fp != stdin)
        fclose(fp);
    if (f->data == NULL || err) {
        adm_file_free(f);
        return adm_fail(ADM_FAILED, "cannot read %s; check the file", path);
    }
    return ADM_OK;
}

int adm_file_write(const char *path, const void *data, size_t len)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
    if (fp == NULL)
        return adm_fail(ADM_FAILED, "cannot write %s: %s; check the directory", path, strerror(errno));
    bool ok = fwrite(data, 1, len, fp) == len;
    ok = (fp == stdout ? fflush(fp) : fclose(fp)) == 0 && ok;
    return ok ? ADM_OK : adm_fail(ADM_FAILED, "cannot write %s; check free space", path);
}

void adm_file_free(struct adm_file *f)
{
    /* Payloads and signatures are not secret, but a wipe costs little and keeps the rule simple. */
    chsm_wipe(f->data, f->len);
    free(f->data);
    memset(f, 0, sizeof(*f));
}

static void read_info(struct chsm_app *app, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, struct adm_keyinfo *k)
{
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &k->class_, sizeof(k->class_)},
                        {CKA_KEY_TYPE, &k->key_type, sizeof(k->key_type)},
                        {CKA_LABEL, k->label, sizeof(k->label) - 1},
                        {CKA_UNIQUE_ID, k->id, sizeof(k->id) - 1}};
    memset(k, 0, sizeof(*k));
    k->handle = o;
    /* Partial results are expected (a data object has no CKA_KEY_TYPE): unavailable fields are checked below. */
    CK_RV partial = chsm_core_GetAttributeValue(app, h, o, t, CHSM_ARRAY_LEN(t));
    CHSM_UNUSED(partial);
    if (t[2].ulValueLen != CK_UNAVAILABLE_INFORMATION && t[2].ulValueLen < sizeof(k->label))
        k->label[t[2].ulValueLen] = '\0';
    else
        k->label[0] = '\0';
    if (t[3].ulValueLen != CK_UNAVAILABLE_INFORMATION && t[3].ulValueLen < sizeof(k->id))
        k->id[t[3].ulValueLen] = '\0';
    else
        k->id[0] = '\0';
    k->is_key = k->class_ == CKO_PUBLIC_KEY || k->class_ == CKO_PRIVATE_KEY || k->class_ == CKO_SECRET_KEY;
}

CK_RV adm_key_find(struct chsm_app *app, CK_SESSION_HANDLE h, const char *label, CK_ULONG class_,
                   struct adm_keyinfo *out, size_t cap, size_t *n)
{
    CK_ATTRIBUTE t[2];
    CK_ULONG nt = 0, got = 0;
    CK_OBJECT_HANDLE objs[256];
    CK_RV rv;
    if (label != NULL)
        t[nt++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)};
    if (class_ != (CK_ULONG)-1)
        t[nt++] = (CK_ATTRIBUTE){CKA_CLASS, &class_, sizeof(class_)};
    *n = 0;
    rv = chsm_core_FindObjectsInit(app, h, nt ? t : NULL, nt);
    if (rv != CKR_OK)
        return rv;
    rv = chsm_core_FindObjects(app, h, objs, (CK_ULONG)(cap < 256 ? cap : 256), &got);
    CK_RV rv2 = chsm_core_FindObjectsFinal(app, h);
    if (rv == CKR_OK)
        rv = rv2;
    for (CK_ULONG i = 0; rv == CKR_OK && i < got; i++)
        read_info(app, h, objs[i], &out[(*n)++]);
    return rv;
}

static const CK_BYTE OID_P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const CK_BYTE OID_P384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const CK_BYTE OID_ED25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const CK_BYTE F4[] = {0x01, 0x00, 0x01};

static CK_RV gen_pair(struct chsm_app *app, CK_SESSION_HANDLE h, CK_MECHANISM_TYPE m, CK_ATTRIBUTE *extra,
                      const char *label, CK_OBJECT_HANDLE *k1, CK_OBJECT_HANDLE *k2)
{
    CK_BBOOL yes = CK_TRUE;
    CK_MECHANISM mech = {m, NULL, 0};
    CK_ULONG ll = (CK_ULONG)strlen(label);
    CK_ATTRIBUTE pub[] = {{CKA_TOKEN, &yes, 1}, {CKA_VERIFY, &yes, 1}, {CKA_LABEL, (void *)label, ll}, extra[0],
                          extra[1]};
    CK_ATTRIBUTE priv[] = {{CKA_TOKEN, &yes, 1}, {CKA_SIGN, &yes, 1}, {CKA_PRIVATE, &yes, 1},
                           {CKA_SENSITIVE, &yes, 1}, {CKA_LABEL, (void *)label, ll}};
    CK_ULONG npub = extra[1].type == CKA_PUBLIC_EXPONENT ? 5 : 4;
    return chsm_core_GenerateKeyPair(app, h, &mech, pub, npub, priv, CHSM_ARRAY_LEN(priv), k1, k2);
}

CK_RV adm_key_generate(struct chsm_app *app, CK_SESSION_HANDLE h, const char *type, const char *label,
                       CK_OBJECT_HANDLE *k1, CK_OBJECT_HANDLE *k2)
{
    CK_ULONG bits = 0;
    CK_ATTRIBUTE extra[2] = {{0, NULL, 0}, {0, NULL, 0}};
    if (strncmp(type, "aes:", 4) == 0) {
        CK_BBOOL yes = CK_TRUE;
        CK_ULONG len = strcmp(type + 4, "256") == 0 ? 32 : strcmp(type + 4, "128") == 0 ? 16 : 0;
        CK_MECHANISM mech = {CKM_AES_KEY_GEN, NULL, 0};
        CK_ATTRIBUTE t[] = {{CKA_TOKEN, &yes, 1},     {CKA_ENCRYPT, &yes, 1}, {CKA_DECRYPT, &yes, 1},
                            {CKA_PRIVATE, &yes, 1},   {CKA_SENSITIVE, &yes, 1},
                            {CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)}};
        if (len == 0)
            return CKR_ARGUMENTS_BAD;
        *k2 = 0;
        return chsm_core_GenerateKey(app, h, &mech, t, CHSM_ARRAY_LEN(t), k1);
    }
    if (strncmp(type, "rsa:", 4) == 0) {
        bits = strtoul(type + 4, NULL, 10);
        if (bits != 2048 && bits != 3072 && bits != 4096)
            return CKR_ARGUMENTS_BAD;
        extra[0] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)};
        extra[1] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT, (void *)F4, sizeof(F4)};
        return gen_pair(app, h, CKM_RSA_PKCS_KEY_PAIR_GEN, extra, label, k1, k2);
    }
    if (strcmp(type, "ec:p256") == 0 || strcmp(type, "ec:p384") == 0) {
        bool p256 = strcmp(type, "ec:p256") == 0;
        extra[0] = (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)(p256 ? OID_P256 : OID_P384),
                                  p256 ? sizeof(OID_P256) : sizeof(OID_P384)};
        return gen_pair(app, h, CKM_EC_KEY_PAIR_GEN, extra, label, k1, k2);
    }
    if (strcmp(type, "ed25519") == 0) {
        extra[0] = (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)OID_ED25519, sizeof(OID_ED25519)};
        return gen_pair(app, h, CKM_EC_EDWARDS_KEY_PAIR_GEN, extra, label, k1, k2);
    }
    return CKR_ARGUMENTS_BAD;
}

CK_RV adm_key_import_secret(struct chsm_app *app, CK_SESSION_HANDLE h, const struct chsm_secbuf *raw,
                            const char *label, CK_OBJECT_HANDLE *out)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},     {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_TOKEN, &yes, 1},               {CKA_PRIVATE, &yes, 1},
                        {CKA_SENSITIVE, &yes, 1},           {CKA_ENCRYPT, &yes, 1},
                        {CKA_DECRYPT, &yes, 1},             {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)},
                        {CKA_VALUE, raw->data, (CK_ULONG)raw->len}};
    return chsm_core_CreateObject(app, h, t, CHSM_ARRAY_LEN(t), out);
}

int adm_key_mech(const struct adm *a, const struct adm_keyinfo *k, CK_MECHANISM_TYPE *out)
{
    const char *m = adm_opt(a, "--mechanism");
    if (m != NULL) {
        if (!chsm_mech_from_name(m, out))
            return adm_fail(ADM_USAGE, "unknown mechanism %s; use a PKCS#11 name such as CKM_SHA256_RSA_PKCS", m);
        return ADM_OK;
    }
    switch (k->key_type) {
    case CKK_RSA: *out = CKM_SHA256_RSA_PKCS; return ADM_OK;
    case CKK_EC: *out = CKM_ECDSA_SHA256; return ADM_OK;
    case CKK_EC_EDWARDS: *out = CKM_EDDSA; return ADM_OK;
    default:
        return adm_fail(ADM_USAGE, "no default signing mechanism for this key type; give --mechanism NAME");
    }
}

CK_RV adm_key_sign_mem(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mech, const struct adm_file *in,
                       uint8_t **sig, size_t *sig_len)
{
    struct chsm_app *app = chsm_core_default_app();
    CK_MECHANISM m = {mech, NULL, 0};
    CK_ULONG len = 0;
    CK_RV rv = chsm_core_SignInit(app, h, &m, key);
    *sig = NULL;
    if (rv == CKR_OK)
        rv = chsm_core_Sign(app, h, in->data, (CK_ULONG)in->len, NULL, &len);
    if (rv == CKR_OK && (*sig = malloc(len ? len : 1)) == NULL)
        rv = CKR_HOST_MEMORY;
    if (rv == CKR_OK)
        rv = chsm_core_Sign(app, h, in->data, (CK_ULONG)in->len, *sig, &len);
    if (rv != CKR_OK) {
        free(*sig);
        *sig = NULL;
        return rv;
    }
    *sig_len = len;
    return CKR_OK;
}

int adm_key_sign(struct adm *a, CK_SESSION_HANDLE h, const struct adm_keyinfo *k, const struct adm_file *in,
                 const char *out_path)
{
    CK_MECHANISM_TYPE mech;
    uint8_t *sig = NULL;
    size_t len = 0;
    int rc = adm_key_mech(a, k, &mech);
    CK_RV rv;
    if (rc != ADM_OK)
        return rc;
    rv = adm_key_sign_mem(h, k->handle, mech, in, &sig, &len);
    if (rv != CKR_OK)
        return adm_fail_rv(rv, "signing failed", "check the key allows signing with this mechanism");
    rc = adm_file_write(out_path, sig, len);
    free(sig);
    return rc;
}

int adm_key_verify(struct adm *a, CK_SESSION_HANDLE h, const struct adm_keyinfo *k, const struct adm_file *in,
                   const struct adm_file *sig)
{
    struct chsm_app *app = chsm_core_default_app();
    CK_MECHANISM_TYPE mt;
    int rc = adm_key_mech(a, k, &mt);
    CK_MECHANISM m = {mt, NULL, 0};
    CK_RV rv;
    if (rc != ADM_OK)
        return rc;
    rv = chsm_core_VerifyInit(app, h, &m, k->handle);
    if (rv == CKR_OK)
        rv = chsm_core_Verify(app, h, in->data, (CK_ULONG)in->len, sig->data, (CK_ULONG)sig->len);
    if (rv == CKR_SIGNATURE_INVALID || rv == CKR_SIGNATURE_LEN_RANGE)
        return adm_fail(ADM_INTEGRITY, "signature does NOT verify with key \"%s\"; the payload, signature or key "
                        "differs", k->label);
    if (rv != CKR_OK)
        return adm_fail_rv(rv, "verification failed", "check the key and mechanism");
    if (!a->quiet)
        printf("signature OK\n");
    return ADM_OK;
}
