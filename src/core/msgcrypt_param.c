/*
 * CK_GCM_MESSAGE_PARAMS checks and IV generation for the message-based
 * GCM API (see msgcrypt.h for the IV layout and the counter rules).
 */
#include <string.h>

#include "core/internal.h"
#include "core/msgcrypt.h"

static CK_RV param_invalid(const char *why)
{
    return CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, "core", "CK_GCM_MESSAGE_PARAMS: %s", why);
}

static CK_RV check_generator(const CK_GCM_MESSAGE_PARAMS *p, bool encrypt)
{
    CK_ULONG free_bits = p->ulIvLen * 8 - p->ulIvFixedBits;
    if (!encrypt)
        return p->ivGenerator == CKG_NO_GENERATE ? CKR_OK : param_invalid("decryption takes the IV as given");
    switch (p->ivGenerator) {
    case CKG_NO_GENERATE:
        return CKR_OK;
    case CKG_GENERATE:
    case CKG_GENERATE_RANDOM:
    case CKG_GENERATE_COUNTER:
        /* No free bit would make every "generated" IV the same one. */
        return free_bits > 0 ? CKR_OK : param_invalid("no IV bits left to generate");
    default: /* CKG_GENERATE_COUNTER_XOR (TLS 1.3 style) and unknown values */
        return param_invalid("IV generator not supported");
    }
}

CK_RV chsm_msg_param_parse(const void *param, CK_ULONG len, bool encrypt, struct chsm_gcm_msg *out)
{
    CK_RV rv = CKR_OK;
    CK_GCM_MESSAGE_PARAMS p;
    CHSM_ENSURE(param != NULL && len == sizeof(p), param_invalid("missing or wrong size"));
    memcpy(&p, param, sizeof(p));
    CHSM_ENSURE(p.pIv != NULL && p.pTag != NULL, param_invalid("pIv and pTag are required"));
    CHSM_ENSURE(p.ulIvLen >= 1 && p.ulIvLen <= CHSM_MSG_IV_MAX, param_invalid("IV length outside 1..256 bytes"));
    CHSM_ENSURE(p.ulIvFixedBits <= p.ulIvLen * 8, param_invalid("ulIvFixedBits exceeds the IV"));
    /* 0..128 bits in whole bytes, as the adapter runs them for C_EncryptInit (0: no tag, nothing checked). */
    CHSM_ENSURE(p.ulTagBits <= 8 * CHSM_MSG_TAG_MAX && p.ulTagBits % 8 == 0,
                param_invalid("tag bits outside 0..128 in steps of 8"));
    CHSM_GUARD(check_generator(&p, encrypt));
    out->p = p;
    out->tag_bytes = p.ulTagBits / 8;
out:
    return rv;
}

/* Free (generated) bits of byte i of an IV whose first `fixed` bits are the caller's: a low-bit mask. */
static uint8_t free_mask(size_t i, CK_ULONG fixed)
{
    size_t end = 8 * (i + 1); /* bit index just past this byte */
    if (end <= fixed)
        return 0;
    size_t nfree = end - fixed >= 8 ? 8 : end - fixed;
    return (uint8_t)((1u << nfree) - 1u);
}

/* Take the counter's next value if the free bits still hold an unused one; never wraps back. */
static CK_RV counter_take(struct chsm_msg_counter *c, CK_ULONG free_bits, uint64_t *value)
{
    bool fits = free_bits >= 64 ? c->used != UINT64_MAX : c->used < (UINT64_C(1) << free_bits);
    if (!fits)
        return CHSM_ERR(CKR_MECHANISM_PARAM_INVALID, "core",
                        "IV counter exhausted for %lu free bits; initialise a new context",
                        (unsigned long)free_bits);
    *value = c->start + c->used++; /* modulo 2^64 here, modulo the free bits once masked in */
    return CKR_OK;
}

CK_RV chsm_msg_iv_make(const struct chsm_gcm_msg *m, struct chsm_msg_counter *counter, uint8_t *iv, bool *generated)
{
    CK_RV rv = CKR_OK;
    const CK_GCM_MESSAGE_PARAMS *p = &m->p;
    uint8_t fill[CHSM_MSG_IV_MAX];
    size_t n = p->ulIvLen;
    memcpy(iv, p->pIv, n);
    *generated = p->ivGenerator != CKG_NO_GENERATE;
    if (!*generated)
        goto out;
    if (p->ivGenerator == CKG_GENERATE_COUNTER) {
        uint64_t v = 0;
        CHSM_GUARD(counter_take(counter, n * 8 - p->ulIvFixedBits, &v));
        /* Big-endian, right-aligned; free bits above the 64 counter bits are zero. */
        for (size_t i = n; i-- > 0;) {
            fill[i] = (uint8_t)(v & 0xFFu);
            v >>= 8;
        }
    } else {
        CHSM_GUARD(chsm_rand_bytes(fill, n));
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t mask = free_mask(i, p->ulIvFixedBits);
        iv[i] = (uint8_t)((iv[i] & (uint8_t)~mask) | (fill[i] & mask));
    }
out:
    chsm_wipe(fill, sizeof(fill));
    return rv;
}
