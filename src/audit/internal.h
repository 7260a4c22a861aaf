/*
 * Private to src/audit/: the logger's state and the helpers its files share.
 * Lock order: flush_mu -> a key-use shard's lock; mu -> the sidecar flock;
 * flush_mu -> mu (summaries are written under flush_mu, never under a shard
 * lock); mu -> q_mu (the drain swaps the queue out under both); ku_mu (the
 * flusher's stop flag and wake-up) is a leaf: nothing is taken under it. The hot path (summary key
 * use) takes its session's shard lock only; a batched event takes q_mu only.
 */
#ifndef CHSM_AUDIT_INTERNAL_H
#define CHSM_AUDIT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <time.h>

#include "audit/audit.h"
#include "common/timeutil.h"

/* Input caps (bytes) per field: longer values are cut at a UTF-8 boundary. */
#define AUDIT_CAP_ID 128
#define AUDIT_CAP_LABEL 256
#define AUDIT_CAP_MECH 64
#define AUDIT_CAP_ACTOR 256
#define AUDIT_CAP_DETAIL 512
/* Largest line the encoder can produce: every capped byte escaped to 6 bytes, plus fixed text. */
#define AUDIT_LINE_MAX 16384

enum audit_category { AUDIT_CAT_ADMIN = 0, AUDIT_CAT_AUTH, AUDIT_CAT_CRYPTO, AUDIT_CAT_SESSION };

/* What one entry says, before seq/time/pid/actor/prev are attached. */
struct audit_rec {
    const char *event;
    int64_t slot;     /* < 0: null */
    uint64_t session; /* 0: null */
    enum chsm_audit_user user;
    const char *object_id, *object_label; /* both NULL: "object":null */
    const char *mechanism;
    CK_RV result;
    const char *detail;
    uint64_t count;            /* 0: no count/interval (not a summary) */
    int64_t first_us, last_us; /* summary interval, unix microseconds */
    bool own_actor;            /* the entry's actor is `actor` (NULL: null), not the writing thread's */
    const char *actor;
};

/* Where the chain stands: the last complete line written to the log. */
struct audit_head {
    uint64_t seq;
    char hash[65];
};

/* Key-use summaries live in shards chosen by session handle, each with its own lock and
 * cache lines, so operations on different sessions never contend (issue 5: <= 5% at 2 threads). */
#define AUDIT_KU_SHARDS 8
#define AUDIT_KU_SLOTS 64 /* per shard */

/* The fields a counted operation compares and updates come first (one cache line). */
struct audit_ku_slot {
    uint64_t session;
    CK_RV result;
    uint64_t count;
    uint64_t key_tag[2], mech_tag; /* the identity of a tagged slot (chsm_audit_key_used) */
    uint8_t op;  /* enum chsm_audit_key_op */
    bool used;
    bool tagged; /* identified by the tags; else by object_id and mechanism (chsm_audit_key_use) */
    bool cut;    /* an untagged slot's object_id or mechanism was cut at its cap: compare with strncmp */
    uint32_t hash;
    uint64_t stamped; /* count when last_us was last moved: the uses after it are not yet stamped */
    int64_t last_us;
    char object_id[AUDIT_CAP_ID + 1];
    char mechanism[AUDIT_CAP_MECH + 1];
    const char *operation; /* static name of op */
    int64_t slot;
    enum chsm_audit_user user;
    int64_t first_us;
    char object_label[AUDIT_CAP_LABEL + 1];
    char actor[AUDIT_CAP_ACTOR + 1]; /* of the slot's first use ("" : none): a summary written by the
                                      * flusher or at another client's session close keeps it */
};

/* Aligned to a cache line and a whole number of lines long: two shards never share a line. */
struct audit_ku_shard {
    _Alignas(64) atomic_int lk; /* a spin lock (keyuse.c) */
    size_t count;
    struct audit_ku_slot *last; /* slot of the last counted use, checked first (a session repeats
                                 * one key); NULL after a flush */
    struct audit_ku_slot slot[AUDIT_KU_SLOTS];
};

/*
 * The queue of batchable entries (queue.c): each record is a uint32_t length
 * followed by the entry's body (audit_encode_body: everything but seq and
 * prev, which need the chain head). The caller drains it itself past these
 * bounds, and wakes the flusher early at AUDIT_Q_WAKE_ENTRIES.
 */
#define AUDIT_Q_MAX_BYTES (1u << 20)
#define AUDIT_Q_MAX_ENTRIES 4096u
#define AUDIT_Q_WAKE_ENTRIES 1024u
/* Bytes a frame adds to a body: {"seq":<20 digits> ... ,"prev":"<64 hex>"} and the newline. */
#define AUDIT_FRAME_MAX 112u

struct audit_qbuf {
    char *p;
    size_t len, cap;
    size_t n; /* records */
};

/* What chsm_audit_key_use does, decided once from active, level and key_use. */
enum audit_ku_mode { AUDIT_KU_OFF = 0, AUDIT_KU_SUMMARY, AUDIT_KU_EACH };

struct chsm_audit {
    bool active; /* false: disabled or log_level none -> every call is a no-op */
    uint8_t ku_mode; /* enum audit_ku_mode; set by audit_ku_configure (calloc: off) */
    char *path;
    char *lock_path;
    enum chsm_audit_level level;
    enum chsm_audit_key_use key_use;
    enum chsm_audit_sync sync;
    uint32_t batch_ms;
    uint64_t max_size;
    bool fail_open;

    /* Append state, guarded by mu (and the sidecar lock across processes). */
    pthread_mutex_t mu;
    int fd;      /* the live log, O_RDWR|O_APPEND; -1 when not open */
    int lock_fd; /* <path>.lock, flock()ed around every append */
    dev_t dev;
    ino_t ino;
    off_t size; /* size after our last append: a difference means another writer */
    bool head_valid;
    struct audit_head head;
    bool dirty; /* written but not yet fdatasync'ed */
    char line[AUDIT_LINE_MAX];
    struct audit_qbuf qd; /* the batch being drained (swapped with q) */
    char *out;            /* the drained batch as framed lines */
    size_t out_cap;

    /* Batchable entries not yet written, guarded by q_mu (queue.c). */
    pthread_mutex_t q_mu;
    struct audit_qbuf q;
    long q_pid;            /* process that owns the queued entries (a forked child drops them) */
    atomic_bool q_failed;  /* a drain lost entries; the next chsm_audit_event reports it */

    /* Key-use summaries, each shard guarded by its lock; flushed under flush_mu (which guards
     * ku_snap and ku_last_flush_ns). ku_mu guards the flusher's stop flag and cv. */
    pthread_mutex_t ku_mu;
    pthread_mutex_t flush_mu;
    struct audit_ku_shard *ku; /* AUDIT_KU_SHARDS shards, 64-byte aligned inside ku_mem */
    unsigned char ku_mem[AUDIT_KU_SHARDS * sizeof(struct audit_ku_shard) + 64];
    struct audit_ku_slot ku_snap[AUDIT_KU_SLOTS];
    uint64_t ku_last_flush_ns;

    /* Background flusher (summary mode or sync=batch). */
    pthread_t thread;
    bool thread_started;
    bool stop;
    bool wake; /* the queue asks for an early drain */
    pthread_cond_t cv;
};

/* record.c */
int audit_event_category(const char *event); /* -1: unknown event name */
bool audit_is_key_use_op(const char *op);
/* Length of the valid UTF-8 sequence at s, 0 if invalid. */
size_t audit_utf8_len(const unsigned char *s, size_t n);
void audit_format_time_us(int64_t us, char out[CHSM_RFC3339_LEN]);
/* Encode one line (no newline) into out; returns its length or 0 if it would not fit. */
size_t audit_encode(char *out, size_t cap, uint64_t seq, const char *time, const struct audit_rec *r, long pid,
                    const char *actor, const char *prev_hex);
/* The same line in two steps: the body when the event happens, the frame (seq, prev) when it is drained. */
size_t audit_encode_body(char *out, size_t cap, const char *time, const struct audit_rec *r, long pid,
                         const char *actor);
size_t audit_frame(char *out, size_t cap, uint64_t seq, const char *body, size_t blen, const char *prev_hex);
CHSM_MUST_CHECK CK_RV audit_line_hash(const char *line, size_t len, char hex[65]);

/* now.c */
void audit_pid_init(void);
long audit_pid(void);
void audit_now(char out[CHSM_RFC3339_LEN]);
/* A time as written: "YYYY-MM-DDTHH:MM:SS.uuuuuuZ", always this many bytes. */
#define AUDIT_TIME_LEN 27
/* Where the time sits in a body from audit_encode_body (after ,"time":"): the queue encodes a
 * body with a placeholder time outside its lock and patches the real one in under it. */
#define AUDIT_BODY_TIME_OFF 9
/* "YYYY-MM-DDTHH:MM:SS" of sec (UTC) by arithmetic; false (out untouched) outside 1970..9999. */
bool audit_fmt_datetime(int64_t sec, char out[19]);
void audit_fmt_usec(unsigned usec, char out[6]); /* six digits, usec < 1000000 */
extern const char audit_digit_pairs[200]; /* "00" "01" ... "99" */
/* The AUDIT_TIME_LEN bytes of ts (no NUL), the date part cached per thread per second. */
void audit_time_write(char *dst, const struct timespec *ts);
void audit_now_write(char *dst); /* the same for the wall clock now */

/* queue.c */
void audit_queue_init(struct chsm_audit *a);
void audit_queue_fini(struct chsm_audit *a);
/* Queue one batchable entry; drains synchronously when the queue reaches its bound. */
CHSM_MUST_CHECK CK_RV audit_append_batched(struct chsm_audit *a, const struct audit_rec *r);
/* Under the lock, after audit_sync_head_locked: write every queued entry with one write(). */
CHSM_MUST_CHECK CK_RV audit_drain_locked(struct chsm_audit *a);
/* When the log cannot be reached: the queued entries are lost (remembered and logged). Takes q_mu only. */
void audit_queue_discard(struct chsm_audit *a);
/* Lock, sync the head, drain, rotate by size if due, unlock. */
CHSM_MUST_CHECK CK_RV audit_flush_queue(struct chsm_audit *a);
/* Ask the flusher to drain now (no wait). */
void audit_flusher_wake(struct chsm_audit *a);

/* log.c */
bool audit_wants(const struct chsm_audit *a, const char *event);
bool audit_level_allows(enum chsm_audit_level level, int cat);
const char *audit_thread_actor(void);
/* The actor an entry is written with: its own (summaries), else the calling thread's. */
static inline const char *audit_rec_actor(const struct audit_rec *r)
{
    return r->own_actor ? r->actor : audit_thread_actor();
}
CHSM_MUST_CHECK CK_RV audit_append(struct chsm_audit *a, const struct audit_rec *r, bool durable);
CHSM_MUST_CHECK CK_RV audit_append_flush(struct chsm_audit *a);
CHSM_MUST_CHECK CK_RV audit_lock(struct chsm_audit *a);
void audit_unlock(struct chsm_audit *a);
/* Under the lock: make fd the current live file and the head current (recovering a partial tail). */
CHSM_MUST_CHECK CK_RV audit_sync_head_locked(struct chsm_audit *a);
CHSM_MUST_CHECK CK_RV audit_write_locked(struct chsm_audit *a, const struct audit_rec *r, bool durable);
CHSM_MUST_CHECK CK_RV audit_raw_write(struct chsm_audit *a, const char *p, size_t n);
/* Under the lock after a write: rotate when the live file passed max_size (failure is logged, retried later). */
void audit_rotate_if_due_locked(struct chsm_audit *a);

/* tail.c */
struct audit_tail {
    off_t size;
    bool empty;
    size_t partial_len;     /* bytes after the last newline (a crashed write) */
    size_t bad_len;         /* last complete line does not parse: its length */
    bool have_good;         /* good = last parseable complete line (before the bad one, if any) */
    struct audit_head good;
};
CHSM_MUST_CHECK CK_RV audit_scan_tail(int fd, struct audit_tail *t);
/* Head of the newest numbered segment; *found=false when there is none. */
CHSM_MUST_CHECK CK_RV audit_head_of_segments(const char *log_path, struct audit_head *h, bool *found);

/* rotate.c */
CHSM_MUST_CHECK CK_RV audit_rotate_locked(struct chsm_audit *a);
CHSM_MUST_CHECK CK_RV audit_next_segment(const char *log_path, char **seg_path);
CHSM_MUST_CHECK CK_RV audit_fsync_dir(const char *path);

/* keyuse.c */
void audit_ku_init(struct chsm_audit *a);
void audit_ku_fini(struct chsm_audit *a);
/* Decide ku_mode from active/level/key_use: called by audit_flusher_start, which open.c runs once
 * the configuration is in (a logger that never starts its flusher never accounts key use). */
void audit_ku_configure(struct chsm_audit *a);
void audit_ku_flush(struct chsm_audit *a, bool only_session, uint64_t session);
/* Whether the last flush of every shard is a second old, less one period. */
bool audit_ku_due(struct chsm_audit *a, uint64_t period_ns);
/* Move the interval end of every summary counted since its last stamp to now (the flusher, each
 * tick); true when some summary is pending. */
bool audit_ku_stamp(struct chsm_audit *a);

/* flusher.c */
CHSM_MUST_CHECK CK_RV audit_flusher_start(struct chsm_audit *a);
void audit_flusher_stop(struct chsm_audit *a);
void audit_flush_all(struct chsm_audit *a);

#endif
