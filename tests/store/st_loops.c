/*
 * The long-running st_tool commands.
 *
 * worker SECONDS TAG OUT OTHER: one of two processes on the same store. It
 *   creates TAG-i keys, appending "uid label" to OUT only after CKR_OK, uses
 *   its own keys, and every few iterations picks a line the OTHER process has
 *   acknowledged and must find and use that key (cross-process visibility
 *   through the change feed, while both write). At the end it writes
 *   OUT.done, waits for OTHER.done and verifies both files in this same
 *   (long-lived) process.
 * crash-child LOG: create/destroy loop for the SIGKILL test. Log lines, each
 *   one write(2) on an O_APPEND fd:  "R pid" ready, "c label" before
 *   C_CreateObject, "A uid label" after CKR_OK, "d uid label" before
 *   C_DestroyObject, "D uid label" after CKR_OK. At start it adopts every
 *   surviving key so the store stays small over hundreds of kills.
 * crash-check LOG: replays the log and checks the token: every acknowledged
 *   and not-being-destroyed key is present and usable; every destroyed key is
 *   absent; anything else present is a create that was in flight at the kill.
 * live-tamper READY GO GOOD BAD: holds handles, lets the driver tamper BAD's
 *   row while it runs, then BAD's handle must answer CKR_DEVICE_ERROR.
 */
#define _POSIX_C_SOURCE 200809L
#include "st_loops.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "st_known.h"

/* One write(2) per line so a SIGKILL leaves whole lines or a torn last one. Line: "<tag> a[ b]\n". */
static void logline(int fd, char tag, const char *a, const char *b)
{
    char line[256];
    int n = tag ? snprintf(line, sizeof line, "%c %s%s%s\n", tag, a, b[0] ? " " : "", b)
                : snprintf(line, sizeof line, "%s %s\n", a, b);
    if (n > 0 && write(fd, line, (size_t)n) != n)
        _exit(4);
}

static bool file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static bool wait_file(const char *p, double seconds)
{
    double end = st_now() + seconds;
    while (!file_exists(p)) {
        if (st_now() > end)
            return false;
        usleep(20000);
    }
    return true;
}

/* A random complete line of path (uid, label); false when the file has none yet. */
static bool random_line(const char *path, char uid[64], char label[128])
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return false;
    bool ok = false;
    if (fseek(fp, 0, SEEK_END) == 0) {
        long size = ftell(fp);
        if (size > 0) {
            long off = random() % size;
            fseek(fp, off, SEEK_SET);
            int c;
            if (off > 0)
                while ((c = fgetc(fp)) != EOF && c != '\n')
                    ;
            char line[256];
            if (fgets(line, sizeof line, fp) == NULL) { /* ran past the end: take the first line */
                fseek(fp, 0, SEEK_SET);
                if (fgets(line, sizeof line, fp) == NULL)
                    line[0] = '\0';
            }
            ok = strchr(line, '\n') != NULL && sscanf(line, "%63s %127s", uid, label) == 2;
        }
    }
    fclose(fp);
    return ok;
}

static void verify_file_in(CK_SESSION_HANDLE s, const char *path, unsigned *n)
{
    FILE *fp = fopen(path, "r");
    CHECK(fp != NULL);
    if (fp == NULL)
        return;
    char uid[64], label[128];
    while (fscanf(fp, "%63s %127s", uid, label) == 2) {
        CHECK(st_verify_label(s, label, uid));
        (*n)++;
    }
    fclose(fp);
}

static void cmd_worker(double seconds, const char *tag, const char *out, const char *other)
{
    CK_SESSION_HANDLE s;
    CHECK_RV(st_open(CKU_USER, st_user_pin(), &s), CKR_OK);
    char eclabel[64];
    snprintf(eclabel, sizeof eclabel, "ec-%s", tag);
    CHECK_RV(st_import_ec(s, eclabel, NULL), CKR_OK);
    CK_OBJECT_HANDLE ec = CK_INVALID_HANDLE;
    CK_ULONG nec = 0;
    CHECK_RV(st_find(s, CKA_LABEL, eclabel, &ec, 1, &nec), CKR_OK);
    int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
    CHECK(fd >= 0);
    srandom((unsigned)getpid());
    unsigned created = 0, used = 0, cross = 0, signed_n = 0, errors_before = st_failed;
    double end = st_now() + seconds;
    CK_OBJECT_HANDLE *mine = NULL;
    char (*labels)[64] = NULL;
    while (st_now() < end && st_failed == errors_before && fd >= 0) {
        mine = realloc(mine, (created + 1) * sizeof *mine);
        labels = realloc(labels, (created + 1) * sizeof *labels);
        snprintf(labels[created], sizeof labels[created], "%s-%u", tag, created);
        char uid[33];
        CK_RV rv = st_create_aes(s, labels[created], &mine[created], uid);
        CHECK_RV(rv, CKR_OK);
        if (rv != CKR_OK)
            break;
        logline(fd, 0, uid, labels[created]);
        created++;
        unsigned k = (unsigned)random() % created;
        bool match = false;
        CHECK_RV(st_use_key(s, mine[k], labels[k], &match), CKR_OK);
        CHECK(match);
        used++;
        char ouid[64], olabel[128];
        if (created % 4 == 0 && random_line(other, ouid, olabel)) {
            CHECK(st_verify_label(s, olabel, ouid));
            cross++;
        }
        if (created % 8 == 0 && nec == 1) {
            int r = st_use_ec(s, ec);
            if (r >= 0) {
                CHECK(r == 1);
                signed_n++;
            }
        }
    }
    if (fd >= 0)
        close(fd);
    printf("%s: created %u, used own %u, used the other's %u, ECDSA signatures %u%s\n", tag, created, used, cross,
           signed_n, signed_n == 0 ? " (CKM_ECDSA_SHA256 not offered yet)" : "");
    char done[600], odone[600];
    snprintf(done, sizeof done, "%s.done", out);
    snprintf(odone, sizeof odone, "%s.done", other);
    close(open(done, O_WRONLY | O_CREAT, 0600));
    CHECK(wait_file(odone, 180));
    unsigned n = 0;
    verify_file_in(s, out, &n);
    verify_file_in(s, other, &n);
    printf("%s: at the end this process sees and uses all %u objects of both processes\n", tag, n);
    CHECK(cross > 0);
    free(mine);
    free(labels);
}

struct live {
    char uid[33];
    char label[64];
    CK_OBJECT_HANDLE h;
};

/* Take over the keys earlier children left; re-logged as acknowledged (the checker has just seen them). */
static void adopt(int fd, CK_SESSION_HANDLE s, struct live *lv, unsigned *nlive, unsigned cap)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof cls};
    CK_OBJECT_HANDLE h[256];
    CK_ULONG n = 0;
    if (F->C_FindObjectsInit(s, &t, 1) != CKR_OK)
        _exit(5);
    if (F->C_FindObjects(s, h, 256, &n) != CKR_OK || F->C_FindObjectsFinal(s) != CKR_OK)
        _exit(5);
    for (CK_ULONG i = 0; i < n && *nlive < cap; i++) {
        struct live *l = &lv[*nlive];
        CK_ATTRIBUTE a = {CKA_LABEL, l->label, sizeof l->label - 1};
        if (F->C_GetAttributeValue(s, h[i], &a, 1) != CKR_OK || st_uid(s, h[i], l->uid) != CKR_OK)
            _exit(5);
        l->label[a.ulValueLen] = '\0';
        l->h = h[i];
        logline(fd, 'A', l->uid, l->label);
        (*nlive)++;
    }
}

static void cmd_crash_child(const char *logpath)
{
    enum { CAP = 64, HIGH = 40 };
    static struct live lv[CAP];
    unsigned nlive = 0;
    int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
    CK_SESSION_HANDLE s;
    if (fd < 0 || st_open(CKU_USER, st_user_pin(), &s) != CKR_OK)
        _exit(3);
    adopt(fd, s, lv, &nlive, CAP);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    logline(fd, 'R', pid, "");
    srandom((unsigned)getpid());
    for (unsigned n = 0;; n++) {
        bool destroy = nlive > 0 && (nlive >= HIGH || random() % 3 == 0);
        if (destroy) {
            unsigned k = (unsigned)random() % nlive;
            logline(fd, 'd', lv[k].uid, lv[k].label);
            if (F->C_DestroyObject(s, lv[k].h) != CKR_OK)
                _exit(6);
            logline(fd, 'D', lv[k].uid, lv[k].label);
            lv[k] = lv[--nlive];
            continue;
        }
        struct live *l = &lv[nlive];
        snprintf(l->label, sizeof l->label, "C-%s-%u", pid, n);
        logline(fd, 'c', l->label, "");
        if (st_create_aes(s, l->label, &l->h, l->uid) != CKR_OK)
            _exit(7);
        logline(fd, 'A', l->uid, l->label);
        nlive++;
    }
}

/* Replay state of one uid/label in the crash log. */
struct replay {
    char uid[33];
    char label[64];
    char state; /* 'A' acknowledged, 'd' destroy in flight, 'D' destroyed */
};

/* Open-addressing index label -> entry: the log reaches tens of thousands of lines at 200 kills. */
static size_t *ix;
static size_t ix_cap;

static size_t label_hash(const char *l)
{
    size_t h = 1469598103934665603u;
    for (; *l; l++)
        h = (h ^ (unsigned char)*l) * 1099511628211u;
    return h;
}

static struct replay *replay_find(struct replay *r, unsigned n, const char *label)
{
    (void)n;
    if (ix_cap == 0)
        return NULL;
    for (size_t i = label_hash(label) & (ix_cap - 1); ix[i] != 0; i = (i + 1) & (ix_cap - 1))
        if (strcmp(r[ix[i] - 1].label, label) == 0)
            return &r[ix[i] - 1];
    return NULL;
}

/* Index entry k (0-based) of r; rebuilt at double size when half full. */
static void replay_index(struct replay *r, unsigned n)
{
    if (2 * (size_t)n >= ix_cap) {
        free(ix);
        ix_cap = ix_cap ? 4 * ix_cap : 1024;
        ix = calloc(ix_cap, sizeof *ix);
        if (ix == NULL)
            _exit(8);
        for (unsigned k = 0; k + 1 < n; k++) {
            size_t i = label_hash(r[k].label) & (ix_cap - 1);
            while (ix[i] != 0)
                i = (i + 1) & (ix_cap - 1);
            ix[i] = k + 1;
        }
    }
    size_t i = label_hash(r[n - 1].label) & (ix_cap - 1);
    while (ix[i] != 0)
        i = (i + 1) & (ix_cap - 1);
    ix[i] = n;
}

static void cmd_crash_check(const char *logpath)
{
    FILE *fp = fopen(logpath, "r");
    CHECK(fp != NULL);
    if (fp == NULL)
        return;
    struct replay *r = NULL;
    unsigned n = 0, cap = 0;
    char line[256], last_c[64] = "", a[33], b[64];
    while (fgets(line, sizeof line, fp) != NULL) {
        if (strchr(line, '\n') == NULL)
            break; /* torn last line of a killed child */
        if (line[0] == 'c' && sscanf(line + 2, "%63s", last_c) == 1)
            continue;
        if (sscanf(line + 2, "%32s %63s", a, b) != 2)
            continue;
        struct replay *e = replay_find(r, n, b);
        if (line[0] == 'A') {
            if (e == NULL) {
                if (n == cap)
                    r = realloc(r, (cap = cap ? 2 * cap : 256) * sizeof *r);
                e = &r[n++];
                snprintf(e->label, sizeof e->label, "%s", b);
                replay_index(r, n);
            }
            snprintf(e->uid, sizeof e->uid, "%s", a);
            e->state = 'A';
        } else if ((line[0] == 'd' || line[0] == 'D') && e != NULL) {
            e->state = line[0];
        } else if (line[0] == 'd' || line[0] == 'D') {
            CHECK(!"destroy of an object never acknowledged"); /* adopted keys are always logged A first */
        }
    }
    fclose(fp);
    CK_SESSION_HANDLE s;
    CHECK_RV(st_open(CKU_USER, st_user_pin(), &s), CKR_OK);
    unsigned present = 0, absent = 0, inflight = 0;
    for (unsigned i = 0; i < n; i++) {
        if (r[i].state == 'A') {
            CHECK(st_verify_label(s, r[i].label, r[i].uid));
            present++;
        } else if (r[i].state == 'D') {
            CK_OBJECT_HANDLE h;
            CK_ULONG got = 9;
            CHECK_RV(st_find(s, CKA_LABEL, r[i].label, &h, 1, &got), CKR_OK);
            if (got != 0)
                fprintf(stderr, "FAIL: destroyed object %s is back\n", r[i].label);
            CHECK(got == 0);
            absent++;
        } else {
            inflight++;
        }
    }
    /* Anything else in the token must be the one create in flight at the last kill (or an
     * unacknowledged create of an earlier child that a later child adopted and logged). */
    CK_ULONG total = 0;
    CHECK_RV(st_count(s, CKO_SECRET_KEY, &total), CKR_OK);
    CHECK(total >= present && total <= present + inflight + 1);
    if (!(total >= present && total <= present + inflight + 1))
        fprintf(stderr, "FAIL: token holds %lu keys, log expects %u (+%u in flight, last create %s)\n",
                (unsigned long)total, present, inflight, last_c);
    printf("crash-check: %u acknowledged present and usable, %u destroyed absent, %u destroys in flight, token "
           "holds %lu\n",
           present, absent, inflight, (unsigned long)total);
    free(r);
    free(ix);
    ix = NULL;
    ix_cap = 0;
}

static void cmd_live_tamper(const char *ready, const char *go, const char *good, const char *bad)
{
    CK_SESSION_HANDLE s;
    CHECK_RV(st_open(CKU_USER, st_user_pin(), &s), CKR_OK);
    CK_OBJECT_HANDLE hb = CK_INVALID_HANDLE, hg = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    CHECK(st_verify_label(s, bad, NULL));
    CHECK_RV(st_find(s, CKA_LABEL, bad, &hb, 1, &n), CKR_OK);
    CHECK_RV(st_find(s, CKA_LABEL, good, &hg, 1, &n), CKR_OK);
    close(open(ready, O_WRONLY | O_CREAT, 0600));
    CHECK(wait_file(go, 60));
    bool match = true;
    CK_RV rv = st_use_key(s, hb, bad, &match);
    printf("live-tamper: C_DigestKey on the tampered object's handle = %s\n", st_rv(rv));
    CHECK(rv == CKR_DEVICE_ERROR);
    char buf[64];
    CK_ATTRIBUTE a = {CKA_LABEL, buf, sizeof buf};
    CHECK_RV(F->C_GetAttributeValue(s, hb, &a, 1), CKR_DEVICE_ERROR);
    CHECK_RV(st_find(s, CKA_LABEL, bad, &hb, 1, &n), CKR_OK);
    CHECK(n == 0);
    CHECK(st_verify_label(s, good, NULL));
    (void)hg;
}

/* hold READY GO: logged in, keys loaded, store open (-wal/-shm present) until GO exists. */
static void cmd_hold(const char *ready, const char *go)
{
    CK_SESSION_HANDLE s;
    CK_ULONG n = 0;
    CHECK_RV(st_open(CKU_USER, st_user_pin(), &s), CKR_OK);
    CHECK_RV(st_count(s, (CK_OBJECT_CLASS)-1, &n), CKR_OK);
    printf("hold: %lu objects visible\n", (unsigned long)n);
    close(open(ready, O_WRONLY | O_CREAT, 0600));
    CHECK(wait_file(go, 120));
    CHECK_RV(F->C_Logout(s), CKR_OK);
}

bool st_loops_dispatch(const char *cmd, int argc, char **argv)
{
    if (strcmp(cmd, "worker") == 0 && argc >= 4)
        cmd_worker(atof(argv[0]), argv[1], argv[2], argv[3]);
    else if (strcmp(cmd, "crash-child") == 0 && argc >= 1)
        cmd_crash_child(argv[0]);
    else if (strcmp(cmd, "crash-check") == 0 && argc >= 1)
        cmd_crash_check(argv[0]);
    else if (strcmp(cmd, "hold") == 0 && argc >= 2)
        cmd_hold(argv[0], argv[1]);
    else if (strcmp(cmd, "live-tamper") == 0 && argc >= 4)
        cmd_live_tamper(argv[0], argv[1], argv[2], argv[3]);
    else
        return false;
    return true;
}
