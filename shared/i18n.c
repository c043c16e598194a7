/* SPDX-License-Identifier: MIT */
/* Translations loaded from "key = value" files; a small sorted table per language. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "log.h"

#define I18N_MAX_ENTRIES 1024
#define I18N_LINE_MAX 1024

struct entry {
        char *key, *value;
};

struct table {
        struct entry *e;
        size_t n;
};

struct i18n {
        struct table lang;     /* the chosen language */
        struct table fallback; /* Ukrainian */
};

static int entry_cmp(const void *a, const void *b)
{
        return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

static void table_finish(struct table *t)
{
        for (size_t i = 0; i < t->n; i++) {
                free(t->e[i].key);
                free(t->e[i].value);
        }
        free(t->e);
        t->e = NULL;
        t->n = 0;
}

static char *trim(char *s)
{
        char *end;

        while (*s == ' ' || *s == '\t')
                s++;
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
                *--end = 0;
        return s;
}

static int table_load(const char *path, struct table *t)
{
        char line[I18N_LINE_MAX];
        unsigned lineno = 0;
        FILE *f;
        int r = 0;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        t->e = calloc(I18N_MAX_ENTRIES, sizeof(*t->e));
        if (!t->e) {
                r = -ENOMEM;
                goto out;
        }
        while (fgets(line, sizeof(line), f)) {
                char *eq, *k, *v;

                lineno++;
                k = trim(line);
                if (*k == 0 || *k == '#')
                        continue;
                eq = strchr(k, '=');
                if (!eq || t->n >= I18N_MAX_ENTRIES) {
                        log_error("%s:%u: expected \"key = value\"", path, lineno);
                        r = -EINVAL;
                        goto out;
                }
                *eq = 0;
                k = trim(k);
                v = trim(eq + 1);
                t->e[t->n].key = strdup(k);
                t->e[t->n].value = strdup(v);
                if (!t->e[t->n].key || !t->e[t->n].value) {
                        free(t->e[t->n].key);
                        free(t->e[t->n].value);
                        r = -ENOMEM;
                        goto out;
                }
                /* "\n" in a value is a line break */
                for (char *p = t->e[t->n].value; (p = strstr(p, "\\n"));) {
                        *p = '\n';
                        memmove(p + 1, p + 2, strlen(p + 2) + 1);
                }
                t->n++;
        }
        qsort(t->e, t->n, sizeof(*t->e), entry_cmp);
out:
        fclose(f);
        if (r < 0)
                table_finish(t);
        return r;
}

int i18n_load(const char *assets_dir, enum vote_lang lang, struct i18n **ret)
{
        char path[4096];
        struct i18n *t;
        int r;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        snprintf(path, sizeof(path), "%s/i18n/uk.txt", assets_dir);
        r = table_load(path, &t->fallback);
        if (r < 0)
                goto fail;
        if (lang == VOTE_LANG_EN) {
                snprintf(path, sizeof(path), "%s/i18n/en.txt", assets_dir);
                r = table_load(path, &t->lang);
                if (r < 0)
                        goto fail;
        }
        *ret = t;
        return 0;
fail:
        log_error("Cannot load translations %s: %s", path, strerror(-r));
        i18n_free(t);
        return r;
}

void i18n_free(struct i18n *t)
{
        if (!t)
                return;
        table_finish(&t->lang);
        table_finish(&t->fallback);
        free(t);
}

static const char *table_get(const struct table *t, const char *key)
{
        struct entry k = {.key = (char *)key}, *e;

        if (t->n == 0)
                return NULL;
        e = bsearch(&k, t->e, t->n, sizeof(*t->e), entry_cmp);
        return e ? e->value : NULL;
}

const char *i18n_get(const struct i18n *t, const char *key)
{
        const char *v;

        if (!t)
                return key;
        v = table_get(&t->lang, key);
        if (!v)
                v = table_get(&t->fallback, key);
        return v ? v : key;
}

int i18n_lang_from_string(const char *s, enum vote_lang *ret)
{
        if (strcmp(s, "uk") == 0)
                *ret = VOTE_LANG_UK;
        else if (strcmp(s, "en") == 0)
                *ret = VOTE_LANG_EN;
        else
                return -EINVAL;
        return 0;
}

const char *i18n_lang_to_string(enum vote_lang lang)
{
        return lang == VOTE_LANG_EN ? "en" : "uk";
}
