/*
 * Replay driver: runs LLVMFuzzerTestOneInput over every file in the
 * directories/files given on the command line, so the committed corpus is
 * exercised by ordinary (non-fuzzing, possibly sanitized) builds. Exit 1 if
 * no input was found: an empty corpus is a broken test, not a pass.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *n = realloc(buf, cap);
            if (n == NULL) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = n;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        if (r == 0)
            break;
        len += r;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: not found\n", argv[i]);
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            while (d != NULL && (e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                    continue;
                char p[4096];
                snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
                if (run_file(p) == 0)
                    count++;
            }
            if (d != NULL)
                closedir(d);
        } else if (run_file(argv[i]) == 0) {
            count++;
        }
    }
    printf("replay: %u inputs\n", count);
    return count > 0 ? 0 : 1;
}
