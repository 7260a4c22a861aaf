/*
 * The module: the one global (chsm_g), created by chsm_core_initialize and
 * destroyed by chsm_core_finalize.
 *
 * LOCK ORDER (always acquire left to right, release in reverse):
 *
 *   lifecycle_lock  ->  slot->auth_lock  ->  session->lock  ->  chsm_g.lock (rwlock)
 *
 * - lifecycle_lock: initialize/finalize only.
 * - slot->auth_lock: login, logout, PIN and token-init of one slot; the
 *   PBKDF2 of a PIN check runs under it, never under chsm_g.lock, so other
 *   slots and crypto operations keep running.
 * - session->lock: the session's operation state (digest, sign, find ...);
 *   a crypto operation runs under its own session's lock only, so two
 *   threads on two sessions run in parallel.
 * - chsm_g.lock: apps, the session and object handle tables and the slot
 *   object caches; held for short lookups and table updates. Store writes of
 *   objects happen under it in read mode (the store serialises itself).
 *   It is a sharded reader-writer lock (chsm_rdlock/wrlock/unlock): a reader
 *   takes only its thread's shard, a writer takes every shard in index
 *   order. Every operation call reads the tables two or three times, and
 *   with one rwlock each of those reads was an atomic write to one cache
 *   line shared by all threads; with shards two threads never share one.
 *   Writers (session open/close, object create, login, cache reload) are
 *   rare and pay CHSM_LOCK_SHARDS lock acquisitions. Not recursive: a thread
 *   holds it in one mode at a time.
 * Sessions are reference counted (chsm_session_get/put), so a session found
 * under chsm_g.lock stays valid after the lock is released.
 *
 * Self-test failure: initialize returns CKR_FUNCTION_FAILED and the module
 * stays in a "failed" state where every call returns CKR_DEVICE_ERROR until
 * chsm_core_finalize (or a new chsm_core_initialize, which re-runs the tests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"

struct chsm_module chsm_g;
static pthread_mutex_t lifecycle_lock = PTHREAD_MUTEX_INITIALIZER;

/* The shards of chsm_g.lock, one cache line each (statically aligned). */
#define CHSM_LOCK_SHARDS 8
struct lock_shard {
    _Alignas(64) pthread_rwlock_t l;
};
#define SHARD_INIT {PTHREAD_RWLOCK_INITIALIZER}
static struct lock_shard shards[CHSM_LOCK_SHARDS] = {SHARD_INIT, SHARD_INIT, SHARD_INIT, SHARD_INIT,
                                                     SHARD_INIT, SHARD_INIT, SHARD_INIT, SHARD_INIT};
static atomic_uint next_shard;
/* This thread's shard (-1: not yet picked) and whether it holds the lock in write mode. */
static _Thread_local int t_shard = -1;
static _Thread_local bool t_writer;
static _Thread_local size_t t_wr_shards; /* how many shards this writer holds (0..n-1) */

/*
 * Threads take shards round robin, so up to CHSM_LOCK_SHARDS threads never share one. A writer
 * locks only the shards handed out so far (a process with two threads pays two, not eight): it
 * holds shard 0 while it reads next_shard, and a thread takes its shard number under shard 0 in
 * read mode, so every writer either sees the new number or finished before it was taken.
 */
static pthread_rwlock_t *my_shard(void)
{
    if (t_shard < 0) {
        (void)pthread_rwlock_rdlock(&shards[0].l);
        t_shard = (int)(atomic_fetch_add(&next_shard, 1) % CHSM_LOCK_SHARDS);
        (void)pthread_rwlock_unlock(&shards[0].l);
    }
    return &shards[t_shard].l;
}

static size_t shards_in_use(void)
{
    unsigned n = atomic_load(&next_shard);
    return n < CHSM_LOCK_SHARDS ? (n == 0 ? 1 : n) : CHSM_LOCK_SHARDS;
}

void chsm_rdlock(void)
{
    (void)pthread_rwlock_rdlock(my_shard());
}
void chsm_wrlock(void)
{
    (void)pthread_rwlock_wrlock(&shards[0].l);
    size_t n = shards_in_use();
    for (size_t i = 1; i < n; i++)
        (void)pthread_rwlock_wrlock(&shards[i].l);
    t_wr_shards = n;
    t_writer = true;
}
void chsm_unlock(void)
{
    if (!t_writer) {
        (void)pthread_rwlock_unlock(my_shard());
        return;
    }
    t_writer = false;
    for (size_t i = t_wr_shards; i-- > 0;)
        (void)pthread_rwlock_unlock(&shards[i].l);
}

/* After fork the child's shards may look held by threads that do not exist there. */
static void shards_reset(void)
{
    static const pthread_rwlock_t fresh = PTHREAD_RWLOCK_INITIALIZER;
    for (size_t i = 0; i < CHSM_LOCK_SHARDS; i++)
        memcpy(&shards[i].l, &fresh, sizeof(fresh));
    t_writer = false;
}

CK_RV chsm_core_check_up(void)
{
    if (chsm_g.failed)
        return CHSM_ERR(CKR_DEVICE_ERROR, "core", "power-on self-tests failed; finalize and re-initialize");
    if (!chsm_g.up)
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    return CKR_OK;
}

bool chsm_core_is_initialized(void)
{
    return chsm_g.up;
}

const struct chsm_config *chsm_core_config(void)
{
    return chsm_g.up ? &chsm_g.cfg : NULL;
}

CK_ULONG chsm_new_handle(void)
{
    return (CK_ULONG)atomic_fetch_add(&chsm_g.next_handle, 1);
}

CK_RV chsm_slot_get(CK_SLOT_ID id, struct chsm_slot **out)
{
    if (id >= chsm_g.nslots)
        return CHSM_ERR(CKR_SLOT_ID_INVALID, "core", "slot %lu (slots 0..%u)", (unsigned long)id,
                        chsm_g.nslots - 1);
    *out = &chsm_g.slots[id];
    return CKR_OK;
}

enum chsm_audit_user chsm_audit_user_of(CK_USER_TYPE u)
{
    if (u == CKU_SO)
        return CHSM_AUDIT_USER_SO;
    if (u == CKU_USER)
        return CHSM_AUDIT_USER_USER;
    return CHSM_AUDIT_USER_PUBLIC;
}

void chsm_obj_note_of(const struct chsm_object *o, struct chsm_obj_note *n)
{
    memcpy(n->uid_hex, o->uid_hex, sizeof(n->uid_hex));
    n->has_label = chsm_attrlist_get(&o->attrs, CKA_LABEL) != NULL;
    n->label[0] = '\0';
    if (n->has_label)
        chsm_obj_label(o, n->label, sizeof(n->label));
    n->token = o->token;
}

CK_RV chsm_core_audit_note(const char *event, int64_t slot, uint64_t session, CK_USER_TYPE user,
                           const struct chsm_obj_note *obj, const char *mech, CK_RV result)
{
    if (chsm_g.audit == NULL)
        return CKR_OK;
    struct chsm_audit_event ev = {
        .event = event,
        .slot = slot,
        .session = session,
        .user = chsm_audit_user_of(user),
        .object_id = obj ? obj->uid_hex : NULL,
        .object_label = obj && obj->has_label ? obj->label : NULL,
        .mechanism = mech,
        .result = result,
        .detail = NULL,
        /* Session objects vanish with the process: their events need not be fsync'ed one by one. */
        .session_only = obj != NULL && !obj->token,
    };
    CK_RV rv = chsm_audit_event(chsm_g.audit, &ev);
    if (rv != CKR_OK) {
        chsm_log_err(CHSM_LOG_ERROR, "audit");
        return CKR_DEVICE_ERROR;
    }
    return CKR_OK;
}

CK_RV chsm_core_audit(const char *event, int64_t slot, uint64_t session, CK_USER_TYPE user,
                      const struct chsm_object *obj, const char *mech, CK_RV result)
{
    if (chsm_g.audit == NULL)
        return CKR_OK;
    struct chsm_obj_note note;
    if (obj != NULL)
        chsm_obj_note_of(obj, &note);
    return chsm_core_audit_note(event, slot, session, user, obj ? &note : NULL, mech, result);
}

/* ---- config copy ---- */
static CK_RV dup_str(char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL)
        return CKR_OK;
    *dst = strdup(src);
    return *dst ? CKR_OK : CHSM_ERR(CKR_HOST_MEMORY, "core", "config copy");
}

static CK_RV config_copy(struct chsm_config *dst, const struct chsm_config *src)
{
    CK_RV rv = CKR_OK;
    *dst = *src;
    dst->source_path = dst->token.label = dst->token.serial_number = dst->token.storage_path = NULL;
    dst->audit.log_path = dst->daemon.bind = dst->daemon.tls_cert = dst->daemon.tls_key = NULL;
    dst->daemon.tls_client_ca = NULL;
    CHSM_GUARD(dup_str(&dst->source_path, src->source_path));
    CHSM_GUARD(dup_str(&dst->token.label, src->token.label));
    CHSM_GUARD(dup_str(&dst->token.serial_number, src->token.serial_number));
    CHSM_GUARD(dup_str(&dst->token.storage_path, src->token.storage_path));
    CHSM_GUARD(dup_str(&dst->audit.log_path, src->audit.log_path));
    CHSM_GUARD(dup_str(&dst->daemon.bind, src->daemon.bind));
    CHSM_GUARD(dup_str(&dst->daemon.tls_cert, src->daemon.tls_cert));
    CHSM_GUARD(dup_str(&dst->daemon.tls_key, src->daemon.tls_key));
    CHSM_GUARD(dup_str(&dst->daemon.tls_client_ca, src->daemon.tls_client_ca));
out:
    if (rv != CKR_OK)
        chsm_config_free(dst);
    return rv;
}

static CK_RV load_config(const struct chsm_core_options *opts)
{
    if (opts != NULL && opts->config != NULL)
        return config_copy(&chsm_g.cfg, opts->config);
    struct chsm_config_diag diag = {0};
    CK_RV rv = chsm_config_load(opts ? opts->config_path : NULL, &chsm_g.cfg, &diag);
    if (rv != CKR_OK) {
        /* The issue: a config error makes C_Initialize return CKR_GENERAL_ERROR, every problem on stderr/log. */
        for (size_t i = 0; i < diag.count; i++)
            chsm_log(CHSM_LOG_ERROR, "config: %s", diag.items[i].message);
        if (diag.count == 0)
            chsm_log_err(CHSM_LOG_ERROR, "config");
        if (rv != CKR_HOST_MEMORY)
            rv = CKR_GENERAL_ERROR;
    }
    chsm_config_diag_free(&diag);
    return rv;
}

/*
 * Token serial per slot: slot 0 uses [token].serial_number; slot N > 0 uses
 * the serial followed by "-N", the serial truncated so the whole fits the 16
 * characters of CK_TOKEN_INFO.serialNumber. Stable because slot ids are.
 */
static void slot_serial(const char *base, uint32_t n, char out[16])
{
    char suffix[12] = "";
    if (n > 0)
        (void)snprintf(suffix, sizeof(suffix), "-%u", n);
    size_t sl = strlen(suffix), bl = strlen(base);
    if (bl > 16 - sl)
        bl = 16 - sl;
    memset(out, ' ', 16);
    memcpy(out, base, bl);
    memcpy(out + bl, suffix, sl);
}

static void selftest_report(void *ctx, const char *name, bool passed)
{
    CHSM_UNUSED(ctx);
    chsm_g.selftests_run++;
    if (passed)
        chsm_log(CHSM_LOG_INFO, "self-test %s: passed", name);
    else
        chsm_log(CHSM_LOG_ERROR, "self-test %s: FAILED", name);
}

static CK_RV slots_create(void)
{
    uint32_t n = chsm_g.cfg.token.slot_count;
    if (n == 0 || n > CHSM_SLOT_COUNT_MAX)
        return CHSM_ERR(CKR_GENERAL_ERROR, "core", "slot_count %u out of range", n);
    chsm_g.slots = calloc(n, sizeof(*chsm_g.slots));
    if (chsm_g.slots == NULL)
        return CHSM_ERR(CKR_HOST_MEMORY, "core", "slots");
    chsm_g.nslots = n;
    for (uint32_t i = 0; i < n; i++) {
        struct chsm_slot *sl = &chsm_g.slots[i];
        sl->id = i;
        (void)pthread_mutex_init(&sl->auth_lock, NULL);
        slot_serial(chsm_g.cfg.token.serial_number ? chsm_g.cfg.token.serial_number : "", i, sl->serial);
        chsm_hmap_init(&sl->by_label);
        chsm_hmap_init(&sl->by_ckaid);
        chsm_hmap_init(&sl->by_uid);
        chsm_hmap_init(&sl->uid_handle);
        sl->dirty = true;
    }
    return CKR_OK;
}

static void slots_destroy(void)
{
    for (uint32_t i = 0; i < chsm_g.nslots; i++) {
        struct chsm_slot *sl = &chsm_g.slots[i];
        chsm_cache_clear(sl, true);
        chsm_hmap_free(&sl->by_label);
        chsm_hmap_free(&sl->by_ckaid);
        chsm_hmap_free(&sl->by_uid);
        chsm_hmap_free(&sl->uid_handle);
        chsm_secbuf_free(&sl->mk);
        (void)pthread_mutex_destroy(&sl->auth_lock);
    }
    free(chsm_g.slots);
    chsm_g.slots = NULL;
    chsm_g.nslots = 0;
}

static CK_RV open_backends(const struct chsm_core_options *opts)
{
    CK_RV rv = CKR_OK;
    const char *path = chsm_g.cfg.token.storage_path;
    rv = chsm_store_open(chsm_config_is_volatile(&chsm_g.cfg) ? ":memory:" : path, &chsm_g.store);
    if (rv != CKR_OK) {
        chsm_log_err(CHSM_LOG_ERROR, "store open");
        goto out;
    }
    if (opts != NULL && opts->exclusive_store_lock) {
        rv = chsm_store_lock_exclusive(chsm_g.store);
        if (rv != CKR_OK) {
            chsm_log_err(CHSM_LOG_ERROR, "store lock");
            goto out;
        }
        chsm_g.lock_held = true;
    }
    rv = chsm_audit_open(&chsm_g.cfg, &chsm_g.audit);
    if (rv != CKR_OK) {
        chsm_log_err(CHSM_LOG_ERROR, "audit open");
        rv = CKR_DEVICE_ERROR;
    }
out:
    return rv;
}

static void teardown(void)
{
    if (chsm_g.audit != NULL)
        chsm_audit_close(chsm_g.audit);
    chsm_g.audit = NULL;
    if (chsm_g.store != NULL)
        chsm_store_close(chsm_g.store);
    chsm_g.store = NULL;
    slots_destroy();
    chsm_hmap_free(&chsm_g.sessions);
    chsm_hmap_free(&chsm_g.objects);
    chsm_config_free(&chsm_g.cfg);
}

static CK_RV initialize_locked(const struct chsm_core_options *opts)
{
    CK_RV rv = CKR_OK;
    bool crypto_up = false;
    memset(&chsm_g.cfg, 0, sizeof(chsm_g.cfg));
    chsm_hmap_init(&chsm_g.sessions);
    chsm_hmap_init(&chsm_g.objects);
    chsm_g.selftests_run = 0;
    chsm_g.selftests_passed = false;
    CHSM_GUARD(load_config(opts));
    rv = chsm_crypto_init();
    if (rv != CKR_OK) {
        chsm_log_err(CHSM_LOG_ERROR, "crypto init");
        goto out;
    }
    crypto_up = true;
    chsm_pkey_set_fips_pct(chsm_g.cfg.algorithms.fips_approved_only);
    if (chsm_selftest_run(selftest_report, NULL) != CKR_OK) {
        chsm_log(CHSM_LOG_ERROR, "self-test: power-on self-tests failed; the module refuses to operate");
        chsm_g.failed = true;
        CHSM_BAIL(CKR_FUNCTION_FAILED);
    }
    chsm_g.selftests_passed = true;
    CHSM_GUARD(chsm_obj_session_ids_init());
    CHSM_GUARD(slots_create());
    CHSM_GUARD(open_backends(opts));
    atomic_store(&chsm_g.next_handle, 1);
    CHSM_GUARD(chsm_app_create(opts && opts->actor ? opts->actor : NULL, &chsm_g.default_app));
    chsm_g.up = true;
    CHSM_GUARD(chsm_core_audit("config_load", -1, 0, CHSM_NOT_LOGGED_IN, NULL, NULL, CKR_OK));
    CHSM_GUARD(chsm_core_audit("selftest", -1, 0, CHSM_NOT_LOGGED_IN, NULL, NULL, CKR_OK));
    CHSM_GUARD(chsm_core_audit("initialize", -1, 0, CHSM_NOT_LOGGED_IN, NULL, NULL, CKR_OK));
out:
    if (rv != CKR_OK) {
        bool failed = chsm_g.failed;
        chsm_g.up = false;
        while (chsm_g.apps != NULL) {
            struct chsm_app *a = chsm_g.apps;
            chsm_g.apps = a->next;
            free(a);
        }
        chsm_g.default_app = NULL;
        teardown();
        if (crypto_up)
            chsm_crypto_fini();
        chsm_g.failed = failed;
    }
    return rv;
}

CK_RV chsm_core_initialize(const struct chsm_core_options *opts)
{
    CK_RV rv;
    (void)pthread_mutex_lock(&lifecycle_lock);
    if (chsm_g.up) {
        rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
    } else {
        chsm_g.failed = false;
        rv = initialize_locked(opts);
    }
    (void)pthread_mutex_unlock(&lifecycle_lock);
    return rv;
}

CK_RV chsm_core_finalize(void)
{
    (void)pthread_mutex_lock(&lifecycle_lock);
    if (!chsm_g.up) {
        bool was_failed = chsm_g.failed;
        chsm_g.failed = false;
        (void)pthread_mutex_unlock(&lifecycle_lock);
        return was_failed ? CKR_OK : CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    /* Apps close their sessions (and log out, wiping the MK) before the backends go. */
    while (chsm_g.apps != NULL)
        chsm_app_free(chsm_g.apps);
    chsm_g.default_app = NULL;
    CK_RV arv = chsm_core_audit("finalize", -1, 0, CHSM_NOT_LOGGED_IN, NULL, NULL, CKR_OK);
    CHSM_UNUSED(arv); /* finalize proceeds even when the log is gone */
    chsm_g.up = false;
    teardown();
    chsm_crypto_fini();
    (void)pthread_mutex_unlock(&lifecycle_lock);
    return CKR_OK;
}

/*
 * In a forked child: forget everything without touching what the parent
 * still uses. The SQLite handle, audit file and heap state are deliberately
 * leaked (closing the parent's sqlite connection in the child could release
 * the parent's POSIX locks and corrupt the database; SQLite's docs forbid
 * carrying a connection across fork). Secret buffers are wiped first. The
 * child then sees CKR_CRYPTOKI_NOT_INITIALIZED until it initialises again.
 */
void chsm_core_forget_after_fork(void)
{
    for (uint32_t i = 0; i < chsm_g.nslots; i++)
        if (chsm_g.slots[i].mk.data != NULL)
            chsm_wipe(chsm_g.slots[i].mk.data, chsm_g.slots[i].mk.len);
    memset(&chsm_g, 0, sizeof(chsm_g));
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&lifecycle_lock, &fresh, sizeof(fresh));
    shards_reset();
    CK_RV rv = chsm_crypto_after_fork();
    CHSM_UNUSED(rv);
}

CK_RV chsm_core_get_status(struct chsm_core_status *out)
{
    CK_RV rv = CKR_OK;
    CHSM_ENSURE(out != NULL, CKR_ARGUMENTS_BAD);
    memset(out, 0, sizeof(*out));
    out->selftests_passed = chsm_g.selftests_passed;
    out->selftests_run = chsm_g.selftests_run;
    CHSM_GUARD(chsm_core_check_up());
    (void)snprintf(out->store_path, sizeof(out->store_path), "%s",
                   chsm_g.cfg.token.storage_path ? chsm_g.cfg.token.storage_path : "");
    out->store_volatile = chsm_store_is_volatile(chsm_g.store);
    out->store_format_version = chsm_store_format_version(chsm_g.store);
    out->store_lock_held_by_us = chsm_g.lock_held;
    if (chsm_g.audit != NULL && chsm_audit_head(chsm_g.audit, &out->audit_seq, out->audit_head) != CKR_OK)
        out->audit_head[0] = '\0';
out:
    return rv;
}
