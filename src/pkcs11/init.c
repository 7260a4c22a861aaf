/*
 * C_Initialize / C_Finalize and the module's lifetime in this process
 * (base spec 3.0, 5.4 "General-purpose functions", 5.1 on forking).
 *
 * CK_C_INITIALIZE_ARGS handling (documented in docs/pkcs11.md):
 *   - NULL args: OS locking; the core's own pthread locks are used.
 *   - pReserved != NULL: CKR_ARGUMENTS_BAD.
 *   - the four mutex callbacks must be all set or all NULL (CKR_ARGUMENTS_BAD).
 *   - callbacks + CKF_OS_LOCKING_OK: we use OS locks and ignore the callbacks
 *     (the spec lets the library choose either).
 *   - callbacks without CKF_OS_LOCKING_OK: the application demands its own
 *     primitives, which the core cannot use (its locks are pthread locks
 *     deep in the store and audit layers): CKR_CANT_LOCK, as the spec
 *     prescribes for a library that cannot honour the locking request.
 *   - no callbacks, no flag: the application promises to be single-threaded;
 *     OS locks are harmless, so we use them.
 *   - CKF_LIBRARY_CANT_CREATE_OS_THREADS: the core is told to start no
 *     threads (the audit writer then flushes inline).
 *
 * Fork: a pthread_atfork child handler marks the module down, so a forked
 * child gets CKR_CRYPTOKI_NOT_INITIALIZED from every call until it calls
 * C_Initialize (base spec 3.0, 5.1: the child must initialise its own
 * copy). The init lock is taken across fork() so the child never inherits
 * it held. A pid comparison on the entry points reached first after a fork
 * covers children created without atfork handlers.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <unistd.h>

#include "common/log.h"
#include "core/core.h"
#include "pkcs11/p11_internal.h"

static pthread_mutex_t g_init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;
static atomic_bool g_up;          /* C_Initialize succeeded in this process */
static atomic_bool g_stale_core;  /* a forked child whose core copy still says "up" */
static pid_t g_pid;               /* process that initialised; written under g_init_lock */

bool chsm_p11_ready(void)
{
    return atomic_load_explicit(&g_up, memory_order_acquire);
}

bool chsm_p11_ready_here(void)
{
    if (!chsm_p11_ready())
        return false;
    if (g_pid == getpid())
        return true;
    /* A child made without atfork handlers: it is not initialised (base spec 5.1). */
    atomic_store(&g_up, false);
    atomic_store(&g_stale_core, true);
    return false;
}

static void atfork_prepare(void)
{
    (void)pthread_mutex_lock(&g_init_lock);
}

static void atfork_parent(void)
{
    (void)pthread_mutex_unlock(&g_init_lock);
}

static void atfork_child(void)
{
    if (atomic_load(&g_up)) {
        atomic_store(&g_up, false);
        /* Drop inherited state without closing anything the parent still uses. */
        chsm_core_forget_after_fork();
    }
    (void)pthread_mutex_unlock(&g_init_lock);
}

static void register_atfork(void)
{
    /* glibc unregisters these on dlclose (they are keyed to this DSO). */
    if (pthread_atfork(atfork_prepare, atfork_parent, atfork_child) != 0)
        chsm_log(CHSM_LOG_WARN, "pkcs11: pthread_atfork failed; forked children must not use the module");
}

/* Validate CK_C_INITIALIZE_ARGS and derive the core options (base spec 5.4, C_Initialize). */
CHSM_MUST_CHECK static CK_RV parse_init_args(CK_VOID_PTR pInitArgs, struct chsm_core_options *opts)
{
    CK_RV rv = CKR_OK;
    if (pInitArgs == NULL)
        goto out;
    const CK_C_INITIALIZE_ARGS *args = pInitArgs;
    CHSM_ENSURE(args->pReserved == NULL, CKR_ARGUMENTS_BAD);
    int set = (args->CreateMutex != NULL) + (args->DestroyMutex != NULL) + (args->LockMutex != NULL) +
              (args->UnlockMutex != NULL);
    CHSM_ENSURE(set == 0 || set == 4, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(set == 0 || (args->flags & CKF_OS_LOCKING_OK) != 0, CKR_CANT_LOCK);
    opts->no_threads = (args->flags & CKF_LIBRARY_CANT_CREATE_OS_THREADS) != 0;
out:
    return rv;
}

/*
 * C_Initialize may only return the codes base spec 5.4 lists. A config the
 * loader refuses (CKR_ARGUMENTS_BAD from the core) or a failed self-test is
 * CKR_GENERAL_ERROR, as issue 2 requires; the core has already printed the
 * reason on stderr and in the log.
 */
static CK_RV map_core_init_rv(CK_RV rv)
{
    switch (rv) {
    case CKR_OK:
    case CKR_HOST_MEMORY:
    case CKR_CANT_LOCK:
    case CKR_NEED_TO_CREATE_THREADS:
    case CKR_FUNCTION_FAILED:
    case CKR_GENERAL_ERROR:
        return rv;
    default:
        return CKR_GENERAL_ERROR;
    }
}

/* Forked child whose core copy was not forgotten: drop it before starting afresh. */
static void drop_stale_core(void)
{
    if (!atomic_exchange(&g_stale_core, false))
        return;
    if (chsm_core_is_initialized() && chsm_core_finalize() != CKR_OK)
        chsm_log(CHSM_LOG_WARN, "pkcs11: releasing the parent's module state in a forked child failed");
}

/* Lock: g_init_lock (serialises Initialize/Finalize). Auth: none. */
CHSM_P11_EXPORT CK_RV C_Initialize(CK_VOID_PTR pInitArgs)
{
    CK_RV rv = CKR_OK;
    bool locked = false;
    struct chsm_core_options opts = {0};

    CHSM_GUARD(parse_init_args(pInitArgs, &opts));
    (void)pthread_once(&g_atfork_once, register_atfork);
    CHSM_ENSURE(pthread_mutex_lock(&g_init_lock) == 0, CKR_CANT_LOCK);
    locked = true;
    CHSM_ENSURE(!chsm_p11_ready_here(), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    drop_stale_core();
    rv = chsm_core_initialize(&opts);
    if (rv != CKR_OK) {
        chsm_log(CHSM_LOG_ERROR, "C_Initialize: the module did not start (%s)", chsm_rv_name(rv));
        rv = map_core_init_rv(rv);
        goto out;
    }
    g_pid = getpid();
    atomic_store_explicit(&g_up, true, memory_order_release);
out:
    if (locked)
        (void)pthread_mutex_unlock(&g_init_lock);
    return rv;
}

/* Lock: g_init_lock. Auth: none. Closes every session (the core's finalize). */
CHSM_P11_EXPORT CK_RV C_Finalize(CK_VOID_PTR pReserved)
{
    CK_RV rv = CKR_OK;
    bool locked = false;

    CHSM_ENSURE(pReserved == NULL, CKR_ARGUMENTS_BAD);
    CHSM_ENSURE(pthread_mutex_lock(&g_init_lock) == 0, CKR_CANT_LOCK);
    locked = true;
    CHSM_ENSURE(chsm_p11_ready_here(), CKR_CRYPTOKI_NOT_INITIALIZED);
    atomic_store_explicit(&g_up, false, memory_order_release);
    rv = chsm_core_finalize();
out:
    if (locked)
        (void)pthread_mutex_unlock(&g_init_lock);
    return rv;
}
