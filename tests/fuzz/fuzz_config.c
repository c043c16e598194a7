/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the config file parser: the input is a config file (at most 64 KiB)
 * read against a table with every option type; any outcome is fine but a crash or a leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "fuzzcheck.h"

#define FUZZ_INPUT_MAX (64 * 1024)

struct fuzz_cfg {
        char *listen;
        char *name;
        int64_t port;
        int64_t retries;
        bool verbose;
};

static const struct config_option table[] = {
    {"listen", CONFIG_STRING, "0.0.0.0", "", offsetof(struct fuzz_cfg, listen), 0, 0},
    {"name", CONFIG_STRING, NULL, "", offsetof(struct fuzz_cfg, name), 0, 0},
    {"port", CONFIG_INT, "8443", "", offsetof(struct fuzz_cfg, port), 1, 65535},
    {"retries", CONFIG_INT, "-1", "", offsetof(struct fuzz_cfg, retries), 0, 0},
    {"verbose", CONFIG_BOOL, "false", "", offsetof(struct fuzz_cfg, verbose), 0, 0},
};


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fuzz_cfg cfg;
        char err[256];

        if (size > FUZZ_INPUT_MAX)
                return 0;
        if (config_defaults(table, sizeof(table) / sizeof(table[0]), &cfg) < 0)
                __builtin_trap();
        err[0] = '\0';
        if (config_parse_buffer(table, sizeof(table) / sizeof(table[0]), "fuzz.conf",
                                (const char *)data, size, &cfg, err, sizeof(err)) < 0 &&
            strncmp(err, "fuzz.conf:", 10) != 0)
                __builtin_trap(); /* every error names the file and line */
        config_free(table, sizeof(table) / sizeof(table[0]), &cfg);
        return 0;
}
