/* craton-hsmd dispatch layer over a volatile store (no gRPC): method table,
 * malformed requests, per-client isolation, idle reaping, login throttle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "clients.h"
#include "common/bytes.h"
#include "core/core.h"
#include "craton_hsm.pb-c.h"
#include "dispatch.h"
#include "identity.h"
#include "pin_throttle.h"

static size_t method(const char *name)
{
    for (size_t i = 0; i < chsm_dispatch_method_count(); i++)
        if (strcmp(chsm_dispatch_method_name(i), name) == 0)
            return i;
    fail_msg("no method %s", name);
    return 0;
}

/* Pack msg, dispatch it as identity, return the reply. */
static void call(const char *id, const char *name, const ProtobufCMessage *msg, struct chsm_dreply *r)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(n + 1);
    assert_non_null(buf);
    protobuf_c_message_pack(msg, buf);
    chsm_dispatch(id, method(name), buf, n, r);
    free(buf);
}

static uint64_t open_session(const char *id)
{
    CratonHsm__V1__OpenSessionRequest q = CRATON_HSM__V1__OPEN_SESSION_REQUEST__INIT;
    CratonHsm__V1__OpenSessionResponse *resp;
    struct chsm_dreply r;
    uint64_t s;
    q.read_write = 1;
    call(id, "OpenSession", &q.base, &r);
    assert_int_equal(r.status, CHSM_DS_OK);
    resp = craton_hsm__v1__open_session_response__unpack(NULL, r.body_len, r.body);
    assert_non_null(resp);
    s = resp->session;
    assert_int_not_equal(s, 0);
    craton_hsm__v1__open_session_response__free_unpacked(resp, NULL);
    chsm_dreply_free(&r);
    return s;
}

static enum chsm_dstatus close_session(const char *id, uint64_t s, char *msg, size_t msglen)
{
    CratonHsm__V1__CloseSessionRequest q = CRATON_HSM__V1__CLOSE_SESSION_REQUEST__INIT;
    struct chsm_dreply r;
    q.session = s;
    call(id, "CloseSession", &q.base, &r);
    if (msg != NULL)
        snprintf(msg, msglen, "%s", r.message);
    chsm_dreply_free(&r);
    return r.status;
}

static int setup(void **state)
{
    struct chsm_config cfg;
    struct chsm_core_options opts = {0};
    struct chsm_dispatch_settings ds = {64u, 1u << 20};
    (void)state;
    if (chsm_config_defaults(&cfg) != CKR_OK)
        return -1;
    free(cfg.token.storage_path);
    cfg.token.storage_path = strdup(":memory:");
    cfg.audit.enabled = false;
    cfg.security.pbkdf2_iterations = CHSM_PBKDF2_ITER_MIN;
    opts.config = &cfg;
    if (chsm_core_initialize(&opts) != CKR_OK)
        return -1;
    chsm_config_free(&cfg);
    chsm_dispatch_configure(&ds);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    chsm_clients_shutdown();
    return chsm_core_finalize() == CKR_OK ? 0 : -1;
}

static void test_every_method_has_a_handler(void **state)
{
    char msg[128];
    (void)state;
    assert_true(chsm_dispatch_self_check(msg, sizeof msg));
    assert_int_equal(chsm_dispatch_method_count(), 30);
    chsm_dispatch_method_path(method("Sign"), msg, sizeof msg);
    assert_string_equal(msg, "/craton_hsm.v1.HsmService/Sign");
}

static void test_malformed_and_unknown(void **state)
{
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    struct chsm_dreply r;
    (void)state;
    chsm_dispatch("x509:t", method("Login"), junk, sizeof junk, &r);
    assert_int_equal(r.status, CHSM_DS_INVALID_ARGUMENT);
    assert_non_null(strstr(r.message, "malformed"));
    assert_null(r.body);
    chsm_dispatch("x509:t", 999, junk, 0, &r);
    assert_int_equal(r.status, CHSM_DS_UNIMPLEMENTED);
    /* empty bytes are a valid (all-default) message */
    chsm_dispatch("x509:t", method("GetInfo"), NULL, 0, &r);
    assert_int_equal(r.status, CHSM_DS_OK);
    chsm_dreply_free(&r);
}

static void test_session_isolation(void **state)
{
    char msg[384];
    uint64_t s;
    (void)state;
    s = open_session("x509:alice");
    assert_int_equal(close_session("x509:bob", s, msg, sizeof msg), CHSM_DS_NOT_FOUND);
    assert_non_null(strstr(msg, "CKR_SESSION_HANDLE_INVALID"));
    assert_int_equal(close_session("x509:alice", s, NULL, 0), CHSM_DS_OK);
    assert_int_equal(close_session("x509:alice", s, NULL, 0), CHSM_DS_NOT_FOUND);
}

/* L3: the client sees the CKR name and a fixed text, never the core's detail. */
static void test_error_detail_not_sent(void **state)
{
    CratonHsm__V1__OpenSessionRequest q = CRATON_HSM__V1__OPEN_SESSION_REQUEST__INIT;
    struct chsm_dreply r;
    (void)state;
    q.slot_id = 4242;
    call("x509:detail", "OpenSession", &q.base, &r);
    assert_int_equal(r.status, CHSM_DS_NOT_FOUND);
    assert_string_equal(r.message, "CKR_SLOT_ID_INVALID: no such slot");
    assert_null(strstr(r.message, "4242"));
}

static void test_idle_clients_reaped(void **state)
{
    uint64_t s;
    unsigned before;
    (void)state;
    s = open_session("peer:ipv4:127.0.0.1:40000");
    before = chsm_clients_count();
    assert_true(before >= 1);
    /* idle 0 s: every client without a call in flight goes, with its sessions */
    assert_true(chsm_clients_reap_idle(0) >= 1);
    assert_int_equal(chsm_clients_count(), 0);
    assert_int_equal(close_session("peer:ipv4:127.0.0.1:40000", s, NULL, 0), CHSM_DS_NOT_FOUND);
    /* a long timeout keeps an active client */
    s = open_session("peer:ipv4:127.0.0.1:40001");
    assert_int_equal(chsm_clients_reap_idle(3600), 0);
    assert_int_equal(close_session("peer:ipv4:127.0.0.1:40001", s, NULL, 0), CHSM_DS_OK);
}

static void test_random_limit(void **state)
{
    CratonHsm__V1__GenerateRandomRequest q = CRATON_HSM__V1__GENERATE_RANDOM_REQUEST__INIT;
    struct chsm_dreply r;
    (void)state;
    q.session = open_session("x509:rnd");
    q.length = 65; /* settings: max 64 */
    call("x509:rnd", "GenerateRandom", &q.base, &r);
    assert_int_equal(r.status, CHSM_DS_INVALID_ARGUMENT);
    assert_non_null(strstr(r.message, "max_random_bytes"));
    q.length = 64;
    call("x509:rnd", "GenerateRandom", &q.base, &r);
    assert_int_equal(r.status, CHSM_DS_OK);
    assert_true(r.body_len >= 64);
    chsm_dreply_free(&r);
}

/* SetPin, InitPin, InitToken and Backup on slot 0 are refused by the slot throttle. */
static void assert_pin_rpcs_throttled(const char *id)
{
    CratonHsm__V1__SetPinRequest sp = CRATON_HSM__V1__SET_PIN_REQUEST__INIT;
    CratonHsm__V1__InitPinRequest ip = CRATON_HSM__V1__INIT_PIN_REQUEST__INIT;
    CratonHsm__V1__InitTokenRequest it = CRATON_HSM__V1__INIT_TOKEN_REQUEST__INIT;
    CratonHsm__V1__BackupRequest bk = CRATON_HSM__V1__BACKUP_REQUEST__INIT;
    struct chsm_dreply r;
    uint64_t s = open_session(id);

    sp.session = s;
    call(id, "SetPin", &sp.base, &r);
    assert_int_equal(r.status, CHSM_DS_RESOURCE_EXHAUSTED);
    ip.session = s;
    call(id, "InitPin", &ip.base, &r);
    assert_int_equal(r.status, CHSM_DS_RESOURCE_EXHAUSTED);
    it.label = (char *)"ut";
    call(id, "InitToken", &it.base, &r);
    assert_int_equal(r.status, CHSM_DS_RESOURCE_EXHAUSTED);
    call(id, "Backup", &bk.base, &r);
    assert_int_equal(r.status, CHSM_DS_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(r.message, "throttled"));
    assert_int_equal(close_session(id, s, NULL, 0), CHSM_DS_OK);
}

static void test_login_throttle(void **state)
{
    CratonHsm__V1__InitTokenRequest it = CRATON_HSM__V1__INIT_TOKEN_REQUEST__INIT;
    CratonHsm__V1__LoginRequest lq = CRATON_HSM__V1__LOGIN_REQUEST__INIT;
    struct chsm_dreply r;
    (void)state;
    it.so_pin.data = (uint8_t *)"so-pin-1234";
    it.so_pin.len = 11;
    it.label = (char *)"ut";
    chsm_clients_shutdown(); /* C_InitToken refuses while sessions are open (CKR_SESSION_EXISTS) */
    call("x509:admin", "InitToken", &it.base, &r);
    assert_int_equal(r.status, CHSM_DS_OK);
    chsm_dreply_free(&r);
    lq.session = open_session("x509:guesser");
    lq.user_type = CRATON_HSM__V1__USER_TYPE__USER_TYPE_SO;
    lq.pin.data = (uint8_t *)"wrong-pin";
    lq.pin.len = 9;
    call("x509:guesser", "Login", &lq.base, &r);
    assert_int_equal(r.status, CHSM_DS_UNAUTHENTICATED);
    assert_non_null(strstr(r.message, "CKR_PIN_INCORRECT"));
    /* the next attempt inside the back-off window never reaches the core */
    lq.pin.data = (uint8_t *)"so-pin-1234";
    lq.pin.len = 11;
    call("x509:guesser", "Login", &lq.base, &r);
    assert_int_equal(r.status, CHSM_DS_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(r.message, "throttled"));
    /* M4: the slot is throttled too, so another identity (a reconnect) waits as well */
    lq.session = open_session("x509:other");
    call("x509:other", "Login", &lq.base, &r);
    assert_int_equal(r.status, CHSM_DS_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(r.message, "throttled"));
    /* and so does every other RPC that can reach a PIN check on that slot */
    assert_pin_rpcs_throttled("x509:third");
    /* once the slot's window is over (reset here instead of waiting), the other identity logs in */
    chsm_pin_throttle_reset();
    call("x509:other", "Login", &lq.base, &r);
    assert_int_equal(r.status, CHSM_DS_OK);
    chsm_dreply_free(&r);
}

static void test_pin_throttle_slots(void **state)
{
    (void)state;
    chsm_pin_throttle_reset();
    assert_int_equal(chsm_pin_throttle_delay_ms(1), 250);
    assert_int_equal(chsm_pin_throttle_delay_ms(2), 500);
    assert_int_equal(chsm_pin_throttle_delay_ms(6), 8000);
    assert_int_equal(chsm_pin_throttle_delay_ms(32), 8000);
    chsm_pin_throttle_result(5, CKR_PIN_INCORRECT, true);
    assert_true(chsm_pin_throttle_wait_ms(5) > 0);
    assert_int_equal(chsm_pin_throttle_wait_ms(6), 0); /* per slot */
    chsm_pin_throttle_result(5, CKR_SESSION_HANDLE_INVALID, true); /* neutral */
    assert_true(chsm_pin_throttle_wait_ms(5) > 0);
    chsm_pin_throttle_result(5, CKR_OK, false); /* InitPin: proves no PIN */
    assert_true(chsm_pin_throttle_wait_ms(5) > 0);
    chsm_pin_throttle_result(5, CKR_OK, true);
    assert_int_equal(chsm_pin_throttle_wait_ms(5), 0);
    /* more slot ids than entries: the overflow entry throttles rather than forgets */
    for (CK_SLOT_ID s = 100; s < 140; s++)
        chsm_pin_throttle_result(s, CKR_PIN_INCORRECT, true);
    assert_true(chsm_pin_throttle_wait_ms(139) > 0);
    assert_true(chsm_pin_throttle_wait_ms(100) > 0);
    chsm_pin_throttle_reset();
    assert_int_equal(chsm_pin_throttle_wait_ms(139), 0);
}

/* ---- H2: client identity ---- */

/* A token client on connection peer: token NULL or 32 hex digits. */
static void call_ref(const char *peer, const char *token_hex, const char *name, const ProtobufCMessage *msg,
                     struct chsm_dreply *r)
{
    uint8_t tok[CHSM_CLIENT_TOKEN_LEN];
    struct chsm_client_ref who = {.key = peer, .actor = peer, .bound = false};
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(n + 1);
    assert_non_null(buf);
    protobuf_c_message_pack(msg, buf);
    if (token_hex != NULL) {
        assert_true(chsm_hex_decode(token_hex, tok, sizeof tok));
        who.token = tok;
    }
    chsm_dispatch_ref(&who, method(name), buf, n, r);
    free(buf);
}

/* OpenSession as a token client; the token it is given goes to token_hex. */
static uint64_t open_tok(const char *peer, const char *token_in, char token_hex[CHSM_CLIENT_TOKEN_HEX])
{
    CratonHsm__V1__OpenSessionRequest q = CRATON_HSM__V1__OPEN_SESSION_REQUEST__INIT;
    CratonHsm__V1__OpenSessionResponse *resp;
    struct chsm_dreply r;
    uint64_t s;
    q.read_write = 1;
    call_ref(peer, token_in, "OpenSession", &q.base, &r);
    assert_int_equal(r.status, CHSM_DS_OK);
    resp = craton_hsm__v1__open_session_response__unpack(NULL, r.body_len, r.body);
    assert_non_null(resp);
    s = resp->session;
    assert_int_equal(strlen(resp->client_token), CHSM_CLIENT_TOKEN_HEX - 1);
    memcpy(token_hex, resp->client_token, CHSM_CLIENT_TOKEN_HEX);
    craton_hsm__v1__open_session_response__free_unpacked(resp, NULL);
    chsm_dreply_free(&r);
    return s;
}

static enum chsm_dstatus close_tok(const char *peer, const char *token_hex, uint64_t s)
{
    CratonHsm__V1__CloseSessionRequest q = CRATON_HSM__V1__CLOSE_SESSION_REQUEST__INIT;
    struct chsm_dreply r;
    q.session = s;
    call_ref(peer, token_hex, "CloseSession", &q.base, &r);
    chsm_dreply_free(&r);
    return r.status;
}

static void test_token_clients(void **state)
{
    static const char *const p = "peer:ipv4:127.0.0.1:50000";
    char t1[CHSM_CLIENT_TOKEN_HEX], t2[CHSM_CLIENT_TOKEN_HEX], t1b[CHSM_CLIENT_TOKEN_HEX];
    char forged[CHSM_CLIENT_TOKEN_HEX];
    CratonHsm__V1__GetInfoRequest gi = CRATON_HSM__V1__GET_INFO_REQUEST__INIT;
    struct chsm_dreply r;
    uint64_t s1, s2;
    unsigned before;
    (void)state;

    chsm_clients_shutdown();
    /* a call without a token that keeps nothing leaves no client behind */
    call_ref(p, NULL, "GetInfo", &gi.base, &r);
    assert_int_equal(r.status, CHSM_DS_OK);
    chsm_dreply_free(&r);
    assert_int_equal(chsm_clients_count(), 0);
    /* two clients on the same connection (same peer address) get different tokens */
    s1 = open_tok(p, NULL, t1);
    s2 = open_tok(p, NULL, t2);
    assert_string_not_equal(t1, t2);
    before = chsm_clients_count();
    assert_int_equal(before, 2);
    /* neither can use the other's session; no token or a forged one is a stranger */
    assert_int_equal(close_tok(p, t2, s1), CHSM_DS_NOT_FOUND);
    assert_int_equal(close_tok(p, NULL, s1), CHSM_DS_NOT_FOUND);
    memcpy(forged, t1, sizeof forged);
    forged[0] = forged[0] == '0' ? '1' : '0';
    assert_int_equal(close_tok(p, forged, s1), CHSM_DS_NOT_FOUND);
    /* the right token on another connection (a reconnect, a reused port elsewhere) is a stranger too */
    assert_int_equal(close_tok("peer:ipv4:127.0.0.1:50001", t1, s1), CHSM_DS_NOT_FOUND);
    assert_int_equal(chsm_clients_count(), before); /* the strangers left nothing behind */
    /* presenting the token keeps the client: the same token comes back */
    (void)open_tok(p, t1, t1b);
    assert_string_equal(t1, t1b);
    assert_int_equal(close_tok(p, t1, s1), CHSM_DS_OK);
    assert_int_equal(close_tok(p, t2, s2), CHSM_DS_OK);
    /* bound (mutual TLS) clients get no token */
    {
        CratonHsm__V1__OpenSessionRequest q = CRATON_HSM__V1__OPEN_SESSION_REQUEST__INIT;
        CratonHsm__V1__OpenSessionResponse *resp;
        call("x509:sha256:00", "OpenSession", &q.base, &r);
        assert_int_equal(r.status, CHSM_DS_OK);
        resp = craton_hsm__v1__open_session_response__unpack(NULL, r.body_len, r.body);
        assert_non_null(resp);
        assert_string_equal(resp->client_token, "");
        craton_hsm__v1__open_session_response__free_unpacked(resp, NULL);
        chsm_dreply_free(&r);
    }
    chsm_clients_shutdown();
}

/* Two bound clients with the same actor (same CN) are still two clients. */
static void test_same_actor_different_keys(void **state)
{
    struct chsm_client_ref a = {.key = "x509:sha256:aa", .actor = "x509:client-a", .bound = true};
    struct chsm_client_ref b = {.key = "x509:sha256:bb", .actor = "x509:client-a", .bound = true};
    CratonHsm__V1__OpenSessionRequest q = CRATON_HSM__V1__OPEN_SESSION_REQUEST__INIT;
    CratonHsm__V1__CloseSessionRequest c = CRATON_HSM__V1__CLOSE_SESSION_REQUEST__INIT;
    CratonHsm__V1__OpenSessionResponse *resp;
    uint8_t buf[64];
    struct chsm_dreply r;
    size_t n;
    (void)state;
    chsm_dispatch_ref(&a, method("OpenSession"), NULL, 0, &r);
    assert_int_equal(r.status, CHSM_DS_OK);
    resp = craton_hsm__v1__open_session_response__unpack(NULL, r.body_len, r.body);
    assert_non_null(resp);
    c.session = resp->session;
    craton_hsm__v1__open_session_response__free_unpacked(resp, NULL);
    chsm_dreply_free(&r);
    (void)q;
    n = protobuf_c_message_pack(&c.base, buf);
    chsm_dispatch_ref(&b, method("CloseSession"), buf, n, &r);
    assert_int_equal(r.status, CHSM_DS_NOT_FOUND);
    chsm_dispatch_ref(&a, method("CloseSession"), buf, n, &r);
    assert_int_equal(r.status, CHSM_DS_OK);
    chsm_dreply_free(&r);
}

static const char test_cert[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBeDCCAR+gAwIBAgIUKyWtxiFsx8EToVj++lBe716O77QwCgYIKoZIzj0EAwIw\n"
    "EjEQMA4GA1UEAwwHaWQtdGVzdDAeFw0yNjExMjcxMzI0MjRaFw0zNjExMjQxMzI0\n"
    "MjRaMBIxEDAOBgNVBAMMB2lkLXRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n"
    "AAS3uB2DvgtaQJ+JPjMUSUS/b2bnDdjdGdeMKv0cBX+sV5WKxAMd1racJe5YA55P\n"
    "Jm8EzrMP+kuWdDvRU0Ecvonbo1MwUTAdBgNVHQ4EFgQUpxBTTOGWtCMDoikpEeFl\n"
    "+Rbjy1MwHwYDVR0jBBgwFoAUpxBTTOGWtCMDoikpEeFl+Rbjy1MwDwYDVR0TAQH/\n"
    "BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAgO+S7sYdCS9esy70ohqG/tNg1ggaD\n"
    "A4Ur4AkLTWC3/QIgVj0aAuyL8p+lDPTI3KCjMa+DOH3PJguQG0ML/+QBZmE=\n"
    "-----END CERTIFICATE-----\n";

/* The key is the DER SHA-256, as `openssl x509 -noout -fingerprint -sha256` prints it. */
static void test_cert_key(void **state)
{
    char key[CHSM_IDENTITY_CERT_KEY_LEN], pem[sizeof test_cert];
    char *p;
    (void)state;
    assert_true(chsm_identity_cert_key(test_cert, sizeof test_cert - 1, key));
    assert_string_equal(key, "x509:sha256:4d4d8323cfbb192b197d5b2e8700dd3b6f0432b6e63f74c9bae78a3fb1c58867");
    /* negative: no markers, a bad character, data after padding, a truncated block */
    assert_false(chsm_identity_cert_key("", 0, key));
    assert_false(chsm_identity_cert_key(NULL, 0, key));
    assert_false(chsm_identity_cert_key(test_cert, 40, key));
    memcpy(pem, test_cert, sizeof pem);
    p = strstr(pem, "MIIB");
    p[2] = '*';
    assert_false(chsm_identity_cert_key(pem, sizeof pem - 1, key));
    memcpy(pem, test_cert, sizeof pem);
    p = strstr(pem, "ZmE=");
    p[1] = '=';
    assert_false(chsm_identity_cert_key(pem, sizeof pem - 1, key));
    memcpy(pem, test_cert, sizeof pem);
    p = strstr(pem, "ZmE=");
    p[3] = '\n'; /* padding missing */
    assert_false(chsm_identity_cert_key(pem, sizeof pem - 1, key));
    /* one flipped bit is another certificate */
    memcpy(pem, test_cert, sizeof pem);
    p = strstr(pem, "MIIB");
    p[5] = 'C';
    assert_true(chsm_identity_cert_key(pem, sizeof pem - 1, key));
    assert_string_not_equal(key, "x509:sha256:4d4d8323cfbb192b197d5b2e8700dd3b6f0432b6e63f74c9bae78a3fb1c58867");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_method_has_a_handler), cmocka_unit_test(test_malformed_and_unknown),
        cmocka_unit_test(test_session_isolation),          cmocka_unit_test(test_idle_clients_reaped),
        cmocka_unit_test(test_error_detail_not_sent),
        cmocka_unit_test(test_random_limit),               cmocka_unit_test(test_login_throttle),
        cmocka_unit_test(test_pin_throttle_slots),         cmocka_unit_test(test_token_clients),
        cmocka_unit_test(test_same_actor_different_keys),  cmocka_unit_test(test_cert_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
