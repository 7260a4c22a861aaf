/*
 * After fork() the child gets CKR_CRYPTOKI_NOT_INITIALIZED from every call
 * until it calls C_Initialize, then works on its own copy; the parent is
 * unaffected (base spec 3.0, 5.1; CKF_INTERFACE_FORK_SAFE is not offered).
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "p11_util.h"

static struct p11 P;
#define F (P.f)

/* Runs in the child; returns the child's exit status (0 = all good). */
static int child_checks(CK_SESSION_HANDLE parent_session)
{
    CK_INFO info;
    CK_ULONG n = 0;
    CK_BYTE r[8];
    CK_SESSION_HANDLE s;
    p11t_passed = p11t_failed = 0;
    CHECK_RV(F->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK_RV(F->C_GetSlotList(CK_FALSE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK_RV(F->C_GenerateRandom(parent_session, r, sizeof r), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK_RV(F->C_CloseSession(parent_session), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK_RV(F->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK_RV(F->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK_RV(P.f3->C_SessionCancel(parent_session, 0), CKR_CRYPTOKI_NOT_INITIALIZED);
    /* then it can initialise and use the module on its own */
    CHECK_RV(F->C_Initialize(NULL), CKR_OK);
    CHECK_RV(F->C_GetInfo(&info), CKR_OK);
    CHECK_RV(F->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
    CHECK_RV(F->C_GenerateRandom(s, r, sizeof r), CKR_OK);
    CHECK_RV(F->C_Finalize(NULL), CKR_OK);
    printf("child: ");
    fflush(stdout);
    printf("%u passed, %u failed\n", p11t_passed, p11t_failed);
    fflush(stdout);
    return p11t_failed == 0 && p11t_passed > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (!p11t_setup(&P, argc, argv, NULL))
        return p11t_finish();
    REQUIRE_RV(F->C_Initialize(NULL), CKR_OK);
    CK_SESSION_HANDLE s;
    REQUIRE_RV(F->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);

    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child_checks(s));
    CHECK(pid > 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* the parent's module and session survived the child's initialise/finalize */
    CK_BYTE r[8];
    CHECK_RV(F->C_GenerateRandom(s, r, sizeof r), CKR_OK);
    CHECK_RV(F->C_CloseSession(s), CKR_OK);
    CHECK_RV(F->C_Finalize(NULL), CKR_OK);
    return p11t_finish();
}
