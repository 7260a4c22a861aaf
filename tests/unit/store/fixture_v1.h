/*
 * The contents of tests/fixtures/store/v1/craton_hsm.db, written ONCE by
 * make_store_fixture (format version 1) and never regenerated: the test
 * proves that every later binary still opens what version 1 wrote.
 */
#ifndef CHSM_TEST_FIXTURE_V1_H
#define CHSM_TEST_FIXTURE_V1_H

#define FX_SLOT 0u
#define FX_ITER 1000u
#define FX_LABEL "craton fixture v1               "
#define FX_SERIAL "FIXTURE-V1-0001 "
#define FX_SO_PIN "fixture-so-1234"
#define FX_USER_PIN "fixture-user-5678"
/* A private AES-256 key, label "fx-aes", CKA_VALUE = 0x00 0x01 ... 0x1f. */
#define FX_AES_LABEL "fx-aes"
/* A public data object, label "fx-data", CKA_VALUE "public fixture data". */
#define FX_DATA_LABEL "fx-data"
#define FX_DATA_VALUE "public fixture data"
/* A private generic secret, label "fx-secret", CKA_VALUE = 20 x 0xC3, CKA_ID "fx01". */
#define FX_SECRET_LABEL "fx-secret"
#define FX_SECRET_ID "fx01"

#endif
