/* SPDX-License-Identifier: MIT */
/* The terminal's screen on SDL2: the window and renderer, the frame loop's two halves (draw when
 * something changed, wait for input) and input itself: taps, clicks and keys become app calls
 * through the hit targets of layout.c. ui_paint.c makes text and artwork, ui_screens.c draws the
 * screens. A frame is drawn only when the app's version, the language or the window changed.
 * The caller runs app_tick() and passes the time to its next deadline as
 * ui_wait_and_handle()'s timeout. */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>

#include "app.h"
#include "i18n.h"
#include "layout.h"
#include "log.h"
#include "qr.h"
#include "ui.h"
#include "ui_impl.h"
#include "vote.h"

#define UI_DEFAULT_WIDTH 800
#define UI_DEFAULT_HEIGHT 480
#define UI_SVG_MAX (256 * 1024) /* a smiley's SVG source, read once */

/* The event type ui_wake() pushes; 0 while no ui exists. */
static SDL_atomic_t wake_type;

SDL_Color ui_color(enum palette_color c)
{
        struct palette_rgb p = palette[c];

        return (SDL_Color){p.r, p.g, p.b, 0xff};
}

void ui_set_color(SDL_Renderer *r, SDL_Color c)
{
        SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
}

const char *ui_tr(const struct ui *ui, const char *key)
{
        return i18n_get(ui->i18n, key);
}

/* ---- layout and language ---- */

/* Makes sure the layout matches the renderer's output size. Returns 0, or -EINVAL for a screen
 * under 320x240 (logged once per size). */
static int ensure_layout(struct ui *ui)
{
        int w, h, r;

        if (SDL_GetRendererOutputSize(ui->renderer, &w, &h) < 0) {
                log_error("Cannot read the screen size: %s", SDL_GetError());
                return -EIO;
        }
        if (ui->layout.width == w && ui->layout.height == h)
                return ui->layout_ok ? 0 : -EINVAL;
        ui_paint_free(ui);
        ui->dirty = true;
        r = layout_compute(w, h, &ui->layout);
        ui->layout_ok = r == 0;
        if (r < 0) {
                ui->layout = (struct layout){.width = w, .height = h};
                log_error("The screen is %dx%d, too small for the terminal (320x240 at least)", w,
                          h);
        } else
                log_info("Screen %dx%d, %s", w, h, ui->layout.portrait ? "portrait" : "landscape");
        return r;
}

static void ensure_i18n(struct ui *ui, enum vote_lang lang)
{
        struct i18n *t;

        if (ui->lang == lang && (ui->i18n || ui->i18n_tried))
                return;
        ui->lang = lang;
        ui->i18n_tried = true;
        /* i18n_load() logs its own failure; the keys themselves show instead */
        if (i18n_load(ui->assets, lang, &t) < 0)
                t = NULL;
        i18n_free(ui->i18n);
        ui->i18n = t;
        for (int i = 0; i < SLOT_COUNT; i++)
                ui_text_free(&ui->text[i]);
        ui_tiles_free(ui); /* the smiley cards carry their labels */
}

/* ---- frames ---- */

static enum ui_group screen_group(enum app_screen s)
{
        switch (s) {
        case APP_SCREEN_OPEN:
        case APP_SCREEN_THANKS:
                return GROUP_VOTING;
        case APP_SCREEN_CLOSED:
                return GROUP_CLOSED;
        case APP_SCREEN_TROUBLE:
                return GROUP_TROUBLE;
        default:
                return GROUP_STAFF;
        }
}

/* Draws the whole frame into the renderer's back buffer, without presenting it. */
static int render(struct ui *ui, const struct app *app)
{
        enum ui_group group = screen_group(app->screen);
        int r;

        ui->frame++;
        ensure_i18n(ui, app->lang);
        ui_set_color(ui->renderer, ui_color(PALETTE_BG));
        SDL_RenderClear(ui->renderer);
        r = ensure_layout(ui);
        if (r < 0)
                return r;
        ui_screens_draw(ui, app);
        /* what only the screens left behind showed need not stay resident; the voting
         * screens' tiles stay through a staff detour, and go when the shift does */
        if (ui->group != GROUP_NONE && group != ui->group)
                ui_paint_sweep(ui, group == GROUP_CLOSED || group == GROUP_TROUBLE);
        ui->group = group;
        return 0;
}

int ui_draw(struct ui *ui, const struct app *app)
{
        int r;

        if (!ui->dirty && ui->have_shown && ui->shown_version == app->version &&
            ui->shown_lang == app->lang && ui->layout_ok)
                return 0;
        r = render(ui, app);
        SDL_RenderPresent(ui->renderer);
        ui->shown_version = app->version;
        ui->shown_lang = app->lang;
        ui->have_shown = true;
        ui->dirty = false;
        return r;
}

int ui_screenshot(struct ui *ui, const struct app *app, const char *path)
{
        SDL_Surface *s = NULL;
        int w, h, r;

        /* draw the state again and read it back before anything presents it */
        r = render(ui, app);
        if (r < 0)
                return r;
        if (SDL_GetRendererOutputSize(ui->renderer, &w, &h) < 0)
                goto sdl_fail;
        s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 24, SDL_PIXELFORMAT_RGB24);
        if (!s)
                goto sdl_fail;
        if (SDL_RenderReadPixels(ui->renderer, NULL, SDL_PIXELFORMAT_RGB24, s->pixels, s->pitch) <
            0)
                goto sdl_fail;
        if (IMG_SavePNG(s, path) < 0) {
                log_error("Cannot save the screenshot %s: %s", path, IMG_GetError());
                r = -EIO;
                goto out;
        }
        r = 0;
        goto out;
sdl_fail:
        log_error("Cannot take a screenshot: %s", SDL_GetError());
        r = -EIO;
out:
        SDL_FreeSurface(s);
        return r;
}

/* ---- input ---- */

void ui_tap(struct ui *ui, struct app *app, int x, int y, int64_t now_ms)
{
        enum layout_target t;

        if (ensure_layout(ui) < 0)
                return;
        t = layout_hit(&ui->layout, ui_layout_screen(app), x, y);
        if (t >= LAYOUT_SMILEY_1 && t <= LAYOUT_SMILEY_3)
                app_select(app, (int)t, now_ms);
        else if (t == LAYOUT_SEND)
                app_send(app, now_ms); /* -EAGAIN with nothing chosen: the button looks disabled */
        else if (t == LAYOUT_STAFF)
                app_staff(app, now_ms);
        else if (t == LAYOUT_BACK)
                app_back(app, now_ms);
        else if (t == LAYOUT_PREV)
                app_list_scroll(app, -ui->layout.list_rows, now_ms);
        else if (t == LAYOUT_NEXT)
                app_list_scroll(app, ui->layout.list_rows, now_ms);
        else if (t == LAYOUT_NUMBER)
                app_list_number(app, now_ms);
        else if (t == LAYOUT_LOGOUT)
                app_menu(app, APP_MENU_LOGOUT, now_ms);
        else if (t == LAYOUT_STATUS)
                app_menu(app, APP_MENU_STATUS, now_ms);
        else if (t == LAYOUT_LANG)
                app_menu(app, APP_MENU_LANG, now_ms);
        else if (t == LAYOUT_ENROLL)
                app_menu(app, APP_MENU_ENROLL, now_ms);
        else if (t == LAYOUT_CONNECT)
                app_connect(app, now_ms);
        else if (t >= LAYOUT_KEY_0 && t <= LAYOUT_KEY_0 + 9)
                app_key(app, (char)('0' + (t - LAYOUT_KEY_0)), now_ms);
        else if (t == LAYOUT_KEY_ERASE)
                app_key(app, '\b', now_ms);
        else if (t == LAYOUT_KEY_OK)
                app_key(app, '\n', now_ms);
        else if (t >= LAYOUT_ROW_0 && t < LAYOUT_TARGET_END)
                app_list_pick(app, app->list_first + (size_t)(t - LAYOUT_ROW_0), now_ms);
        else
                app_touch(app, now_ms);
}

void ui_key(struct ui *ui, struct app *app, char key, int64_t now_ms)
{
        if (key == 27) {
                app_back(app, now_ms);
                return;
        }
        switch (app->screen) {
        case APP_SCREEN_OPEN:
                if (key >= '1' && key <= '3')
                        app_select(app, key - '0', now_ms);
                else if (key == '\n')
                        app_send(app, now_ms);
                else
                        app_touch(app, now_ms);
                break;
        case APP_SCREEN_LOGIN_NUMBER:
        case APP_SCREEN_PIN:
        case APP_SCREEN_ENROLL:
                app_key(app, key, now_ms);
                break;
        default:
                app_touch(app, now_ms);
                break;
        }
}

bool ui_target_rect(struct ui *ui, const struct app *app, const char *name, struct layout_rect *ret)
{
        enum layout_target t = layout_target_from_name(name);

        if (t == LAYOUT_NONE || ensure_layout(ui) < 0)
                return false;
        return layout_target_rect(&ui->layout, ui_layout_screen(app), t, ret);
}

/* Window coordinates to the renderer's pixels, which differ on high-DPI screens. */
static void tap_window(struct ui *ui, struct app *app, int x, int y)
{
        int ww, wh, ow, oh;

        SDL_GetWindowSize(ui->window, &ww, &wh);
        if (SDL_GetRendererOutputSize(ui->renderer, &ow, &oh) < 0 || ww <= 0 || wh <= 0)
                return;
        ui_tap(ui, app, x * ow / ww, y * oh / wh, app_now_ms());
}

static char key_of(SDL_Keycode sym)
{
        if (sym >= SDLK_0 && sym <= SDLK_9)
                return (char)('0' + (sym - SDLK_0));
        if (sym >= SDLK_KP_1 && sym <= SDLK_KP_9)
                return (char)('1' + (sym - SDLK_KP_1));
        switch (sym) {
        case SDLK_KP_0:
                return '0';
        case SDLK_RETURN:
        case SDLK_KP_ENTER:
                return '\n';
        case SDLK_BACKSPACE:
                return '\b';
        case SDLK_ESCAPE:
                return 27;
        default:
                return 0;
        }
}

static int handle(struct ui *ui, struct app *app, const SDL_Event *ev)
{
        int ow, oh;
        char key;

        switch (ev->type) {
        case SDL_QUIT:
                return 1;
        case SDL_WINDOWEVENT:
                if (ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
                        ensure_layout(ui);
                if (ev->window.event == SDL_WINDOWEVENT_EXPOSED ||
                    ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
                        ui->dirty = true;
                break;
        case SDL_RENDER_DEVICE_RESET:
                ui_paint_free(ui); /* the textures are gone with the device */
                ui->dirty = true;
                break;
        case SDL_RENDER_TARGETS_RESET:
                /* what was drawn into textures (tiles, flattened art and text) is lost */
                ui_paint_free(ui);
                ui->dirty = true;
                break;
        case SDL_MOUSEBUTTONDOWN:
                /* a finger also arrives as SDL_FINGERDOWN: count it once */
                if (ev->button.which != SDL_TOUCH_MOUSEID && ev->button.button == SDL_BUTTON_LEFT)
                        tap_window(ui, app, ev->button.x, ev->button.y);
                break;
        case SDL_FINGERDOWN:
                if (SDL_GetRendererOutputSize(ui->renderer, &ow, &oh) == 0)
                        ui_tap(ui, app, (int)(ev->tfinger.x * (float)ow),
                               (int)(ev->tfinger.y * (float)oh), app_now_ms());
                break;
        case SDL_KEYDOWN:
                if (ev->key.repeat)
                        break;
                key = key_of(ev->key.keysym.sym);
                if (key)
                        ui_key(ui, app, key, app_now_ms());
                break;
        default:
                /* ui_wake()'s event needs nothing: returning lets the caller refresh */
                break;
        }
        return 0;
}

int ui_wait_and_handle(struct ui *ui, struct app *app, int timeout_ms)
{
        SDL_Event ev;
        int got;

        got = timeout_ms < 0 ? SDL_WaitEvent(&ev) : SDL_WaitEventTimeout(&ev, timeout_ms);
        if (!got)
                return 0; /* the timeout, the caller's next deadline */
        do {
                if (handle(ui, app, &ev))
                        return 1;
        } while (SDL_PollEvent(&ev));
        return 0;
}

void ui_wake(void)
{
        SDL_Event ev = {0};
        int type = SDL_AtomicGet(&wake_type);

        if (type <= 0)
                return;
        ev.type = (Uint32)type;
        SDL_PushEvent(&ev);
}

/* ---- setup ---- */

static bool font_has_ukrainian(TTF_Font *f)
{
        /* і, ї, є, ґ: a Russian-only Cyrillic font lacks some of these */
        return TTF_GlyphIsProvided32(f, 0x0456) && TTF_GlyphIsProvided32(f, 0x0457) &&
               TTF_GlyphIsProvided32(f, 0x0454) && TTF_GlyphIsProvided32(f, 0x0491);
}

/* The first usable font of the candidates: the assets folder first, then the system's. */
static TTF_Font *font_open(const char *assets, const char *const names[], int n_names,
                           const char *system_path)
{
        char path[4096];

        for (int i = 0; i <= n_names; i++) {
                TTF_Font *f;

                if (i < n_names)
                        snprintf(path, sizeof(path), "%s/fonts/%s", assets, names[i]);
                else
                        snprintf(path, sizeof(path), "%s", system_path);
                f = TTF_OpenFont(path, 16);
                if (!f)
                        continue;
                if (font_has_ukrainian(f)) {
                        log_debug("Font %s", path);
                        return f;
                }
                log_warn("Font %s lacks Ukrainian letters; not using it", path);
                TTF_CloseFont(f);
        }
        return NULL;
}

static int fonts_open(struct ui *ui)
{
        static const char *const regular[] = {"regular.ttf", "DejaVuSans.ttf"};
        static const char *const bold[] = {"bold.ttf", "DejaVuSans-Bold.ttf"};

        ui->font[FACE_REGULAR] =
            font_open(ui->assets, regular, 2, "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        if (!ui->font[FACE_REGULAR]) {
                log_error("No font with Ukrainian letters: put regular.ttf (and bold.ttf) into "
                          "%s/fonts, or install fonts-dejavu-core",
                          ui->assets);
                return -ENOENT;
        }
        ui->font[FACE_BOLD] =
            font_open(ui->assets, bold, 2, "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf");
        if (!ui->font[FACE_BOLD]) {
                /* no bold face: the regular one, emboldened by FreeType */
                ui->font[FACE_BOLD] = font_open(ui->assets, regular, 2,
                                                "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
                if (!ui->font[FACE_BOLD])
                        return -ENOENT;
                TTF_SetFontStyle(ui->font[FACE_BOLD], TTF_STYLE_BOLD);
        }
        return 0;
}

/* Whether the renderer can draw into textures, and in which format: the window's when the
 * renderer takes it, so that copying a tile to the screen needs no conversion. */
static void targets_probe(struct ui *ui)
{
        SDL_RendererInfo info;
        Uint32 win = SDL_GetWindowPixelFormat(ui->window);

        ui->targets = SDL_RenderTargetSupported(ui->renderer);
        ui->opaque_format = SDL_PIXELFORMAT_ARGB8888;
        if (SDL_GetRendererInfo(ui->renderer, &info) < 0) {
                ui->targets = false;
                return;
        }
        for (Uint32 i = 0; i < info.num_texture_formats; i++)
                if (win != SDL_PIXELFORMAT_UNKNOWN && info.texture_formats[i] == win)
                        ui->opaque_format = win;
        log_debug("Renderer %s, render targets %s, tiles in %s", info.name,
                  ui->targets ? "yes" : "no", SDL_GetPixelFormatName(ui->opaque_format));
}

static int smileys_load(struct ui *ui)
{
        char path[4096];

        for (int i = 0; i < 3; i++) {
                snprintf(path, sizeof(path), "%s/smileys/level-%d.svg", ui->assets, i + 1);
                ui->svg[i] = SDL_LoadFile(path, &ui->svg_len[i]);
                if (!ui->svg[i]) {
                        log_error("Cannot read the smiley %s: %s", path, SDL_GetError());
                        return -ENOENT;
                }
                if (ui->svg_len[i] > UI_SVG_MAX) {
                        log_error("The smiley %s is over %d bytes", path, UI_SVG_MAX);
                        return -EFBIG;
                }
        }
        return 0;
}

int ui_create(const struct ui_options *opts, struct ui **ret_ui)
{
        struct ui *ui;
        Uint32 flags = SDL_WINDOW_SHOWN;
        int w = UI_DEFAULT_WIDTH, h = UI_DEFAULT_HEIGHT, x = 0, y = 0, r;
        Uint32 type;

        ui = calloc(1, sizeof(*ui));
        if (!ui)
                return -ENOMEM;
        ui->assets = strdup(opts->assets ? opts->assets : OTSINKA_ASSETS_DIR);
        if (!ui->assets) {
                free(ui);
                return -ENOMEM;
        }
        ui->fullscreen = !opts->windowed;
        ui->dirty = true;
#ifdef __GLIBC__
        /* A texture is its pixels in the heap with the software renderer. glibc would raise its
         * mmap threshold on the first freed texture and from then on carve textures out of the
         * heap, whose freed holes stay resident between the small blocks that TLS, SQLite and
         * SDL_ttf leave there (1 MB at 1920x1080 after a vote, with malloc_trim). A fixed
         * threshold keeps every texture over 64 KiB in a mapping of its own, unmapped when
         * freed. Textures are made when a cache is built, never in a tap's frame. */
        mallopt(M_MMAP_THRESHOLD, 64 * 1024);
#endif

        SDL_SetHint(SDL_HINT_VIDEO_MINIMIZE_ON_FOCUS_LOSS, "0");
        /* else the software renderer's window surface probes OpenGL in a hidden window, and
         * Mesa with LLVM stays loaded: some 70 MB for nothing */
        if (opts->software)
                SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
        SDL_SetHint(SDL_HINT_MOUSE_TOUCH_EVENTS, "0");
        if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS) < 0) {
                log_error("Cannot start SDL: %s", SDL_GetError());
                free(ui->assets);
                free(ui);
                return -EIO;
        }
        /* With no display reachable SDL falls back to drivers that show nothing: a terminal
         * that takes votes on a screen nobody sees must stop instead (the service restarts it
         * until the display is there). Only asked for by name (SDL_VIDEODRIVER) are they fine. */
        if (!getenv("SDL_VIDEODRIVER") && SDL_GetCurrentVideoDriver() &&
            (strcmp(SDL_GetCurrentVideoDriver(), "offscreen") == 0 ||
             strcmp(SDL_GetCurrentVideoDriver(), "dummy") == 0)) {
                log_error("No display: SDL found only its \"%s\" video driver (is DISPLAY, "
                          "WAYLAND_DISPLAY or a KMS device there?)",
                          SDL_GetCurrentVideoDriver());
                SDL_Quit();
                free(ui->assets);
                free(ui);
                return -ENODEV;
        }
        if (TTF_Init() < 0) {
                log_error("Cannot start SDL_ttf: %s", TTF_GetError());
                r = -EIO;
                goto fail;
        }
        r = smileys_load(ui);
        if (r < 0)
                goto fail;
        r = fonts_open(ui);
        if (r < 0)
                goto fail;

        if (opts->windowed) {
                if (opts->width > 0 && opts->height > 0) {
                        w = opts->width;
                        h = opts->height;
                }
                flags |= SDL_WINDOW_RESIZABLE;
        } else {
                flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
                x = y = (int)SDL_WINDOWPOS_UNDEFINED;
        }
        ui->window = SDL_CreateWindow("Otsinka", x, y, w, h, flags);
        if (!ui->window) {
                log_error("Cannot open a %dx%d window: %s", w, h, SDL_GetError());
                r = -EIO;
                goto fail;
        }
        if (!opts->software)
                ui->renderer = SDL_CreateRenderer(ui->window, -1, SDL_RENDERER_ACCELERATED);
        if (!ui->renderer) {
                if (!opts->software)
                        log_warn("No accelerated renderer (%s); drawing in software",
                                 SDL_GetError());
                ui->renderer = SDL_CreateRenderer(ui->window, -1, SDL_RENDERER_SOFTWARE);
        }
        if (!ui->renderer) {
                log_error("Cannot create a renderer: %s", SDL_GetError());
                r = -EIO;
                goto fail;
        }
        /* every colour the screens fill with is opaque (the QR code's): a plain fill, not a
         * blend, unless qr_fill() finds blending the faster for its many small runs */
        SDL_SetRenderDrawBlendMode(ui->renderer, SDL_BLENDMODE_NONE);
        targets_probe(ui);
        if (ui->fullscreen)
                SDL_ShowCursor(SDL_DISABLE);

        type = SDL_RegisterEvents(1);
        if (type == (Uint32)-1) {
                log_error("Cannot register the wake-up event: SDL has no event types left");
                r = -ENOSPC;
                goto fail;
        }
        SDL_AtomicSet(&wake_type, (int)type);
        /* a layout for a screen under 320x240 fails here; ui_draw() then shows it blank */
        ensure_layout(ui);
        *ret_ui = ui;
        return 0;
fail:
        ui_destroy(ui);
        return r;
}

void ui_destroy(struct ui *ui)
{
        if (!ui)
                return;
        SDL_AtomicSet(&wake_type, 0);
        ui_paint_free(ui);
        qr_finish(&ui->qr);
        free(ui->qr_url);
        i18n_free(ui->i18n);
        for (int i = 0; i < FACE_COUNT; i++)
                if (ui->font[i])
                        TTF_CloseFont(ui->font[i]);
        for (int i = 0; i < 3; i++)
                SDL_free(ui->svg[i]);
        if (ui->renderer)
                SDL_DestroyRenderer(ui->renderer);
        if (ui->window)
                SDL_DestroyWindow(ui->window);
        if (TTF_WasInit())
                TTF_Quit();
        SDL_Quit();
        free(ui->assets);
        free(ui);
}
