/*
 * Mechanism-family power-on KATs (issue 4 "Self-tests"). Each drives the
 * same API the core uses and compares against a published value byte for
 * byte: Wycheproof (RSA, ECDSA, ECDH), RFC 8032 (Ed25519), SP 800-38A
 * (AES-CBC/CTR), SP 800-38B (CMAC), RFC 4231 (HMAC-SHA512).
 */
#include <string.h>

#include "common/secbuf.h"
#include "crypto/cipher.h"
#include "crypto/crypto.h"
#include "crypto/derive.h"
#include "crypto/mac.h"
#include "crypto/pkey.h"
#include "crypto/selftest_internal.h"
#include "crypto/sign.h"

/* Wycheproof rsa_oaep_2048_sha256_mgf1sha256 group 0 private key (PKCS#8). Same modulus as
 * rsa_signature_2048_sha256 group 0, whose tcId 1 (empty message) signature is the expected value. */
static const char rsa_kat_pkcs8[] =
    "308204bd020100300d06092a864886f70d0101010500048204a7308204a30201000282010100a2b451a07d0aa5f96e45"
    "5671513550514a8a5b462ebef717094fa1fee82224e637f9746d3f7cafd31878d80325b6ef5a1700f65903b469429e89"
    "d6eac8845097b5ab393189db92512ed8a7711a1253facd20f79c15e8247f3d3e42e46e48c98e254a2fe9765313a03eff"
    "8f17e1a029397a1fa26a8dce26f490ed81299615d9814c22da610428e09c7d9658594266f5c021d0fceca08d945a12be"
    "82de4d1ece6b4c03145b5d3495d4ed5411eb878daf05fd7afc3e09ada0f1126422f590975a1969816f48698bcbba1b4d"
    "9cae79d460d8f9f85e7975005d9bc22c4e5ac0f7c1a45d12569a62807d3b9a02e5a530e773066f453d1f5b4c2e9cf782"
    "0283f742b9d502030100010282010024cdc62317f5d72a6f6ba6cc9632899b01d1ff28867d72f61688995bc855a4e420"
    "a8405250089bdb13cf8e09543827b748b9d27fbb2b4d9e20af8c5a6a862796d1a4cc18ad16ea678bc1bd4a83bbbe9c5e"
    "57453b5ce7388e41a3ba4ce2b77b4438a229e954f720dae0353dc088ac8a76b26dc276f8e1b7851ddd6398ad16ff2e78"
    "195123b9b036e945c38c9d12434f6df76fe22359eb3e1ac9c011678fc926fad3ae475a4fffff55feb2d147e9c894f4c0"
    "e29a599e762462482d968bf42780945fc0d2c31c573c4431b8f4fe8b8c67bec815abd44f7a86edca1c2308737358d2c2"
    "ae5e2e0e2dadf730980262377e58b13b7d9992060a0bc870ccfdb4a9319ee102818100dc431050f782e894fb5248247d"
    "98cb7d58b8d1e24f3b55d041c56e4de086b0d5bb028bda42eeb5d234d5681e5809d415e6a289ad4cfbf78f978f6c3581"
    "4f50eebff1c5b80a69f788e81e6bab5ddaa78369d659d143ec6f17e79813a575cfad9c569156b90113e2e9110ad9e7b4"
    "8a1c9348a6e653321191290ea36cfb3a5b18f102818100bd1a81e7977f9898122273ae3222b598ea5fb19eb4eabc3830"
    "8a5e32196603b2e500ffb79f5b886816611debc472fac45544070beb057c941378a6868af3b7a03d3f9880ec47d5e089"
    "b94fbde542aba9ae8d72c57088d7abf5b131f39098f7bc160f90536abc9492fd4e06f3ed7299d4b97bb03677207d9566"
    "9f140cfbc20f2502818100a94b528b28f291599121d91952ffd1c7f21d7c1479d99d478885fb161870ee1218bf084726"
    "12dbe5497e8d9c650688e09c786961ae3e2c354dc48ae34514759c4c23c4588488961dc06b414e61c0e1e7fbbd2923d3"
    "1532fe289f96da220711e58c14019808e00414276933bb07e4efb9b4a9b37656917205209f33f09515d7c10281803af0"
    "e72a933aef09ff2503df78bafed531c02ff1a2bc437c540cdcbd4ad35435cf511763596543480629b114ca7f780ff7ef"
    "a32ea0cb6e000d6d9ea1f2ef71fd9cf9948422a165557e37e755edfe70d90b920502eb478bc98a63f788ce3a0f856d6e"
    "de7251a383bfa8fa480a81a925af7b3cc538c4bab8c9f7597ffb68011d8d0281802640fbfbcfefb163ee7a87b6483a66"
    "ee41f956d90fa8a7939bfc042ee0924b1b7993d0445f758d51933e85179c0320b0c968b48a91c38b5be923e1097c0c56"
    "2f88d42294b6a2759bafa5428a74f1270874e45f6fcc60f21602de5eccd143cf31241f5921b5ad3983fb54ef17be3b28"
    "5367e50c999c67247b552fe4bfce945f7b";
static const char rsa_kat_sig[] =
    "840f5dac53106dd1f9c57219224cf51289290c42f20466875ba8e830ac5690e541536fcc8ab03b731f82bf66d83f194e"
    "7e180b3963ec7a2f3f7904a7ce49aed47da4d4b79421eaf937d301b3e696169297b797c32c076a12be4de0b58e003c51"
    "23051a84a10c62f8dac2f42a8640008eb3c7cccd6760ff5b51b689763922582845f048fb8150e5a7a6ca2eccc7bdc853"
    "49ad5b26c52137a79fa3fe5c29ab5cd7615013219c1941b6708e9c3c23feff5febaf0c8ebca5750b54e3e6e99a3e876b"
    "396f27860b7f3ec4e9191703c6332d944f6f69751167680c79c4f6b57f1cc8755d24b6ec158ccdbacdb23107a33cb6b3"
    "32516c13274d1f9dccc21dced869e486";

static const uint8_t oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

/* RSA PKCS#1 v1.5 SHA-256 signature with a fixed key, compared byte for byte (deterministic scheme). */
static bool kat_rsa_pkcs1(void)
{
    uint8_t der[1300], sig[256];
    size_t dl = 0, sl = sizeof(sig);
    struct chsm_pkey *k = NULL;
    struct chsm_sign *s = NULL;
    bool ok = chsm_st_hex(rsa_kat_pkcs8, der, sizeof(der), &dl) && chsm_pkey_import_pkcs8(der, dl, &k) == CKR_OK &&
              chsm_sign_new(CKM_SHA256_RSA_PKCS, NULL, 0, k, false, &s) == CKR_OK &&
              chsm_sign_oneshot(s, (const uint8_t *)"", 0, sig, &sl) == CKR_OK && chsm_st_equal_hex(sig, sl, rsa_kat_sig);
    chsm_sign_free(s);
    chsm_pkey_free(k);
    chsm_wipe(der, sizeof(der));
    return ok;
}

/* Wycheproof ecdsa_secp256r1_sha256_p1363 tcId 1: verify passes; one flipped bit fails. */
static bool kat_ecdsa_p256(void)
{
    uint8_t pt[65], sig[64], msg[6];
    size_t pl = 0, sl = 0, ml = 0;
    struct chsm_pkey *k = NULL;
    struct chsm_sign *v = NULL;
    struct chsm_pkey_parts parts = {.key_type = CKK_EC};
    bool ok = chsm_st_hex("042927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838c7787964eaac00e5921fb1"
                          "498a60f4606766b3d9685001558d1a974e7341513e", pt, sizeof(pt), &pl) &&
              chsm_st_hex("2ba3a8be6b94d5ec80a6d9d1190a436effe50d85a1eee859b8cc6af9bd5c2e184cd60b855d442f5b3c7b11eb"
                          "6c4e0ae7525fe710fab9aa7c77a67f79e6fadd76", sig, sizeof(sig), &sl) &&
              chsm_st_hex("313233343030", msg, sizeof(msg), &ml);
    parts.ec_params = (struct chsm_bytes){oid_p256, sizeof(oid_p256)};
    parts.ec_point = (struct chsm_bytes){pt, pl};
    ok = ok && chsm_pkey_from_parts(&parts, &k) == CKR_OK &&
         chsm_sign_new(CKM_ECDSA_SHA256, NULL, 0, k, true, &v) == CKR_OK &&
         chsm_verify_oneshot(v, msg, ml, sig, sl) == CKR_OK;
    chsm_sign_free(v);
    v = NULL;
    sig[10] ^= 1;
    ok = ok && chsm_sign_new(CKM_ECDSA_SHA256, NULL, 0, k, true, &v) == CKR_OK &&
         chsm_verify_oneshot(v, msg, ml, sig, sl) == CKR_SIGNATURE_INVALID;
    chsm_sign_free(v);
    chsm_pkey_free(k);
    return ok;
}

/* RFC 8032 section 7.1 TEST 1 (empty message): signature compared. */
static bool kat_ed25519(void)
{
    uint8_t sk[32], sig[64];
    size_t kl = 0, sl = sizeof(sig);
    struct chsm_pkey *k = NULL;
    struct chsm_sign *s = NULL;
    struct chsm_pkey_parts parts = {.key_type = CKK_EC_EDWARDS, .is_private = true};
    bool ok = chsm_st_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", sk, sizeof(sk), &kl);
    parts.ec_params = (struct chsm_bytes){oid_ed25519, sizeof(oid_ed25519)};
    parts.value = (struct chsm_bytes){sk, kl};
    ok = ok && chsm_pkey_from_parts(&parts, &k) == CKR_OK && chsm_sign_new(CKM_EDDSA, NULL, 0, k, false, &s) == CKR_OK &&
         chsm_sign_oneshot(s, (const uint8_t *)"", 0, sig, &sl) == CKR_OK &&
         chsm_st_equal_hex(sig, sl, "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                                    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
    chsm_sign_free(s);
    chsm_pkey_free(k);
    chsm_wipe(sk, sizeof(sk));
    return ok;
}

static bool aes_block(CK_MECHANISM_TYPE mech, const void *param, size_t plen, const char *want)
{
    uint8_t key[16], pt[16], out[32];
    size_t kl = 0, pl = 0, ol = sizeof(out);
    struct chsm_cipher *c = NULL;
    bool ok = chsm_st_hex("2b7e151628aed2a6abf7158809cf4f3c", key, sizeof(key), &kl) &&
              chsm_st_hex("6bc1bee22e409f96e93d7e117393172a", pt, sizeof(pt), &pl) &&
              chsm_cipher_new(mech, param, plen, key, kl, true, &c) == CKR_OK &&
              chsm_cipher_oneshot(c, pt, pl, out, &ol) == CKR_OK && chsm_st_equal_hex(out, ol, want);
    chsm_cipher_free(c);
    return ok;
}

/* SP 800-38A F.2.1 (CBC-AES128.Encrypt) and F.5.1 (CTR-AES128.Encrypt), first block. */
static bool kat_aes_cbc(void)
{
    uint8_t iv[16];
    for (size_t i = 0; i < sizeof(iv); i++)
        iv[i] = (uint8_t)i;
    return aes_block(CKM_AES_CBC, iv, sizeof(iv), "7649abac8119b246cee98e9b12e9197d");
}

static bool kat_aes_ctr(void)
{
    CK_AES_CTR_PARAMS p = {128, {0}};
    size_t n = 0;
    return chsm_st_hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", p.cb, sizeof(p.cb), &n) &&
           aes_block(CKM_AES_CTR, &p, sizeof(p), "874d6191b620e3261bef6864990db6ce");
}

/* SP 800-38B D.1 example 2 (AES-128, 16-byte message). */
static bool kat_cmac(void)
{
    uint8_t key[16], msg[16], tag[16];
    size_t kl = 0, ml = 0, tl = sizeof(tag);
    struct chsm_mac *m = NULL;
    bool ok = chsm_st_hex("2b7e151628aed2a6abf7158809cf4f3c", key, sizeof(key), &kl) &&
              chsm_st_hex("6bc1bee22e409f96e93d7e117393172a", msg, sizeof(msg), &ml) &&
              chsm_mac_new(CKM_AES_CMAC, NULL, 0, key, kl, &m) == CKR_OK && chsm_mac_update(m, msg, ml) == CKR_OK &&
              chsm_mac_sign_final(m, tag, &tl) == CKR_OK && chsm_st_equal_hex(tag, tl, "070a16b46b4d4144f79bdd9dd04a287c");
    chsm_mac_free(m);
    return ok;
}

/* RFC 4231 test case 2 with SHA-512, through the mechanism API. */
static bool kat_hmac_sha512(void)
{
    static const char data[] = "what do ya want for nothing?";
    uint8_t tag[64];
    size_t tl = sizeof(tag);
    struct chsm_mac *m = NULL;
    bool ok = chsm_mac_new(CKM_SHA512_HMAC, NULL, 0, (const uint8_t *)"Jefe", 4, &m) == CKR_OK &&
              chsm_mac_update(m, (const uint8_t *)data, sizeof(data) - 1) == CKR_OK &&
              chsm_mac_sign_final(m, tag, &tl) == CKR_OK &&
              chsm_st_equal_hex(tag, tl, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                                         "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
    chsm_mac_free(m);
    return ok;
}

/* Wycheproof ecdh_secp256r1 tcId 1: raw shared secret compared. */
static bool kat_ecdh_p256(void)
{
    uint8_t d[32], pt[65];
    size_t dl = 0, pl = 0;
    struct chsm_pkey *k = NULL;
    struct chsm_buf z = {0};
    struct chsm_pkey_parts parts = {.key_type = CKK_EC, .is_private = true};
    bool ok = chsm_st_hex("0612465c89a023ab17855b0a6bcebfd3febb53aef84138647b5352e02c10c346", d, sizeof(d), &dl) &&
              chsm_st_hex("0462d5bd3372af75fe85a040715d0f502428e07046868b0bfdfa61d731afe44f26ac333a93a9e70a81cd5a95"
                          "b5bf8d13990eb741c8c38872b4a07d275a014e30cf", pt, sizeof(pt), &pl);
    CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, pl, pt};
    parts.ec_params = (struct chsm_bytes){oid_p256, sizeof(oid_p256)};
    parts.value = (struct chsm_bytes){d, dl};
    ok = ok && chsm_pkey_from_parts(&parts, &k) == CKR_OK && chsm_ecdh_derive(k, &p, sizeof(p), 0, &z) == CKR_OK &&
         chsm_st_equal_hex(z.data, z.len, "53020d908b0219328b658b525f26780e3ae12bcd952bb25a93bc0895e1714285");
    chsm_buf_free(&z);
    chsm_pkey_free(k);
    chsm_wipe(d, sizeof(d));
    return ok;
}

static const struct chsm_st_entry mech[] = {
    {"RSA-PKCS1-SHA256-sign", kat_rsa_pkcs1},
    {"ECDSA-P256-verify", kat_ecdsa_p256},
    {"Ed25519-sign", kat_ed25519},
    {"AES-CBC", kat_aes_cbc},
    {"AES-CTR", kat_aes_ctr},
    {"AES-CMAC", kat_cmac},
    {"HMAC-SHA512", kat_hmac_sha512},
    {"ECDH-P256", kat_ecdh_p256},
};

const struct chsm_st_entry *chsm_st_mech_list(size_t *n)
{
    *n = CHSM_ARRAY_LEN(mech);
    return mech;
}
