/*
 * PIN input. Sources, in the documented order of preference: a file, an
 * environment variable, standard input ("-"), a no-echo terminal prompt,
 * and --pin VALUE as the spec writes it (warned about: it is visible in ps
 * and shell history). PINs go straight into a secret buffer and leave no
 * copy behind in this process:
 *  - files, standard input and the terminal are read with read(2) on the
 *    descriptor, never through stdio, whose FILE buffer would keep the PIN;
 *  - --PIN-env NAME: the value is wiped in the environment block (seen in
 *    /proc/PID/environ and inherited by children) and NAME is unset;
 *  - --PIN VALUE: the argv string is overwritten in place, so
 *    /proc/PID/cmdline stops showing it (ps and the shell history may have
 *    seen it already: hence the warning).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "admin.h"
#include "crypto/crypto.h"

#define PIN_READ_MAX 512

extern char **environ;

/* Length of the PIN in a line: up to the first CR (a CRLF file) or NUL, as strcspn(line, "\r\n") did. */
static size_t pin_len(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] != '\r' && p[i] != '\0')
        i++;
    return i;
}

/*
 * One line from fd into out (newline stripped), straight into a secret
 * buffer. One byte per read(2) so nothing past the newline is consumed
 * (standard input may carry more after the PIN).
 */
static int read_line(int fd, const char *from, struct chsm_secbuf *out)
{
    struct chsm_secbuf line = {0};
    size_t n = 0;
    bool eol = false;
    int rc = ADM_OK;
    if (chsm_secbuf_alloc(&line, PIN_READ_MAX) != CKR_OK)
        return adm_fail(ADM_FAILED, "out of secure memory reading the PIN; raise RLIMIT_MEMLOCK or retry");
    while (n < line.len && !eol) {
        ssize_t got = read(fd, line.data + n, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = adm_fail(ADM_USAGE, "cannot read the PIN from %s: %s; check it is readable", from, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        eol = line.data[n] == '\n';
        n += eol ? 0 : 1;
    }
    if (n == 0 && !eol) {
        rc = adm_fail(ADM_USAGE, "no PIN could be read from %s; put the PIN on its first line", from);
        goto out;
    }
    if (!eol && n == line.len) {
        rc = adm_fail(ADM_USAGE, "the first line of %s is longer than %d bytes; put only the PIN on it", from,
                      PIN_READ_MAX - 1);
        goto out;
    }
    n = pin_len(line.data, n);
    if (n == 0) {
        rc = adm_fail(ADM_USAGE, "the PIN read from %s is empty; put the PIN on its first line", from);
        goto out;
    }
    chsm_secbuf_truncate(&line, n);
    chsm_secbuf_move(out, &line);
out:
    chsm_secbuf_free(&line);
    return rc;
}

static int from_file(const char *path, struct chsm_secbuf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    int rc;
    if (fd < 0)
        return adm_fail(ADM_USAGE, "cannot read PIN file %s: %s; check the path and its permissions", path,
                        strerror(errno));
    rc = read_line(fd, path, out);
    close(fd);
    return rc;
}

/* The prompt is not secret; a short write only garbles it. */
static void tty_puts(int fd, const char *s)
{
    size_t len = strlen(s);
    while (len > 0) {
        ssize_t w = write(fd, s, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        len -= (size_t)w;
    }
}

static int from_tty(const char *prompt, struct chsm_secbuf *out)
{
    struct termios old, quiet;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    int rc;
    if (fd < 0)
        return adm_fail(ADM_USAGE, "no PIN given and no terminal to prompt on; use --pin-file, --pin-env or --pin -");
    if (tcgetattr(fd, &old) != 0) {
        close(fd);
        return adm_fail(ADM_USAGE, "cannot turn off echo on the terminal; use --pin-file, --pin-env or --pin -");
    }
    tty_puts(fd, prompt);
    tty_puts(fd, ": ");
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
        close(fd);
        return adm_fail(ADM_USAGE, "cannot turn off echo on the terminal; use --pin-file, --pin-env or --pin -");
    }
    rc = read_line(fd, "the terminal", out);
    (void)tcsetattr(fd, TCSAFLUSH, &old);
    tty_puts(fd, "\n");
    close(fd);
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

/*
 * Wipe every NAME=value entry's value in place, then unset NAME. Walking
 * environ (rather than writing through getenv's pointer) reaches duplicate
 * entries too; the strings are this process's own memory.
 */
static void env_scrub(const char *name)
{
    size_t nl = strlen(name);
    for (char **e = environ; e != NULL && *e != NULL; e++)
        if (strncmp(*e, name, nl) == 0 && (*e)[nl] == '=')
            chsm_wipe(*e + nl + 1, strlen(*e + nl + 1));
    (void)unsetenv(name);
}

static int from_env(const char *name, const char *base, struct chsm_secbuf *out)
{
    const char *val = getenv(name);
    int rc = ADM_OK;
    if (val == NULL || *val == '\0')
        return adm_fail(ADM_USAGE, "environment variable %s (from --%s-env) is not set; export it first", name, base);
    if (chsm_secbuf_copy(out, val, strlen(val)) != CKR_OK)
        rc = adm_fail(ADM_FAILED, "out of secure memory reading the PIN; raise RLIMIT_MEMLOCK or retry");
    env_scrub(name);
    return rc;
}

/*
 * --PIN VALUE: v points into this process's argv strings (adm_parse keeps
 * pointers, never copies), which are writable and are what
 * /proc/PID/cmdline shows; overwrite them once the PIN is in the secbuf.
 */
static int from_arg(const char *opt, const char *v, struct chsm_secbuf *out)
{
    int rc = ADM_OK;
    adm_warn("%s VALUE is visible to other users in ps and shell history; prefer %s-file or %s-env", opt, opt, opt);
    if (chsm_secbuf_copy(out, v, strlen(v)) != CKR_OK)
        rc = adm_fail(ADM_FAILED, "out of secure memory reading the PIN; raise RLIMIT_MEMLOCK or retry");
    chsm_wipe((char *)(uintptr_t)v, strlen(v));
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
    if ((v = adm_opt(a, name)) != NULL)
        return from_env(v, base, out);
    snprintf(name, sizeof(name), "--%s", base);
    if ((v = adm_opt(a, name)) != NULL) {
        if (strcmp(v, "-") == 0)
            return read_line(STDIN_FILENO, "standard input", out);
        if (*v == '\0')
            return adm_fail(ADM_USAGE, "%s is empty; give the %s", name, what);
        return from_arg(name, v, out);
    }
    if (isatty(STDIN_FILENO))
        return prompt_pin(what, confirm, out);
    return adm_fail(ADM_USAGE, "the %s is required; give --%s-file PATH, --%s-env NAME or --%s -", what, base, base,
                    base);
}
