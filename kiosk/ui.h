/* SPDX-License-Identifier: MIT */
/* The terminal's screen, on SDL2: the only module that talks to SDL. It owns the window,
 * the renderer, fonts (SDL_ttf), the smiley artwork (SVG through SDL_image) and the QR
 * texture, draws a struct app, and turns SDL input into app calls. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct app;
struct ui;

struct ui_options {
        bool windowed;        /* a window instead of full screen (development, tests) */
        int width, height;    /* the window's size when windowed; 0 = 800x480 */
        const char *assets;   /* the assets folder (fonts, smileys, i18n) */
        bool software;        /* SDL's software renderer */
};

/* Opens the window. Returns 0, or a negative errno with the SDL error logged. */
int ui_create(const struct ui_options *opts, struct ui **ret_ui);
void ui_destroy(struct ui *ui);

/* Draws the app's current state and presents it; does nothing when neither the app's version,
 * its language nor the window changed since the last call, so it is cheap after every wait. */
int ui_draw(struct ui *ui, const struct app *app);

/* Waits up to timeout_ms (-1 forever) for input and applies it to the app: taps and clicks
 * on smileys and the send button, the keys 1, 2, 3 and Enter. Returns 1 when the program
 * should quit (window closed, SIGTERM), else 0. It does not call app_tick(): the caller does,
 * and passes the time to the deadline app_tick() returned as timeout_ms. */
int ui_wait_and_handle(struct ui *ui, struct app *app, int timeout_ms);

/* Saves the last presented frame as PNG (test mode); -ENODATA before the first ui_draw(). */
int ui_screenshot(struct ui *ui, const char *path);
/* Pushes a wake-up so that ui_wait_and_handle() returns early: callable from any thread while
 * the ui exists (stop those threads before ui_destroy()); does nothing without a ui. */
void ui_wake(void);
