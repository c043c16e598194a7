/* SPDX-License-Identifier: MIT */
/* Text and artwork for the terminal's screens as textures made at their exact pixel size, so
 * the renderer never scales anything: text fitted into a box (shrunk, wrapped, balanced, cut
 * with "…" as a last resort), smileys and rounded shapes rasterised from SVG by SDL_image, the
 * QR code as a module matrix. Each text has a slot and each shape a cache entry, remade only
 * when what they show changes. What is drawn straight onto the plain background is flattened
 * onto it once (ui_flatten()), so that a frame copies it instead of blending it: with SDL's
 * software renderer, blending is most of a frame's cost. */
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

#include "log.h"
#include "ui_impl.h"

#define TEXT_LINES_MAX 6
#define TEXT_MAX 1024 /* bytes of one line; longer text is cut */

void ui_tiles_free(struct ui *ui)
{
        for (int i = 0; i < 3; i++) {
                for (int k = 0; k < CARD_STATES; k++)
                        ui_art_free(&ui->tile[i][k]);
                for (int k = 0; k < 4; k++)
                        ui_art_free(&ui->rim[i].part[k]);
                ui->rim[i] = (struct tile_rim){0};
        }
        ui->tiles_failed = false;
}

void ui_art_free(struct art *a)
{
        if (a->tex)
                SDL_DestroyTexture(a->tex);
        free(a->fills);
        free(a->copies);
        *a = (struct art){0};
}

void ui_text_free(struct text *t)
{
        if (t->tex)
                SDL_DestroyTexture(t->tex);
        free(t->s);
        *t = (struct text){0};
}

void ui_paint_free(struct ui *ui)
{
        for (int i = 0; i < 3; i++)
                ui_art_free(&ui->smiley[i]);
        ui_art_free(&ui->big_smiley);
        ui_art_free(&ui->card);
        ui_art_free(&ui->card_selected);
        ui_art_free(&ui->badge);
        ui_tiles_free(ui);
        for (int i = 0; i < UI_ROUNDED_CACHE; i++)
                ui_art_free(&ui->rounded[i].art);
        for (int i = 0; i < SLOT_COUNT; i++)
                ui_text_free(&ui->text[i]);
}

SDL_Texture *ui_target_create(struct ui *ui, int w, int h)
{
        SDL_Texture *t;

        if (!ui->targets || w <= 0 || h <= 0)
                return NULL;
        t = SDL_CreateTexture(ui->renderer, ui->opaque_format, SDL_TEXTUREACCESS_TARGET, w, h);
        if (t)
                SDL_SetTextureBlendMode(t, SDL_BLENDMODE_NONE);
        return t;
}

SDL_Texture *ui_flatten(struct ui *ui, SDL_Texture *tex, int w, int h, SDL_Color bg)
{
        SDL_Renderer *r = ui->renderer;
        SDL_Texture *t, *prev = SDL_GetRenderTarget(r);
        SDL_Rect dst = {0, 0, w, h};
        Uint8 cr, cg, cb, ca;

        t = ui_target_create(ui, w, h);
        if (!t)
                return NULL;
        SDL_GetRenderDrawColor(r, &cr, &cg, &cb, &ca);
        if (SDL_SetRenderTarget(r, t) < 0) {
                SDL_DestroyTexture(t);
                return NULL;
        }
        ui_set_color(r, bg);
        SDL_RenderClear(r);
        SDL_RenderCopy(r, tex, NULL, &dst);
        SDL_SetRenderTarget(r, prev);
        SDL_SetRenderDrawColor(r, cr, cg, cb, ca);
        return t;
}

void ui_art_flatten(struct ui *ui, struct art *a, SDL_Color bg)
{
        SDL_Texture *t;

        if (!a->tex || a->opaque)
                return;
        SDL_SetTextureAlphaMod(a->tex, 0xff);
        t = ui_flatten(ui, a->tex, a->w, a->h, bg);
        if (!t)
                return;
        SDL_DestroyTexture(a->tex);
        a->tex = t;
        a->opaque = true;
}

/* Gives free heap pages back to the system: textures are large, and freed ones would else stay
 * resident in glibc's heap. */
void ui_heap_trim(void)
{
#ifdef __GLIBC__
        malloc_trim(0);
#endif
}

void ui_paint_sweep(struct ui *ui, bool voting)
{
        for (int i = 0; i < UI_ROUNDED_CACHE; i++)
                if (ui->rounded[i].used != ui->frame)
                        ui_art_free(&ui->rounded[i].art);
        for (int i = 0; i < SLOT_COUNT; i++)
                if (ui->text[i].used != ui->frame)
                        ui_text_free(&ui->text[i]);
        if (voting) {
                ui_tiles_free(ui);
                ui_art_free(&ui->big_smiley);
        }
        ui_heap_trim();
}

bool ui_font_has(const struct ui *ui, uint32_t codepoint)
{
        return TTF_GlyphIsProvided32(ui->font[FACE_REGULAR], codepoint) != 0;
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
                        widest = ui_maxi(widest, t->w[i]);
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

        for (int size = st->size;; size -= ui_maxi(1, size / 12)) {
                int max_lines, height;
                bool fits;

                size = ui_maxi(size, st->min_size);
                TTF_SetFontSize(f, size);
                max_lines = 1;
                if (wrap)
                        max_lines =
                            ui_maxi(1, (max_h - TTF_FontHeight(f)) / TTF_FontLineSkip(f) + 1);
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
                w = ui_maxi(w, ui_mini(l->w[i], max_w));
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
                if (st->flags & TEXT_OPAQUE) {
                        SDL_Texture *flat = ui_flatten(ui, tex, w, h, ui_color(PALETTE_BG));

                        if (flat) {
                                SDL_DestroyTexture(tex);
                                tex = flat;
                        }
                }
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
const struct text *ui_text_get(struct ui *ui, enum slot slot, const char *s,
                               const struct text_style *st, int max_w, int max_h)
{
        struct text *t = &ui->text[slot];

        if (t->s && strcmp(t->s, s) == 0 && style_equal(&t->style, st) && t->max_w == max_w &&
            t->max_h == max_h) {
                t->used = ui->frame;
                return t;
        }
        ui_text_free(t);
        t->used = ui->frame;
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

void ui_text_put(struct ui *ui, const struct text *t, int x, int y)
{
        SDL_Rect dst = {x, y, t->w, t->h};

        if (t->tex)
                SDL_RenderCopy(ui->renderer, t->tex, NULL, &dst);
}

/* Draws s fitted into box: aligned as the style says, centred vertically. */
void ui_text_box(struct ui *ui, enum slot slot, const char *s, const struct text_style *st,
                 const struct layout_rect *box)
{
        const struct text *t = ui_text_get(ui, slot, s, st, box->w, box->h);
        int align = st->flags & TEXT_ALIGN_MASK, x = box->x;

        if (align == TEXT_CENTER)
                x += (box->w - t->w) / 2;
        else if (align == TEXT_RIGHT)
                x += box->w - t->w;
        ui_text_put(ui, t, x, box->y + (box->h - t->h) / 2);
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

int ui_art_smiley(struct ui *ui, struct art *a, int level, int size)
{
        if (a->tex && a->w == size)
                return 0;
        ui_art_free(a);
        a->tex = svg_texture(ui, ui->svg[level - 1], ui->svg_len[level - 1], size, size);
        if (!a->tex)
                return -ENOMEM;
        a->w = a->h = size;
        return 0;
}

/* A rounded rectangle, anti-aliased by nanosvg; border 0 for none. */
int ui_art_rounded(struct ui *ui, struct art *a, int w, int h, int radius, SDL_Color fill,
                   SDL_Color border, int border_w)
{
        char svg[768];
        float inset = (float)border_w / 2.0f;
        int n;

        if (a->tex && a->w == w && a->h == h)
                return 0;
        ui_art_free(a);
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
int ui_art_badge(struct ui *ui, struct art *a, int size)
{
        char svg[512];
        int n;

        if (a->tex && a->w == size)
                return 0;
        ui_art_free(a);
        n = snprintf(svg, sizeof(svg),
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                     "viewBox=\"0 0 40 40\"><circle cx=\"20\" cy=\"20\" r=\"19\" "
                     "fill=\"#%02x%02x%02x\"/><path d=\"M 11 21 L 17.5 27.5 L 29.5 14\" "
                     "fill=\"none\" stroke=\"#ffffff\" stroke-width=\"4.5\" "
                     "stroke-linecap=\"round\" stroke-linejoin=\"round\"/></svg>",
                     size, size, ui_color(PALETTE_ACTION).r, ui_color(PALETTE_ACTION).g,
                     ui_color(PALETTE_ACTION).b);
        a->tex = svg_texture(ui, svg, (size_t)n, size, size);
        if (!a->tex)
                return -ENOMEM;
        a->w = a->h = size;
        return 0;
}

/* Encodes the URL once per URL; drawing is done with rectangles (ui_screens.c). The QR code
 * is encoded again only when the app renews its URL. */
int ui_qr_ensure(struct ui *ui, const char *url)
{
        int r;

        if (ui->qr.modules && ui->qr_url && strcmp(ui->qr_url, url) == 0)
                return 0;
        qr_finish(&ui->qr);
        free(ui->qr_url);
        ui->qr_url = NULL;
        r = qr_encode(url, &ui->qr);
        if (r < 0) {
                log_warn("Cannot encode the vote URL as a QR code: %s", strerror(-r));
                return r;
        }
        ui->qr_url = strdup(url);
        if (!ui->qr_url) {
                qr_finish(&ui->qr);
                return -ENOMEM;
        }
        return 0;
}

static bool color_equal(SDL_Color a, SDL_Color b)
{
        return a.r == b.r && a.g == b.g && a.b == b.b && a.a == b.a;
}

const struct art *ui_rounded(struct ui *ui, int w, int h, int radius, SDL_Color fill,
                             SDL_Color border, int border_w)
{
        struct rounded *c;

        for (int i = 0; i < UI_ROUNDED_CACHE; i++) {
                c = &ui->rounded[i];
                if (c->art.tex && c->art.w == w && c->art.h == h && c->radius == radius &&
                    c->border_w == border_w && color_equal(c->fill, fill) &&
                    color_equal(c->border, border)) {
                        c->used = ui->frame;
                        return &c->art;
                }
        }
        /* a screen uses fewer shapes than the cache holds: replace round robin */
        c = &ui->rounded[ui->rounded_next];
        ui->rounded_next = (ui->rounded_next + 1) % UI_ROUNDED_CACHE;
        ui_art_free(&c->art);
        if (ui_art_rounded(ui, &c->art, w, h, radius, fill, border, border_w) < 0)
                return NULL;
        ui_art_flatten(ui, &c->art, ui_color(PALETTE_BG));
        /* a button is its four corners and straight edges: two copies a band at most */
        ui_art_pack(ui, &c->art, 32, 2);
        c->used = ui->frame;
        c->radius = radius;
        c->border_w = border_w;
        c->fill = fill;
        c->border = border;
        return &c->art;
}

void ui_art_put(struct ui *ui, const struct art *a, int x, int y, Uint8 alpha)
{
        SDL_Rect dst = {x, y, a->w, a->h};

        if (!a->tex)
                return;
        if (a->fills || a->copies) {
                ui_art_put_packed(ui, a, x, y);
                return;
        }
        /* an opaque texture has nothing to modulate: its alpha is not used in a copy */
        if (!a->opaque)
                SDL_SetTextureAlphaMod(a->tex, alpha);
        SDL_RenderCopy(ui->renderer, a->tex, NULL, &dst);
}
