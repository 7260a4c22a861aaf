/* Integration-test helpers; see p11_util.h. */
#define _XOPEN_SOURCE 700
#include "p11_util.h"

#include <dlfcn.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/result.h"

unsigned p11t_passed, p11t_failed;
static struct p11 *g_cleanup;

void p11t_check(bool ok, const char *file, int line, const char *what, const char *detail)
{
    if (ok) {
        p11t_passed++;
        return;
    }
    p11t_failed++;
    fprintf(stderr, "FAIL %s:%d: %s%s%s\n", file, line, what, detail ? ": " : "", detail ? detail : "");
}

const char *p11t_rv_name(CK_RV rv)
{
    return chsm_rv_name(rv);
}

void p11t_pad(CK_UTF8CHAR *dst, size_t n, const char *src)
{
    memset(dst, ' ', n);
    size_t l = strlen(src);
    memcpy(dst, src, l < n ? l : n);
}

bool p11t_hex_eq(const CK_BYTE *got, CK_ULONG len, const char *hex)
{
    if (strlen(hex) != 2 * (size_t)len)
        return false;
    for (CK_ULONG i = 0; i < len; i++) {
        char b[3] = {hex[2 * i], hex[2 * i + 1], 0};
        if ((CK_BYTE)strtoul(b, NULL, 16) != got[i])
            return false;
    }
    return true;
}

const char *p11t_default_config(void)
{
    return "# written by the integration test\n"
           "[token]\n"
           "label = \"Craton Test\"\n"
           "serial_number = \"TEST0001\"\n"
           "slot_count = 2\n"
           "storage_path = \":memory:\"\n"
           "\n"
           "[security]\n"
           "pbkdf2_iterations = 100000\n"
           "max_failed_logins = 3\n"
           "pin_min_length = 4\n"
           "\n"
           "[audit]\n"
           "enabled = false\n";
}

bool p11t_write_config(struct p11 *p, const char *text)
{
    FILE *fp = fopen(p->config_path, "w");
    if (fp == NULL) {
        p11t_check(false, __FILE__, __LINE__, "write config", p->config_path);
        return false;
    }
    fputs(text, fp);
    fclose(fp);
    return true;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (g_cleanup != NULL && g_cleanup->tmpdir[0] != '\0' && getenv("P11T_KEEP") == NULL)
        nftw(g_cleanup->tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void p11t_cleanup_register(struct p11 *p)
{
    g_cleanup = p;
}

int p11t_finish(void)
{
    printf("%u passed, %u failed\n", p11t_passed, p11t_failed);
    fflush(stdout);
    cleanup();
    g_cleanup = NULL;
    return (p11t_failed == 0 && p11t_passed > 0) ? 0 : 1;
}

static bool load_tables(struct p11 *p, const char *path)
{
    p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (p->dl == NULL) {
        p11t_check(false, __FILE__, __LINE__, "dlopen", dlerror());
        return false;
    }
    CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)dlsym(p->dl, "C_GetFunctionList");
    p->get_interface_list = (CK_C_GetInterfaceList)dlsym(p->dl, "C_GetInterfaceList");
    p->get_interface = (CK_C_GetInterface)dlsym(p->dl, "C_GetInterface");
    CHECK(gfl != NULL && p->get_interface_list != NULL && p->get_interface != NULL);
    if (gfl == NULL || p->get_interface == NULL)
        return false;
    CHECK_RV(gfl(&p->f), CKR_OK);
    CK_INTERFACE *iface = NULL;
    CK_VERSION v30 = {3, 0};
    CHECK_RV(p->get_interface((CK_UTF8CHAR *)"PKCS 11", &v30, &iface, 0), CKR_OK);
    if (iface != NULL)
        p->f3 = iface->pFunctionList;
    return p->f != NULL && p->f3 != NULL;
}

bool p11t_setup(struct p11 *p, int argc, char **argv, const char *extra_toml)
{
    memset(p, 0, sizeof(*p));
    if (argc < 2) {
        fprintf(stderr, "usage: %s /path/to/libcraton_hsm.so\n", argv[0]);
        p11t_check(false, __FILE__, __LINE__, "module path argument", NULL);
        return false;
    }
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(p->tmpdir, sizeof(p->tmpdir), "%s/chsm-it.XXXXXX", base);
    if (mkdtemp(p->tmpdir) == NULL) {
        p11t_check(false, __FILE__, __LINE__, "mkdtemp", p->tmpdir);
        p->tmpdir[0] = '\0';
        return false;
    }
    p11t_cleanup_register(p);
    snprintf(p->config_path, sizeof(p->config_path), "%s/craton_hsm.toml", p->tmpdir);
    char text[4096];
    snprintf(text, sizeof(text), "%s%s", p11t_default_config(), extra_toml ? extra_toml : "");
    if (!p11t_write_config(p, text))
        return false;
    setenv("CRATON_HSM_CONFIG", p->config_path, 1);
    return load_tables(p, argv[1]);
}

CK_RV p11t_init_token(struct p11 *p, CK_SLOT_ID slot)
{
    CK_UTF8CHAR label[32];
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_RV rv;
    p11t_pad(label, sizeof(label), "it-token");
    rv = p->f->C_InitToken(slot, (CK_UTF8CHAR *)TEST_SO_PIN, strlen(TEST_SO_PIN), label);
    if (rv != CKR_OK)
        return rv;
    rv = p->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
    if (rv != CKR_OK)
        return rv;
    rv = p->f->C_Login(s, CKU_SO, (CK_UTF8CHAR *)TEST_SO_PIN, strlen(TEST_SO_PIN));
    if (rv == CKR_OK)
        rv = p->f->C_InitPIN(s, (CK_UTF8CHAR *)TEST_USER_PIN, strlen(TEST_USER_PIN));
    CK_RV rv2 = p->f->C_CloseSession(s);
    return rv != CKR_OK ? rv : rv2;
}
