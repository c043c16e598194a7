/* SPDX-License-Identifier: MIT */
/* The terminal's screen, on SDL2: the only module that talks to SDL (with its helpers
 * ui_paint.c and ui_screens.c). It owns the window, the renderer, fonts (SDL_ttf), the smiley
 * artwork (SVG through SDL_image) and the QR code, draws a struct app, and turns SDL input into
 * app calls. The script mode (script.c) feeds the same taps and keys through ui_tap() and
 * ui_key() with fake time. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"

struct app;
struct ui;

struct ui_options {
        bool windowed;      /* a window instead of full screen (development, tests) */
        int width, height;  /* the window's size when windowed; 0 = 800x480 */
        const char *assets; /* the assets folder (fonts, smileys, i18n) */
        bool software;      /* SDL's software renderer */
};

/* Opens the window. Returns 0, or a negative errno with the SDL error logged. */
int ui_create(const struct ui_options *opts, struct ui **ret_ui);
void ui_destroy(struct ui *ui);

/* Draws the app's current state and presents it; does nothing when neither the app's version,
 * its language nor the window changed since the last call, so it is cheap after every wait. */
int ui_draw(struct ui *ui, const struct app *app);

/* Waits up to timeout_ms (-1 forever) for input and applies it to the app: taps and clicks
 * on the current screen's targets, the keys 1, 2, 3 and Enter to vote, digits, Backspace and
 * Enter on the keypads, Escape for «Назад». Returns 1 when the program should quit (window
 * closed, SIGTERM), else 0. It does not call app_tick(): the caller does, and passes the time
 * to the deadline app_tick() returned as timeout_ms. */
int ui_wait_and_handle(struct ui *ui, struct app *app, int timeout_ms);

/* A tap at (x, y) in the renderer's pixels, at monotonic time now_ms: what a finger does. */
void ui_tap(struct ui *ui, struct app *app, int x, int y, int64_t now_ms);
/* A key: '0'..'9', '\n' (Enter), '\b' (Backspace), 27 (Escape). */
void ui_key(struct ui *ui, struct app *app, char key, int64_t now_ms);
/* Where the named target ("send", "key7", "row0", see layout_target_name()) is on the screen
 * the app shows; false when that screen has no such target. */
bool ui_target_rect(struct ui *ui, const struct app *app, const char *name,
                    struct layout_rect *ret);

/* Draws the app's state and saves it as PNG without presenting it (test mode). */
int ui_screenshot(struct ui *ui, const struct app *app, const char *path);
/* Pushes a wake-up so that ui_wait_and_handle() returns early: callable from any thread while
 * the ui exists (stop those threads before ui_destroy()); does nothing without a ui. */
void ui_wake(void);
