/* SPDX-License-Identifier: MIT */
/* The terminal's screen on SDL2: draws a struct app into the rects of layout.c and turns taps,
 * clicks and keys into app_select() / app_send(). Text and smileys (SVG) are cached textures made
 * at their exact pixel size and the QR code is whole-pixel rectangles, so the renderer never
 * scales anything; a frame is drawn only when the app's version, the language or the window
 * changed. The caller runs app_tick() and passes the time to its next deadline as
 * ui_wait_and_handle()'s timeout. */
#include <errno.h>
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
#include "vote.h"

#define UI_DEFAULT_WIDTH 800
#define UI_DEFAULT_HEIGHT 480
#define UI_SVG_MAX (256 * 1024) /* a smiley's SVG source, read once */
#define UI_QR_QUIET 4           /* modules of white around the code, as ISO 18004 asks */
#define QR_RUNS_MAX 177         /* modules per side of a version-40 code */
#define TEXT_LINES_MAX 6
#define TEXT_MAX 1024 /* bytes of one line; longer text is cut */

/* Colours, with their WCAG contrast: dark text on a warm light grey, white on dark blue. */
static const SDL_Color col_bg = {0xf5, 0xf5, 0xf0, 0xff};
static const SDL_Color col_text = {0x1a, 0x1a, 0x1a, 0xff};  /* 16:1 on col_bg */
static const SDL_Color col_text2 = {0x3d, 0x3d, 0x3a, 0xff}; /* 10:1 */
static const SDL_Color col_quiet = {0x55, 0x55, 0x50, 0xff}; /* 6.9:1, status and captions */
static const SDL_Color col_dim = {0x6b, 0x6b, 0x66, 0xff};   /* 5:1, unchosen smileys' labels */
static const SDL_Color col_white = {0xff, 0xff, 0xff, 0xff};
static const SDL_Color col_action = {0x1f, 0x4e, 0x8c, 0xff};   /* white on it 8.3:1 */
static const SDL_Color col_off = {0xdc, 0xdc, 0xd6, 0xff};      /* a disabled button */
static const SDL_Color col_off_text = {0x5a, 0x5a, 0x54, 0xff}; /* 5:1 on col_off */
static const SDL_Color col_rule = {0xd6, 0xd6, 0xce, 0xff};     /* hairlines, card borders */

enum face { FACE_REGULAR, FACE_BOLD, FACE_COUNT };

enum {
        TEXT_LEFT = 0,
        TEXT_CENTER = 1,
        TEXT_RIGHT = 2,
        TEXT_ALIGN_MASK = 3,
        TEXT_WRAP = 4, /* break at spaces into as many lines as the box holds */
};

struct text_style {
        enum face face;
        int size;     /* the preferred pixel size */
        int min_size; /* shrink no further; then cut with "…" */
        SDL_Color color;
        int flags; /* TEXT_* */
};

/* Every piece of text on screen has a slot that caches its texture. */
enum slot {
        SLOT_NAME,
        SLOT_POSITION,
        SLOT_UNIT,
        SLOT_PROMPT,
        SLOT_LABEL_1,
        SLOT_LABEL_2,
        SLOT_LABEL_3,
        SLOT_SEND,
        SLOT_CAPTION,
        SLOT_STATUS,
        SLOT_MSG_1, /* the large lines of the closed, thank-you and trouble screens */
        SLOT_MSG_2,
        SLOT_MSG_3,
        SLOT_COUNT,
};

struct text {
        char *s; /* the text shown; owned */
        struct text_style style;
        int max_w, max_h;
        SDL_Texture *tex; /* NULL for empty text */
        int w, h;
};

/* A texture with the size it was made for. */
struct art {
        SDL_Texture *tex;
        int w, h;
};

struct ui {
        SDL_Window *window;
        SDL_Renderer *renderer;
        TTF_Font *font[FACE_COUNT];
        char *assets;
        void *svg[3]; /* smiley sources, level 1..3; SDL_free */
        size_t svg_len[3];
        bool fullscreen;

        struct i18n *i18n;
        enum vote_lang lang;
        bool i18n_tried; /* for lang, so a missing file is logged once */

        struct layout layout;
        bool layout_ok;

        /* caches, all made for the current layout */
        struct art smiley[3];
        struct art big_smiley; /* the thank-you screen's green face */
        struct art card, card_selected, badge, button;
        struct qr qr; /* the module matrix of qr_url */
        char qr_url[sizeof(((struct app_employee *)0)->vote_url)];
        struct text text[SLOT_COUNT];

        struct app shown; /* a copy of what the last ui_draw() drew */
        bool have_shown;
        bool dirty; /* exposed, resized or reset: draw even if the version is the same */
};

/* The event type ui_wake() pushes; 0 while no ui exists. */
static SDL_atomic_t wake_type;

/* ---- small helpers ---- */

static int mini(int a, int b)
{
        return a < b ? a : b;
}

static int maxi(int a, int b)
{
        return a > b ? a : b;
}

static void set_color(SDL_Renderer *r, SDL_Color c)
{
        SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
}

static void art_free(struct art *a)
{
        if (a->tex)
                SDL_DestroyTexture(a->tex);
        *a = (struct art){0};
}

static void text_free(struct text *t)
{
        if (t->tex)
                SDL_DestroyTexture(t->tex);
        free(t->s);
        *t = (struct text){0};
}

/* Drops everything made for one window size. */
static void caches_free(struct ui *ui)
{
        for (int i = 0; i < 3; i++)
                art_free(&ui->smiley[i]);
        art_free(&ui->big_smiley);
        art_free(&ui->card);
        art_free(&ui->card_selected);
        art_free(&ui->badge);
        art_free(&ui->button);
        for (int i = 0; i < SLOT_COUNT; i++)
                text_free(&ui->text[i]);
}

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
        caches_free(ui);
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
                text_free(&ui->text[i]);
}

static const char *tr(const struct ui *ui, const char *key)
{
        return i18n_get(ui->i18n, key);
}

/* ---- text ---- */

struct lines {
        int n;
        bool cut; /* more text than lines */
        int w[TEXT_LINES_MAX];
        char s[TEXT_LINES_MAX][TEXT_MAX];
};

static int text_width(TTF_Font *f, const char *s)
{
        int w = 0, h;

        if (*s && TTF_SizeUTF8(f, s, &w, &h) < 0)
                return 1 << 20;
        return w;
}

/* Appends s[0..len) as a line; false when the lines are full. */
static bool line_add(struct lines *l, TTF_Font *f, const char *s, size_t len)
{
        if (l->n == TEXT_LINES_MAX) {
                l->cut = true;
                return false;
        }
        if (len >= TEXT_MAX) {
                len = TEXT_MAX - 1;
                while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
                        len--;
        }
        memcpy(l->s[l->n], s, len);
        l->s[l->n][len] = 0;
        l->w[l->n] = text_width(f, l->s[l->n]);
        l->n++;
        return true;
}

/* Breaks s into lines at '\n' and, with wrap, at spaces where a line would exceed max_w. */
static void lines_break(TTF_Font *f, const char *s, int max_w, bool wrap, struct lines *l)
{
        char probe[TEXT_MAX];

        l->n = 0;
        l->cut = false;
        for (const char *p = s;;) {
                const char *end = strchr(p, '\n');
                const char *start = NULL, *stop = NULL, *q = p;

                if (!end)
                        end = p + strlen(p);
                if (!wrap) {
                        if (!line_add(l, f, p, (size_t)(end - p)))
                                return;
                } else {
                        while (q < end) {
                                const char *ws, *we;

                                for (ws = q; ws < end && *ws == ' '; ws++)
                                        ;
                                if (ws == end)
                                        break;
                                for (we = ws; we < end && *we != ' '; we++)
                                        ;
                                if (!start) {
                                        start = ws;
                                        stop = we;
                                } else if ((size_t)(we - start) < sizeof(probe)) {
                                        memcpy(probe, start, (size_t)(we - start));
                                        probe[we - start] = 0;
                                        if (text_width(f, probe) <= max_w)
                                                stop = we;
                                        else {
                                                if (!line_add(l, f, start, (size_t)(stop - start)))
                                                        return;
                                                start = ws;
                                                stop = we;
                                        }
                                } else
                                        stop = we;
                                q = we;
                        }
                        if (!line_add(l, f, start ? start : p, start ? (size_t)(stop - start) : 0))
                                return;
                }
                if (!*end)
                        break;
                p = end + 1;
        }
}

/* Cuts line i until it, with "…", fits max_w. */
static void line_ellipsize(TTF_Font *f, struct lines *l, int i, int max_w)
{
        char *s = l->s[i], buf[TEXT_MAX];
        size_t len = strlen(s);

        if (len > TEXT_MAX - 4)
                len = TEXT_MAX - 4; /* room for the three bytes of "…" */
        for (;;) {
                while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
                        len--;
                while (len > 0 && s[len - 1] == ' ')
                        len--;
                memcpy(buf, s, len);
                memcpy(buf + len, "…", sizeof("…"));
                if (len == 0 || text_width(f, buf) <= max_w)
                        break;
                len--;
        }
        memcpy(s, buf, strlen(buf) + 1);
        l->w[i] = text_width(f, s);
}

/* Narrows the wrap width as far as the same number of lines allows, so that the lines come
 * out even instead of a long one and an orphan. */
static void lines_balance(TTF_Font *f, const char *s, int max_w, struct lines *l)
{
        struct lines *t = malloc(sizeof(*t));
        int lo = 1, hi = max_w;

        if (!t)
                return;
        while (lo < hi) {
                int mid = lo + (hi - lo) / 2, widest = 0;

                lines_break(f, s, mid, true, t);
                for (int i = 0; i < t->n; i++)
                        widest = maxi(widest, t->w[i]);
                if (!t->cut && t->n == l->n && widest <= mid)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        if (hi < max_w)
                lines_break(f, s, hi, true, l);
        free(t);
}

/* Finds the largest size from style->size down to style->min_size at which s fits the box;
 * at the smallest size, cuts what still does not fit. Leaves the font at that size. */
static void text_fit(TTF_Font *f, const char *s, const struct text_style *st, int max_w, int max_h,
                     struct lines *l)
{
        bool wrap = st->flags & TEXT_WRAP;

        for (int size = st->size;; size -= maxi(1, size / 12)) {
                int max_lines, height;
                bool fits;

                size = maxi(size, st->min_size);
                TTF_SetFontSize(f, size);
                max_lines = 1;
                if (wrap)
                        max_lines = maxi(1, (max_h - TTF_FontHeight(f)) / TTF_FontLineSkip(f) + 1);
                lines_break(f, s, max_w, wrap, l);
                height = (l->n - 1) * TTF_FontLineSkip(f) + TTF_FontHeight(f);
                fits = !l->cut && l->n <= max_lines && height <= max_h;
                for (int i = 0; i < l->n; i++)
                        fits = fits && l->w[i] <= max_w;
                if (fits) {
                        if (wrap && l->n > 1)
                                lines_balance(f, s, max_w, l);
                        return;
                }
                if (size > st->min_size)
                        continue;
                /* the smallest size: keep the lines that fit, end the last with "…" */
                if (l->n > max_lines) {
                        l->n = max_lines;
                        l->cut = true;
                }
                for (int i = 0; i < l->n; i++)
                        if (l->w[i] > max_w || (l->cut && i == l->n - 1))
                                line_ellipsize(f, l, i, max_w);
                return;
        }
}

static SDL_Texture *text_render(struct ui *ui, const char *s, const struct text_style *st,
                                int max_w, int max_h, int *ret_w, int *ret_h)
{
        TTF_Font *f = ui->font[st->face];
        SDL_Surface *surf = NULL;
        SDL_Texture *tex = NULL;
        struct lines *l;
        int w = 0, h, skip;

        l = malloc(sizeof(*l));
        if (!l)
                return NULL;
        text_fit(f, s, st, max_w, max_h, l);
        skip = TTF_FontLineSkip(f);
        for (int i = 0; i < l->n; i++)
                w = maxi(w, mini(l->w[i], max_w));
        h = (l->n - 1) * skip + TTF_FontHeight(f);
        if (w <= 0 || h <= 0)
                goto out;
        surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
        if (!surf)
                goto out;
        SDL_FillRect(surf, NULL, 0);
        for (int i = 0; i < l->n; i++) {
                SDL_Surface *line;
                SDL_Rect dst = {0, i * skip, 0, 0};
                int align = st->flags & TEXT_ALIGN_MASK;

                if (!l->s[i][0])
                        continue;
                line = TTF_RenderUTF8_Blended(f, l->s[i], st->color);
                if (!line)
                        goto out;
                if (align == TEXT_CENTER)
                        dst.x = (w - line->w) / 2;
                else if (align == TEXT_RIGHT)
                        dst.x = w - line->w;
                /* copy, not blend: lines never overlap and blending onto transparent darkens */
                SDL_SetSurfaceBlendMode(line, SDL_BLENDMODE_NONE);
                SDL_BlitSurface(line, NULL, surf, &dst);
                SDL_FreeSurface(line);
        }
        tex = SDL_CreateTextureFromSurface(ui->renderer, surf);
        if (tex) {
                SDL_SetTextureBlendMode(tex, SDL_BLENDMODE_BLEND);
                *ret_w = w;
                *ret_h = h;
        }
out:
        if (!tex && w > 0 && h > 0)
                log_warn("Cannot draw text \"%s\": %s", s, SDL_GetError());
        SDL_FreeSurface(surf);
        free(l);
        return tex;
}

static bool style_equal(const struct text_style *a, const struct text_style *b)
{
        return a->face == b->face && a->size == b->size && a->min_size == b->min_size &&
               a->color.r == b->color.r && a->color.g == b->color.g && a->color.b == b->color.b &&
               a->color.a == b->color.a && a->flags == b->flags;
}

/* The slot's texture for s in this style and box, made only when something differs. */
static const struct text *text_get(struct ui *ui, enum slot slot, const char *s,
                                   const struct text_style *st, int max_w, int max_h)
{
        struct text *t = &ui->text[slot];

        if (t->s && strcmp(t->s, s) == 0 && style_equal(&t->style, st) && t->max_w == max_w &&
            t->max_h == max_h)
                return t;
        text_free(t);
        t->s = strdup(s);
        if (!t->s)
                return t;
        t->style = *st;
        t->max_w = max_w;
        t->max_h = max_h;
        if (*s && max_w > 0 && max_h > 0)
                t->tex = text_render(ui, s, st, max_w, max_h, &t->w, &t->h);
        return t;
}

static void text_put(struct ui *ui, const struct text *t, int x, int y)
{
        SDL_Rect dst = {x, y, t->w, t->h};

        if (t->tex)
                SDL_RenderCopy(ui->renderer, t->tex, NULL, &dst);
}

/* Draws s fitted into box: aligned as the style says, centred vertically. */
static void text_box(struct ui *ui, enum slot slot, const char *s, const struct text_style *st,
                     const struct layout_rect *box)
{
        const struct text *t = text_get(ui, slot, s, st, box->w, box->h);
        int align = st->flags & TEXT_ALIGN_MASK, x = box->x;

        if (align == TEXT_CENTER)
                x += (box->w - t->w) / 2;
        else if (align == TEXT_RIGHT)
                x += box->w - t->w;
        text_put(ui, t, x, box->y + (box->h - t->h) / 2);
}

/* ---- artwork ---- */

static SDL_Texture *svg_texture(struct ui *ui, const void *svg, size_t len, int w, int h)
{
        SDL_RWops *rw;
        SDL_Surface *s;
        SDL_Texture *t;

        rw = SDL_RWFromConstMem(svg, (int)len);
        if (!rw)
                return NULL;
        s = IMG_LoadSizedSVG_RW(rw, w, h);
        SDL_RWclose(rw);
        if (!s) {
                log_warn("Cannot rasterise artwork at %dx%d: %s", w, h, IMG_GetError());
                return NULL;
        }
        t = SDL_CreateTextureFromSurface(ui->renderer, s);
        SDL_FreeSurface(s);
        if (t)
                SDL_SetTextureBlendMode(t, SDL_BLENDMODE_BLEND);
        return t;
}

static int art_smiley(struct ui *ui, struct art *a, int level, int size)
{
        if (a->tex && a->w == size)
                return 0;
        art_free(a);
        a->tex = svg_texture(ui, ui->svg[level - 1], ui->svg_len[level - 1], size, size);
        if (!a->tex)
                return -ENOMEM;
        a->w = a->h = size;
        return 0;
}

/* A rounded rectangle, anti-aliased by nanosvg; border 0 for none. */
static int art_rounded(struct ui *ui, struct art *a, int w, int h, int radius, SDL_Color fill,
                       SDL_Color border, int border_w)
{
        char svg[768];
        float inset = (float)border_w / 2.0f;
        int n;

        if (a->tex && a->w == w && a->h == h)
                return 0;
        art_free(a);
        n = snprintf(svg, sizeof(svg),
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                     "viewBox=\"0 0 %d %d\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                     "height=\"%.1f\" rx=\"%d\" ry=\"%d\" fill=\"#%02x%02x%02x\" "
                     "stroke=\"#%02x%02x%02x\" stroke-width=\"%d\" stroke-opacity=\"%d\"/></svg>",
                     w, h, w, h, inset, inset, w - 2 * inset, h - 2 * inset, radius, radius, fill.r,
                     fill.g, fill.b, border.r, border.g, border.b, border_w, border_w > 0);
        a->tex = svg_texture(ui, svg, (size_t)n, w, h);
        if (!a->tex)
                return -ENOMEM;
        a->w = w;
        a->h = h;
        return 0;
}

/* A round badge with a tick: the selected smiley's mark, for those who cannot tell colours. */
static int art_badge(struct ui *ui, struct art *a, int size)
{
        char svg[512];
        int n;

        if (a->tex && a->w == size)
                return 0;
        art_free(a);
        n = snprintf(svg, sizeof(svg),
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                     "viewBox=\"0 0 40 40\"><circle cx=\"20\" cy=\"20\" r=\"19\" "
                     "fill=\"#%02x%02x%02x\"/><path d=\"M 11 21 L 17.5 27.5 L 29.5 14\" "
                     "fill=\"none\" stroke=\"#ffffff\" stroke-width=\"4.5\" "
                     "stroke-linecap=\"round\" stroke-linejoin=\"round\"/></svg>",
                     size, size, col_action.r, col_action.g, col_action.b);
        a->tex = svg_texture(ui, svg, (size_t)n, size, size);
        if (!a->tex)
                return -ENOMEM;
        a->w = a->h = size;
        return 0;
}

/* Encodes the vote URL once per URL; drawing is done with rectangles, see draw_qr(). */
static int qr_ensure(struct ui *ui, const char *url)
{
        int r;

        if (ui->qr.modules && strcmp(ui->qr_url, url) == 0)
                return 0;
        qr_finish(&ui->qr);
        ui->qr_url[0] = 0;
        r = qr_encode(url, &ui->qr);
        if (r < 0) {
                log_warn("Cannot encode the vote URL as a QR code: %s", strerror(-r));
                return r;
        }
        snprintf(ui->qr_url, sizeof(ui->qr_url), "%s", url);
        return 0;
}

static void art_put(struct ui *ui, const struct art *a, int x, int y, Uint8 alpha)
{
        SDL_Rect dst = {x, y, a->w, a->h};

        if (!a->tex)
                return;
        SDL_SetTextureAlphaMod(a->tex, alpha);
        SDL_RenderCopy(ui->renderer, a->tex, NULL, &dst);
}

/* ---- screens ---- */

static void draw_header(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        const struct layout_rect *h = &L->header;
        int name_h = L->font_title * 5 / 4, sub_h = (h->h - name_h) / 2;
        struct layout_rect name = {h->x, h->y, h->w, name_h};
        struct layout_rect pos = {h->x, h->y + name_h, h->w, sub_h};
        struct layout_rect unit = {h->x, h->y + name_h + sub_h, h->w, sub_h};
        struct text_style st_name = {FACE_BOLD, L->font_title, L->font_title * 6 / 10, col_text,
                                     TEXT_LEFT};
        struct text_style st_sub = {FACE_REGULAR, L->font_body, L->font_body * 3 / 4, col_text2,
                                    TEXT_LEFT};

        text_box(ui, SLOT_NAME, app->employee.full_name, &st_name, &name);
        text_box(ui, SLOT_POSITION, app->employee.position, &st_sub, &pos);
        text_box(ui, SLOT_UNIT, app->employee.unit, &st_sub, &unit);
}

static void draw_qr(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        struct text_style st = {FACE_REGULAR, L->font_small, L->font_small * 8 / 10, col_quiet,
                                TEXT_CENTER | TEXT_WRAP};
        SDL_Rect runs[QR_RUNS_MAX], white;
        const struct text *t;
        int n, scale, x0, y0;

        if (!app->employee.vote_url[0] || qr_ensure(ui, app->employee.vote_url) < 0)
                return;
        n = ui->qr.size + 2 * UI_QR_QUIET;
        scale = L->qr.w / n;
        if (scale < 1 || ui->qr.size > QR_RUNS_MAX)
                return;
        /* whole pixels per module, no scaling by the renderer: sharp on every back end. Centred
         * across, at the bottom of its square so that the caption sits right under it. */
        white = (SDL_Rect){L->qr.x + (L->qr.w - n * scale) / 2, L->qr.y + L->qr.h - n * scale,
                           n * scale, n * scale};
        set_color(ui->renderer, col_white);
        SDL_RenderFillRect(ui->renderer, &white);
        set_color(ui->renderer, (SDL_Color){0, 0, 0, 0xff});
        x0 = white.x + UI_QR_QUIET * scale;
        y0 = white.y + UI_QR_QUIET * scale;
        for (int y = 0; y < ui->qr.size; y++) {
                int k = 0;

                for (int x = 0; x < ui->qr.size; x++) {
                        int start = x;

                        if (!qr_dark(&ui->qr, x, y))
                                continue;
                        while (x + 1 < ui->qr.size && qr_dark(&ui->qr, x + 1, y))
                                x++;
                        runs[k++] = (SDL_Rect){x0 + start * scale, y0 + y * scale,
                                               (x - start + 1) * scale, scale};
                }
                SDL_RenderFillRects(ui->renderer, runs, k);
        }
        t = text_get(ui, SLOT_CAPTION, tr(ui, "kiosk.scan"), &st, L->qr_caption.w, L->qr_caption.h);
        text_put(ui, t, L->qr_caption.x + (L->qr_caption.w - t->w) / 2, L->qr_caption.y);
}

static void draw_smileys(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        const struct layout_rect *r0 = &L->smiley[0];
        int pad = maxi(4, r0->w / 14), label_h = L->font_body * 3 / 2;
        int face = mini(r0->w - 2 * pad, r0->h - label_h - 2 * pad);
        int ring = maxi(3, mini(r0->w, r0->h) / 30), radius = mini(r0->w, r0->h) / 10;
        int badge = maxi(16, r0->w / 7);

        face = maxi(face, 8);
        art_rounded(ui, &ui->card, r0->w, r0->h, radius, col_white, col_rule, maxi(1, r0->w / 120));
        art_rounded(ui, &ui->card_selected, r0->w, r0->h, radius, col_white, col_action, ring);
        art_badge(ui, &ui->badge, badge);
        for (int i = 0; i < 3; i++) {
                const struct layout_rect *r = &L->smiley[i];
                int level = i + 1;
                bool selected = app->selected == level, dimmed = app->selected && !selected;
                /* the face and its label, centred as one block in the card */
                int block = face + pad / 2 + label_h, top = r->y + (r->h - block) / 2;
                struct layout_rect label = {r->x + pad / 2, top + face + pad / 2, r->w - pad,
                                            label_h};
                struct text_style st = {selected ? FACE_BOLD : FACE_REGULAR, L->font_body,
                                        L->font_body * 7 / 10, dimmed ? col_dim : col_text,
                                        TEXT_CENTER};
                char key[16];

                art_put(ui, selected ? &ui->card_selected : &ui->card, r->x, r->y,
                        dimmed ? 0x90 : 0xff);
                if (art_smiley(ui, &ui->smiley[i], level, face) == 0)
                        art_put(ui, &ui->smiley[i], r->x + (r->w - face) / 2, top,
                                dimmed ? 0x60 : 0xff);
                if (selected)
                        art_put(ui, &ui->badge, r->x + r->w - badge - ring, r->y + ring, 0xff);
                snprintf(key, sizeof(key), "level.%d", level);
                text_box(ui, (enum slot)(SLOT_LABEL_1 + i), tr(ui, key), &st, &label);
        }
}

static void draw_send(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        const struct layout_rect *b = &L->send;
        bool enabled = vote_level_valid(app->selected);
        SDL_Color bg = enabled ? col_action : col_off;
        struct text_style st = {FACE_BOLD, mini(L->font_title, b->h * 2 / 5), L->font_body * 3 / 4,
                                enabled ? col_white : col_off_text, TEXT_CENTER};
        struct layout_rect inner = {b->x + b->h / 4, b->y, b->w - b->h / 2, b->h};

        /* one white shape, tinted: dark blue when a smiley is chosen, pale grey before */
        if (art_rounded(ui, &ui->button, b->w, b->h, mini(b->h / 4, 24), col_white, col_white, 0) ==
            0) {
                SDL_SetTextureColorMod(ui->button.tex, bg.r, bg.g, bg.b);
                art_put(ui, &ui->button, b->x, b->y, 0xff);
        }
        text_box(ui, SLOT_SEND, tr(ui, "kiosk.send"), &st, &inner);
}

static void draw_status(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        struct text_style st = {FACE_REGULAR, L->font_small, L->font_small * 8 / 10, col_quiet,
                                TEXT_LEFT};
        char line[512] = "", count[32];
        const char *tpl, *pct;
        size_t n = 0;

        if (!app->online)
                n += (size_t)snprintf(line, sizeof(line), "%s", tr(ui, "kiosk.offline"));
        if (app->pending > 0 && n < sizeof(line)) {
                /* the translation holds "%d"; it is replaced here, never used as a format */
                tpl = tr(ui, "kiosk.pending");
                pct = strstr(tpl, "%d");
                snprintf(count, sizeof(count), "%lld", (long long)app->pending);
                snprintf(line + n, sizeof(line) - n, "%s%.*s%s%s", n ? "   ·   " : "",
                         pct ? (int)(pct - tpl) : (int)strlen(tpl), tpl, pct ? count : "",
                         pct ? pct + 2 : "");
        }
        text_box(ui, SLOT_STATUS, line, &st, &L->status);
}

static void draw_open(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        struct text_style st = {FACE_REGULAR, L->font_body, L->font_body * 3 / 4, col_text,
                                TEXT_CENTER};

        draw_header(ui, app);
        draw_qr(ui, app);
        text_box(ui, SLOT_PROMPT, tr(ui, "kiosk.choose"), &st, &L->prompt);
        draw_smileys(ui, app);
        draw_send(ui, app);
}

/* Up to three lines of text (and an optional picture above) centred on the screen. */
static void draw_message(struct ui *ui, const struct art *picture, const char *const msg[3],
                         const struct text_style st[3])
{
        const struct layout *L = &ui->layout;
        int m = L->header.x, w = L->width - 2 * m;
        int top = L->header.y, bottom = L->status.y, gap = L->font_body, total = 0, y;
        const struct text *t[3] = {NULL};

        if (picture && picture->tex)
                total += picture->h + gap;
        for (int i = 0; i < 3; i++) {
                if (!msg[i] || !*msg[i])
                        continue;
                t[i] = text_get(ui, (enum slot)(SLOT_MSG_1 + i), msg[i], &st[i], w,
                                (bottom - top) / 3);
                total += t[i]->h + (i ? gap : 0);
        }
        y = top + maxi(0, (bottom - top - total) / 2);
        if (picture && picture->tex) {
                art_put(ui, picture, (L->width - picture->w) / 2, y, 0xff);
                y += picture->h + gap;
        }
        for (int i = 0; i < 3; i++) {
                if (!t[i])
                        continue;
                text_put(ui, t[i], (L->width - t[i]->w) / 2, y);
                y += t[i]->h + gap;
        }
}

static void draw_closed(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        const char *msg[3] = {app->workplace_name, tr(ui, "kiosk.closed"),
                              tr(ui, "kiosk.closed_hint")};
        const struct text_style st[3] = {
            {FACE_REGULAR, L->font_body, L->font_body * 3 / 4, col_text2, TEXT_CENTER | TEXT_WRAP},
            {FACE_BOLD, L->font_title * 13 / 10, L->font_title * 7 / 10, col_text,
             TEXT_CENTER | TEXT_WRAP},
            {FACE_REGULAR, L->font_body, L->font_body * 3 / 4, col_text2, TEXT_CENTER | TEXT_WRAP},
        };

        draw_message(ui, NULL, msg, st);
}

static void draw_thanks(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        const char *msg[3] = {tr(ui, "kiosk.thanks"), NULL, NULL};
        const struct text_style st[3] = {
            {FACE_BOLD, L->font_title * 3 / 2, L->font_title * 7 / 10, col_text,
             TEXT_CENTER | TEXT_WRAP},
        };
        int size = mini(L->width, L->height) * 2 / 5;

        art_smiley(ui, &ui->big_smiley, VOTE_LEVEL_EXEMPLARY, size);
        draw_message(ui, &ui->big_smiley, msg, st);
}

static void draw_trouble(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        const char *why = "kiosk.trouble_other";
        const char *msg[3];
        const struct text_style st[3] = {
            {FACE_BOLD, L->font_title * 6 / 5, L->font_title * 7 / 10, col_text,
             TEXT_CENTER | TEXT_WRAP},
            {FACE_REGULAR, L->font_body, L->font_body * 3 / 4, col_text2, TEXT_CENTER | TEXT_WRAP},
        };

        if (strcmp(app->trouble, "disk-full") == 0)
                why = "kiosk.trouble_disk_full";
        else if (strcmp(app->trouble, "store-broken") == 0)
                why = "kiosk.trouble_store_broken";
        msg[0] = tr(ui, "kiosk.trouble");
        msg[1] = tr(ui, why);
        msg[2] = NULL;
        draw_message(ui, NULL, msg, st);
}

/* Draws the whole frame into the renderer's back buffer, without presenting it. */
static int render(struct ui *ui, const struct app *app)
{
        int r;

        ensure_i18n(ui, app->lang);
        set_color(ui->renderer, col_bg);
        SDL_RenderClear(ui->renderer);
        r = ensure_layout(ui);
        if (r < 0)
                return r;
        switch (app->screen) {
        case APP_SCREEN_OPEN:
                draw_open(ui, app);
                break;
        case APP_SCREEN_THANKS:
                draw_thanks(ui, app);
                break;
        case APP_SCREEN_TROUBLE:
                draw_trouble(ui, app);
                break;
        case APP_SCREEN_CLOSED:
        default:
                draw_closed(ui, app);
                break;
        }
        if (app->screen != APP_SCREEN_THANKS)
                art_free(&ui->big_smiley); /* the largest texture; the thank-you is brief */
        /* the status line is for staff: the thank-you moment belongs to the resident */
        if (app->screen != APP_SCREEN_THANKS)
                draw_status(ui, app);
        return 0;
}

int ui_draw(struct ui *ui, const struct app *app)
{
        int r;

        if (!ui->dirty && ui->have_shown && ui->shown.version == app->version &&
            ui->shown.lang == app->lang && ui->layout_ok)
                return 0;
        r = render(ui, app);
        SDL_RenderPresent(ui->renderer);
        ui->shown = *app;
        ui->shown.outbox = NULL;
        ui->have_shown = true;
        ui->dirty = false;
        return r;
}

int ui_screenshot(struct ui *ui, const char *path)
{
        SDL_Surface *s = NULL;
        int w, h, r;

        if (!ui->have_shown)
                return -ENODATA;
        /* draw the shown state again and read it back before anything presents it */
        r = render(ui, &ui->shown);
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

static void tap(struct ui *ui, struct app *app, int x, int y)
{
        enum layout_target t;
        int64_t now = app_now_ms();

        if (ensure_layout(ui) < 0)
                return;
        t = layout_hit(&ui->layout, x, y);
        if (t >= LAYOUT_SMILEY_1 && t <= LAYOUT_SMILEY_3)
                app_select(app, (int)t, now);
        else if (t == LAYOUT_SEND)
                app_send(app, now); /* -EAGAIN with nothing chosen: the button looks disabled */
}

/* Window coordinates to the renderer's pixels, which differ on high-DPI screens. */
static void tap_window(struct ui *ui, struct app *app, int x, int y)
{
        int ww, wh, ow, oh;

        SDL_GetWindowSize(ui->window, &ww, &wh);
        if (SDL_GetRendererOutputSize(ui->renderer, &ow, &oh) < 0 || ww <= 0 || wh <= 0)
                return;
        tap(ui, app, x * ow / ww, y * oh / wh);
}

static int handle(struct ui *ui, struct app *app, const SDL_Event *ev)
{
        int64_t now = app_now_ms();
        int ow, oh;

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
                caches_free(ui); /* the textures are gone with the device */
                ui->dirty = true;
                break;
        case SDL_RENDER_TARGETS_RESET:
                ui->dirty = true;
                break;
        case SDL_MOUSEBUTTONDOWN:
                /* a finger also arrives as SDL_FINGERDOWN: count it once */
                if (ev->button.which != SDL_TOUCH_MOUSEID && ev->button.button == SDL_BUTTON_LEFT)
                        tap_window(ui, app, ev->button.x, ev->button.y);
                break;
        case SDL_FINGERDOWN:
                if (SDL_GetRendererOutputSize(ui->renderer, &ow, &oh) == 0)
                        tap(ui, app, (int)(ev->tfinger.x * (float)ow),
                            (int)(ev->tfinger.y * (float)oh));
                break;
        case SDL_KEYDOWN:
                if (ev->key.repeat)
                        break;
                switch (ev->key.keysym.sym) {
                case SDLK_1:
                case SDLK_KP_1:
                        app_select(app, VOTE_LEVEL_SATISFACTORY, now);
                        break;
                case SDLK_2:
                case SDLK_KP_2:
                        app_select(app, VOTE_LEVEL_GOOD, now);
                        break;
                case SDLK_3:
                case SDLK_KP_3:
                        app_select(app, VOTE_LEVEL_EXEMPLARY, now);
                        break;
                case SDLK_RETURN:
                case SDLK_KP_ENTER:
                        app_send(app, now);
                        break;
                default:
                        break;
                }
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
        SDL_SetRenderDrawBlendMode(ui->renderer, SDL_BLENDMODE_BLEND);
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
        caches_free(ui);
        qr_finish(&ui->qr);
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
