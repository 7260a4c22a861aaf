/*
 * Writes a fixture store into the directory given as argv[1] (which must
 * not hold a store yet): the objects of fixture_v1.h and, with a second
 * argument "records-v2", those of fixture_v2.h too. Run once when a store
 * format or record version is released; the result is committed under
 * tests/fixtures/store/<name>/ and never regenerated. (v1 was made by the
 * record-version-1 binary; records-v2 by the first binary writing v2.)
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "fixture_v1.h"
#include "fixture_v2.h"
#include "store/store.h"

static int put(struct chsm_store *st, const struct chsm_secbuf *mk, struct chsm_attrlist *a)
{
    uint8_t id[CHSM_OBJECT_ID_LEN];
    int bad = chsm_store_new_object_id(id) != CKR_OK || chsm_store_object_put(st, FX_SLOT, mk, id, a, NULL) != CKR_OK;
    chsm_attrlist_free(a);
    return bad;
}

/* The record-version-2 additions: a public key with a secret part (bound) and a MAC'd public object. */
static int fill_v2(struct chsm_store *st, const struct chsm_secbuf *mk)
{
    struct chsm_attrlist a;
    uint8_t aes[32];
    int bad = 0;
    memset(aes, FX2_PUB_AES_BYTE, sizeof(aes));
    chsm_attrlist_init(&a);
    bad |= chsm_attrlist_set_ulong(&a, CKA_CLASS, CKO_SECRET_KEY) != CKR_OK;
    bad |= chsm_attrlist_set_ulong(&a, CKA_KEY_TYPE, CKK_AES) != CKR_OK;
    bad |= chsm_attrlist_set_bool(&a, CKA_PRIVATE, false) != CKR_OK;
    bad |= chsm_attrlist_set_bool(&a, CKA_SENSITIVE, true) != CKR_OK;
    bad |= chsm_attrlist_set_bool(&a, CKA_EXTRACTABLE, false) != CKR_OK;
    bad |= chsm_attrlist_set(&a, CKA_LABEL, FX2_PUB_AES_LABEL, strlen(FX2_PUB_AES_LABEL)) != CKR_OK;
    bad |= chsm_attrlist_set(&a, CKA_VALUE, aes, sizeof(aes)) != CKR_OK;
    bad |= put(st, mk, &a);
    chsm_attrlist_init(&a);
    bad |= chsm_attrlist_set_ulong(&a, CKA_CLASS, CKO_DATA) != CKR_OK;
    bad |= chsm_attrlist_set_bool(&a, CKA_PRIVATE, false) != CKR_OK;
    bad |= chsm_attrlist_set(&a, CKA_LABEL, FX2_MAC_DATA_LABEL, strlen(FX2_MAC_DATA_LABEL)) != CKR_OK;
    bad |= chsm_attrlist_set(&a, CKA_VALUE, FX2_MAC_DATA_VALUE, strlen(FX2_MAC_DATA_VALUE)) != CKR_OK;
    bad |= put(st, mk, &a);
    return bad;
}

static int fill(struct chsm_store *st, bool records_v2)
{
    struct chsm_secbuf mk = {0};
    struct chsm_attrlist a;
    uint8_t aes[32], sec[20];
    int bad = 0;
    for (size_t i = 0; i < sizeof(aes); i++)
        aes[i] = (uint8_t)i;
    memset(sec, 0xC3, sizeof(sec));
    if (chsm_store_token_init(st, FX_SLOT, (const uint8_t *)FX_SO_PIN, strlen(FX_SO_PIN), FX_LABEL, FX_SERIAL, FX_ITER,
                              &mk) != CKR_OK ||
        chsm_store_pin_set(st, FX_SLOT, CHSM_PIN_USER, &mk, (const uint8_t *)FX_USER_PIN, strlen(FX_USER_PIN),
                           FX_ITER) != CKR_OK)
        return 1;
    chsm_attrlist_init(&a);
    bad |= chsm_attrlist_set_ulong(&a, CKA_CLASS, CKO_SECRET_KEY) != CKR_OK;
    bad |= chsm_attrlist_set_ulong(&a, CKA_KEY_TYPE, CKK_AES) != CKR_OK;
    bad |= chsm_attrlist_set_bool(&a, CKA_PRIVATE, true) != CKR_OK;
    bad |= chsm_attrlist_set(&a, CKA_LABEL, FX_AES_LABEL, strlen(FX_AES_LABEL)) != CKR_OK;
    bad |= chsm_attrlist_set(&a, CKA_VALUE, aes, sizeof(aes)) != CKR_OK;
    bad |= put(st, &mk, &a);
    chsm_attrlist_init(&a);
    bad |= chsm_attrlist_set_ulong(&a, CKA_CLASS, CKO_DATA) != CKR_OK;
    bad |= chsm_attrlist_set_bool(&a, CKA_PRIVATE, false) != CKR_OK;
    bad |= chsm_attrlist_set(&a, CKA_LABEL, FX_DATA_LABEL, strlen(FX_DATA_LABEL)) != CKR_OK;
    bad |= chsm_attrlist_set(&a, CKA_VALUE, FX_DATA_VALUE, strlen(FX_DATA_VALUE)) != CKR_OK;
    bad |= put(st, NULL, &a);
    chsm_attrlist_init(&a);
    bad |= chsm_attrlist_set_ulong(&a, CKA_CLASS, CKO_SECRET_KEY) != CKR_OK;
    bad |= chsm_attrlist_set_ulong(&a, CKA_KEY_TYPE, CKK_GENERIC_SECRET) != CKR_OK;
    bad |= chsm_attrlist_set_bool(&a, CKA_PRIVATE, true) != CKR_OK;
    bad |= chsm_attrlist_set(&a, CKA_LABEL, FX_SECRET_LABEL, strlen(FX_SECRET_LABEL)) != CKR_OK;
    bad |= chsm_attrlist_set(&a, CKA_ID, FX_SECRET_ID, strlen(FX_SECRET_ID)) != CKR_OK;
    bad |= chsm_attrlist_set(&a, CKA_VALUE, sec, sizeof(sec)) != CKR_OK;
    bad |= put(st, &mk, &a);
    if (records_v2)
        bad |= fill_v2(st, &mk);
    chsm_secbuf_free(&mk);
    return bad;
}

int main(int argc, char **argv)
{
    struct chsm_store *st = NULL;
    bool records_v2 = argc == 3 && strcmp(argv[2], "records-v2") == 0;
    if (argc != 2 && !records_v2) {
        fprintf(stderr, "usage: %s DIR [records-v2]\n", argv[0]);
        return 2;
    }
    if (chsm_crypto_init() != CKR_OK || chsm_store_open(argv[1], &st) != CKR_OK) {
        fprintf(stderr, "make_store_fixture: %s\n", chsm_err_last()->msg);
        return 1;
    }
    int bad = fill(st, records_v2);
    chsm_store_close(st); /* last connection: WAL checkpointed into the db file and removed */
    chsm_crypto_fini();
    if (bad)
        fprintf(stderr, "make_store_fixture: %s\n", chsm_err_last()->msg);
    return bad;
}
