/* SPDX-License-Identifier: MIT */
/* Inside the terminal's SDL user interface, shared by ui.c (window, input, frames),
 * ui_paint.c (text and artwork as cached textures) and ui_screens.c (what each screen draws).
 * Nothing outside those three files includes it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "layout.h"
#include "palette.h"
#include "qr.h"
#include "vote.h"

struct app;
struct i18n;

#define UI_QR_QUIET 4      /* modules of white around the code, as ISO 18004 asks */
#define UI_QR_RUNS_MAX 177 /* modules per side of a version-40 code */
#define UI_ROUNDED_CACHE 32

enum ui_face { FACE_REGULAR, FACE_BOLD, FACE_COUNT };

enum {
        TEXT_LEFT = 0,
        TEXT_CENTER = 1,
        TEXT_RIGHT = 2,
        TEXT_ALIGN_MASK = 3,
        TEXT_WRAP = 4, /* break at spaces into as many lines as the box holds */
        /* drawn straight onto the screen's plain background (PALETTE_BG) with nothing under
         * its box: the texture is flattened onto that colour once and then copied, not
         * blended (ui_flatten()) */
        TEXT_OPAQUE = 8,
};

/* How a smiley card looks: nothing chosen yet, chosen, or another one chosen. */
enum card_state { CARD_PLAIN, CARD_CHOSEN, CARD_DIMMED, CARD_STATES };

struct text_style {
        enum ui_face face;
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
        SLOT_LABEL_0, /* + (level - 1) * CARD_STATES + state: each card's label in each look */
        SLOT_SEND = SLOT_LABEL_0 + 3 * CARD_STATES, /* «Відправити відгук», enabled */
        SLOT_SEND_OFF,                              /* and disabled: nothing chosen yet */
        SLOT_CAPTION,
        SLOT_QR_NOTE,
        SLOT_STATUS,
        SLOT_STAFF,
        SLOT_CONNECT, /* «Підключити термінал» */
        SLOT_MSG_1,   /* the large lines of the closed, thank-you and trouble screens */
        SLOT_MSG_2,
        SLOT_MSG_3,
        SLOT_TITLE, /* the staff screens */
        SLOT_SUBTITLE,
        SLOT_ENTRY,
        SLOT_NOTE,
        SLOT_BACK,
        SLOT_PREV,
        SLOT_NEXT,
        SLOT_NUMBER,
        SLOT_KEY_0, /* + i for layout.key[i] */
        SLOT_ROW_NAME_0 = SLOT_KEY_0 + LAYOUT_KEYS,
        SLOT_ROW_POS_0 = SLOT_ROW_NAME_0 + LAYOUT_ROWS_MAX,
        SLOT_MENU_0 = SLOT_ROW_POS_0 + LAYOUT_ROWS_MAX,
        SLOT_INFO_LABEL_0 = SLOT_MENU_0 + LAYOUT_MENU_ITEMS,
        SLOT_INFO_VALUE_0 = SLOT_INFO_LABEL_0 + LAYOUT_INFO_ROWS,
        SLOT_COUNT = SLOT_INFO_VALUE_0 + LAYOUT_INFO_ROWS,
};

struct text {
        char *s; /* the text shown; owned */
        struct text_style style;
        int max_w, max_h;
        SDL_Texture *tex; /* NULL for empty text */
        int w, h;
        uint64_t used; /* the ui's frame that last drew it */
};

/* A rectangle of one colour in a packed art (ui_pack.c), relative to its corner. */
struct art_fill {
        SDL_Rect r;
        Uint32 color;  /* in the window's format, colour bits only: for sorting and merging */
        SDL_Color rgb; /* the same, for the renderer's draw colour */
};

/* A rectangle of detail in a packed art: where it is in the packed texture, where it goes. */
struct art_copy {
        SDL_Rect src, dst;
};

/* A texture with the size it was made for. */
struct art {
        SDL_Texture *tex;
        int w, h;
        bool opaque; /* flattened onto the background: copied, not blended */
        /* packed (ui_art_pack()): tex holds only the detail, and the art is drawn as these
         * fills (sorted by colour) and copies from tex; both NULL for a whole texture */
        struct art_fill *fills;
        int n_fills;
        struct art_copy *copies;
        int n_copies;
};

/* A rounded rectangle in the cache, with what it was made from. */
struct rounded {
        struct art art;
        int radius, border_w;
        SDL_Color fill, border;
        uint64_t used; /* the ui's frame that last drew it */
};

/* A smiley card's plain look kept as what differs from its chosen look: the chosen tile's
 * inner rect (the face, the white around it: the same pixels in both looks) and the rim
 * around it (the thin border instead of the ring, no tick, the label not bold), in four
 * parts. Made by tiles_ensure() (ui_screens.c) when the pixels allow; else the plain tile
 * stays whole. */
struct tile_rim {
        SDL_Rect inner;     /* relative to the card */
        struct art part[4]; /* above, below, left and right of inner */
        SDL_Point at[4];    /* where each part goes, relative to the card */
};

/* Screens that show one after the other share caches; leaving a group frees what only it
 * drew (ui_paint_sweep()). */
enum ui_group { GROUP_NONE, GROUP_VOTING, GROUP_CLOSED, GROUP_TROUBLE, GROUP_STAFF };

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

        bool targets;         /* the renderer draws into textures (ui_flatten(), tiles) */
        Uint32 opaque_format; /* the window's pixel format: what a copy needs no conversion for */

        /* caches, all made for the current layout (and, with text, language); freed by
         * ui_paint_free() when the layout, the language or the render device changes */
        struct art smiley[3];  /* the faces at card size: only while the tiles are being made */
        struct art big_smiley; /* the thank-you screen's green face, flattened onto the bg */
        struct art card, card_selected, badge; /* the same */
        /* each smiley card in each look, with its background, face, badge and label, as one
         * opaque texture: a tap copies three of them instead of blending a dozen textures */
        struct art tile[3][CARD_STATES];
        struct tile_rim rim[3]; /* when rim[i].part[0].tex: tile[i][CARD_PLAIN] is not kept */
        bool tiles_failed;      /* no render targets, or making them failed: draw the parts */
        struct rounded rounded[UI_ROUNDED_CACHE]; /* buttons, keys, rows */
        int rounded_next;                         /* the slot replaced next */
        uint64_t frame;                           /* frames rendered, for the used marks */
        enum ui_group group;                      /* the group of the last frame's screen */
        struct qr qr;                             /* the module matrix of qr_url */
        char *qr_url;                             /* owned */
        struct text text[SLOT_COUNT];

        uint64_t shown_version; /* what the last ui_draw() drew */
        enum vote_lang shown_lang;
        bool have_shown;
        bool dirty; /* exposed, resized or reset: draw even if the version is the same */
};

static inline int ui_mini(int a, int b)
{
        return a < b ? a : b;
}

static inline int ui_maxi(int a, int b)
{
        return a > b ? a : b;
}

SDL_Color ui_color(enum palette_color c);
void ui_set_color(SDL_Renderer *r, SDL_Color c);
const char *ui_tr(const struct ui *ui, const char *key);

/* ui_paint.c: text and artwork, cached per slot or shape and made at their exact size */
void ui_text_free(struct text *t);
void ui_art_free(struct art *a);
void ui_paint_free(struct ui *ui); /* every cached texture */
void ui_tiles_free(struct ui *ui); /* the smiley cards' tiles (their labels change) */
/* Frees every text and shape that the frame just drawn did not use, with voting also the open
 * and thank-you screens' tiles and green face, and gives the memory back to the system.
 * Called once on a change of screen group, so that what one group cached does not stay
 * resident beside another's. */
void ui_paint_sweep(struct ui *ui, bool voting);
void ui_heap_trim(void); /* free heap pages back to the system (glibc), after freeing textures */
/* tex (w x h, blended) drawn onto a plain bg, as a new opaque texture in the window's pixel
 * format: copying it puts the very pixels on the screen that blending tex onto bg would, at a
 * copy's cost. NULL when the renderer has no render targets or it failed. tex is not freed.
 * The renderer's target and draw colour are left as they were. */
SDL_Texture *ui_flatten(struct ui *ui, SDL_Texture *tex, int w, int h, SDL_Color bg);
/* An opaque w x h texture in the window's format that the renderer can draw into; NULL when
 * it cannot. */
SDL_Texture *ui_target_create(struct ui *ui, int w, int h);
/* Makes a's texture opaque, drawn onto bg (ui_flatten()); keeps it blended when that fails. */
void ui_art_flatten(struct ui *ui, struct art *a, SDL_Color bg);
const struct text *ui_text_get(struct ui *ui, enum slot slot, const char *s,
                               const struct text_style *st, int max_w, int max_h);
void ui_text_put(struct ui *ui, const struct text *t, int x, int y);
/* Draws s fitted into box: aligned as the style says, centred vertically. */
void ui_text_box(struct ui *ui, enum slot slot, const char *s, const struct text_style *st,
                 const struct layout_rect *box);
int ui_art_smiley(struct ui *ui, struct art *a, int level, int size);
int ui_art_rounded(struct ui *ui, struct art *a, int w, int h, int radius, SDL_Color fill,
                   SDL_Color border, int border_w);
int ui_art_badge(struct ui *ui, struct art *a, int size);
/* A rounded rectangle from the shared cache; NULL when it cannot be made. Every shape in it is
 * drawn straight onto the screen's background with nothing under it, so it is kept flattened
 * onto PALETTE_BG (copied, not blended) when the renderer allows. */
const struct art *ui_rounded(struct ui *ui, int w, int h, int radius, SDL_Color fill,
                             SDL_Color border, int border_w);
void ui_art_put(struct ui *ui, const struct art *a, int x, int y, Uint8 alpha);

/* ui_pack.c: an opaque art kept as its detail plus rectangles of plain colour. Packs a (which
 * must be opaque) when that saves enough; else, or on any failure, leaves it whole: it draws
 * the same either way. band: the rows looked at together; max_copies: the copies a band may
 * take to draw (each is a blit's set-up in every frame that shows the art). Returns the pixels
 * the packed texture keeps, or 0. */
int ui_art_pack(struct ui *ui, struct art *a, int band, int max_copies);
/* The pixels of a render-target texture (w x h) in the window's format, malloc'ed; NULL on
 * failure. The renderer's target is left as it was. */
Uint32 *ui_read_back(struct ui *ui, SDL_Texture *tex, int w, int h);
void ui_art_put_packed(struct ui *ui, const struct art *a, int x, int y);
/* Encodes url into ui->qr unless it holds that url already. */
int ui_qr_ensure(struct ui *ui, const char *url);
bool ui_font_has(const struct ui *ui, uint32_t codepoint);

/* ui_screens.c: draws the app's current screen into the back buffer */
void ui_screens_draw(struct ui *ui, const struct app *app);
enum layout_screen ui_layout_screen(const struct app *app);
