/* Bringing the core up for a command and opening a logged-in session. */
#ifndef CHSM_ADMIN_CORE_SESSION_H
#define CHSM_ADMIN_CORE_SESSION_H

#include "admin.h"
#include "core/core.h"

/* Initialise the core with the CLI's config path. Returns an exit code. */
int adm_core_up(struct adm *a);
void adm_core_down(void);
/* Open a R/W session on the slot and log in as user_type with pin (pin may be NULL: no login). */
int adm_core_session(struct adm *a, CK_USER_TYPE user_type, const struct chsm_secbuf *pin, CK_SESSION_HANDLE *out);
/* One-line message for a failed C_* call. */
int adm_core_fail(CK_RV rv, const char *what);

#endif
