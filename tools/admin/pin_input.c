/*
 * PIN input. Sources, in the documented order of preference: a file, an
 * environment variable, standard input ("-"), a no-echo terminal prompt,
 * and --pin VALUE as the spec writes it (warned about: it is visible in ps
 * and shell history). PINs go straight into a secret buffer; every stack
 * copy is wiped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "admin.h"
#include "crypto/crypto.h"

#define PIN_READ_MAX 512

/* One line from f into out (newline stripped). */
static int read_line(FILE *f, const char *from, struct chsm_secbuf *out)
{
    char line[PIN_READ_MAX];
    int rc = ADM_OK;
    size_t n;
    if (fgets(line, sizeof(line), f) == NULL) {
        rc = adm_fail(ADM_USAGE, "no PIN could be read from %s; put the PIN on its first line", from);
        goto out;
    }
    n = strcspn(line, "\r\n");
    if (n == 0) {
        rc = adm_fail(ADM_USAGE, "the PIN read from %s is empty; put the PIN on its first line", from);
        goto out;
    }
    if (chsm_secbuf_copy(out, line, n) != CKR_OK)
        rc = adm_fail(ADM_FAILED, "out of memory reading the PIN; retry");
out:
    chsm_wipe(line, sizeof(line));
    return rc;
}

static int from_file(const char *path, struct chsm_secbuf *out)
{
    FILE *f = fopen(path, "r");
    int rc;
    if (f == NULL)
        return adm_fail(ADM_USAGE, "cannot read PIN file %s: %s; check the path and its permissions", path,
                        strerror(errno));
    rc = read_line(f, path, out);
    fclose(f);
    return rc;
}

static int from_tty(const char *prompt, struct chsm_secbuf *out)
{
    struct termios old, quiet;
    FILE *tty = fopen("/dev/tty", "r+");
    int rc;
    if (tty == NULL)
        return adm_fail(ADM_USAGE, "no PIN given and no terminal to prompt on; use --pin-file, --pin-env or --pin -");
    fprintf(tty, "%s: ", prompt);
    fflush(tty);
    tcgetattr(fileno(tty), &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    rc = read_line(tty, "the terminal", out);
    tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    return rc;
}

static int prompt_pin(const char *what, bool confirm, struct chsm_secbuf *out)
{
    struct chsm_secbuf again = {0};
    char prompt[96];
    int rc;
    snprintf(prompt, sizeof(prompt), "%s", what);
    rc = from_tty(prompt, out);
    if (rc != ADM_OK || !confirm)
        return rc;
    snprintf(prompt, sizeof(prompt), "%s (again)", what);
    rc = from_tty(prompt, &again);
    if (rc == ADM_OK && (again.len != out->len || !chsm_ct_equal(again.data, out->data, out->len))) {
        chsm_secbuf_free(out);
        rc = adm_fail(ADM_USAGE, "the two %s entries differ; run the command again", what);
    }
    chsm_secbuf_free(&again);
    return rc;
}

int adm_pin(const struct adm *a, const char *base, const char *what, bool confirm, struct chsm_secbuf *out)
{
    char name[48];
    const char *v;
    snprintf(name, sizeof(name), "--%s-file", base);
    if ((v = adm_opt(a, name)) != NULL)
        return from_file(v, out);
    snprintf(name, sizeof(name), "--%s-env", base);
    if ((v = adm_opt(a, name)) != NULL) {
        const char *val = getenv(v);
        if (val == NULL || *val == '\0')
            return adm_fail(ADM_USAGE, "environment variable %s (from --%s-env) is not set; export it first", v,
                            base);
        return chsm_secbuf_copy(out, val, strlen(val)) == CKR_OK ? ADM_OK : ADM_FAILED;
    }
    snprintf(name, sizeof(name), "--%s", base);
    if ((v = adm_opt(a, name)) != NULL) {
        if (strcmp(v, "-") == 0)
            return read_line(stdin, "standard input", out);
        if (*v == '\0')
            return adm_fail(ADM_USAGE, "%s is empty; give the %s", name, what);
        adm_warn("%s VALUE is visible to other users in ps and shell history; prefer %s-file or %s-env", name, name,
                 name);
        return chsm_secbuf_copy(out, v, strlen(v)) == CKR_OK ? ADM_OK : ADM_FAILED;
    }
    if (isatty(STDIN_FILENO))
        return prompt_pin(what, confirm, out);
    return adm_fail(ADM_USAGE, "the %s is required; give --%s-file PATH, --%s-env NAME or --%s -", what, base, base,
                    base);
}
