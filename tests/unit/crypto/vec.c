#include "vec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

struct json *vec_load(const char *name)
{
    char path[1024];
    const char *dir = getenv("CHSM_TEST_VECTORS");
    struct json *j;
    assert_non_null(dir);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    j = json_load(path);
    if (j == NULL)
        fail_msg("cannot load vector file %s", path);
    assert_non_null(json_get(j, "testGroups"));
    return j;
}

bool vec_has_flag(const struct json *t, const char *flag)
{
    const struct json *f = json_get(t, "flags");
    for (size_t i = 0; f != NULL && i < f->n; i++)
        if (f->items[i]->type == JSON_STR && strcmp(f->items[i]->str, flag) == 0)
            return true;
    return false;
}
