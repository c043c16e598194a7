/* SPDX-License-Identifier: MIT */
/* Chooses the storage back end from the location's scheme. */
#include <errno.h>
#include <string.h>

#include "store.h"

int store_open(const char *location, struct store **ret)
{
        const struct store_ops *ops = &store_sqlite_ops;

        if (strncmp(location, "sqlite:", 7) == 0)
                location += 7;
        else if (strstr(location, "://"))
                return -EPROTONOSUPPORT;
        return ops->open(location, ret);
}

void store_close(struct store *s)
{
        if (s)
                s->ops->close(s);
}
