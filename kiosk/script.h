/* SPDX-License-Identifier: MIT */
/* The terminal's test mode: `otsinka-kiosk --script FILE --screenshots DIR` drives the screens
 * from a script of input events instead of a person, on fake time, and saves screenshots, so
 * that tests of the screens are deterministic. It feeds the same ui_tap() / ui_key() calls a
 * finger or a keyboard does. One command a line; '#' starts a comment:
 *
 *   clock UNIX_S          the fake wall clock now reads UNIX_S
 *   tap X Y               a tap at pixel (X, Y)
 *   tap-target NAME       a tap at the centre of a target of the screen shown ("send", "staff",
 *                         "smiley3", "key7", "ok", "erase", "back", "row0", "next", "logout",
 *                         "menu-status", "lang", "connect", "enroll"; see layout_target_name())
 *   key K                 a key: a digit, enter, backspace or escape
 *   type DIGITS           one key per digit
 *   advance MS            fake time moves on; timers fire in order on the way
 *   wait MS               real time passes (the uploader works, e.g. enrolls with a code typed
 *                         on the code keypad); fake time stands still
 *   status K V [K V...]   pretends the uploader reported: online, pending, events, rejected,
 *                         clock (offset ms), unauthorized, enrolled, last-ok (Unix s)
 *   roster FILE           saves FILE as the collector's roster and loads it
 *   expect SCREEN         fails unless the screen is closed, open, thanks, trouble, list,
 *                         number, pin, menu, status or enroll (the code keypad)
 *   shot NAME             saves DIR/NAME.png
 *   quit                  ends the script (so does its end) */
#pragma once

#include <stdint.h>

struct app;
struct outbox;
struct sync;
struct ui;

struct script_options {
        const char *path;        /* the script */
        const char *screenshots; /* the folder for shot; created if missing */
        struct ui *ui;
        struct app *app;
        struct outbox *outbox; /* may be NULL (the store did not open) */
        struct sync *sync;     /* may be NULL (no collector) */
        int64_t start_ms;      /* the fake monotonic clock's start */
};

/* Runs the script to its end. Returns 0, or -EINVAL for a bad line or a failed expect (logged
 * with the file and line), or the error of a file that cannot be read or written. */
int script_run(const struct script_options *o);
