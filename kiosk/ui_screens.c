/* SPDX-License-Identifier: MIT */
/* What each of the terminal's screens draws, into the rects of layout.c: the open screen
 * (employee, expiring QR code, smileys, send), the closed (with «Підключити термінал» while the
 * terminal has no valid credential), thank-you and trouble messages, and the staff screens
 * (login list, keypad for a personal number, a PIN or an enrollment code, menu, status). Texts
 * come from assets/i18n; a translation's "%s" is replaced here, never used as a format. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "i18n.h"
#include "log.h"
#include "ui_impl.h"

#define LINE_MAX 512

/* tpl with each "%s" (or "%d") replaced by the next of args. */
static void fill(char *out, size_t n, const char *tpl, const char *const *args, int nargs)
{
        size_t k = 0;
        int a = 0;

        for (const char *p = tpl; *p && k + 1 < n;) {
                if (p[0] == '%' && (p[1] == 's' || p[1] == 'd') && a < nargs) {
                        k += (size_t)snprintf(out + k, n - k, "%s", args[a++]);
                        if (k >= n)
                                k = n - 1;
                        p += 2;
                } else
                        out[k++] = *p++;
        }
        out[k] = 0;
}

/* Appends s to buf (of size n), cut at n - 1 bytes. */
static void append(char *buf, size_t n, const char *s)
{
        size_t k = strlen(buf), len = strlen(s);

        if (k + 1 >= n)
                return;
        if (len > n - 1 - k)
                len = n - 1 - k;
        memcpy(buf + k, s, len);
        buf[k + len] = 0;
}

static void fill1(char *out, size_t n, const char *tpl, const char *arg)
{
        fill(out, n, tpl, &arg, 1);
}

static struct text_style style(enum ui_face face, int size, int min_size, enum palette_color c,
                               int flags)
{
        return (struct text_style){face, size, min_size, ui_color(c), flags};
}

enum layout_screen ui_layout_screen(const struct app *app)
{
        switch (app->screen) {
        case APP_SCREEN_OPEN:
                return LAYOUT_SCREEN_OPEN;
        case APP_SCREEN_CLOSED:
                return app_needs_enrollment(app) ? LAYOUT_SCREEN_CONNECT : LAYOUT_SCREEN_CLOSED;
        case APP_SCREEN_LOGIN_LIST:
                return LAYOUT_SCREEN_LIST;
        case APP_SCREEN_LOGIN_NUMBER:
        case APP_SCREEN_PIN:
        case APP_SCREEN_ENROLL:
                return LAYOUT_SCREEN_KEYPAD;
        case APP_SCREEN_MENU:
                return LAYOUT_SCREEN_MENU;
        case APP_SCREEN_STATUS:
                return LAYOUT_SCREEN_STATUS;
        default:
                return LAYOUT_SCREEN_MESSAGE;
        }
}

/* ---- shared pieces ---- */

/* A button: a rounded shape with a centred label. kind: 0 outlined (quiet), 1 action (dark
 * blue, white text), 2 disabled. */
static void button(struct ui *ui, enum slot slot, const struct layout_rect *r, const char *label,
                   int kind, int font)
{
        const struct layout *L = &ui->layout;
        SDL_Color fill = ui_color(kind == 1   ? PALETTE_ACTION
                                  : kind == 2 ? PALETTE_OFF
                                              : PALETTE_WHITE);
        SDL_Color border = ui_color(kind == 0   ? PALETTE_RULE
                                    : kind == 1 ? PALETTE_ACTION
                                                : PALETTE_OFF);
        enum palette_color tc = kind == 1   ? PALETTE_WHITE
                                : kind == 2 ? PALETTE_OFF_TEXT
                                            : PALETTE_TEXT;
        struct text_style st =
            style(kind == 1 ? FACE_BOLD : FACE_REGULAR, font, font * 6 / 10, tc, TEXT_CENTER);
        int pad = ui_mini(r->h / 3, L->font_body);
        struct layout_rect inner = {r->x + pad, r->y, r->w - 2 * pad, r->h};
        const struct art *a =
            ui_rounded(ui, r->w, r->h, ui_mini(r->h / 4, 20), fill, border, ui_maxi(1, L->gap / 8));

        if (a)
                ui_art_put(ui, a, r->x, r->y, 0xff);
        ui_text_box(ui, slot, label, &st, &inner);
}

static void draw_title(struct ui *ui, const char *s)
{
        const struct layout *L = &ui->layout;
        struct text_style st =
            style(FACE_BOLD, L->font_title, L->font_title * 6 / 10, PALETTE_TEXT, TEXT_LEFT);

        ui_text_box(ui, SLOT_TITLE, s, &st, &L->title);
}

static void draw_back(struct ui *ui)
{
        button(ui, SLOT_BACK, &ui->layout.back, ui_tr(ui, "kiosk.back"), 0, ui->layout.font_body);
}

/* The discreet status line: not authorised, offline, votes waiting. */
static void draw_status_line(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        struct text_style st = style(FACE_REGULAR, L->font_small, L->font_small * 8 / 10,
                                     PALETTE_QUIET, TEXT_LEFT | TEXT_WRAP | TEXT_OPAQUE);
        char line[LINE_MAX] = "", part[LINE_MAX], count[32];

        if (app->status.unauthorized) {
                st.color = ui_color(PALETTE_WARN);
                append(line, sizeof(line), ui_tr(ui, "kiosk.unauthorized"));
        } else if (!app->online)
                append(line, sizeof(line), ui_tr(ui, "kiosk.offline"));
        if (app->pending > 0) {
                snprintf(count, sizeof(count), "%" PRId64, app->pending);
                fill1(part, sizeof(part), ui_tr(ui, "kiosk.pending"), count);
                if (line[0])
                        append(line, sizeof(line), "  ·  ");
                append(line, sizeof(line), part);
        }
        ui_text_box(ui, SLOT_STATUS, line, &st, &L->status);
}

static void draw_staff_control(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        const struct layout_rect *r = &L->staff;
        const char *label =
            ui_tr(ui, app->screen == APP_SCREEN_OPEN ? "kiosk.staff_menu" : "kiosk.staff_login");
        struct text_style st =
            style(FACE_REGULAR, L->font_small, L->font_small * 8 / 10, PALETTE_QUIET, TEXT_CENTER);
        struct layout_rect inner = {r->x + L->gap / 2, r->y, r->w - L->gap, r->h};
        const struct art *a =
            ui_rounded(ui, r->w, r->h, ui_mini(r->h / 4, 16), ui_color(PALETTE_BG),
                       ui_color(PALETTE_RULE), ui_maxi(1, L->gap / 8));

        if (a)
                ui_art_put(ui, a, r->x, r->y, 0xff);
        ui_text_box(ui, SLOT_STAFF, label, &st, &inner);
}

/* «Підключити термінал»: as discreet as the staff control beside it (small, in the corner),
 * but a white card with a blue edge and dark words, so that it is found when it is needed. */
static void draw_connect_control(struct ui *ui)
{
        const struct layout *L = &ui->layout;
        const struct layout_rect *r = &L->connect;
        struct text_style st =
            style(FACE_BOLD, L->font_small, L->font_small * 8 / 10, PALETTE_TEXT, TEXT_CENTER);
        struct layout_rect inner = {r->x + L->gap / 2, r->y, r->w - L->gap, r->h};
        const struct art *a =
            ui_rounded(ui, r->w, r->h, ui_mini(r->h / 4, 16), ui_color(PALETTE_WHITE),
                       ui_color(PALETTE_ACTION), ui_maxi(1, L->gap / 6));

        if (a)
                ui_art_put(ui, a, r->x, r->y, 0xff);
        ui_text_box(ui, SLOT_CONNECT, ui_tr(ui, "kiosk.enroll_connect"), &st, &inner);
}

/* ---- the open screen ---- */

static void draw_header(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        const struct layout_rect *h = &L->header;
        int name_h = L->font_title * 5 / 4, sub_h = (h->h - name_h) / 2;
        struct layout_rect name = {h->x, h->y, h->w, name_h};
        struct layout_rect pos = {h->x, h->y + name_h, h->w, sub_h};
        struct layout_rect unit = {h->x, h->y + name_h + sub_h, h->w, sub_h};
        struct text_style st_name = style(FACE_BOLD, L->font_title, L->font_title * 6 / 10,
                                          PALETTE_TEXT, TEXT_LEFT | TEXT_OPAQUE);
        struct text_style st_sub = style(FACE_REGULAR, L->font_body, L->font_body * 3 / 4,
                                         PALETTE_TEXT2, TEXT_LEFT | TEXT_OPAQUE);

        ui_text_box(ui, SLOT_NAME, app->employee.full_name, &st_name, &name);
        ui_text_box(ui, SLOT_POSITION, app->employee.position, &st_sub, &pos);
        ui_text_box(ui, SLOT_UNIT, app->employee.unit, &st_sub, &unit);
}

/* The QR code with its white quiet zone, n modules a side of scale pixels, at (x, y): a white
 * square and the dark modules as horizontal runs. It is not cached as a texture: at 1920x1080
 * that would hold 1.6 MB for ~1 ms a frame. */
static void qr_fill(struct ui *ui, int x, int y, int n, int scale)
{
        SDL_Rect runs[UI_QR_RUNS_MAX], white = {x, y, n * scale, n * scale};
        int x0 = x + UI_QR_QUIET * scale, y0 = y + UI_QR_QUIET * scale;

        ui_set_color(ui->renderer, ui_color(PALETTE_WHITE));
        SDL_RenderFillRect(ui->renderer, &white);
        /* the colours are opaque, so blending gives the same pixels as filling; but SDL's
         * software renderer fills a few hundred small runs some four times faster through its
         * blending path (~1 µs a run against ~4 at 1920x1080), while a plain fill is the faster
         * for the one large square */
        SDL_SetRenderDrawBlendMode(ui->renderer, SDL_BLENDMODE_BLEND);
        ui_set_color(ui->renderer, (SDL_Color){0, 0, 0, 0xff});
        for (int row = 0; row < ui->qr.size; row++) {
                int k = 0;

                for (int col = 0; col < ui->qr.size; col++) {
                        int start = col;

                        if (!qr_dark(&ui->qr, col, row))
                                continue;
                        while (col + 1 < ui->qr.size && qr_dark(&ui->qr, col + 1, row))
                                col++;
                        runs[k++] = (SDL_Rect){x0 + start * scale, y0 + row * scale,
                                               (col - start + 1) * scale, scale};
                }
                SDL_RenderFillRects(ui->renderer, runs, k);
        }
        SDL_SetRenderDrawBlendMode(ui->renderer, SDL_BLENDMODE_NONE);
}

static void draw_qr(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        struct text_style st = style(FACE_REGULAR, L->font_small, L->font_small * 8 / 10,
                                     PALETTE_QUIET, TEXT_CENTER | TEXT_WRAP | TEXT_OPAQUE);
        const struct text *t;
        int n, scale, x, y;

        if (!app->qr_url[0] || ui_qr_ensure(ui, app->qr_url) < 0) {
                /* no roster or key yet: no code, and a discreet word where it will be */
                struct layout_rect box = {L->qr.x + L->gap, L->qr.y, L->qr.w - 2 * L->gap, L->qr.h};

                ui_text_box(ui, SLOT_QR_NOTE, ui_tr(ui, "kiosk.qr_none"), &st, &box);
                return;
        }
        n = ui->qr.size + 2 * UI_QR_QUIET;
        scale = L->qr.w / n;
        if (scale < 1 || ui->qr.size > UI_QR_RUNS_MAX)
                return;
        /* whole pixels per module, no scaling by the renderer: sharp on every back end. Centred
         * across, at the bottom of its square so that the caption sits right under it. */
        x = L->qr.x + (L->qr.w - n * scale) / 2;
        y = L->qr.y + L->qr.h - n * scale;
        qr_fill(ui, x, y, n, scale);
        t = ui_text_get(ui, SLOT_CAPTION, ui_tr(ui, "kiosk.scan"), &st, L->qr_caption.w,
                        L->qr_caption.h);
        ui_text_put(ui, t, L->qr_caption.x + (L->qr_caption.w - t->w) / 2, L->qr_caption.y);
}

/* Where a smiley card's parts go, relative to its top left corner: the same for the three. */
struct card_geom {
        int w, h;         /* the card */
        int pad, label_h; /* inner margin; the label's line */
        int face;         /* the face's side */
        int ring, radius; /* the chosen card's border; the corners */
        int badge;        /* the tick's side */
        int face_x, top;  /* the face's corner: the face and its label centred as one block */
        struct layout_rect label;
};

static void card_geom(const struct layout *L, struct card_geom *g)
{
        const struct layout_rect *r0 = &L->smiley[0];
        int block;

        g->w = r0->w;
        g->h = r0->h;
        g->pad = ui_maxi(4, r0->w / 14);
        g->label_h = L->font_body * 3 / 2;
        g->face = ui_maxi(ui_mini(r0->w - 2 * g->pad, r0->h - g->label_h - 2 * g->pad), 8);
        g->ring = ui_maxi(3, ui_mini(r0->w, r0->h) / 30);
        g->radius = ui_mini(r0->w, r0->h) / 10;
        g->badge = ui_maxi(16, r0->w / 7);
        block = g->face + g->pad / 2 + g->label_h;
        g->face_x = (g->w - g->face) / 2;
        g->top = (g->h - block) / 2;
        g->label = (struct layout_rect){g->pad / 2, g->top + g->face + g->pad / 2, g->w - g->pad,
                                        g->label_h};
}

/* Draws smiley card i (level i + 1) in look state with its top left corner at (x, y): the
 * card, the face (both faded when another card is chosen), the chosen card's tick, the label
 * (bold when chosen, grey when another is). Makes the artwork it needs. */
static void card_paint(struct ui *ui, const struct card_geom *g, int i, enum card_state state,
                       int x, int y)
{
        const struct layout *L = &ui->layout;
        bool chosen = state == CARD_CHOSEN, dimmed = state == CARD_DIMMED;
        struct layout_rect label = {x + g->label.x, y + g->label.y, g->label.w, g->label.h};
        struct text_style st =
            style(chosen ? FACE_BOLD : FACE_REGULAR, L->font_body, L->font_body * 7 / 10,
                  dimmed ? PALETTE_DIM : PALETTE_TEXT, TEXT_CENTER);
        char key[24];

        if (chosen)
                ui_art_rounded(ui, &ui->card_selected, g->w, g->h, g->radius,
                               ui_color(PALETTE_WHITE), ui_color(PALETTE_ACTION), g->ring);
        else
                ui_art_rounded(ui, &ui->card, g->w, g->h, g->radius, ui_color(PALETTE_WHITE),
                               ui_color(PALETTE_RULE), ui_maxi(1, g->w / 120));
        ui_art_put(ui, chosen ? &ui->card_selected : &ui->card, x, y, dimmed ? 0x90 : 0xff);
        if (ui_art_smiley(ui, &ui->smiley[i], i + 1, g->face) == 0)
                ui_art_put(ui, &ui->smiley[i], x + g->face_x, y + g->top, dimmed ? 0x60 : 0xff);
        if (chosen && ui_art_badge(ui, &ui->badge, g->badge) == 0)
                ui_art_put(ui, &ui->badge, x + g->w - g->badge - g->ring, y + g->ring, 0xff);
        snprintf(key, sizeof(key), "level.%d", i + 1);
        ui_text_box(ui, (enum slot)(SLOT_LABEL_0 + i * CARD_STATES + (int)state), ui_tr(ui, key),
                    &st, &label);
}

/* How far into the card from its nearer side row y's differences reach (0 for none). */
static int row_depth(const Uint32 *a, const Uint32 *b, int w, int y)
{
        int depth = 0;

        for (int x = 0; x < w; x++)
                if (a[(size_t)y * (size_t)w + (size_t)x] != b[(size_t)y * (size_t)w + (size_t)x])
                        depth = ui_maxi(depth, ui_mini(x + 1, w - x));
        return depth;
}

/* Copies the rect src of tex into a new texture of its own. */
static int art_cut(struct ui *ui, SDL_Texture *tex, const SDL_Rect *src, struct art *ret)
{
        SDL_Renderer *r = ui->renderer;
        SDL_Texture *prev = SDL_GetRenderTarget(r);
        SDL_Rect dst = {0, 0, src->w, src->h};
        SDL_Texture *t = ui_target_create(ui, src->w, src->h);

        if (!t)
                return -ENOMEM;
        if (SDL_SetRenderTarget(r, t) < 0 || SDL_RenderCopy(r, tex, src, &dst) < 0) {
                SDL_SetRenderTarget(r, prev);
                SDL_DestroyTexture(t);
                return -EIO;
        }
        SDL_SetRenderTarget(r, prev);
        *ret = (struct art){.tex = t, .w = src->w, .h = src->h, .opaque = true};
        return 0;
}

/* Keeps card i's plain look as its rim around the chosen look's inner rect (struct tile_rim),
 * where the two looks differ only in a band along the card's edges, above the face and from
 * the label down: the middle rows of a card differ only in the ring, so their widest
 * difference is the rim's width, and the rows above and below are kept whole as far as they
 * differ deeper. Exact: inner holds no differing pixel. Leaves the tile whole when it cannot. */
static void tile_rim_make(struct ui *ui, int i)
{
        struct art *plain = &ui->tile[i][CARD_PLAIN], *chosen = &ui->tile[i][CARD_CHOSEN];
        struct tile_rim *rim = &ui->rim[i];
        int w = plain->w, h = plain->h, m = 0, top, bottom;
        Uint32 *a = NULL, *b = NULL;
        SDL_Rect parts[4];

        a = ui_read_back(ui, plain->tex, w, h);
        b = ui_read_back(ui, chosen->tex, w, h);
        if (!a || !b)
                goto out;
        for (int y = h * 2 / 5; y < h * 3 / 5; y++)
                m = ui_maxi(m, row_depth(a, b, w, y));
        if (m == 0 || m > w / 4)
                goto out;
        for (top = h / 2; top > 0 && row_depth(a, b, w, top - 1) <= m; top--)
                ;
        for (bottom = h / 2; bottom < h && row_depth(a, b, w, bottom) <= m; bottom++)
                ;
        if ((w - 2 * m) * (bottom - top) < w * h / 2)
                goto out; /* saves too little to be worth five copies */
        rim->inner = (SDL_Rect){m, top, w - 2 * m, bottom - top};
        parts[0] = (SDL_Rect){0, 0, w, top};
        parts[1] = (SDL_Rect){0, bottom, w, h - bottom};
        parts[2] = (SDL_Rect){0, top, m, bottom - top};
        parts[3] = (SDL_Rect){w - m, top, m, bottom - top};
        for (int k = 0; k < 4; k++) {
                rim->at[k] = (SDL_Point){parts[k].x, parts[k].y};
                if (parts[k].w > 0 && parts[k].h > 0 &&
                    art_cut(ui, plain->tex, &parts[k], &rim->part[k]) < 0) {
                        for (int j = 0; j < 4; j++)
                                ui_art_free(&rim->part[j]);
                        *rim = (struct tile_rim){0};
                        goto out;
                }
        }
        /* the plain look shows at rest and after a thank-you, never in a tap's frame: its
         * parts may take a few more copies to draw (ui_pack.c) */
        for (int k = 0; k < 4; k++)
                ui_art_pack(ui, &rim->part[k], 16, 8);
        /* part[0] is there (a card has a border above its face): the plain tile may go */
        if (!rim->part[0].tex) {
                for (int j = 0; j < 4; j++)
                        ui_art_free(&rim->part[j]);
                *rim = (struct tile_rim){0};
                goto out;
        }
        /* keep the size: a plain card is still w x h */
        ui_art_free(plain);
        plain->w = w;
        plain->h = h;
out:
        free(a);
        free(b);
}

/* Draws card i's plain look from its rim and the chosen tile; false when it has no rim. */
static bool tile_rim_put(struct ui *ui, int i, int x, int y)
{
        const struct tile_rim *rim = &ui->rim[i];
        SDL_Rect dst = {x + rim->inner.x, y + rim->inner.y, rim->inner.w, rim->inner.h};

        if (!rim->part[0].tex)
                return false;
        SDL_RenderCopy(ui->renderer, ui->tile[i][CARD_CHOSEN].tex, &rim->inner, &dst);
        for (int k = 0; k < 4; k++)
                ui_art_put(ui, &rim->part[k], x + rim->at[k].x, y + rim->at[k].y, 0xff);
        return true;
}

/* Makes the nine tiles (three cards in three looks), each drawn by card_paint() onto the
 * background in a texture of its own, then frees the parts they were made of. False when the
 * renderer cannot (no render targets): the caller draws the parts instead. */
static bool tiles_ensure(struct ui *ui, const struct card_geom *g)
{
        SDL_Renderer *r = ui->renderer;
        SDL_Texture *prev;
        Uint8 cr, cg, cb, ca;
        bool ok = true;

        if (ui->tiles_failed)
                return false;
        if (ui->tile[2][CARD_STATES - 1].tex)
                return true;
        prev = SDL_GetRenderTarget(r);
        SDL_GetRenderDrawColor(r, &cr, &cg, &cb, &ca);
        for (int i = 0; i < 3 && ok; i++)
                for (int k = 0; k < CARD_STATES && ok; k++) {
                        struct art *t = &ui->tile[i][k];

                        ui_art_free(t);
                        t->tex = ui_target_create(ui, g->w, g->h);
                        ok = t->tex && SDL_SetRenderTarget(r, t->tex) == 0;
                        if (!ok)
                                break;
                        t->w = g->w;
                        t->h = g->h;
                        t->opaque = true;
                        ui_set_color(r, ui_color(PALETTE_BG));
                        SDL_RenderClear(r);
                        card_paint(ui, g, i, (enum card_state)k, 0, 0);
                        SDL_SetRenderTarget(r, prev);
                }
        SDL_SetRenderTarget(r, prev);
        SDL_SetRenderDrawColor(r, cr, cg, cb, ca);
        if (!ok) {
                ui_tiles_free(ui);
                ui->tiles_failed = true;
                return false;
        }
        /* the plain looks as their rims over the chosen ones: 1.2 MB less at 1920x1080 */
        for (int i = 0; i < 3; i++)
                tile_rim_make(ui, i);
        log_debug("Smiley cards %dx%d: %s", g->w, g->h,
                  ui->rim[0].part[0].tex && ui->rim[1].part[0].tex && ui->rim[2].part[0].tex
                      ? "the plain looks kept as rims"
                      : "some plain looks kept whole");
        /* the parts are in the tiles now; a new layout or language makes them again */
        for (int i = 0; i < 3; i++)
                ui_art_free(&ui->smiley[i]);
        ui_art_free(&ui->card);
        ui_art_free(&ui->card_selected);
        ui_art_free(&ui->badge);
        for (int s = SLOT_LABEL_0; s < SLOT_LABEL_0 + 3 * CARD_STATES; s++)
                ui_text_free(&ui->text[s]);
        ui_heap_trim();
        return true;
}

static void draw_smileys(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        struct card_geom g;
        bool tiles;

        card_geom(L, &g);
        tiles = tiles_ensure(ui, &g);
        for (int i = 0; i < 3; i++) {
                const struct layout_rect *r = &L->smiley[i];
                enum card_state state = app->selected == i + 1 ? CARD_CHOSEN
                                        : app->selected        ? CARD_DIMMED
                                                               : CARD_PLAIN;

                if (tiles && state == CARD_PLAIN && tile_rim_put(ui, i, r->x, r->y))
                        continue;
                if (tiles)
                        ui_art_put(ui, &ui->tile[i][state], r->x, r->y, 0xff);
                else
                        card_paint(ui, &g, i, state, r->x, r->y);
        }
}

static void draw_send(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        const struct layout_rect *b = &L->send;
        bool enabled = vote_level_valid(app->selected);

        /* a slot for each look: choosing a smiley enables it, and renders no text */
        button(ui, enabled ? SLOT_SEND : SLOT_SEND_OFF, b, ui_tr(ui, "kiosk.send"), enabled ? 1 : 2,
               ui_mini(L->font_title, b->h * 2 / 5));
}

static void draw_open(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        struct text_style st = style(FACE_REGULAR, L->font_body, L->font_body * 3 / 4, PALETTE_TEXT,
                                     TEXT_CENTER | TEXT_OPAQUE);

        draw_header(ui, app);
        draw_qr(ui, app);
        if (app->notice_until_ms) {
                /* a vote inside the minimum interval: no second thank-you, no reproach */
                st.face = FACE_BOLD;
                st.color = ui_color(PALETTE_TEXT2);
                ui_text_box(ui, SLOT_PROMPT, ui_tr(ui, "kiosk.already"), &st, &L->prompt);
        } else
                ui_text_box(ui, SLOT_PROMPT, ui_tr(ui, "kiosk.choose"), &st, &L->prompt);
        draw_smileys(ui, app);
        draw_send(ui, app);
}

/* ---- messages ---- */

/* Up to three lines of text (and an optional picture above) centred in box. */
static void draw_message(struct ui *ui, const struct layout_rect *box, const struct art *picture,
                         const char *const msg[3], const struct text_style st[3])
{
        const struct layout *L = &ui->layout;
        int gap = L->font_body, total = 0, y;
        const struct text *t[3] = {NULL};

        if (picture && picture->tex)
                total += picture->h + gap;
        for (int i = 0; i < 3; i++) {
                if (!msg[i] || !*msg[i])
                        continue;
                t[i] = ui_text_get(ui, (enum slot)(SLOT_MSG_1 + i), msg[i], &st[i], box->w,
                                   box->h / 3);
                total += t[i]->h + (i ? gap : 0);
        }
        y = box->y + ui_maxi(0, (box->h - total) / 2);
        if (picture && picture->tex) {
                ui_art_put(ui, picture, (L->width - picture->w) / 2, y, 0xff);
                y += picture->h + gap;
        }
        for (int i = 0; i < 3; i++) {
                if (!t[i])
                        continue;
                ui_text_put(ui, t[i], box->x + (box->w - t[i]->w) / 2, y);
                y += t[i]->h + gap;
        }
}

static void draw_closed(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        bool connect = app_needs_enrollment(app);
        const char *msg[3] = {app->workplace_name, ui_tr(ui, "kiosk.closed"),
                              ui_tr(ui, "kiosk.closed_hint")};
        const struct text_style st[3] = {
            style(FACE_REGULAR, L->font_body, L->font_body * 3 / 4, PALETTE_TEXT2,
                  TEXT_CENTER | TEXT_WRAP | TEXT_OPAQUE),
            style(FACE_BOLD, L->font_title * 13 / 10, L->font_title * 7 / 10, PALETTE_TEXT,
                  TEXT_CENTER | TEXT_WRAP | TEXT_OPAQUE),
            style(FACE_REGULAR, L->font_body, L->font_body * 3 / 4, PALETTE_TEXT2,
                  TEXT_CENTER | TEXT_WRAP | TEXT_OPAQUE),
        };

        if (connect && !app->have_roster) {
                /* a new terminal: nobody can log in yet, and the screen says what comes first */
                msg[1] = ui_tr(ui, "kiosk.enroll_closed");
                msg[2] = ui_tr(ui, "kiosk.enroll_closed_hint");
        } else if (app->status.unauthorized)
                msg[2] = ui_tr(ui, "kiosk.enroll_closed_revoked");
        draw_message(ui, connect ? &L->connect_message : &L->message, NULL, msg, st);
}

static void draw_thanks(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        const char *msg[3] = {ui_tr(ui, "kiosk.thanks"), NULL, NULL};
        const struct text_style st[3] = {
            style(FACE_BOLD, L->font_title * 3 / 2, L->font_title * 7 / 10, PALETTE_TEXT,
                  TEXT_CENTER | TEXT_WRAP | TEXT_OPAQUE),
        };
        int size = ui_mini(L->width, L->height) * 2 / 5;

        /* kept for the layout's lifetime, flattened onto the background: a copy per thank-you */
        if (ui_art_smiley(ui, &ui->big_smiley, VOTE_LEVEL_EXEMPLARY, size) == 0)
                ui_art_flatten(ui, &ui->big_smiley, ui_color(PALETTE_BG));
        draw_message(ui, &L->message, &ui->big_smiley, msg, st);
}

static void draw_trouble(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        const char *why = "kiosk.trouble_other";
        const char *msg[3];
        const struct text_style st[3] = {
            style(FACE_BOLD, L->font_title * 6 / 5, L->font_title * 7 / 10, PALETTE_TEXT,
                  TEXT_CENTER | TEXT_WRAP | TEXT_OPAQUE),
            style(FACE_REGULAR, L->font_body, L->font_body * 3 / 4, PALETTE_TEXT2,
                  TEXT_CENTER | TEXT_WRAP | TEXT_OPAQUE),
        };

        if (strcmp(app->trouble, "disk-full") == 0)
                why = "kiosk.trouble_disk_full";
        else if (strcmp(app->trouble, "store-broken") == 0)
                why = "kiosk.trouble_store_broken";
        msg[0] = ui_tr(ui, "kiosk.trouble");
        msg[1] = ui_tr(ui, why);
        msg[2] = NULL;
        draw_message(ui, &L->message, NULL, msg, st);
}

/* ---- the login list ---- */

static void draw_list(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        size_t n = app->have_roster ? app->roster.n_employees : 0, rows = (size_t)L->list_rows;
        size_t first = app->list_first;
        struct text_style st_name =
            style(FACE_BOLD, L->font_body, L->font_body * 3 / 4, PALETTE_TEXT, TEXT_LEFT);
        struct text_style st_pos =
            style(FACE_REGULAR, L->font_small, L->font_small * 8 / 10, PALETTE_TEXT2, TEXT_LEFT);
        char title[LINE_MAX], a[24], b[24], c[24];
        const char *prev = ui_font_has(ui, 0x2039) ? "‹" : "<";
        const char *next = ui_font_has(ui, 0x203a) ? "›" : ">";

        if (n > rows) {
                const char *args[3] = {a, b, c};
                char page[128];

                snprintf(a, sizeof(a), "%zu", first + 1);
                snprintf(b, sizeof(b), "%zu", first + rows < n ? first + rows : n);
                snprintf(c, sizeof(c), "%zu", n);
                fill(page, sizeof(page), ui_tr(ui, "kiosk.list_page"), args, 3);
                snprintf(title, sizeof(title), "%s", ui_tr(ui, "kiosk.list_title"));
                append(title, sizeof(title), "  ·  ");
                append(title, sizeof(title), page);
        } else
                snprintf(title, sizeof(title), "%s", ui_tr(ui, "kiosk.list_title"));
        draw_title(ui, title);

        if (n == 0) {
                struct text_style st = style(FACE_REGULAR, L->font_body, L->font_body * 3 / 4,
                                             PALETTE_TEXT2, TEXT_CENTER | TEXT_WRAP);
                struct layout_rect box = {L->row[0].x, L->row[0].y, L->width - 2 * L->margin,
                                          L->back.y - L->gap - L->row[0].y};

                ui_text_box(ui, SLOT_NOTE,
                            ui_tr(ui, app->have_roster ? "kiosk.list_empty" : "kiosk.list_none"),
                            &st, &box);
        }
        for (size_t i = 0; i < rows; i++) {
                const struct roster_employee *e = app_list_employee(app, first + i);
                const struct layout_rect *r = &L->row[i];
                int pad = ui_mini(L->font_body, r->h / 4);
                int name_h = r->h * 11 / 20, pos_h = r->h - name_h - pad / 2;
                struct layout_rect name = {r->x + pad, r->y + pad / 4, r->w - 2 * pad, name_h};
                struct layout_rect pos = {r->x + pad, r->y + name_h, r->w - 2 * pad, pos_h};
                const struct art *card;

                if (!e)
                        break;
                card = ui_rounded(ui, r->w, r->h, ui_mini(r->h / 5, 14), ui_color(PALETTE_WHITE),
                                  ui_color(PALETTE_RULE), ui_maxi(1, L->gap / 8));
                if (card)
                        ui_art_put(ui, card, r->x, r->y, 0xff);
                ui_text_box(ui, (enum slot)(SLOT_ROW_NAME_0 + i), e->full_name, &st_name, &name);
                ui_text_box(ui, (enum slot)(SLOT_ROW_POS_0 + i), e->position, &st_pos, &pos);
        }
        draw_back(ui);
        button(ui, SLOT_PREV, &L->prev, prev, first > 0 ? 0 : 2, L->font_title);
        button(ui, SLOT_NEXT, &L->next, next, first + rows < n ? 0 : 2, L->font_title);
        button(ui, SLOT_NUMBER, &L->number, ui_tr(ui, "kiosk.number"), app->have_roster ? 0 : 2,
               L->font_body);
}

/* ---- the keypad ---- */

/* What the code keypad says about the enrollment, in plain words. */
static void enroll_text(struct ui *ui, const struct app *app, char *out, size_t n,
                        enum palette_color *ret_color)
{
        *ret_color = PALETTE_WARN;
        out[0] = 0;
        switch (app->enroll) {
        case APP_ENROLL_CONNECTING:
                snprintf(out, n, "%s", ui_tr(ui, "kiosk.enroll_connecting"));
                *ret_color = PALETTE_TEXT2;
                break;
        case APP_ENROLL_DONE:
                if (app->enroll_terminal[0])
                        fill1(out, n, ui_tr(ui, "kiosk.enroll_done_as"), app->enroll_terminal);
                else
                        snprintf(out, n, "%s", ui_tr(ui, "kiosk.enroll_done"));
                *ret_color = PALETTE_TEXT;
                break;
        case APP_ENROLL_REFUSED:
                snprintf(out, n, "%s", ui_tr(ui, "kiosk.enroll_refused"));
                break;
        case APP_ENROLL_TOO_MANY:
                snprintf(out, n, "%s", ui_tr(ui, "kiosk.enroll_too_many"));
                break;
        case APP_ENROLL_UNREACHABLE:
                snprintf(out, n, "%s", ui_tr(ui, "kiosk.offline")); /* it keeps trying the code */
                break;
        case APP_ENROLL_FAILED:
                fill1(out, n, ui_tr(ui, "kiosk.enroll_failed"), app->enroll_error);
                break;
        case APP_ENROLL_NO_COLLECTOR:
                snprintf(out, n, "%s", ui_tr(ui, "kiosk.enroll_no_collector"));
                break;
        default:
                break;
        }
}

static void note_text(struct ui *ui, const struct app *app, char *out, size_t n,
                      enum palette_color *ret_color)
{
        char arg[32];

        if (app->screen == APP_SCREEN_ENROLL) {
                enroll_text(ui, app, out, n, ret_color);
                return;
        }
        *ret_color = PALETTE_TEXT2;
        out[0] = 0;
        switch (app->note) {
        case APP_NOTE_CHECKING:
                snprintf(out, n, "%s", ui_tr(ui, "kiosk.checking"));
                break;
        case APP_NOTE_WRONG_PIN:
                snprintf(arg, sizeof(arg), "%d", app->tries_left);
                fill1(out, n, ui_tr(ui, "kiosk.wrong_pin"), arg);
                *ret_color = PALETTE_WARN;
                break;
        case APP_NOTE_LOCKED:
                snprintf(arg, sizeof(arg), "%" PRId64 ":%02" PRId64, app->lock_remaining_s / 60,
                         app->lock_remaining_s % 60);
                fill1(out, n, ui_tr(ui, "kiosk.locked"), arg);
                *ret_color = PALETTE_WARN;
                break;
        case APP_NOTE_NO_PIN:
                snprintf(out, n, "%s", ui_tr(ui, "kiosk.no_pin"));
                *ret_color = PALETTE_WARN;
                break;
        case APP_NOTE_UNKNOWN_NUMBER:
                snprintf(out, n, "%s", ui_tr(ui, "kiosk.unknown_number"));
                *ret_color = PALETTE_WARN;
                break;
        case APP_NOTE_AMBIGUOUS:
                snprintf(out, n, "%s", ui_tr(ui, "kiosk.ambiguous"));
                break;
        default:
                break;
        }
}

static void draw_keypad(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        bool pin = app->screen == APP_SCREEN_PIN, code = app->screen == APP_SCREEN_ENROLL;
        const struct roster_employee *e = app_pin_employee(app);
        bool off = app->pin_check_pending ||
                   (pin && (app->note == APP_NOTE_LOCKED || app->note == APP_NOTE_NO_PIN)) ||
                   (code && app->enroll == APP_ENROLL_NO_COLLECTOR);
        struct text_style st_sub = style(FACE_REGULAR, L->font_body, L->font_body * 3 / 4,
                                         PALETTE_TEXT2, TEXT_LEFT | TEXT_WRAP);
        struct text_style st_entry = style(FACE_BOLD, L->font_title * 5 / 4, L->font_title * 3 / 4,
                                           PALETTE_TEXT, TEXT_CENTER);
        struct text_style st_note = style(FACE_REGULAR, L->font_body, L->font_body * 3 / 4,
                                          PALETTE_TEXT2, TEXT_LEFT | TEXT_WRAP);
        char entry[APP_NUMBER_MAX * 4 + 1] = "", note[LINE_MAX];
        const char *dot = ui_font_has(ui, 0x25cf) ? "●" : "*";
        const char *erase = ui_font_has(ui, 0x232b) ? "⌫" : "<";
        const struct art *card;
        enum palette_color note_color;
        size_t len = strlen(app->entry);

        if (code)
                draw_title(ui, ui_tr(ui, "kiosk.enroll_title"));
        else if (!pin)
                draw_title(ui, ui_tr(ui, "kiosk.number_title"));
        else
                draw_title(ui, ui_tr(ui, app->pin_for == APP_PIN_MENU ? "kiosk.pin_menu_title"
                                                                      : "kiosk.pin_title"));
        if (pin && e) {
                char sub[LINE_MAX];

                snprintf(sub, sizeof(sub), "%s", e->full_name);
                if (e->position[0]) {
                        append(sub, sizeof(sub), "\n");
                        append(sub, sizeof(sub), e->position);
                }
                ui_text_box(ui, SLOT_SUBTITLE, sub, &st_sub, &L->subtitle);
        } else if (code)
                /* from the menu of a working terminal: the code replaces its credential */
                ui_text_box(ui, SLOT_SUBTITLE,
                            ui_tr(ui, app->enroll_replaces ? "kiosk.enroll_hint_again"
                                                           : "kiosk.enroll_hint"),
                            &st_sub, &L->subtitle);
        else
                ui_text_box(ui, SLOT_SUBTITLE, ui_tr(ui, "kiosk.number_hint"), &st_sub,
                            &L->subtitle);

        /* the entry: a white field; a PIN shows as dots, never as digits */
        card = ui_rounded(ui, L->entry.w, L->entry.h, ui_mini(L->entry.h / 5, 14),
                          ui_color(PALETTE_WHITE), ui_color(PALETTE_RULE), ui_maxi(1, L->gap / 8));
        if (card)
                ui_art_put(ui, card, L->entry.x, L->entry.y, 0xff);
        if (pin)
                for (size_t i = 0; i < len; i++) {
                        if (i)
                                append(entry, sizeof(entry), " ");
                        append(entry, sizeof(entry), dot);
                }
        else if (code)
                /* not masked: grouped as printed, 1234-5678-9012, as it is typed */
                for (size_t i = 0; i < len; i++) {
                        char digit[2] = {app->entry[i], 0};

                        if (i && i % 4 == 0)
                                append(entry, sizeof(entry), "-");
                        append(entry, sizeof(entry), digit);
                }
        else
                snprintf(entry, sizeof(entry), "%s", app->entry);
        ui_text_box(ui, SLOT_ENTRY, entry, &st_entry, &L->entry);

        note_text(ui, app, note, sizeof(note), &note_color);
        st_note.color = ui_color(note_color);
        ui_text_box(ui, SLOT_NOTE, note, &st_note, &L->note);

        for (int i = 0; i < LAYOUT_KEYS; i++) {
                char label[8];
                int kind = off ? 2 : 0;

                if (i < 9)
                        snprintf(label, sizeof(label), "%d", i + 1);
                else if (i == 9)
                        snprintf(label, sizeof(label), "%s", erase);
                else if (i == 10)
                        snprintf(label, sizeof(label), "0");
                else {
                        snprintf(label, sizeof(label), "%s", ui_tr(ui, "kiosk.key_ok"));
                        kind = off || !len || (code && len != APP_ENROLL_DIGITS) ? 2 : 1;
                }
                button(ui, (enum slot)(SLOT_KEY_0 + i), &L->key[i], label, kind,
                       ui_mini(L->font_title * 5 / 4, L->key[i].h / 2));
        }
        draw_back(ui);
}

/* ---- the staff menu and the status ---- */

static void draw_menu(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        struct text_style st =
            style(FACE_REGULAR, L->font_body, L->font_body * 3 / 4, PALETTE_TEXT2, TEXT_LEFT);
        const char *items[LAYOUT_MENU_ITEMS] = {
            ui_tr(ui, "kiosk.logout"), ui_tr(ui, "kiosk.status_title"),
            ui_tr(ui, "kiosk.lang_switch"), ui_tr(ui, "kiosk.enroll_menu")};

        draw_title(ui, ui_tr(ui, "kiosk.menu_title"));
        ui_text_box(ui, SLOT_SUBTITLE, app->employee.full_name, &st, &L->who);
        /* the new code, rarely wanted and ending the present connection, is outlined */
        for (int i = 0; i < LAYOUT_MENU_ITEMS; i++)
                button(ui, (enum slot)(SLOT_MENU_0 + i), &L->menu[i], items[i],
                       i == APP_MENU_ENROLL ? 0 : 1, ui_mini(L->font_title, L->menu[i].h * 2 / 5));
        draw_back(ui);
}

static void format_time(int64_t unix_s, char *out, size_t n)
{
        time_t t = (time_t)unix_s;
        struct tm tm;

        if (!localtime_r(&t, &tm) || !strftime(out, n, "%d.%m.%Y %H:%M:%S", &tm))
                snprintf(out, n, "%" PRId64, unix_s);
}

static void draw_status_screen(struct ui *ui, const struct app *app)
{
        const struct layout *L = &ui->layout;
        const struct sync_status *s = &app->status;
        struct text_style st_label =
            style(FACE_REGULAR, L->font_body, L->font_small, PALETTE_QUIET, TEXT_LEFT);
        struct text_style st_value =
            style(FACE_BOLD, L->font_body, L->font_small, PALETTE_TEXT, TEXT_LEFT);
        char v[LAYOUT_INFO_ROWS][LINE_MAX], a[32], b[32];
        const char *label[LAYOUT_INFO_ROWS] = {
            "kiosk.st_queue",   "kiosk.st_last_sync", "kiosk.st_network",
            "kiosk.st_clock",   "kiosk.st_auth",      "kiosk.st_rejected",
            "kiosk.st_version", "kiosk.st_terminal",  "kiosk.st_roster",
        };
        bool warn[LAYOUT_INFO_ROWS] = {false};
        const char *args[2] = {a, b};

        snprintf(a, sizeof(a), "%" PRId64, app->pending);
        snprintf(b, sizeof(b), "%" PRId64, s->events_pending);
        fill(v[0], LINE_MAX, ui_tr(ui, "kiosk.st_queue_value"), args, 2);
        if (s->last_ok_unix > 0)
                format_time(s->last_ok_unix, v[1], LINE_MAX);
        else
                snprintf(v[1], LINE_MAX, "%s", ui_tr(ui, "kiosk.st_never"));
        if (s->online)
                snprintf(v[2], LINE_MAX, "%s", ui_tr(ui, "kiosk.st_online"));
        else {
                snprintf(v[2], LINE_MAX, "%s", ui_tr(ui, "kiosk.st_offline"));
                if (s->last_error[0]) {
                        append(v[2], LINE_MAX, ": ");
                        append(v[2], LINE_MAX, s->last_error);
                }
                warn[2] = true;
        }
        if (s->clock_known) {
                int64_t ms = s->clock_offset_ms < 0 ? -s->clock_offset_ms : s->clock_offset_ms;

                snprintf(a, sizeof(a), "%s%" PRId64 "%s%" PRId64,
                         s->clock_offset_ms < 0 ? "−" : "+", ms / 1000,
                         ui_tr(ui, "kiosk.decimal_point"), ms % 1000 / 100);
                fill1(v[3], LINE_MAX, ui_tr(ui, "kiosk.st_clock_value"), a);
                warn[3] = ms > 60000;
        } else
                snprintf(v[3], LINE_MAX, "%s", ui_tr(ui, "kiosk.st_clock_unknown"));
        if (s->unauthorized) {
                snprintf(v[4], LINE_MAX, "%s", ui_tr(ui, "kiosk.st_auth_revoked"));
                warn[4] = true;
        } else
                snprintf(v[4], LINE_MAX, "%s",
                         ui_tr(ui, s->enrolled ? "kiosk.st_auth_ok" : "kiosk.st_auth_none"));
        snprintf(v[5], LINE_MAX, "%" PRId64, s->rejected);
        warn[5] = s->rejected > 0;
        snprintf(v[6], LINE_MAX, "%s", app->version_str ? app->version_str : "");
        snprintf(v[7], LINE_MAX, "%s", app->roster.terminal[0] ? app->roster.terminal : "—");
        append(v[7], LINE_MAX, "  ·  ");
        append(v[7], LINE_MAX, app->workplace[0] ? app->workplace : "—");
        if (app->have_roster)
                snprintf(v[8], LINE_MAX, "%zu", app->roster.n_employees);
        else
                snprintf(v[8], LINE_MAX, "%s", ui_tr(ui, "kiosk.st_roster_none"));

        draw_title(ui, ui_tr(ui, "kiosk.status_title"));
        for (int i = 0; i < LAYOUT_INFO_ROWS; i++) {
                st_value.color = ui_color(warn[i] ? PALETTE_WARN : PALETTE_TEXT);
                ui_text_box(ui, (enum slot)(SLOT_INFO_LABEL_0 + i), ui_tr(ui, label[i]), &st_label,
                            &L->info_label[i]);
                ui_text_box(ui, (enum slot)(SLOT_INFO_VALUE_0 + i), v[i], &st_value,
                            &L->info_value[i]);
        }
        draw_back(ui);
}

void ui_screens_draw(struct ui *ui, const struct app *app)
{
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
        case APP_SCREEN_LOGIN_LIST:
                draw_list(ui, app);
                break;
        case APP_SCREEN_LOGIN_NUMBER:
        case APP_SCREEN_PIN:
        case APP_SCREEN_ENROLL:
                draw_keypad(ui, app);
                break;
        case APP_SCREEN_MENU:
                draw_menu(ui, app);
                break;
        case APP_SCREEN_STATUS:
                draw_status_screen(ui, app);
                break;
        case APP_SCREEN_CLOSED:
        default:
                draw_closed(ui, app);
                break;
        }
        /* the footer is for staff: the thank-you moment belongs to the resident */
        if (app->screen == APP_SCREEN_OPEN || app->screen == APP_SCREEN_CLOSED) {
                draw_status_line(ui, app);
                draw_staff_control(ui, app);
                if (ui_layout_screen(app) == LAYOUT_SCREEN_CONNECT)
                        draw_connect_control(ui);
        } else if (app->screen == APP_SCREEN_TROUBLE)
                draw_status_line(ui, app);
}
