/*
 * The contents of tests/fixtures/store/records-v2/craton_hsm.db, written
 * ONCE by `make_store_fixture DIR records-v2` (store format 1, record
 * version 2) and never regenerated. It holds the three objects of
 * fixture_v1.h (same token, PINs and labels; fx-data written logged out,
 * so without a MAC) plus the two below.
 */
#ifndef CHSM_TEST_FIXTURE_V2_H
#define CHSM_TEST_FIXTURE_V2_H

/* A PUBLIC (CKA_PRIVATE false) AES-256 key, SENSITIVE, not EXTRACTABLE, CKA_VALUE = 32 x 0xA5. */
#define FX2_PUB_AES_LABEL "fx-pub-aes"
#define FX2_PUB_AES_BYTE 0xA5
/* A public data object written with the MK (so with a MAC). */
#define FX2_MAC_DATA_LABEL "fx-data-mac"
#define FX2_MAC_DATA_VALUE "public data with a mac"

#endif
