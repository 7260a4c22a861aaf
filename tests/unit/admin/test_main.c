/* test_admin: the admin module's cmocka groups (archive format, CLI plumbing). */
int chsm_test_archive(void);
int chsm_test_cli(void);

int main(void)
{
    int failed = chsm_test_archive();
    failed += chsm_test_cli();
    return failed;
}
