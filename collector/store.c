/* SPDX-License-Identifier: MIT */
/* Chooses the storage back end from the location's scheme. */
#include <errno.h>
#include <stdlib.h>
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

void store_org_finish(struct store_org *org)
{
        if (!org)
                return;
        free(org->units);
        free(org->directions);
        free(org->employees);
        free(org->workplaces);
        memset(org, 0, sizeof(*org));
}
