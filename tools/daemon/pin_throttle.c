/* Per-slot failed-PIN throttle: see pin_throttle.h. */
#include "pin_throttle.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define MAX_SLOTS 16u /* the last entry also serves every slot id that finds no room */

struct slot_state {
    bool used;
    CK_SLOT_ID slot;
    unsigned failures;
    uint64_t not_before_ms;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct slot_state slots[MAX_SLOTS];

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t chsm_pin_throttle_delay_ms(unsigned failures)
{
    uint64_t delay = CHSM_PIN_THROTTLE_BASE_MS;
    for (unsigned i = 1; i < failures && delay < CHSM_PIN_THROTTLE_MAX_MS; i++)
        delay *= 2;
    return delay > CHSM_PIN_THROTTLE_MAX_MS ? CHSM_PIN_THROTTLE_MAX_MS : delay;
}

/* The entry for slot; create when asked. Never NULL when create is true. */
static struct slot_state *entry_locked(CK_SLOT_ID slot, bool create)
{
    for (unsigned i = 0; i < MAX_SLOTS; i++)
        if (slots[i].used && slots[i].slot == slot)
            return &slots[i];
    if (!create)
        return NULL;
    for (unsigned i = 0; i < MAX_SLOTS - 1; i++)
        if (!slots[i].used) {
            slots[i].used = true;
            slots[i].slot = slot;
            return &slots[i];
        }
    /* Full: the shared overflow entry (slot ids rarely exceed a handful). */
    slots[MAX_SLOTS - 1].used = true;
    return &slots[MAX_SLOTS - 1];
}

uint64_t chsm_pin_throttle_wait_ms(CK_SLOT_ID slot)
{
    uint64_t wait = 0, now = now_ms();
    struct slot_state *e;

    pthread_mutex_lock(&mu);
    e = entry_locked(slot, false);
    if (e == NULL && slots[MAX_SLOTS - 1].used)
        e = &slots[MAX_SLOTS - 1]; /* an id without its own entry may be one that overflowed */
    if (e != NULL && e->not_before_ms > now)
        wait = e->not_before_ms - now;
    pthread_mutex_unlock(&mu);
    return wait;
}

void chsm_pin_throttle_result(CK_SLOT_ID slot, CK_RV rv, bool reset_on_ok)
{
    struct slot_state *e;

    pthread_mutex_lock(&mu);
    if (rv == CKR_PIN_INCORRECT) {
        e = entry_locked(slot, true);
        if (e->failures < 32)
            e->failures++;
        e->not_before_ms = now_ms() + chsm_pin_throttle_delay_ms(e->failures);
    } else if (rv == CKR_OK && reset_on_ok) {
        e = entry_locked(slot, false);
        if (e != NULL) {
            e->failures = 0;
            e->not_before_ms = 0;
        }
    }
    pthread_mutex_unlock(&mu);
}

void chsm_pin_throttle_reset(void)
{
    pthread_mutex_lock(&mu);
    memset(slots, 0, sizeof slots);
    pthread_mutex_unlock(&mu);
}
