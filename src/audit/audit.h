/*
 * Tamper-evident audit log: JSON Lines at [audit].log_path, each line
 * chained to the previous line's exact bytes by SHA-256, rotated into
 * numbered segments, verifiable across segments. See docs/audit-format.md.
 *
 * The core calls chsm_audit_event() for security-relevant events and
 * chsm_audit_key_use() for key-using operations. State-changing events are
 * durable (written and fdatasync'ed per [audit].sync) before the call
 * returns CKR_OK; session-only events, summaries and (sync="batch") key-use
 * entries are batched in the process and written in call order by a later
 * drain. If the log cannot be written the call returns CKR_DEVICE_ERROR (a
 * lost batch fails the next call) and the caller fails the operation
 * (unless [audit].fail_open). Nothing secret ever goes in: no PIN, key or
 * data.
 *
 * Threading: one struct chsm_audit per process, thread-safe. Several
 * processes may append to the same file: appends are serialised by an
 * advisory lock on the log and the chain head is re-read from the file's
 * tail under that lock.
 */
#ifndef CHSM_AUDIT_AUDIT_H
#define CHSM_AUDIT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/result.h"
#include "config/config.h"

struct chsm_audit;

/* Open/create the log described by cfg->audit (disabled config: a no-op logger). */
CHSM_MUST_CHECK CK_RV chsm_audit_open(const struct chsm_config *cfg, struct chsm_audit **out);
/* Flush key-use summaries and close. */
void chsm_audit_close(struct chsm_audit *a);

/* Who is acting on this thread (the daemon sets the client's certificate subject or peer address). */
void chsm_audit_set_actor(const char *actor);

enum chsm_audit_user { CHSM_AUDIT_USER_NONE = 0, CHSM_AUDIT_USER_PUBLIC, CHSM_AUDIT_USER_SO, CHSM_AUDIT_USER_USER };

struct chsm_audit_event {
    const char *event;     /* e.g. "login", "token_init", "object_create" (see docs/audit-format.md) */
    int64_t slot;          /* -1 when not applicable */
    uint64_t session;      /* 0 when not applicable */
    enum chsm_audit_user user;
    const char *object_id; /* CKA_UNIQUE_ID hex or NULL */
    const char *object_label; /* or NULL */
    const char *mechanism; /* "CKM_ECDSA" or NULL */
    CK_RV result;
    const char *detail;    /* optional, never secret */
    /*
     * The event concerns only volatile session state (a session object, a
     * session opening or closing): it is queued in the process and written
     * by the next drain (within batch_ms, before the next directly written
     * entry, at session close, head, rotate and close) — the state it
     * describes does not survive a crash either. See docs/audit-format.md.
     */
    bool session_only;
};

/* Append one event (filtered by log_level). */
CHSM_MUST_CHECK CK_RV chsm_audit_event(struct chsm_audit *a, const struct chsm_audit_event *ev);

/*
 * Account one key-using operation (sign, verify, encrypt, decrypt, digest_key,
 * mac): key_use="each" writes an entry per call, "summary" aggregates per
 * (session, object, mechanism, operation, result) and flushes at least every
 * second, at session close and at close.
 */
void chsm_audit_key_use(struct chsm_audit *a, int64_t slot, uint64_t session, enum chsm_audit_user user,
                        const char *object_id, const char *object_label, const char *mechanism,
                        const char *operation, CK_RV result);

/* The key-use operations, in the order of their names: "sign", "verify", "encrypt", "decrypt",
 * "digest_key", "mac". */
enum chsm_audit_key_op {
    CHSM_AUDIT_OP_SIGN = 0,
    CHSM_AUDIT_OP_VERIFY,
    CHSM_AUDIT_OP_ENCRYPT,
    CHSM_AUDIT_OP_DECRYPT,
    CHSM_AUDIT_OP_DIGEST_KEY,
    CHSM_AUDIT_OP_MAC,
    CHSM_AUDIT_OP_COUNT
};

/*
 * One key use for chsm_audit_key_used(), the core's per-operation path. A
 * summary is identified by (session, key_tag, mech_tag, op, result), compared
 * as integers: the caller guarantees that equal key_tags mean the same
 * object_id and equal mech_tags the same mechanism name (the core passes the
 * object's binary CKA_UNIQUE_ID and the CKM_ value). The strings, slot and
 * user are read only when a summary starts or an "each" entry is written.
 */
struct chsm_audit_use {
    uint64_t session;
    CK_RV result;
    uint64_t key_tag[2];
    uint64_t mech_tag;
    enum chsm_audit_key_op op;
    int64_t slot;
    enum chsm_audit_user user;
    const char *object_id, *object_label, *mechanism; /* label may be NULL */
};
/* Account one key-using operation, as chsm_audit_key_use does, identified by its tags. */
void chsm_audit_key_used(struct chsm_audit *a, const struct chsm_audit_use *u);
/* The summary mode's fast path alone, reading only session, result, key_tag, mech_tag and op:
 * when u repeats the last use counted in its session's shard it is counted and true returned;
 * otherwise (and when summaries are off) false, and the caller fills in the rest of u for
 * chsm_audit_key_used. */
bool chsm_audit_key_repeat(struct chsm_audit *a, const struct chsm_audit_use *u);
/* Whether chsm_audit_key_use records anything (false when a is NULL, disabled, or log_level
 * leaves crypto events out): callers skip building its arguments when it does not. */
bool chsm_audit_counts_key_use(const struct chsm_audit *a);
/* Flush the summaries of one session and drain the queue (call at session close). */
void chsm_audit_session_closed(struct chsm_audit *a, uint64_t session);

/* Current chain head: last seq and hex SHA-256 of the last line (65 bytes incl. NUL). */
CHSM_MUST_CHECK CK_RV chsm_audit_head(struct chsm_audit *a, uint64_t *seq, char hash_hex[65]);
/* Rotate now (craton-hsm-admin audit rotate). */
CHSM_MUST_CHECK CK_RV chsm_audit_rotate(struct chsm_audit *a);

/*
 * Restore continuity: start a FRESH log at `log_path` whose first entry
 * (event "restore") chains from prev_hash_hex with seq = prev_seq + 1.
 * Refuses (CKR_FUNCTION_FAILED) if the file already exists and is non-empty.
 */
CHSM_MUST_CHECK CK_RV chsm_audit_start_chained(const char *log_path, uint64_t prev_seq,
                                               const char *prev_hash_hex, const char *detail);

/* ---- verification (craton-hsm-admin audit verify) ---- */
struct chsm_audit_verify_result {
    bool ok;
    uint64_t entries;
    uint64_t first_seq, last_seq;
    char head_hash[65];
    bool truncation_recovered; /* a "recovered" entry was seen */
    uint64_t recovered_count;  /* how many partial lines were skipped by "recovered" entries */
    char first_prev[65];       /* prev of the first entry: the anchor (64 zeros for a log from scratch) */
    /* On failure: where and what. */
    char bad_file[512];
    uint64_t bad_line;
    char expected[160];
    char found[160];
    char reason[256];
};
/*
 * Verify the chain over the ordered list of files (oldest segment first,
 * live log last). from_hash_hex (may be NULL) is the expected prev of the
 * first entry.
 */
CHSM_MUST_CHECK CK_RV chsm_audit_verify_files(const char *const *files, size_t nfiles, const char *from_hash_hex,
                                              struct chsm_audit_verify_result *res);
/* Segments of log_path in order (<log_path>.000001 ...) followed by log_path itself. Caller frees. */
CHSM_MUST_CHECK CK_RV chsm_audit_list_files(const char *log_path, char ***files, size_t *nfiles);
void chsm_audit_free_list(char **files, size_t nfiles);

/* ---- reading (craton-hsm-admin audit dump) ---- */
#define CHSM_AUDIT_EVENT_MAX 24
/* One parsed line. Strings are decoded (JSON escapes undone; "" when null/absent). */
struct chsm_audit_entry {
    uint64_t seq;
    char time[32];
    char event[CHSM_AUDIT_EVENT_MAX];
    bool has_slot;
    int64_t slot;
    bool has_session;
    uint64_t session;
    char user[8]; /* "so" | "user" | "public" | "" (null) */
    bool has_object;
    char object_id[2 * 128 + 1];
    char object_label[2 * 256 + 1];
    char mechanism[2 * 64 + 1];
    char result[64];
    int64_t pid;
    char actor[2 * 256 + 1];
    bool has_detail;
    char detail[2 * 512 + 1];
    uint64_t count; /* 0 unless a key-use summary */
    char first[32], last[32]; /* summary interval */
    char prev[65];
};
/*
 * Parse one line (no newline) strictly as the encoder writes it: fixed key
 * order, no whitespace, known event names. CKR_OK or CKR_DATA_INVALID with
 * the reason in the thread's error record.
 */
CHSM_MUST_CHECK CK_RV chsm_audit_parse_line(const char *line, size_t len, struct chsm_audit_entry *e);
/*
 * Call cb for every line of file in order (lineno from 1). e is NULL when the
 * line does not parse (or is an unterminated last line: terminated=false).
 * cb returns non-zero to stop early. CKR_DEVICE_ERROR if the file cannot be read.
 */
typedef int (*chsm_audit_entry_cb)(const struct chsm_audit_entry *e, const char *line, size_t len, uint64_t lineno,
                                   bool terminated, void *ctx);
CHSM_MUST_CHECK CK_RV chsm_audit_read_entries(const char *file, chsm_audit_entry_cb cb, void *ctx);

#endif
