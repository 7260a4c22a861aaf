/* test_admin: the admin module's cmocka groups (archive format, CLI plumbing, secret file input). */
int chsm_test_archive(void);
int chsm_test_cli(void);
int chsm_test_secret_file(void);

int main(void)
{
    int failed = chsm_test_archive();
    failed += chsm_test_cli();
    failed += chsm_test_secret_file();
    return failed;
}
