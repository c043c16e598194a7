/* SPDX-License-Identifier: MIT */
/* Translations: assets/i18n/uk.txt (the default) and en.txt hold "key = value" lines in
 * UTF-8. A key missing from English falls back to Ukrainian, then to the key itself, so a
 * screen never shows an empty string. */
#pragma once

#include "vote.h"

struct i18n;

/* Loads the language's file and the Ukrainian one from assets_dir/i18n. Returns 0, -ENOENT,
 * -ENOMEM, or -EINVAL for a malformed line (logged with file and line). */
int i18n_load(const char *assets_dir, enum vote_lang lang, struct i18n **ret);
void i18n_free(struct i18n *t);
/* The text for key; never NULL. The string belongs to t. */
const char *i18n_get(const struct i18n *t, const char *key);
/* "uk" or "en" → lang; -EINVAL otherwise. */
int i18n_lang_from_string(const char *s, enum vote_lang *ret);
/* lang → "uk" or "en". */
const char *i18n_lang_to_string(enum vote_lang lang);
