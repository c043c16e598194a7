/* SPDX-License-Identifier: MIT */
/* bench-idle-probe, a helper of bench/kiosk_idle.sh: starts a program on the X display, finds
 * when its window is mapped and when its first frame shows on the screen, then measures it
 * while idle.
 *
 *   bench-idle-probe [--width W] [--height H] [--settle S] [--idle S] [--timeout S]
 *                    [--hook-file F] [--log F] [--then CMD] -- PROGRAM ARGS...
 *
 * First frame: the time from just before exec until all four corners of the W x H area at the
 * screen's top-left (where a windowed SDL program lands without a window manager) are no
 * longer black, read back from the X server with XGetImage every millisecond — the same as
 * polling `import -window root`, a thousand times cheaper. The X server must have a black root
 * (Xvfb -br). "Mapped" is when a viewable top-level window appears. With --hook-file (see
 * present_hook.c, preloaded into the program) the stamps of the program's own first
 * SDL_RenderPresent() are reported as well, on the same clock.
 *
 * Idle: after the first frame and S seconds to settle (default 2), over --idle seconds
 * (default 10): CPU from /proc/PID/stat (utime + stime, clock ticks) and, finer, from every
 * thread's /proc/PID/task/TID/schedstat (nanoseconds on the CPU); context switches of all
 * threads (wake-ups); frames presented (from the hook file); and VmRSS, VmHWM, RssAnon,
 * RssFile, RssShmem from /proc/PID/status at the end of the window. Then SIGTERM.
 * With --then CMD, CMD is run (sh -c, with PROBE_PID in its environment) right after the first
 * frame and waited for before the settling: what a person does before the terminal is left at
 * rest (kiosk_idle.sh logs in and votes with xdotool). Its own time is reported, and its exit
 * status must be 0.
 * Prints "key=value" lines. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <X11/Xlib.h>
#include <X11/Xutil.h>

static int64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

        nanosleep(&ts, NULL);
}

static bool corners_lit(Display *d, Window root, int w, int h, unsigned long *pixel)
{
        const int pts[4][2] = {{2, 2}, {w - 3, 2}, {2, h - 3}, {w - 3, h - 3}};

        for (int i = 0; i < 4; i++) {
                XImage *img = XGetImage(d, root, pts[i][0], pts[i][1], 1, 1, AllPlanes, ZPixmap);
                unsigned long p;

                if (!img)
                        return false;
                p = XGetPixel(img, 0, 0);
                XDestroyImage(img);
                if ((p & 0xffffff) == 0)
                        return false;
                if (i == 0)
                        *pixel = p;
        }
        return true;
}

static bool window_mapped(Display *d, Window root)
{
        Window r, parent, *kids = NULL;
        unsigned n = 0;
        bool found = false;

        if (!XQueryTree(d, root, &r, &parent, &kids, &n))
                return false;
        for (unsigned i = 0; i < n && !found; i++) {
                XWindowAttributes a;

                if (XGetWindowAttributes(d, kids[i], &a) && a.map_state == IsViewable &&
                    a.width > 100 && a.height > 100)
                        found = true;
        }
        if (kids)
                XFree(kids);
        return found;
}

/* utime + stime of the whole process, in clock ticks. */
static long long proc_ticks(pid_t pid)
{
        char path[64], buf[4096], *p;
        unsigned long long ut = 0, st = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        if (!fgets(buf, sizeof(buf), f)) {
                fclose(f);
                return -1;
        }
        fclose(f);
        p = strrchr(buf, ')');
        if (!p)
                return -1;
        /* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
         * utime(14) stime(15) */
        if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
                return -1;
        return (long long)(ut + st);
}

/* Sums over the threads alive now: nanoseconds on the CPU, and context switches. */
static void threads_sum(pid_t pid, long long *cpu_ns, long long *switches, int *threads)
{
        char path[300], line[256];
        struct dirent *e;
        DIR *dir;

        *cpu_ns = *switches = 0;
        *threads = 0;
        snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
        dir = opendir(path);
        if (!dir)
                return;
        while ((e = readdir(dir))) {
                FILE *f;

                if (e->d_name[0] == '.')
                        continue;
                (*threads)++;
                snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
                f = fopen(path, "re");
                if (f) {
                        long long ns = 0;

                        if (fscanf(f, "%lld", &ns) == 1)
                                *cpu_ns += ns;
                        fclose(f);
                }
                snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, e->d_name);
                f = fopen(path, "re");
                if (f) {
                        long long v;

                        while (fgets(line, sizeof(line), f))
                                if (sscanf(line, "voluntary_ctxt_switches: %lld", &v) == 1 ||
                                    sscanf(line, "nonvoluntary_ctxt_switches: %lld", &v) == 1)
                                        *switches += v;
                        fclose(f);
                }
        }
        closedir(dir);
}

static long status_kb(pid_t pid, const char *key)
{
        char path[64], line[256];
        size_t klen = strlen(key);
        long v = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
                        v = strtol(line + klen + 1, NULL, 10);
                        break;
                }
        fclose(f);
        return v;
}

/* Resident memory by mapping (from /proc/PID/smaps, summed by file name; anonymous mappings
 * as "[anon]"), the largest first: what the resident figure is made of. */
struct mapping {
        char name[160];
        long kb;
};

static int cmp_mapping(const void *a, const void *b)
{
        const struct mapping *x = a, *y = b;

        return (y->kb > x->kb) - (y->kb < x->kb);
}

static void print_mappings(pid_t pid, int top)
{
        static struct mapping m[512];
        char path[64], line[512], current[400] = "[anon]";
        int n = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                unsigned long a, b;
                long kb;
                char name[400] = "";

                size_t tok = strcspn(line, " ");

                /* a mapping's header starts "from-to perms offset dev inode [path]"; its fields
                 * ("Rss:   12 kB") start with a word that ends in ':' */
                if (tok > 0 && line[tok - 1] != ':' &&
                    sscanf(line, "%lx-%lx %*s %*s %*s %*s %399[^\n]", &a, &b, name) >= 2) {
                        const char *base = strrchr(name, '/');

                        snprintf(current, sizeof(current), "%s",
                                 name[0] ? (base ? base + 1 : name) : "[anon]");
                        continue;
                }
                if (sscanf(line, "Rss: %ld kB", &kb) == 1 && kb > 0) {
                        int i;

                        for (i = 0; i < n; i++)
                                if (strcmp(m[i].name, current) == 0)
                                        break;
                        if (i == n && n < 512) {
                                snprintf(m[n].name, sizeof(m[n].name), "%s", current);
                                m[n].kb = 0;
                                n++;
                        }
                        if (i < n)
                                m[i].kb += kb;
                }
        }
        fclose(f);
        qsort(m, (size_t)n, sizeof(m[0]), cmp_mapping);
        for (int i = 0; i < n && i < top; i++)
                printf("rss_top_%d=%s %ld kB\n", i + 1, m[i].name, m[i].kb);
}

/* The first stamp called name in the hook file, or -1; with count, how many there are in
 * [from, to). */
static long long hook_stamp(const char *file, const char *name, long long *extra)
{
        char line[256], n[64];
        long long t, x, found = -1;
        FILE *f;

        if (!file)
                return -1;
        f = fopen(file, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "%63s %lld %lld", n, &t, &x) == 3 && strcmp(n, name) == 0) {
                        found = t;
                        if (extra)
                                *extra = x;
                        break;
                }
        fclose(f);
        return found;
}

static int hook_count(const char *file, const char *name, int64_t from, int64_t to)
{
        char line[256], n[64];
        long long t, x;
        int count = 0;
        FILE *f;

        if (!file)
                return -1;
        f = fopen(file, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "%63s %lld %lld", n, &t, &x) == 3 && strcmp(n, name) == 0 &&
                    t >= from && t < to)
                        count++;
        fclose(f);
        return count;
}

/* Runs cmd through sh -c with PROBE_PID set; returns its exit status (or 128 + signal). */
static int run_then(const char *cmd, pid_t target)
{
        char pid_s[32];
        int status;
        pid_t c;

        snprintf(pid_s, sizeof(pid_s), "%d", (int)target);
        fflush(stdout);
        c = fork();
        if (c < 0)
                return 127;
        if (c == 0) {
                setenv("PROBE_PID", pid_s, 1);
                execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
                _exit(127);
        }
        if (waitpid(c, &status, 0) != c)
                return 127;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
        int w = 1920, h = 1080, settle_s = 2, idle_s = 10, timeout_s = 30, first = -1;
        const char *hook = NULL, *log = NULL, *then = NULL;
        int64_t t0, mapped = -1, shown = -1, win_from, win_to;
        long long ticks0, ticks1, cpu0, cpu1, sw0, sw1, v;
        unsigned long pixel = 0;
        int threads, status;
        Display *d;
        Window root;
        pid_t pid;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0) {
                        first = i + 1;
                        break;
                }
                if (i + 1 >= argc)
                        break;
                if (strcmp(argv[i], "--width") == 0)
                        w = atoi(argv[++i]);
                else if (strcmp(argv[i], "--height") == 0)
                        h = atoi(argv[++i]);
                else if (strcmp(argv[i], "--settle") == 0)
                        settle_s = atoi(argv[++i]);
                else if (strcmp(argv[i], "--idle") == 0)
                        idle_s = atoi(argv[++i]);
                else if (strcmp(argv[i], "--timeout") == 0)
                        timeout_s = atoi(argv[++i]);
                else if (strcmp(argv[i], "--hook-file") == 0)
                        hook = argv[++i];
                else if (strcmp(argv[i], "--log") == 0)
                        log = argv[++i];
                else if (strcmp(argv[i], "--then") == 0)
                        then = argv[++i];
                else
                        break;
        }
        if (first < 0 || first >= argc) {
                fprintf(
                    stderr,
                    "usage: bench-idle-probe [--width W] [--height H] [--settle S] "
                    "[--idle S] [--timeout S] [--hook-file F] [--log F] [--then CMD] -- PROGRAM "
                    "ARGS...\n");
                return 2;
        }
        d = XOpenDisplay(NULL);
        if (!d) {
                fprintf(stderr, "bench-idle-probe: cannot open the display\n");
                return 1;
        }
        root = DefaultRootWindow(d);
        if (corners_lit(d, root, w, h, &pixel))
                printf("warning=the screen is not black before the start: first-frame detection "
                       "cannot work (use Xvfb -br and no other window)\n");
        if (hook)
                unlink(hook);

        t0 = now_ns();
        pid = fork();
        if (pid < 0) {
                perror("fork");
                return 1;
        }
        if (pid == 0) {
                if (log) {
                        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

                        if (fd >= 0) {
                                dup2(fd, 1);
                                dup2(fd, 2);
                                close(fd);
                        }
                }
                execvp(argv[first], argv + first);
                perror(argv[first]);
                _exit(127);
        }
        while (shown < 0) {
                int64_t t = now_ns();

                if (waitpid(pid, &status, WNOHANG) == pid) {
                        printf("error=the program exited before its first frame\n");
                        return 1;
                }
                if (mapped < 0 && window_mapped(d, root))
                        mapped = t;
                if (corners_lit(d, root, w, h, &pixel))
                        shown = now_ns();
                else if (t - t0 > (int64_t)timeout_s * 1000000000) {
                        printf("error=no frame on the screen after %d s\n", timeout_s);
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        return 1;
                }
                if (shown < 0)
                        sleep_ms(1);
        }
        printf("pid=%d\n", (int)pid);
        printf("mapped_ms=%.1f\n", mapped < 0 ? -1.0 : (double)(mapped - t0) / 1e6);
        printf("first_frame_ms=%.1f\n", (double)(shown - t0) / 1e6);
        printf("corner_pixel=#%06lx\n", pixel & 0xffffff);
        printf("rss_at_first_frame_kb=%ld\n", status_kb(pid, "VmRSS"));
        if (then) {
                int64_t t1 = now_ns();
                int rc = run_then(then, pid);
                bool gone = waitpid(pid, &status, WNOHANG) == pid;

                printf("then_ms=%.1f\n", (double)(now_ns() - t1) / 1e6);
                if (rc != 0 || gone) {
                        printf("error=--then exited with %d%s\n", rc,
                               gone ? " (the program is gone)" : "");
                        if (gone)
                                return 1;
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        return 1;
                }
                printf("rss_after_then_kb=%ld\n", status_kb(pid, "VmRSS"));
        }

        sleep_ms(settle_s * 1000);
        ticks0 = proc_ticks(pid);
        threads_sum(pid, &cpu0, &sw0, &threads);
        win_from = now_ns();
        sleep_ms(idle_s * 1000);
        ticks1 = proc_ticks(pid);
        threads_sum(pid, &cpu1, &sw1, &threads);
        win_to = now_ns();
        {
                double secs = (double)(win_to - win_from) / 1e9;
                long hz = sysconf(_SC_CLK_TCK);

                printf("idle_window_s=%.2f\n", secs);
                printf("cpu_pct_stat=%.3f\n",
                       100.0 * (double)(ticks1 - ticks0) / (double)hz / secs);
                printf("cpu_pct_schedstat=%.3f\n", 100.0 * (double)(cpu1 - cpu0) / 1e9 / secs);
                printf("wakeups_per_s=%.1f\n", (double)(sw1 - sw0) / secs);
                printf("threads=%d\n", threads);
        }
        printf("vm_rss_kb=%ld\n", status_kb(pid, "VmRSS"));
        printf("vm_hwm_kb=%ld\n", status_kb(pid, "VmHWM"));
        printf("rss_anon_kb=%ld\n", status_kb(pid, "RssAnon"));
        printf("rss_file_kb=%ld\n", status_kb(pid, "RssFile"));
        printf("rss_shmem_kb=%ld\n", status_kb(pid, "RssShmem"));
        print_mappings(pid, 10);
        if (hook) {
                static const char *const names[] = {
                    "ctor",       "sdl_init_begin", "sdl_init_end",  "window_begin",
                    "window_end", "renderer_end",   "present_begin", "present_end"};

                for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                        long long t = hook_stamp(hook, names[i], NULL);

                        printf("hook_%s_ms=%.1f\n", names[i],
                               t < 0 ? -1.0 : (double)(t - t0) / 1e6);
                }
                if (hook_stamp(hook, "svg_before_first_present", &v) >= 0)
                        printf("hook_svg_ms=%.1f\nhook_svg_count=%lld\n",
                               (double)hook_stamp(hook, "svg_before_first_present", NULL) / 1e6, v);
                if (hook_stamp(hook, "text_before_first_present", &v) >= 0)
                        printf("hook_text_ms=%.1f\nhook_text_count=%lld\n",
                               (double)hook_stamp(hook, "text_before_first_present", NULL) / 1e6,
                               v);
                printf("presents_before_window=%d\n",
                       hook_count(hook, "present_end", t0, win_from));
                printf("presents_in_window=%d\n",
                       hook_count(hook, "present_end", win_from, win_to));
        }
        kill(pid, SIGTERM);
        for (int i = 0; i < 500; i++) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                        goto done;
                sleep_ms(10);
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
done:
        printf("exit_status=%d\n",
               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        XCloseDisplay(d);
        return 0;
}
