/* SPDX-License-Identifier: MIT */
/* Opaque artwork kept small: a composed texture (a smiley card, the thank-you's face, a
 * button) is mostly runs of one colour — the card's white, the face's red or green, the
 * background — with detail only along edges, eyes, mouths and letters. ui_art_pack() reads
 * the texture back once and keeps only that detail, packed into a small texture, plus the
 * rectangles of plain colour; ui_art_put() then puts back the very same pixels with a few
 * copies and fills. With SDL's software renderer a texture is its pixels in the heap, so the
 * nine smiley tiles alone were 5.8 MB at 1920x1080; packed they are a fraction of that, and a
 * fill is cheaper per pixel than the copy it replaces. Exact by construction: a fill stands
 * only for pixels that all have its colour, and everything else is copied. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>

#include "ui_impl.h"

/* packing must save at least this share of the pixels, else the texture stays whole */
#define PACK_MAX_KEEP_PERCENT 60
#define PACK_MIN_FILL 8 /* a plain run narrower than this between detail is copied with it */
/* packing must save at least this share of the pixels, else the texture stays whole */

/* A run of columns in one band: plain (one colour) or detail. */
struct run {
        int x, w;
        bool plain;
        Uint32 color; /* RGB bits only, when plain */
};

struct packer {
        const Uint32 *px; /* the texture's pixels, w * h */
        int w, h;
        Uint32 mask; /* the format's colour bits: an opaque format's unused byte is no colour */
        struct art_fill *fills;
        int n_fills, cap_fills;
        struct art_copy *copies; /* dst only until placed in the atlas */
        int n_copies, cap_copies;
};

/* Makes room for one more element of size elem in *arr (n used of *cap). */
static int grow(void **arr, int *cap, int n, size_t elem)
{
        void *a;
        int c;

        if (n < *cap)
                return 0;
        c = *cap ? *cap * 2 : 64;
        a = realloc(*arr, (size_t)c * elem);
        if (!a)
                return -ENOMEM;
        *arr = a;
        *cap = c;
        return 0;
}

static int push_fill(struct packer *p, const SDL_Rect *r, Uint32 color)
{
        if (grow((void **)&p->fills, &p->cap_fills, p->n_fills, sizeof(*p->fills)) < 0)
                return -ENOMEM;
        p->fills[p->n_fills++] = (struct art_fill){.r = *r, .color = color};
        return 0;
}

static int push_copy(struct packer *p, const SDL_Rect *dst)
{
        if (grow((void **)&p->copies, &p->cap_copies, p->n_copies, sizeof(*p->copies)) < 0)
                return -ENOMEM;
        p->copies[p->n_copies++] = (struct art_copy){.dst = *dst};
        return 0;
}

/* Joins neighbouring detail runs; returns the new count. */
static int runs_merge(struct run *runs, int n)
{
        int k = 0;

        for (int i = 0; i < n; i++) {
                if (k > 0 && !runs[k - 1].plain && !runs[i].plain) {
                        runs[k - 1].w += runs[i].w;
                        continue;
                }
                runs[k++] = runs[i];
        }
        return k;
}

/* The band's columns as runs: plain where the column's pixels in the band are all one colour
 * (and the neighbour has the same), detail elsewhere; narrow plain runs inside detail join it,
 * a copy being cheaper than one more fill. Returns the number of runs. */
static int band_runs(const struct packer *p, int y0, int y1, int max_copies, struct run *runs)
{
        int n = 0;

        for (int x = 0; x < p->w; x++) {
                Uint32 c = p->px[(size_t)y0 * (size_t)p->w + (size_t)x] & p->mask;
                bool plain = true;

                for (int y = y0 + 1; y < y1 && plain; y++)
                        plain = (p->px[(size_t)y * (size_t)p->w + (size_t)x] & p->mask) == c;
                if (n > 0 && runs[n - 1].plain == plain && (!plain || runs[n - 1].color == c)) {
                        runs[n - 1].w++;
                        continue;
                }
                runs[n++] = (struct run){x, 1, plain, plain ? c : 0};
        }
        /* narrow plain runs that touch detail become detail; then neighbours merge */
        for (int i = 0; i < n; i++)
                if (runs[i].plain && runs[i].w < PACK_MIN_FILL &&
                    ((i > 0 && !runs[i - 1].plain) || (i + 1 < n && !runs[i + 1].plain)))
                        runs[i].plain = false;
        n = runs_merge(runs, n);
        /* each copy costs the renderer a blit's set-up: at most max_copies a band, the
         * narrowest plain gaps between detail copied with it */
        for (;;) {
                int details = 0, gap = -1;

                for (int i = 0; i < n; i++) {
                        if (!runs[i].plain)
                                details++;
                        else if (i > 0 && i + 1 < n && !runs[i - 1].plain && !runs[i + 1].plain &&
                                 (gap < 0 || runs[i].w < runs[gap].w))
                                gap = i;
                }
                if (details <= max_copies || gap < 0)
                        break;
                runs[gap].plain = false;
                n = runs_merge(runs, n);
        }
        return n;
}

/* Adds the band's runs, extending a rect of the band above when it has the same columns (and
 * colour): a card's border or a plain area becomes one tall rect, not one per band. prev_*
 * are the indexes where the band above began. */
static int add_band(struct packer *p, const struct run *runs, int n, int y0, int y1, int prev_fill,
                    int prev_copy)
{
        int fill_end = p->n_fills, copy_end = p->n_copies, r;

        for (int i = 0; i < n; i++) {
                SDL_Rect rect = {runs[i].x, y0, runs[i].w, y1 - y0};
                bool merged = false;

                if (runs[i].plain) {
                        for (int k = prev_fill; k < fill_end && !merged; k++) {
                                SDL_Rect *f = &p->fills[k].r;

                                if (f->x == rect.x && f->w == rect.w && f->y + f->h == y0 &&
                                    p->fills[k].color == runs[i].color) {
                                        f->h += rect.h;
                                        merged = true;
                                }
                        }
                        r = merged ? 0 : push_fill(p, &rect, runs[i].color);
                } else {
                        for (int k = prev_copy; k < copy_end && !merged; k++) {
                                SDL_Rect *c = &p->copies[k].dst;

                                if (c->x == rect.x && c->w == rect.w && c->y + c->h == y0) {
                                        c->h += rect.h;
                                        merged = true;
                                }
                        }
                        r = merged ? 0 : push_copy(p, &rect);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cmp_copy_height(const void *a, const void *b)
{
        const struct art_copy *x = a, *y = b;

        if (x->dst.h != y->dst.h)
                return y->dst.h - x->dst.h;
        return x->dst.w != y->dst.w ? y->dst.w - x->dst.w : 0;
}

static int cmp_fill_color(const void *a, const void *b)
{
        const struct art_fill *x = a, *y = b;

        return (x->color > y->color) - (x->color < y->color);
}

/* Places the copies' sources in shelves, the tallest first, in a texture about as wide as it
 * is tall (a button's four corners need not take a strip as wide as the button); returns its
 * height and sets *ret_w to its width. */
static int atlas_place(struct packer *p, int *ret_w)
{
        int sx = 0, sy = 0, shelf = 0, w = 1;
        size_t area = 0;

        for (int i = 0; i < p->n_copies; i++) {
                w = ui_maxi(w, p->copies[i].dst.w);
                area += (size_t)p->copies[i].dst.w * (size_t)p->copies[i].dst.h;
        }
        while ((size_t)w * (size_t)w < area && w < p->w)
                w++;
        *ret_w = w;
        if (p->n_copies > 1)
                qsort(p->copies, (size_t)p->n_copies, sizeof(p->copies[0]), cmp_copy_height);
        for (int i = 0; i < p->n_copies; i++) {
                struct art_copy *c = &p->copies[i];

                if (sx + c->dst.w > w) {
                        sy += shelf;
                        sx = 0;
                        shelf = 0;
                }
                if (shelf == 0)
                        shelf = c->dst.h;
                c->src = (SDL_Rect){sx, sy, c->dst.w, c->dst.h};
                sx += c->dst.w;
        }
        return sy + shelf;
}

Uint32 *ui_read_back(struct ui *ui, SDL_Texture *tex, int w, int h)
{
        SDL_Renderer *r = ui->renderer;
        SDL_Texture *prev = SDL_GetRenderTarget(r);
        Uint32 *px = malloc((size_t)w * (size_t)h * 4);
        int rc;

        if (!px)
                return NULL;
        if (SDL_SetRenderTarget(r, tex) < 0) {
                free(px);
                return NULL;
        }
        rc = SDL_RenderReadPixels(r, NULL, ui->opaque_format, px, w * 4);
        SDL_SetRenderTarget(r, prev);
        if (rc < 0) {
                free(px);
                return NULL;
        }
        return px;
}

int ui_art_pack(struct ui *ui, struct art *a, int band, int max_copies)
{
        SDL_PixelFormat *fmt = NULL;
        struct packer p = {0};
        struct run *runs = NULL;
        Uint32 *atlas = NULL;
        SDL_Texture *tex = NULL;
        int prev_fill = 0, prev_copy = 0, atlas_w, atlas_h, r = -ENOMEM;
        size_t kept = 0;

        if (!a->tex || !a->opaque || a->fills || a->copies || a->w < PACK_MIN_FILL ||
            a->h < PACK_MIN_FILL || band < 1 || max_copies < 1)
                return 0;
        fmt = SDL_AllocFormat(ui->opaque_format);
        if (!fmt || SDL_BYTESPERPIXEL(ui->opaque_format) != 4)
                goto out_keep;
        p.w = a->w;
        p.h = a->h;
        p.mask = fmt->Rmask | fmt->Gmask | fmt->Bmask;
        p.px = ui_read_back(ui, a->tex, a->w, a->h);
        runs = malloc((size_t)a->w * sizeof(*runs));
        if (!p.px || !runs)
                goto out_keep;
        for (int y0 = 0; y0 < a->h; y0 += band) {
                int y1 = ui_mini(a->h, y0 + band), fills = p.n_fills, copies = p.n_copies;
                int n = band_runs(&p, y0, y1, max_copies, runs);

                if (add_band(&p, runs, n, y0, y1, prev_fill, prev_copy) < 0)
                        goto out_keep;
                prev_fill = fills;
                prev_copy = copies;
        }
        atlas_h = atlas_place(&p, &atlas_w);
        for (int i = 0; i < p.n_copies; i++)
                kept += (size_t)p.copies[i].dst.w * (size_t)p.copies[i].dst.h;
        /* not worth it: the shelves' waste and the ops would eat the saving */
        if ((size_t)atlas_h * (size_t)atlas_w * 100 >
            (size_t)a->w * (size_t)a->h * PACK_MAX_KEEP_PERCENT)
                goto out_keep;
        if (atlas_h == 0)
                goto out_keep; /* one colour throughout: not a case worth a path of its own */
        atlas = calloc((size_t)atlas_w * (size_t)atlas_h, 4);
        if (!atlas)
                goto out_keep;
        for (int i = 0; i < p.n_copies; i++) {
                const struct art_copy *c = &p.copies[i];

                for (int y = 0; y < c->dst.h; y++)
                        memcpy(atlas + (size_t)(c->src.y + y) * (size_t)atlas_w + (size_t)c->src.x,
                               p.px + (size_t)(c->dst.y + y) * (size_t)a->w + (size_t)c->dst.x,
                               (size_t)c->dst.w * 4);
        }
        /* not a static texture: SDL's software renderer run-length encodes those, and copying a
         * part of one then walks every line above it */
        tex = ui_target_create(ui, atlas_w, atlas_h);
        if (!tex || SDL_UpdateTexture(tex, NULL, atlas, atlas_w * 4) < 0)
                goto out_keep;
        /* the fills of one colour together, so that ui_art_put() fills them in one call */
        if (p.n_fills > 1)
                qsort(p.fills, (size_t)p.n_fills, sizeof(p.fills[0]), cmp_fill_color);
        for (int i = 0; i < p.n_fills; i++) {
                Uint8 cr, cg, cb;

                SDL_GetRGB(p.fills[i].color, fmt, &cr, &cg, &cb);
                p.fills[i].rgb = (SDL_Color){cr, cg, cb, 0xff};
        }
        SDL_DestroyTexture(a->tex);
        a->tex = tex;
        a->fills = p.fills;
        a->n_fills = p.n_fills;
        a->copies = p.copies;
        a->n_copies = p.n_copies;
        p.fills = NULL;
        p.copies = NULL;
        tex = NULL;
        r = (int)kept;
out_keep:
        if (tex)
                SDL_DestroyTexture(tex);
        free(atlas);
        free(runs);
        free((void *)p.px);
        free(p.fills);
        free(p.copies);
        SDL_FreeFormat(fmt);
        /* the read-back and the whole texture are gone: give their pages back now */
        if (r > 0)
                ui_heap_trim();
        return r < 0 ? 0 : r; /* a texture that cannot be packed stays whole: it still draws */
}

/* Draws a packed art at (x, y): its fills, a colour at a time, and its detail. */
void ui_art_put_packed(struct ui *ui, const struct art *a, int x, int y)
{
        SDL_Renderer *ren = ui->renderer;
        SDL_Rect rects[64];
        Uint8 cr, cg, cb, ca;
        int n = 0;

        SDL_GetRenderDrawColor(ren, &cr, &cg, &cb, &ca);
        for (int i = 0; i < a->n_fills; i++) {
                const struct art_fill *f = &a->fills[i];

                rects[n++] = (SDL_Rect){x + f->r.x, y + f->r.y, f->r.w, f->r.h};
                if (n == (int)SDL_arraysize(rects) || i + 1 == a->n_fills ||
                    a->fills[i + 1].color != f->color) {
                        ui_set_color(ren, f->rgb);
                        SDL_RenderFillRects(ren, rects, n);
                        n = 0;
                }
        }
        SDL_SetRenderDrawColor(ren, cr, cg, cb, ca);
        for (int i = 0; i < a->n_copies; i++) {
                const struct art_copy *c = &a->copies[i];
                SDL_Rect dst = {x + c->dst.x, y + c->dst.y, c->dst.w, c->dst.h};

                SDL_RenderCopy(ren, a->tex, &c->src, &dst);
        }
}
