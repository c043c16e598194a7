/* SPDX-License-Identifier: MIT */
/* Helpers the unit tests share: a fresh temporary directory, and its removal. */
#pragma once

#include <stddef.h>

/* Makes a new directory named prefix-XXXXXX and writes its path into buf (n bytes). A prefix
 * that starts with '/' is a path; any other is a name in $TMPDIR, or /tmp when that is unset
 * or empty. Returns 0, or -ENAMETOOLONG or mkdtemp()'s negative errno; buf is then empty. */
int test_mkdtemp(char *buf, size_t n, const char *prefix);

/* Removes dir and everything below it, as far as it can; errors are ignored. Symbolic links
 * are removed, never followed, so nothing outside dir is touched. Accepts NULL and "". */
void test_remove_tree(const char *dir);
