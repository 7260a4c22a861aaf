#include "fuzz_module_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "craton_hsm/pkcs11.h"

static char g_dir[64];

static void teardown(void)
{
    (void)C_Finalize(NULL);
    char p[128];
    snprintf(p, sizeof p, "%s/craton_hsm.toml", g_dir);
    unlink(p);
    rmdir(g_dir);
}

bool chsm_fuzz_module_env(const char *tag)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/chsm-fuzz-%s.XXXXXX", tag);
    if (mkdtemp(g_dir) == NULL)
        return false;
    char path[128];
    snprintf(path, sizeof path, "%s/craton_hsm.toml", g_dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return false;
    fputs("[token]\nstorage_path = \":memory:\"\n[security]\npbkdf2_iterations = 100000\n"
          "[audit]\nenabled = false\n", f);
    fclose(f);
    setenv("CRATON_HSM_CONFIG", path, 1);
    atexit(teardown);
    return true;
}
