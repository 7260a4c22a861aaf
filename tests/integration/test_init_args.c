/*
 * C_Initialize / C_Finalize argument matrix (base spec 3.0, 5.4) and the
 * three ways to reach the function tables, through the real module.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p11_util.h"

static CK_RV dummy_create(CK_VOID_PTR_PTR m) { (void)m; return CKR_OK; }
static CK_RV dummy_mutex(CK_VOID_PTR m) { (void)m; return CKR_OK; }

static void test_tables(struct p11 *p)
{
    CHECK(p->f->version.major == 2 && p->f->version.minor == 40);
    CHECK(p->f3->version.major == 3 && p->f3->version.minor == 0);
    CHECK(p->f3->C_Initialize == p->f->C_Initialize);
    CHECK(p->f3->C_MessageVerifyFinal != NULL && p->f3->C_LoginUser != NULL);

    CK_ULONG n = 0;
    CHECK_RV(p->get_interface_list(NULL, NULL), CKR_ARGUMENTS_BAD);
    CHECK_RV(p->get_interface_list(NULL, &n), CKR_OK);
    CHECK(n == 2);
    CK_INTERFACE list[4];
    CK_ULONG small = 1;
    CHECK_RV(p->get_interface_list(list, &small), CKR_BUFFER_TOO_SMALL);
    CHECK(small == 2);
    n = 4;
    CHECK_RV(p->get_interface_list(list, &n), CKR_OK);
    CHECK(n == 2);
    CHECK(strcmp((char *)list[0].pInterfaceName, "PKCS 11") == 0);
    CHECK(((CK_VERSION *)list[0].pFunctionList)->major == 3);
    CHECK(((CK_VERSION *)list[1].pFunctionList)->major == 2);
    CHECK((list[0].flags & CKF_INTERFACE_FORK_SAFE) == 0 && (list[1].flags & CKF_INTERFACE_FORK_SAFE) == 0);

    CK_INTERFACE *iface = NULL;
    CHECK_RV(p->get_interface(NULL, NULL, NULL, 0), CKR_ARGUMENTS_BAD);
    CHECK_RV(p->get_interface(NULL, NULL, &iface, 0), CKR_OK);
    CHECK(iface != NULL && ((CK_VERSION *)iface->pFunctionList)->major == 3);
    CK_VERSION v240 = {2, 40}, v99 = {9, 9};
    CHECK_RV(p->get_interface((CK_UTF8CHAR *)"PKCS 11", &v240, &iface, 0), CKR_OK);
    CHECK(iface != NULL && iface->pFunctionList == (void *)p->f);
    CHECK_RV(p->get_interface((CK_UTF8CHAR *)"PKCS 11", &v99, &iface, 0), CKR_ARGUMENTS_BAD);
    CHECK_RV(p->get_interface((CK_UTF8CHAR *)"Vendor X", NULL, &iface, 0), CKR_ARGUMENTS_BAD);
    CHECK_RV(p->get_interface(NULL, NULL, &iface, CKF_INTERFACE_FORK_SAFE), CKR_ARGUMENTS_BAD);
    CHECK_RV(p->f->C_GetFunctionList(NULL), CKR_ARGUMENTS_BAD);
    /* The tables point into the module even when the host exports C_* too (this test links libp11-kit). */
    CK_FUNCTION_LIST *again = NULL;
    CHECK_RV(p->f->C_GetFunctionList(&again), CKR_OK);
    CHECK(again == p->f);
    CHECK_RV(p->f3->C_GetInterface(NULL, NULL, &iface, 0), CKR_OK);
    CHECK(iface != NULL && iface->pFunctionList == (void *)p->f3);
}

static void test_not_initialized(struct p11 *p)
{
    CK_INFO info;
    CK_ULONG n = 0;
    CHECK_RV(p->f->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK_RV(p->f->C_GetSlotList(CK_FALSE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK_RV(p->f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK_RV(p->f->C_CloseSession(1), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK_RV(p->f->C_GetOperationState(1, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK_RV(p->f->C_GetFunctionStatus(1), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK_RV(p->f3->C_MessageEncryptInit(1, NULL, 0), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK_RV(p->f3->C_LoginUser(1, CKU_USER, NULL, 0, NULL, 0), CKR_CRYPTOKI_NOT_INITIALIZED);
}

/* Initialise with args, expect rv; on success finalize again. */
static void init_case(struct p11 *p, CK_C_INITIALIZE_ARGS *args, CK_RV expect, const char *what)
{
    CK_RV rv = p->f->C_Initialize(args);
    char d[200];
    snprintf(d, sizeof d, "%s: got %s, want %s", what, p11t_rv_name(rv), p11t_rv_name(expect));
    p11t_check(rv == expect, __FILE__, __LINE__, "C_Initialize", d);
    if (rv == CKR_OK)
        CHECK_RV(p->f->C_Finalize(NULL), CKR_OK);
}

static void test_args_matrix(struct p11 *p)
{
    CK_C_INITIALIZE_ARGS a;
    int x = 0;

    init_case(p, NULL, CKR_OK, "NULL args");
    memset(&a, 0, sizeof a);
    init_case(p, &a, CKR_OK, "all NULL, no flags");
    a.flags = CKF_OS_LOCKING_OK;
    init_case(p, &a, CKR_OK, "OS locking");
    a.flags = CKF_LIBRARY_CANT_CREATE_OS_THREADS;
    init_case(p, &a, CKR_OK, "cannot create threads");
    a.flags = CKF_LIBRARY_CANT_CREATE_OS_THREADS | CKF_OS_LOCKING_OK;
    init_case(p, &a, CKR_OK, "cannot create threads + OS locking");

    memset(&a, 0, sizeof a);
    a.pReserved = &x;
    init_case(p, &a, CKR_ARGUMENTS_BAD, "pReserved set");

    memset(&a, 0, sizeof a);
    a.CreateMutex = dummy_create;
    init_case(p, &a, CKR_ARGUMENTS_BAD, "one mutex callback");
    a.DestroyMutex = dummy_mutex;
    a.LockMutex = dummy_mutex;
    init_case(p, &a, CKR_ARGUMENTS_BAD, "three mutex callbacks");
    a.UnlockMutex = dummy_mutex;
    init_case(p, &a, CKR_CANT_LOCK, "callbacks without OS locking");
    a.flags = CKF_OS_LOCKING_OK;
    init_case(p, &a, CKR_OK, "callbacks + OS locking (OS locks used)");

    CHECK_RV(p->f->C_Initialize(NULL), CKR_OK);
    CHECK_RV(p->f->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    CHECK_RV(p->f->C_Finalize(&x), CKR_ARGUMENTS_BAD);
    CK_INFO info;
    CHECK_RV(p->f->C_GetInfo(&info), CKR_OK);
    CHECK(info.cryptokiVersion.major == 3 || info.cryptokiVersion.major == 2);
    CHECK_RV(p->f->C_Finalize(NULL), CKR_OK);
    CHECK_RV(p->f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
}

/* A config the loader refuses makes C_Initialize fail with CKR_GENERAL_ERROR (issue 2). */
static void test_bad_config(struct p11 *p)
{
    char text[4096];
    snprintf(text, sizeof text,
             "[token]\nstorage_path = \":memory:\"\n[security]\npbkdf2_iterations = 50000\n[audit]\nenabled = false\n");
    CHECK(p11t_write_config(p, text));
    CHECK_RV(p->f->C_Initialize(NULL), CKR_GENERAL_ERROR);
    snprintf(text, sizeof text, "[token]\nstorage_path = \":memory:\"\nno_such_key = 1\n");
    CHECK(p11t_write_config(p, text));
    CHECK_RV(p->f->C_Initialize(NULL), CKR_GENERAL_ERROR);
    /* The module stays usable once the config is fixed. */
    CHECK(p11t_write_config(p, p11t_default_config()));
    CHECK_RV(p->f->C_Initialize(NULL), CKR_OK);
    CHECK_RV(p->f->C_Finalize(NULL), CKR_OK);
}

int main(int argc, char **argv)
{
    struct p11 p;
    if (!p11t_setup(&p, argc, argv, NULL))
        return p11t_finish();
    test_tables(&p);
    test_not_initialized(&p);
    test_args_matrix(&p);
    test_bad_config(&p);
    return p11t_finish();
}
