/*
 * Framing of one sealed record part: the clear header, the AAD and the
 * public-object MAC (docs/store-format.md, "Records"). record.c decides
 * what goes in which part; this file only seals and opens one part.
 *
 *   v1:  u16 1 | IV[12] | ciphertext | tag[16]
 *   v2:  u16 2 | u64 rev | u8 mac_len (0 or 32) | mac | IV[12] | ciphertext | tag[16]
 *
 *   AAD v1 (41 bytes) = "CHSM" | u32 1 | serial[16] | id[16] | u8 kind
 *   AAD v2 (49 bytes) = "CHSM" | u32 2 | serial[16] | id[16] | u8 kind | u64 rev
 *   secret part v2 (81 bytes): the v2 AAD | SHA-256(public part as stored)
 *   MAC (v2 public part of a public object, MK available) =
 *       HMAC-SHA256(HKDF(MK, "craton-hsm record mac v2"), public AAD | IV | ciphertext | tag)
 *
 * The revision in the AAD stops parts of different writes of one object
 * being combined and makes the row's rev column authentic; the public-part
 * hash in the secret part's AAD makes a re-sealed public part (its key is
 * kept in clear for logged-out reads) break the secret part.
 */
#include <string.h>

#include "crypto/crypto.h"
#include "store/record_part.h"

#define V1_HDR 2u
#define V2_HDR (2u + 8u + 1u)

size_t chsm_part_make_aad(uint8_t aad[CHSM_PART_AAD_MAX], uint16_t version, const char serial[16],
                          const uint8_t id[CHSM_OBJECT_ID_LEN], enum chsm_blob_kind kind, uint64_t rev,
                          const uint8_t pub_hash[32])
{
    size_t n = 0;
    memcpy(aad, "CHSM", 4);
    chsm_store_le32(aad + 4, version);
    memcpy(aad + 8, serial, 16);
    memcpy(aad + 24, id, CHSM_OBJECT_ID_LEN);
    aad[24 + CHSM_OBJECT_ID_LEN] = (uint8_t)kind;
    n = 25 + CHSM_OBJECT_ID_LEN;
    if (version == CHSM_RECORD_VERSION_V1)
        return n;
    chsm_store_le64(aad + n, rev);
    n += 8;
    if (pub_hash != NULL) {
        memcpy(aad + n, pub_hash, 32);
        n += 32;
    }
    return n;
}

bool chsm_part_parse(const uint8_t *blob, size_t len, struct chsm_part_frame *f)
{
    memset(f, 0, sizeof(*f));
    if (blob == NULL || len < V1_HDR)
        return false;
    f->version = chsm_load_le16(blob);
    size_t hdr = 0;
    if (f->version == CHSM_RECORD_VERSION_V1) {
        hdr = V1_HDR;
    } else if (f->version == CHSM_RECORD_VERSION) {
        if (len < V2_HDR)
            return false;
        f->rev = chsm_load_le64(blob + 2);
        uint8_t mac_len = blob[10];
        if (mac_len != 0 && mac_len != CHSM_RECORD_MAC_LEN)
            return false;
        hdr = V2_HDR + mac_len;
        if (len < hdr)
            return false;
        f->mac = mac_len != 0 ? blob + V2_HDR : NULL;
    } else {
        return false;
    }
    /* The smallest plaintext is an empty attribute list: u16 version | u32 count. */
    if (len - hdr < CHSM_GCM_IV_LEN + CHSM_GCM_TAG_LEN + 6)
        return false;
    f->body = blob + hdr;
    f->body_len = len - hdr;
    f->ct_len = f->body_len - CHSM_GCM_IV_LEN - CHSM_GCM_TAG_LEN;
    return true;
}

/* HMAC over the public AAD and the sealed body (IV | ciphertext | tag). */
static CK_RV part_mac(const uint8_t mac_key[32], const uint8_t *aad, size_t aad_len, const uint8_t *body,
                      size_t body_len, uint8_t out[CHSM_RECORD_MAC_LEN])
{
    struct chsm_buf in;
    CK_RV rv = CKR_OK;
    chsm_buf_init(&in, 0);
    CHSM_GUARD(chsm_buf_reserve(&in, aad_len + body_len));
    CHSM_GUARD(chsm_buf_put(&in, aad, aad_len));
    CHSM_GUARD(chsm_buf_put(&in, body, body_len));
    CHSM_GUARD(chsm_hmac_sha256(mac_key, 32, in.data, in.len, out));
out:
    chsm_buf_free(&in);
    return rv;
}

CK_RV chsm_part_seal(const struct chsm_buf *pt, const uint8_t key[32], const uint8_t *aad, size_t aad_len,
                     uint64_t rev, const uint8_t *mac_key, struct chsm_buf *out)
{
    CK_RV rv = CKR_OK;
    size_t mac_len = mac_key != NULL ? CHSM_RECORD_MAC_LEN : 0;
    CHSM_GUARD(chsm_buf_reserve(out, V2_HDR + mac_len + CHSM_GCM_IV_LEN + pt->len + CHSM_GCM_TAG_LEN));
    CHSM_GUARD(chsm_buf_put_u16(out, CHSM_RECORD_VERSION));
    CHSM_GUARD(chsm_buf_put_u64(out, rev));
    uint8_t mac_len_byte = (uint8_t)mac_len;
    CHSM_GUARD(chsm_buf_put(out, &mac_len_byte, 1));
    size_t mac_at = out->len;
    out->len += mac_len; /* filled below, once the body exists */
    uint8_t *iv = out->data + out->len;
    CHSM_GUARD(chsm_rand_bytes(iv, CHSM_GCM_IV_LEN));
    uint8_t *ct = iv + CHSM_GCM_IV_LEN;
    CHSM_GUARD(chsm_aes256_gcm_seal(key, iv, aad, aad_len, pt->data, pt->len, ct, ct + pt->len));
    out->len += CHSM_GCM_IV_LEN + pt->len + CHSM_GCM_TAG_LEN;
    if (mac_key != NULL)
        CHSM_GUARD(part_mac(mac_key, aad, aad_len, iv, CHSM_GCM_IV_LEN + pt->len + CHSM_GCM_TAG_LEN,
                            out->data + mac_at));
out:
    return rv;
}

bool chsm_part_mac_ok(const struct chsm_part_frame *f, const uint8_t mac_key[32], const uint8_t *aad,
                      size_t aad_len)
{
    uint8_t mac[CHSM_RECORD_MAC_LEN];
    bool ok = f->mac != NULL && part_mac(mac_key, aad, aad_len, f->body, f->body_len, mac) == CKR_OK &&
              chsm_ct_equal(mac, f->mac, sizeof(mac));
    chsm_wipe(mac, sizeof(mac));
    return ok;
}

CK_RV chsm_part_open(const struct chsm_part_frame *f, const uint8_t key[32], const uint8_t *aad, size_t aad_len,
                     struct chsm_secbuf *pt)
{
    CK_RV rv = CKR_OK;
    const uint8_t *iv = f->body, *ct = iv + CHSM_GCM_IV_LEN, *tag = ct + f->ct_len;
    CHSM_GUARD(chsm_secbuf_alloc(pt, f->ct_len));
    CHSM_GUARD(chsm_aes256_gcm_open(key, iv, aad, aad_len, ct, f->ct_len, tag, pt->data));
out:
    if (rv != CKR_OK)
        chsm_secbuf_free(pt);
    return rv;
}
