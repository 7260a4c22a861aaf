/* The crypto test executable runs several cmocka groups, one per concept file. */
#ifndef CHSM_TEST_CRYPTO_SUITES_H
#define CHSM_TEST_CRYPTO_SUITES_H

int chsm_test_crypto_group_setup(void **state);
int chsm_test_crypto_group_teardown(void **state);
int run_sign_tests(void);
int run_cipher_tests(void);
int run_mac_derive_tests(void);
int run_gcm_long_tests(void);
int run_gcm_long_edge_tests(void);

#endif
