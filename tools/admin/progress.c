/* Progress on stderr for long operations: only on a terminal and never with --quiet. */
#include <unistd.h>

#include "admin.h"
#include "common/timeutil.h"

void adm_progress_start(struct adm_progress *p, const struct adm *a, const char *what, uint64_t total)
{
    p->on = !a->quiet && isatty(STDERR_FILENO);
    p->what = what;
    p->total = total;
    p->done = 0;
    p->start_ns = p->last_ns = chsm_time_mono_ns();
}

static void draw(const struct adm_progress *p, uint64_t now)
{
    double secs = (double)(now - p->start_ns) / 1e9;
    double rate = secs > 0 ? (double)p->done / secs : 0.0;
    fprintf(stderr, "\r%s: %llu/%llu objects (%.0f/s)", p->what, (unsigned long long)p->done,
            (unsigned long long)p->total, rate);
}

void adm_progress_step(struct adm_progress *p, uint64_t done)
{
    uint64_t now;
    p->done = done;
    if (!p->on)
        return;
    now = chsm_time_mono_ns();
    if (now - p->last_ns < 100000000u && done != p->total)
        return;
    p->last_ns = now;
    draw(p, now);
}

void adm_progress_end(struct adm_progress *p)
{
    if (!p->on)
        return;
    draw(p, chsm_time_mono_ns());
    fputc('\n', stderr);
}
