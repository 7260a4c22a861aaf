/* test_admin: the admin module's cmocka groups (archive format, CLI plumbing, secret file input). */
#include <string.h>

int chsm_test_archive(void);
int chsm_test_cli(void);
int chsm_test_secret_file(void);
int chsm_test_pin_probe(int argc, char **argv);

int main(int argc, char **argv)
{
    /* test_cli re-executes this binary as a child that checks its own /proc/self/{cmdline,environ}. */
    if (argc > 1 && strcmp(argv[1], "--pin-probe") == 0)
        return chsm_test_pin_probe(argc, argv);
    int failed = chsm_test_archive();
    failed += chsm_test_cli();
    failed += chsm_test_secret_file();
    return failed;
}
