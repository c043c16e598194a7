/* SPDX-License-Identifier: MIT */
/* The vote model both programs share: the three levels of regulation 2.2 with their exact
 * labels and colours, channels as an open list (regulation 2.8), and globally unique,
 * time-ordered vote ids (UUID version 7). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vote_level {
        VOTE_LEVEL_SATISFACTORY = 1, /* «Задовільно», red */
        VOTE_LEVEL_GOOD = 2,         /* «Добре», yellow */
        VOTE_LEVEL_EXEMPLARY = 3,    /* «Зразково», green */
};
#define VOTE_LEVEL_MIN 1
#define VOTE_LEVEL_MAX 3

enum vote_lang {
        VOTE_LANG_UK = 0, /* the default */
        VOTE_LANG_EN = 1,
};

struct vote_rgb {
        uint8_t r, g, b;
};

bool vote_level_valid(int64_t level);
/* The label a person reads, in Ukrainian or English; NULL for an invalid level. */
const char *vote_level_label(int level, enum vote_lang lang);
/* The level's colour (red, yellow, green); black for an invalid level. */
struct vote_rgb vote_level_color(int level);
/* "#rrggbb" for pages and SVG; "#000000" for an invalid level. */
const char *vote_level_color_hex(int level);

/* Channels are an open list: any lower-case ASCII name of letters, digits, '_' and '-', up to
 * VOTE_CHANNEL_MAX bytes. The known ones are listed so that pages can name them. */
#define VOTE_CHANNEL_MAX 32
#define VOTE_CHANNEL_TERMINAL "terminal"     /* a tap on the counter terminal */
#define VOTE_CHANNEL_QR_SCREEN "qr_screen"   /* the QR code shown on the terminal */
#define VOTE_CHANNEL_QR_PRINTED "qr_printed" /* a printed QR code at the workplace */
#define VOTE_CHANNEL_QR_REPLY "qr_reply"     /* a QR code on a written reply to an appeal */
bool vote_channel_valid(const char *channel);
/* A human name for a known channel, or the channel itself. */
const char *vote_channel_label(const char *channel, enum vote_lang lang);

/* Employee, workplace and terminal references on the wire: 1..VOTE_REF_MAX bytes of
 * [A-Za-z0-9._-]. */
#define VOTE_REF_MAX 64
bool vote_ref_valid(const char *ref);

/* A vote id: a UUID in its 36-character text form plus NUL. */
#define VOTE_ID_LEN 36
typedef struct vote_id {
        char s[VOTE_ID_LEN + 1];
} vote_id;

/* A new version-7 UUID: 48 bits of Unix milliseconds, then random bits from libsodium. */
void vote_id_new(vote_id *ret_id);
/* Accepts the canonical lower-case 8-4-4-4-12 hex form only. */
bool vote_id_valid(const char *s);

/* Reasons and event kinds: 1..VOTE_WORD_MAX bytes of [a-z0-9_] ("min_interval", "shift_open"). */
#define VOTE_WORD_MAX 32
bool vote_word_valid(const char *word);
#define VOTE_SUPPRESSED_MIN_INTERVAL "min_interval" /* pressed inside the minimum interval */

/* One vote as both programs hold it. Strings are owned by the struct (fixed buffers). */
struct vote {
        vote_id id;
        int level;                          /* VOTE_LEVEL_* */
        char channel[VOTE_CHANNEL_MAX + 1]; /* see vote_channel_valid() */
        char employee[VOTE_REF_MAX + 1];    /* the employee's personal number */
        char workplace[VOTE_REF_MAX + 1];   /* the workplace's code; may be empty */
        char shift[VOTE_ID_LEN + 1];        /* the terminal shift's id; may be empty */
        int64_t cast_at_ms;                 /* Unix milliseconds on the caster's clock */
        /* Empty for a counted vote; else why it is kept but not counted (regulation 3.2),
         * e.g. VOTE_SUPPRESSED_MIN_INTERVAL. */
        char suppressed[VOTE_WORD_MAX + 1];
        /* The caster's boot (a UUID; empty when unknown) and its CLOCK_BOOTTIME in ms at the
         * vote: with the same pair in the batch, the collector can tell the true cast time
         * even when the terminal's wall clock was wrong (docs/protocol.md, "Clocks"). */
        char boot[VOTE_ID_LEN + 1];
        int64_t mono_ms;
};

/* Something a terminal records besides votes: a shift opened or closed, a PIN lockout. It
 * travels in the outbox and the batch like a vote, with its own unique id. */
#define VOTE_EVENT_SHIFT_OPEN "shift_open" /* employee, shift; detail: "pin" */
#define VOTE_EVENT_SHIFT_CLOSE                                                                     \
        "shift_close"                        /* employee, shift; detail: "logout", "idle",         \
                                              * "hour", "restart" */
#define VOTE_EVENT_PIN_LOCKOUT "pin_lockout" /* employee; detail: the lockout in seconds */
#define VOTE_DETAIL_MAX 64
struct vote_event {
        vote_id id;
        char kind[VOTE_WORD_MAX + 1];    /* VOTE_EVENT_* or another word */
        char employee[VOTE_REF_MAX + 1]; /* may be empty */
        char shift[VOTE_ID_LEN + 1];     /* may be empty */
        char detail[VOTE_DETAIL_MAX];    /* printable ASCII; may be empty */
        int64_t at_ms;                   /* Unix ms on the terminal's clock */
        char boot[VOTE_ID_LEN + 1];      /* as in struct vote */
        int64_t mono_ms;
};

/* This machine's boot id (/proc/sys/kernel/random/boot_id), or "" when unreadable. */
void vote_boot_id(char ret[static VOTE_ID_LEN + 1]);
/* CLOCK_BOOTTIME in ms: it counts from boot and never jumps with the wall clock. */
int64_t vote_mono_ms(void);

/* Copies src into a fixed buffer of size n; -ENAMETOOLONG when it does not fit. */
int vote_strlcpy(char *dst, const char *src, size_t n);
