/* SPDX-License-Identifier: MIT */
/* An LD_PRELOAD module for bench/kiosk_idle.sh: it stamps, on CLOCK_MONOTONIC, when the
 * program's libraries are loaded (its constructor), when SDL_Init, SDL_CreateWindow and
 * SDL_CreateRenderer return, and when each SDL_RenderPresent() begins and ends, and it adds
 * up the time spent rasterising SVG artwork and rendering text before the first present. The
 * program itself is not changed: its calls into SDL go through the PLT, which this module
 * interposes. Stamps go to the file named by $BENCH_HOOK_FILE as "name nanoseconds [extra]". */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void stamp(const char *what, int64_t t, long long extra)
{
        const char *path = getenv("BENCH_HOOK_FILE");
        int fd;

        if (!path || !*path)
                return;
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        dprintf(fd, "%s %lld %lld\n", what, (long long)t, extra);
        close(fd);
}

static void *next(const char *name)
{
        void *f = dlsym(RTLD_NEXT, name);

        if (!f) {
                fprintf(stderr, "present_hook: no %s\n", name);
                abort();
        }
        return f;
}

static int presents;
static int64_t svg_ns, svg_count, text_ns, text_count;

__attribute__((constructor)) static void loaded(void)
{
        stamp("ctor", now_ns(), 0);
}

int SDL_Init(uint32_t flags);
int SDL_Init(uint32_t flags)
{
        static int (*real)(uint32_t);
        int r;

        if (!real)
                real = (int (*)(uint32_t))next("SDL_Init");
        stamp("sdl_init_begin", now_ns(), 0);
        r = real(flags);
        stamp("sdl_init_end", now_ns(), 0);
        return r;
}

void *SDL_CreateWindow(const char *title, int x, int y, int w, int h, uint32_t flags);
void *SDL_CreateWindow(const char *title, int x, int y, int w, int h, uint32_t flags)
{
        static void *(*real)(const char *, int, int, int, int, uint32_t);
        void *win;

        if (!real)
                real =
                    (void *(*)(const char *, int, int, int, int, uint32_t))next("SDL_CreateWindow");
        stamp("window_begin", now_ns(), 0);
        win = real(title, x, y, w, h, flags);
        stamp("window_end", now_ns(), 0);
        return win;
}

void *SDL_CreateRenderer(void *window, int index, uint32_t flags);
void *SDL_CreateRenderer(void *window, int index, uint32_t flags)
{
        static void *(*real)(void *, int, uint32_t);
        void *ren;

        if (!real)
                real = (void *(*)(void *, int, uint32_t))next("SDL_CreateRenderer");
        ren = real(window, index, flags);
        stamp("renderer_end", now_ns(), 0);
        return ren;
}

/* Artwork and text made before the first frame: what the first render spends. */
void *IMG_LoadSizedSVG_RW(void *src, int width, int height);
void *IMG_LoadSizedSVG_RW(void *src, int width, int height)
{
        static void *(*real)(void *, int, int);
        int64_t t = now_ns();
        void *s;

        if (!real)
                real = (void *(*)(void *, int, int))next("IMG_LoadSizedSVG_RW");
        s = real(src, width, height);
        svg_ns += now_ns() - t;
        svg_count++;
        return s;
}

void *TTF_RenderUTF8_Blended(void *font, const char *text, uint32_t fg);
void *TTF_RenderUTF8_Blended(void *font, const char *text, uint32_t fg)
{
        static void *(*real)(void *, const char *, uint32_t);
        int64_t t = now_ns();
        void *s;

        if (!real)
                real = (void *(*)(void *, const char *, uint32_t))next("TTF_RenderUTF8_Blended");
        s = real(font, text, fg);
        text_ns += now_ns() - t;
        text_count++;
        return s;
}

void SDL_RenderPresent(void *renderer);
void SDL_RenderPresent(void *renderer)
{
        static void (*real)(void *);
        int64_t t = now_ns();

        if (!real)
                real = (void (*)(void *))next("SDL_RenderPresent");
        if (presents == 0) {
                stamp("present_begin", t, 0);
                stamp("svg_before_first_present", svg_ns, svg_count);
                stamp("text_before_first_present", text_ns, text_count);
        }
        real(renderer);
        presents++;
        stamp("present_end", now_ns(), presents);
}
