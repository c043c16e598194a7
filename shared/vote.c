/* SPDX-License-Identifier: MIT */
/* The vote model: levels, labels, colours, channels and UUIDv7 ids. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include <sodium.h>

#include "vote.h"

static const struct {
        const char *uk, *en, *hex;
        struct vote_rgb rgb;
} levels[VOTE_LEVEL_MAX + 1] = {
    [VOTE_LEVEL_SATISFACTORY] = {"Задовільно", "Satisfactory", "#d32f2f", {0xd3, 0x2f, 0x2f}},
    [VOTE_LEVEL_GOOD] = {"Добре", "Good", "#f9a825", {0xf9, 0xa8, 0x25}},
    [VOTE_LEVEL_EXEMPLARY] = {"Зразково", "Exemplary", "#2e7d32", {0x2e, 0x7d, 0x32}},
};

static const struct {
        const char *name, *uk, *en;
} channels[] = {
    {VOTE_CHANNEL_TERMINAL, "Термінал", "Terminal"},
    {VOTE_CHANNEL_QR_SCREEN, "QR-код на екрані термінала", "QR code on the terminal"},
    {VOTE_CHANNEL_QR_PRINTED, "Друкований QR-код", "Printed QR code"},
    {VOTE_CHANNEL_QR_REPLY, "QR-код у письмовій відповіді", "QR code on a written reply"},
};

bool vote_level_valid(int64_t level)
{
        return level >= VOTE_LEVEL_MIN && level <= VOTE_LEVEL_MAX;
}

const char *vote_level_label(int level, enum vote_lang lang)
{
        if (!vote_level_valid(level))
                return NULL;
        return lang == VOTE_LANG_EN ? levels[level].en : levels[level].uk;
}

struct vote_rgb vote_level_color(int level)
{
        if (!vote_level_valid(level))
                return (struct vote_rgb){0, 0, 0};
        return levels[level].rgb;
}

const char *vote_level_color_hex(int level)
{
        return vote_level_valid(level) ? levels[level].hex : "#000000";
}

bool vote_channel_valid(const char *channel)
{
        size_t n = 0;

        if (!channel)
                return false;
        for (const char *p = channel; *p; p++, n++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
                        return false;
        }
        return n >= 1 && n <= VOTE_CHANNEL_MAX;
}

const char *vote_channel_label(const char *channel, enum vote_lang lang)
{
        for (size_t i = 0; i < sizeof(channels) / sizeof(channels[0]); i++)
                if (strcmp(channel, channels[i].name) == 0)
                        return lang == VOTE_LANG_EN ? channels[i].en : channels[i].uk;
        return channel;
}

bool vote_ref_valid(const char *ref)
{
        size_t n = 0;

        if (!ref)
                return false;
        for (const char *p = ref; *p; p++, n++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.'))
                        return false;
        }
        return n >= 1 && n <= VOTE_REF_MAX;
}

void vote_id_new(vote_id *ret_id)
{
        uint8_t b[16];
        struct timespec ts;
        uint64_t ms;

        clock_gettime(CLOCK_REALTIME, &ts);
        ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
        randombytes_buf(b, sizeof(b));
        for (int i = 0; i < 6; i++)
                b[i] = (uint8_t)(ms >> (40 - 8 * i));
        b[6] = (uint8_t)(0x70 | (b[6] & 0x0f)); /* version 7 */
        b[8] = (uint8_t)(0x80 | (b[8] & 0x3f)); /* variant 10 */
        snprintf(ret_id->s, sizeof(ret_id->s),
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                 b[15]);
}

bool vote_id_valid(const char *s)
{
        if (!s || strlen(s) != VOTE_ID_LEN)
                return false;
        for (int i = 0; i < VOTE_ID_LEN; i++) {
                char c = s[i];
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (c != '-')
                                return false;
                } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return false;
        }
        return true;
}

int vote_strlcpy(char *dst, const char *src, size_t n)
{
        size_t len = strlen(src);

        if (len >= n)
                return -ENAMETOOLONG;
        memcpy(dst, src, len + 1);
        return 0;
}

bool vote_word_valid(const char *word)
{
        size_t n = 0;

        if (!word)
                return false;
        for (const char *p = word; *p; p++, n++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return n >= 1 && n <= VOTE_WORD_MAX;
}

static char boot_id[VOTE_ID_LEN + 1];
static pthread_once_t boot_id_once = PTHREAD_ONCE_INIT;

static void boot_id_read(void)
{
        char buf[64] = "";
        FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

        if (!f)
                return;
        if (fgets(buf, sizeof(buf), f)) {
                buf[strcspn(buf, "\n")] = 0;
                if (vote_id_valid(buf))
                        memcpy(boot_id, buf, VOTE_ID_LEN + 1);
        }
        fclose(f);
}

void vote_boot_id(char ret[static VOTE_ID_LEN + 1])
{
        pthread_once(&boot_id_once, boot_id_read);
        memcpy(ret, boot_id, VOTE_ID_LEN + 1);
}

int64_t vote_mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_BOOTTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
