/* SPDX-License-Identifier: MIT */
/* Makes and checks the demo's development CA and server certificate with GnuTLS's x509 API;
 * GnuTLS stays inside this file. Every file is read and judged before any is written, so an
 * error never leaves a user's file overwritten, and each write replaces a file atomically. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "certgen.h"
#include "fileio.h"
#include "log.h"

#define DAY_SECONDS ((time_t)24 * 60 * 60)
#define CA_LIFETIME (3650 * DAY_SECONDS)
#define SERVER_LIFETIME (730 * DAY_SECONDS)
#define MIN_REMAINING (30 * DAY_SECONDS) /* a server certificate closer to its end is reissued */
#define BACKDATE ((time_t)60 * 60)       /* "not before" this long ago, for clocks a bit behind */
#define SERIAL_BYTES 16
#define KEY_ID_MAX 64
#define CA_SUBJECT_CN "Otsinka development CA"

#define CA_CERT_NAME "ca.pem"
#define CA_KEY_NAME "ca.key"
#define SERVER_CERT_NAME "server.pem"
#define SERVER_KEY_NAME "server.key"

/* One requested host, parsed once. */
struct host {
        const char *text;     /* as the caller gave it; not copied */
        int san_type;         /* GNUTLS_SAN_IPADDRESS or GNUTLS_SAN_DNSNAME */
        unsigned char ip[16]; /* network order, for an IP address */
        size_t ip_len;        /* 4 or 16, for an IP address */
};

/* A certificate with its private key; either may be NULL. */
struct pair {
        gnutls_x509_crt_t crt;
        gnutls_x509_privkey_t key;
};

/* All four files' paths. */
struct files {
        char ca_cert[PATH_MAX];
        char ca_key[PATH_MAX];
        char server_cert[PATH_MAX];
        char server_key[PATH_MAX];
};

static void pair_finish(struct pair *p)
{
        if (p->crt)
                gnutls_x509_crt_deinit(p->crt);
        if (p->key)
                gnutls_x509_privkey_deinit(p->key);
        p->crt = NULL;
        p->key = NULL;
}

/* Logs a GnuTLS failure once and turns it into a negative errno: -ENOMEM when GnuTLS ran out
 * of memory, otherwise fallback. */
static int tls_fail(int gnutls_r, int fallback, const char *what)
{
        log_error("certgen: %s: %s", what, gnutls_strerror(gnutls_r));
        return gnutls_r == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : fallback;
}

static void format_day(time_t t, char *buf, size_t size)
{
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d", &tm) == 0)
                snprintf(buf, size, "?");
}

/* Letters, digits and inner hyphens in dot-separated labels of 1 to 63 characters; the last
 * label not all digits, so that a mistyped IPv4 address is not taken for a name. */
static bool dns_name_valid(const char *s)
{
        size_t label = 0;
        bool digits_only = true;
        char prev = '.';

        for (const char *c = s; *c; c++) {
                if (*c == '.') {
                        if (label == 0 || prev == '-')
                                return false;
                        label = 0;
                        digits_only = true;
                } else if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                           (*c >= '0' && *c <= '9') || (*c == '-' && label > 0)) {
                        if (++label > 63)
                                return false;
                        if (*c < '0' || *c > '9')
                                digits_only = false;
                } else
                        return false;
                prev = *c;
        }
        return label > 0 && prev != '-' && !digits_only;
}

static int host_parse(const char *s, struct host *ret)
{
        struct host h = {.text = s};

        if (!s || s[0] == '\0' || strlen(s) > CERTGEN_HOST_MAX) {
                log_error("certgen: a host name is empty or longer than %d characters",
                          CERTGEN_HOST_MAX);
                return -EINVAL;
        }
        if (inet_pton(AF_INET, s, h.ip) == 1) {
                h.san_type = GNUTLS_SAN_IPADDRESS;
                h.ip_len = 4;
        } else if (inet_pton(AF_INET6, s, h.ip) == 1) {
                h.san_type = GNUTLS_SAN_IPADDRESS;
                h.ip_len = 16;
        } else if (dns_name_valid(s)) {
                h.san_type = GNUTLS_SAN_DNSNAME;
        } else {
                log_error("certgen: \"%s\" is neither an IP address nor a DNS name", s);
                return -EINVAL;
        }
        *ret = h;
        return 0;
}

static int join_path(const char *dir, const char *name, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%s/%s", dir, name);

        if (n < 0 || (size_t)n >= size) {
                log_error("certgen: the path %s/%s is too long", dir, name);
                return -ENAMETOOLONG;
        }
        return 0;
}

/* fileio_write_atomic() with certgen's log line: on failure the old file is left as it was. */
static int file_write(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
        int r = fileio_write_atomic(dir, name, data, len, mode);

        if (r == -ENAMETOOLONG)
                log_error("certgen: the path %s/%s is too long", dir, name);
        else if (r < 0)
                log_error("certgen: cannot write %s/%s: %s", dir, name, strerror(-r));
        return r;
}

/* Reads a PEM file into *ret (data malloc'd, NUL-terminated beyond size): -ENOENT (not
 * logged) when the file does not exist; any other failure is logged. */
static int pem_read(const char *path, gnutls_datum_t *ret)
{
        char *data = NULL;
        size_t len = 0;
        int r;

        r = fileio_read(path, CERTGEN_PEM_MAX, &data, &len);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                log_error("certgen: cannot read %s: %s", path, strerror(-r));
                return r;
        }
        ret->data = (unsigned char *)data;
        ret->size = (unsigned)len;
        return 0;
}

/* Logs that path does not hold what ("a PEM certificate") and turns the GnuTLS code into
 * -ENOMEM or -EINVAL. */
static int pem_refused(int gnutls_r, const char *path, const char *what)
{
        log_error("certgen: %s is not %s (%s); fix or remove it", path, what,
                  gnutls_strerror(gnutls_r));
        return gnutls_r == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EINVAL;
}

/* Reads a PEM certificate: -ENOENT (not logged) when the file does not exist. */
static int cert_load(const char *path, gnutls_x509_crt_t *ret)
{
        gnutls_x509_crt_t crt = NULL;
        gnutls_datum_t d = {0};
        int r;

        r = pem_read(path, &d);
        if (r < 0)
                return r;
        r = gnutls_x509_crt_init(&crt);
        if (r < 0) {
                r = tls_fail(r, -ENOMEM, "gnutls_x509_crt_init");
                goto out;
        }
        r = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
        if (r < 0) {
                r = pem_refused(r, path, "a PEM certificate");
                goto out;
        }
        *ret = crt;
        crt = NULL;
        r = 0;
out:
        if (crt)
                gnutls_x509_crt_deinit(crt);
        free(d.data);
        return r;
}

/* Reads an unencrypted PEM private key: -ENOENT (not logged) when the file does not exist. */
static int key_load(const char *path, gnutls_x509_privkey_t *ret)
{
        gnutls_x509_privkey_t key = NULL;
        gnutls_datum_t d = {0};
        int r;

        r = pem_read(path, &d);
        if (r < 0)
                return r;
        r = gnutls_x509_privkey_init(&key);
        if (r < 0) {
                r = tls_fail(r, -ENOMEM, "gnutls_x509_privkey_init");
                goto out;
        }
        r = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
        if (r < 0) {
                r = pem_refused(r, path, "an unencrypted PEM private key");
                goto out;
        }
        *ret = key;
        key = NULL;
        r = 0;
out:
        if (key)
                gnutls_x509_privkey_deinit(key);
        if (d.data)
                explicit_bzero(d.data, d.size);
        free(d.data);
        return r;
}

/* Loads a certificate and its key. Returns 0 with both, or -ENOENT with neither when both
 * files are missing, or when only one is and !need_both; one file without the other when
 * need_both is an error, as is anything unreadable or unparseable. */
static int pair_load(const char *cert_path, const char *key_path, bool need_both, struct pair *ret)
{
        struct pair p = {0};
        int rc, rk, r;

        rc = cert_load(cert_path, &p.crt);
        if (rc < 0 && rc != -ENOENT)
                return rc;
        rk = key_load(key_path, &p.key);
        if (rk < 0 && rk != -ENOENT) {
                r = rk;
                goto out;
        }
        if (rc == -ENOENT || rk == -ENOENT) {
                r = -ENOENT;
                if (need_both && rc != rk) {
                        log_error("certgen: %s exists but %s does not; restore it, or remove "
                                  "both to make new ones",
                                  rc == 0 ? cert_path : key_path, rc == 0 ? key_path : cert_path);
                        r = -EINVAL;
                }
                goto out;
        }
        *ret = p;
        p = (struct pair){0};
        r = 0;
out:
        pair_finish(&p);
        return r;
}

/* 1 when key is the private half of crt's public key, 0 when not, or a negative errno. */
static int key_matches(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
        unsigned char a[KEY_ID_MAX], b[KEY_ID_MAX];
        size_t na = sizeof(a), nb = sizeof(b);
        int r;

        r = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a, &na);
        if (r < 0)
                return tls_fail(r, -EINVAL, "the certificate's key id");
        r = gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b, &nb);
        if (r < 0)
                return tls_fail(r, -EINVAL, "the private key's key id");
        return na == nb && memcmp(a, b, na) == 0;
}

/* 1 when crt has a subjectAltName for every host, 0 when not. */
static int covers_hosts(gnutls_x509_crt_t crt, const struct host *hosts, size_t n_hosts)
{
        for (size_t i = 0; i < n_hosts; i++) {
                const struct host *h = &hosts[i];
                bool found = false;

                for (unsigned seq = 0; !found; seq++) {
                        char buf[CERTGEN_HOST_MAX + 2];
                        size_t size = sizeof(buf);
                        int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, buf, &size, NULL);

                        if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
                                continue; /* longer than any host we accept */
                        if (type < 0)
                                break; /* the end of the list, or a name we cannot read */
                        if (type != h->san_type)
                                continue;
                        if (type == GNUTLS_SAN_IPADDRESS)
                                found = size == h->ip_len && memcmp(buf, h->ip, size) == 0;
                        else
                                found =
                                    size == strlen(h->text) && strncasecmp(buf, h->text, size) == 0;
                }
                if (!found)
                        return 0;
        }
        return 1;
}

/* Checks that a CA found in dir can sign server certificates for a while yet. */
static int ca_check(const struct files *f, const struct pair *ca, time_t now)
{
        unsigned is_ca = 0;
        time_t end;
        char day[32];
        int r;

        r = key_matches(ca->crt, ca->key);
        if (r < 0)
                return r;
        if (r == 0) {
                log_error("certgen: %s is not the key of %s; restore the matching pair, or remove "
                          "both to make a new CA",
                          f->ca_key, f->ca_cert);
                return -EINVAL;
        }
        r = gnutls_x509_crt_get_basic_constraints(ca->crt, NULL, &is_ca, NULL);
        if (r < 0 || !is_ca) {
                log_error("certgen: %s is not a CA certificate", f->ca_cert);
                return -EINVAL;
        }
        end = gnutls_x509_crt_get_expiration_time(ca->crt);
        if (end == (time_t)-1 || end - now < MIN_REMAINING ||
            gnutls_x509_crt_get_activation_time(ca->crt) > now) {
                format_day(end, day, sizeof(day));
                log_error("certgen: the CA %s is not valid now or ends within 30 days (on "
                          "%s); remove it and %s to make a new one, and give the new CA to "
                          "the terminals",
                          f->ca_cert, day, f->ca_key);
                return -EINVAL;
        }
        return 0;
}

/* Whether the server pair still fits: *ret_reason is NULL when it does, or why not. */
static int server_check(const struct pair *ca, const struct pair *server, const struct host *hosts,
                        size_t n_hosts, time_t now, const char **ret_reason)
{
        unsigned status = 0;
        const char *reason = NULL;
        int r;

        r = key_matches(server->crt, server->key);
        if (r < 0)
                return r;
        if (r == 0)
                reason = "the key does not match the certificate";
        else if (gnutls_x509_crt_verify(server->crt, &ca->crt, 1, 0, &status) < 0 || status != 0)
                reason = "the certificate is not signed by the CA, or not valid now";
        else if (gnutls_x509_crt_get_expiration_time(server->crt) - now < MIN_REMAINING)
                reason = "the certificate expires within 30 days";
        else if (!covers_hosts(server->crt, hosts, n_hosts))
                reason = "the certificate does not cover every host";
        *ret_reason = reason;
        return 0;
}

static int key_generate(gnutls_x509_privkey_t *ret)
{
        gnutls_x509_privkey_t key = NULL;
        int r;

        r = gnutls_x509_privkey_init(&key);
        if (r < 0)
                return tls_fail(r, -ENOMEM, "gnutls_x509_privkey_init");
        r = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
        if (r < 0) {
                gnutls_x509_privkey_deinit(key);
                return tls_fail(r, -EIO, "generating an ECDSA P-256 key");
        }
        *ret = key;
        return 0;
}

/* Starts a v3 certificate for key: random positive serial, validity from BACKDATE ago to
 * end, subject CN = cn, subject key id. The caller adds the rest and signs. */
static int crt_start(gnutls_x509_privkey_t key, const char *cn, time_t now, time_t end,
                     gnutls_x509_crt_t *ret)
{
        gnutls_x509_crt_t crt = NULL;
        unsigned char serial[SERIAL_BYTES], id[KEY_ID_MAX];
        size_t id_len = sizeof(id);
        int r;

        r = gnutls_x509_crt_init(&crt);
        if (r < 0)
                return tls_fail(r, -ENOMEM, "gnutls_x509_crt_init");
        r = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
        if (r < 0) {
                r = tls_fail(r, -EIO, "a random serial number");
                goto out;
        }
        serial[0] &= 0x7f; /* positive, and without a leading zero byte */
        serial[0] |= 0x01;
        if ((r = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
            (r = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
            (r = gnutls_x509_crt_set_activation_time(crt, now - BACKDATE)) < 0 ||
            (r = gnutls_x509_crt_set_expiration_time(crt, end)) < 0 ||
            (r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                               (unsigned)strlen(cn))) < 0 ||
            (r = gnutls_x509_crt_set_key(crt, key)) < 0 ||
            (r = gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA1, id, &id_len)) < 0 ||
            (r = gnutls_x509_crt_set_subject_key_id(crt, id, id_len)) < 0) {
                r = tls_fail(r, -EIO, "building a certificate");
                goto out;
        }
        *ret = crt;
        crt = NULL;
        r = 0;
out:
        if (crt)
                gnutls_x509_crt_deinit(crt);
        return r;
}

/* Replaces a certificate just signed with one parsed from its DER. GnuTLS fills its raw
 * subject and issuer names only when it parses, and compares those when it verifies: a
 * certificate built in memory would match an issuer built in memory, not one read back. */
static int crt_reload(gnutls_x509_crt_t *crt)
{
        gnutls_x509_crt_t parsed = NULL;
        gnutls_datum_t der = {0};
        int r;

        r = gnutls_x509_crt_export2(*crt, GNUTLS_X509_FMT_DER, &der);
        if (r < 0) {
                r = tls_fail(r, -EIO, "exporting a certificate");
                goto out;
        }
        r = gnutls_x509_crt_init(&parsed);
        if (r < 0) {
                r = tls_fail(r, -ENOMEM, "gnutls_x509_crt_init");
                goto out;
        }
        r = gnutls_x509_crt_import(parsed, &der, GNUTLS_X509_FMT_DER);
        if (r < 0) {
                r = tls_fail(r, -EIO, "parsing a certificate just made");
                goto out;
        }
        gnutls_x509_crt_deinit(*crt);
        *crt = parsed;
        parsed = NULL;
        r = 0;
out:
        if (parsed)
                gnutls_x509_crt_deinit(parsed);
        gnutls_free(der.data);
        return r;
}

static int crt_write(const char *dir, const char *name, gnutls_x509_crt_t crt)
{
        gnutls_datum_t d = {0};
        int r;

        r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d);
        if (r < 0)
                return tls_fail(r, -EIO, "exporting a certificate");
        r = file_write(dir, name, d.data, d.size, 0644);
        gnutls_free(d.data);
        return r;
}

static int key_write(const char *dir, const char *name, gnutls_x509_privkey_t key)
{
        gnutls_datum_t d = {0};
        int r;

        r = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
                                              &d);
        if (r < 0)
                return tls_fail(r, -EIO, "exporting a private key");
        r = file_write(dir, name, d.data, d.size, 0600);
        gnutls_memset(d.data, 0, d.size);
        gnutls_free(d.data);
        return r;
}

/* Makes a self-signed CA and writes ca.key, then ca.pem. */
static int ca_make(const char *dir, time_t now, struct pair *ret)
{
        struct pair ca = {0};
        int r;

        r = key_generate(&ca.key);
        if (r < 0)
                goto out;
        r = crt_start(ca.key, CA_SUBJECT_CN, now, now + CA_LIFETIME, &ca.crt);
        if (r < 0)
                goto out;
        if ((r = gnutls_x509_crt_set_basic_constraints(ca.crt, 1, -1)) < 0 ||
            (r = gnutls_x509_crt_set_key_usage(ca.crt, GNUTLS_KEY_KEY_CERT_SIGN |
                                                           GNUTLS_KEY_CRL_SIGN)) < 0 ||
            (r = gnutls_x509_crt_sign2(ca.crt, ca.crt, ca.key, GNUTLS_DIG_SHA256, 0)) < 0) {
                r = tls_fail(r, -EIO, "making the CA certificate");
                goto out;
        }
        r = crt_reload(&ca.crt);
        if (r < 0)
                goto out;
        r = key_write(dir, CA_KEY_NAME, ca.key);
        if (r < 0)
                goto out;
        r = crt_write(dir, CA_CERT_NAME, ca.crt);
        if (r < 0)
                goto out;
        *ret = ca;
        ca = (struct pair){0};
        r = 0;
out:
        pair_finish(&ca);
        return r;
}

/* Issues a server certificate for hosts from the CA, with a new key; writes server.key, then
 * server.pem. */
static int server_make(const char *dir, const struct pair *ca, const struct host *hosts,
                       size_t n_hosts, time_t now)
{
        struct pair server = {0};
        unsigned char aki[KEY_ID_MAX];
        size_t aki_len = sizeof(aki);
        unsigned usage = GNUTLS_KEY_DIGITAL_SIGNATURE, status = 0;
        time_t end = now + SERVER_LIFETIME, ca_end;
        int r;

        ca_end = gnutls_x509_crt_get_expiration_time(ca->crt);
        if (ca_end < end)
                end = ca_end; /* never outlive the issuer */
        r = key_generate(&server.key);
        if (r < 0)
                goto out;
        if (gnutls_x509_privkey_get_pk_algorithm(server.key) == GNUTLS_PK_RSA)
                usage |= GNUTLS_KEY_KEY_ENCIPHERMENT;
        r = crt_start(server.key, hosts[0].text, now, end, &server.crt);
        if (r < 0)
                goto out;
        if ((r = gnutls_x509_crt_set_basic_constraints(server.crt, 0, -1)) < 0 ||
            (r = gnutls_x509_crt_set_key_usage(server.crt, usage)) < 0 ||
            (r = gnutls_x509_crt_set_key_purpose_oid(server.crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) <
                0) {
                r = tls_fail(r, -EIO, "building the server certificate");
                goto out;
        }
        for (size_t i = 0; i < n_hosts; i++) {
                const struct host *h = &hosts[i];

                if (h->san_type == GNUTLS_SAN_IPADDRESS)
                        r = gnutls_x509_crt_set_subject_alt_name(server.crt, GNUTLS_SAN_IPADDRESS,
                                                                 h->ip, (unsigned)h->ip_len,
                                                                 GNUTLS_FSAN_APPEND);
                else
                        r = gnutls_x509_crt_set_subject_alt_name(server.crt, GNUTLS_SAN_DNSNAME,
                                                                 h->text, (unsigned)strlen(h->text),
                                                                 GNUTLS_FSAN_APPEND);
                if (r < 0) {
                        r = tls_fail(r, -EIO, "a subjectAltName");
                        goto out;
                }
        }
        /* The authority key id is the CA's subject key id, or, for a CA without one, the
         * usual SHA-1 of its public key. */
        r = gnutls_x509_crt_get_subject_key_id(ca->crt, aki, &aki_len, NULL);
        if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
                aki_len = sizeof(aki);
                r = gnutls_x509_crt_get_key_id(ca->crt, GNUTLS_KEYID_USE_SHA1, aki, &aki_len);
        }
        if (r < 0 || (r = gnutls_x509_crt_set_authority_key_id(server.crt, aki, aki_len)) < 0 ||
            (r = gnutls_x509_crt_sign2(server.crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0)) < 0) {
                r = tls_fail(r, -EIO, "signing the server certificate");
                goto out;
        }
        r = crt_reload(&server.crt);
        if (r < 0)
                goto out;
        /* A CA that cannot issue what clients accept is found here, not by every client. */
        if (gnutls_x509_crt_verify(server.crt, &ca->crt, 1, 0, &status) < 0 || status != 0) {
                log_error("certgen: the CA in %s cannot issue a server certificate that "
                          "verifies (status 0x%x)",
                          dir, status);
                r = -EINVAL;
                goto out;
        }
        r = key_write(dir, SERVER_KEY_NAME, server.key);
        if (r < 0)
                goto out;
        r = crt_write(dir, SERVER_CERT_NAME, server.crt);
out:
        pair_finish(&server);
        return r;
}

static int dir_ensure(const char *dir)
{
        struct stat st;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                int r = -errno;

                log_error("certgen: cannot create the directory %s: %s", dir, strerror(-r));
                return r;
        }
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                log_error("certgen: %s is not a directory", dir);
                return -ENOTDIR;
        }
        return 0;
}

int certgen_ensure(const char *dir, const char *const *hosts, size_t n_hosts,
                   struct certgen_paths *ret)
{
        struct host parsed[CERTGEN_HOSTS_MAX];
        struct files f;
        struct pair ca = {0}, server = {0};
        const char *reason = NULL;
        time_t now = time(NULL);
        int made = 0, r;

        if (!dir || dir[0] == '\0' || !ret) {
                log_error("certgen: no directory given");
                return -EINVAL;
        }
        if (!hosts || n_hosts == 0 || n_hosts > CERTGEN_HOSTS_MAX) {
                log_error("certgen: a server certificate needs 1 to %d hosts, not %zu",
                          CERTGEN_HOSTS_MAX, hosts ? n_hosts : 0);
                return -EINVAL;
        }
        for (size_t i = 0; i < n_hosts; i++) {
                r = host_parse(hosts[i], &parsed[i]);
                if (r < 0)
                        return r;
        }
        if ((r = join_path(dir, CA_CERT_NAME, f.ca_cert, sizeof(f.ca_cert))) < 0 ||
            (r = join_path(dir, CA_KEY_NAME, f.ca_key, sizeof(f.ca_key))) < 0 ||
            (r = join_path(dir, SERVER_CERT_NAME, f.server_cert, sizeof(f.server_cert))) < 0 ||
            (r = join_path(dir, SERVER_KEY_NAME, f.server_key, sizeof(f.server_key))) < 0)
                return r;
        r = dir_ensure(dir);
        if (r < 0)
                return r;

        /* Judge everything there before writing anything. */
        r = pair_load(f.ca_cert, f.ca_key, true, &ca);
        if (r < 0 && r != -ENOENT)
                goto out;
        if (r == 0) {
                r = ca_check(&f, &ca, now);
                if (r < 0)
                        goto out;
        } else
                made |= CERTGEN_MADE_CA;
        r = pair_load(f.server_cert, f.server_key, false, &server);
        if (r < 0 && r != -ENOENT)
                goto out;
        if (made & CERTGEN_MADE_CA)
                reason = "there is a new CA";
        else if (r == -ENOENT)
                reason = "there is none";
        else {
                r = server_check(&ca, &server, parsed, n_hosts, now, &reason);
                if (r < 0)
                        goto out;
        }

        if (made & CERTGEN_MADE_CA) {
                log_info("certgen: making a development CA in %s", dir);
                r = ca_make(dir, now, &ca);
                if (r < 0)
                        goto out;
        }
        if (reason) {
                log_info("certgen: issuing a server certificate in %s: %s", dir, reason);
                r = server_make(dir, &ca, parsed, n_hosts, now);
                if (r < 0)
                        goto out;
                made |= CERTGEN_MADE_SERVER;
        }
        memcpy(ret->ca_cert, f.ca_cert, sizeof(ret->ca_cert));
        memcpy(ret->server_cert, f.server_cert, sizeof(ret->server_cert));
        memcpy(ret->server_key, f.server_key, sizeof(ret->server_key));
        r = made;
out:
        pair_finish(&server);
        pair_finish(&ca);
        return r;
}
