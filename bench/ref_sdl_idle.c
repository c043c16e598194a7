/* SPDX-License-Identifier: MIT */
/* The reference for bench/kiosk_idle.sh: the least an SDL program can do at the terminal's
 * size with SDL's software renderer — a window, one frame (cleared to the terminal's
 * background colour), then asleep in SDL_WaitEvent(), redrawing only when exposed. The same
 * hints as the kiosk's software path (no framebuffer acceleration). SIGTERM ends it.
 * Usage: ref_sdl_idle [--width W] [--height H] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>

static void frame(SDL_Renderer *ren)
{
        SDL_SetRenderDrawColor(ren, 0xf5, 0xf5, 0xf0, 0xff);
        SDL_RenderClear(ren);
        SDL_RenderPresent(ren);
}

int main(int argc, char **argv)
{
        int w = 1920, h = 1080;
        SDL_Window *win;
        SDL_Renderer *ren;
        SDL_Event ev;

        for (int i = 1; i + 1 < argc; i += 2) {
                if (strcmp(argv[i], "--width") == 0)
                        w = atoi(argv[i + 1]);
                else if (strcmp(argv[i], "--height") == 0)
                        h = atoi(argv[i + 1]);
        }
        SDL_SetHint(SDL_HINT_VIDEO_MINIMIZE_ON_FOCUS_LOSS, "0");
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
        if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS) < 0) {
                fprintf(stderr, "ref_sdl_idle: %s\n", SDL_GetError());
                return 1;
        }
        win = SDL_CreateWindow("ref_sdl_idle", 0, 0, w, h, SDL_WINDOW_SHOWN);
        ren = win ? SDL_CreateRenderer(win, -1, SDL_RENDERER_SOFTWARE) : NULL;
        if (!ren) {
                fprintf(stderr, "ref_sdl_idle: %s\n", SDL_GetError());
                SDL_Quit();
                return 1;
        }
        frame(ren);
        while (SDL_WaitEvent(&ev)) {
                if (ev.type == SDL_QUIT)
                        break;
                if (ev.type == SDL_WINDOWEVENT && ev.window.event == SDL_WINDOWEVENT_EXPOSED)
                        frame(ren);
        }
        SDL_DestroyRenderer(ren);
        SDL_DestroyWindow(win);
        SDL_Quit();
        return 0;
}
