/* SPDX-License-Identifier: MIT */
/* Tests for certgen: the files it makes, what it reuses and what it refuses to overwrite, and
 * an HTTPS round trip through libmicrohttpd with the generated key and certificate, checked
 * by a GnuTLS client (and curl, when installed) against ca.pem and against a foreign CA. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "certgen.h"
#include "fileio.h"
#include "testutil.h"

#define DAY_SECONDS (24 * 60 * 60)

static const char *const local_hosts[] = {"127.0.0.1", "localhost"};

/* A fresh temporary directory per test, removed with whatever is in it. */
struct fixture {
        char dir[PATH_MAX];
        char other[PATH_MAX]; /* a second directory, for a foreign CA */
};

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof(*fx));

        if (!fx)
                return -1;
        if (test_mkdtemp(fx->dir, sizeof(fx->dir), "otsinka-certgen") < 0 ||
            test_mkdtemp(fx->other, sizeof(fx->other), "otsinka-certgen") < 0) {
                test_remove_tree(fx->dir);
                free(fx);
                return -1;
        }
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;

        test_remove_tree(fx->dir);
        test_remove_tree(fx->other);
        free(fx);
        return 0;
}

static void path_in(const char *dir, const char *name, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%s/%s", dir, name);

        assert_true(n > 0 && (size_t)n < size);
}

static char *slurp(const char *dir, const char *name, size_t *ret_len)
{
        char path[PATH_MAX], *data = NULL;
        size_t len = 0;

        path_in(dir, name, path, sizeof(path));
        assert_int_equal(fileio_read(path, CERTGEN_PEM_MAX, &data, &len), 0);
        if (ret_len)
                *ret_len = len;
        return data;
}

static void spit(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
        char path[PATH_MAX];
        FILE *f;

        path_in(dir, name, path, sizeof(path));
        f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(path, mode), 0);
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name)
{
        size_t len;
        char *data = slurp(from_dir, name, &len);

        spit(to_dir, name, data, len, 0600);
        free(data);
}

/* The file at path as a datum whose data the caller frees. */
static gnutls_datum_t read_datum(const char *path)
{
        char *data = NULL;
        size_t len = 0;

        assert_int_equal(fileio_read(path, CERTGEN_PEM_MAX, &data, &len), 0);
        return (gnutls_datum_t){.data = (unsigned char *)data, .size = (unsigned)len};
}

static gnutls_x509_crt_t load_crt(const char *path)
{
        gnutls_x509_crt_t crt;
        gnutls_datum_t d = read_datum(path);

        assert_int_equal(gnutls_x509_crt_init(&crt), 0);
        assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
        free(d.data);
        return crt;
}

static gnutls_x509_privkey_t load_key(const char *path)
{
        gnutls_x509_privkey_t key;
        gnutls_datum_t d = read_datum(path);

        assert_non_null(strstr((const char *)d.data, "-----BEGIN PRIVATE KEY-----"));
        assert_int_equal(gnutls_x509_privkey_init(&key), 0);
        assert_int_equal(gnutls_x509_privkey_import(key, &d, GNUTLS_X509_FMT_PEM), 0);
        free(d.data);
        return key;
}

/* Writes n bytes as lower-case hex into out (2 * n + 1 bytes). */
static void to_hex(const unsigned char *bytes, size_t n, char *out)
{
        out[0] = '\0';
        for (size_t i = 0; i < n; i++)
                snprintf(out + 2 * i, 3, "%02x", bytes[i]);
}

/* The certificate's SHA-256 fingerprint as hex. */
static void fingerprint(const char *path, char out[65])
{
        gnutls_x509_crt_t crt = load_crt(path);
        unsigned char fp[32];
        size_t size = sizeof(fp);

        assert_int_equal(gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &size), 0);
        assert_int_equal(size, 32);
        to_hex(fp, size, out);
        gnutls_x509_crt_deinit(crt);
}

static void serial_hex(const char *path, char out[65])
{
        gnutls_x509_crt_t crt = load_crt(path);
        unsigned char serial[32];
        size_t size = sizeof(serial);

        assert_int_equal(gnutls_x509_crt_get_serial(crt, serial, &size), 0);
        to_hex(serial, size, out);
        gnutls_x509_crt_deinit(crt);
}

static int count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;

        assert_non_null(d);
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

static void assert_mode(const char *path, mode_t want)
{
        struct stat st;

        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, want);
}

/* 0 when the certificate at cert_path verifies against the one at ca_path, else the
 * verification status bits. */
static unsigned verify_status(const char *cert_path, const char *ca_path)
{
        gnutls_x509_crt_t crt = load_crt(cert_path), ca = load_crt(ca_path);
        unsigned status = 0;

        assert_int_equal(gnutls_x509_crt_list_verify(&crt, 1, &ca, 1, NULL, 0, 0, &status), 0);
        gnutls_x509_crt_deinit(crt);
        gnutls_x509_crt_deinit(ca);
        return status;
}

static void test_generate(void **state)
{
        struct fixture *fx = *state;
        struct certgen_paths p;
        char path[PATH_MAX], buf[256];
        gnutls_x509_crt_t ca, srv;
        gnutls_x509_privkey_t key;
        unsigned char ski[64], aki[64];
        size_t size, ski_len = sizeof(ski), aki_len = sizeof(aki);
        unsigned critical = 0, is_ca = 0, usage = 0;
        time_t now = time(NULL);

        assert_int_equal(certgen_ensure(fx->dir, local_hosts, 2, &p),
                         CERTGEN_MADE_CA | CERTGEN_MADE_SERVER);
        path_in(fx->dir, "ca.pem", path, sizeof(path));
        assert_string_equal(p.ca_cert, path);
        path_in(fx->dir, "server.pem", path, sizeof(path));
        assert_string_equal(p.server_cert, path);
        path_in(fx->dir, "server.key", path, sizeof(path));
        assert_string_equal(p.server_key, path);

        /* Exactly the four files, no temporary ones left behind. */
        assert_int_equal(count_entries(fx->dir), 4);

        /* Modes: certificates world-readable, keys private. */
        assert_mode(p.ca_cert, 0644);
        assert_mode(p.server_cert, 0644);
        assert_mode(p.server_key, 0600);
        path_in(fx->dir, "ca.key", path, sizeof(path));
        assert_mode(path, 0600);

        /* The chain verifies, and the names are the requested ones. */
        assert_int_equal(verify_status(p.server_cert, p.ca_cert), 0);
        ca = load_crt(p.ca_cert);
        srv = load_crt(p.server_cert);
        assert_true(gnutls_x509_crt_check_hostname(srv, "127.0.0.1"));
        assert_true(gnutls_x509_crt_check_hostname(srv, "localhost"));
        assert_true(gnutls_x509_crt_check_hostname(srv, "LocalHost"));
        assert_false(gnutls_x509_crt_check_hostname(srv, "example.org"));
        assert_false(gnutls_x509_crt_check_hostname(srv, "127.0.0.2"));

        /* The CA. */
        size = sizeof(buf);
        assert_int_equal(
            gnutls_x509_crt_get_dn_by_oid(ca, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size), 0);
        assert_string_equal(buf, "Otsinka development CA");
        assert_int_equal(gnutls_x509_crt_get_basic_constraints(ca, &critical, &is_ca, NULL), 1);
        assert_true(critical);
        assert_true(is_ca);
        assert_true(gnutls_x509_crt_get_key_usage(ca, &usage, NULL) >= 0);
        assert_int_equal(usage, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
        assert_int_equal(gnutls_x509_crt_get_pk_algorithm(ca, NULL), GNUTLS_PK_ECDSA);
        assert_true(gnutls_x509_crt_get_expiration_time(ca) - now > 3640L * DAY_SECONDS);
        assert_true(gnutls_x509_crt_get_activation_time(ca) <= now);
        assert_int_equal(gnutls_x509_crt_get_subject_key_id(ca, ski, &ski_len, NULL), 0);

        /* The server certificate. */
        size = sizeof(buf);
        assert_int_equal(
            gnutls_x509_crt_get_dn_by_oid(srv, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size), 0);
        assert_string_equal(buf, "127.0.0.1");
        assert_int_equal(gnutls_x509_crt_get_basic_constraints(srv, NULL, &is_ca, NULL), 0);
        assert_false(is_ca);
        assert_true(gnutls_x509_crt_get_key_usage(srv, &usage, NULL) >= 0);
        assert_int_equal(usage, GNUTLS_KEY_DIGITAL_SIGNATURE);
        size = sizeof(buf);
        assert_int_equal(gnutls_x509_crt_get_key_purpose_oid(srv, 0, buf, &size, NULL), 0);
        assert_string_equal(buf, GNUTLS_KP_TLS_WWW_SERVER);
        size = sizeof(buf);
        assert_int_equal(gnutls_x509_crt_get_subject_alt_name(srv, 0, buf, &size, NULL),
                         GNUTLS_SAN_IPADDRESS);
        assert_int_equal(size, 4);
        assert_memory_equal(buf, "\x7f\x00\x00\x01", 4);
        size = sizeof(buf);
        assert_int_equal(gnutls_x509_crt_get_subject_alt_name(srv, 1, buf, &size, NULL),
                         GNUTLS_SAN_DNSNAME);
        assert_string_equal(buf, "localhost");
        size = sizeof(buf);
        assert_int_equal(gnutls_x509_crt_get_subject_alt_name(srv, 2, buf, &size, NULL),
                         GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
        assert_int_equal(gnutls_x509_crt_get_authority_key_id(srv, aki, &aki_len, NULL), 0);
        assert_int_equal(aki_len, ski_len);
        assert_memory_equal(aki, ski, ski_len);
        size = sizeof(ski);
        assert_int_equal(gnutls_x509_crt_get_subject_key_id(srv, ski, &size, NULL), 0);
        assert_true(gnutls_x509_crt_get_expiration_time(srv) - now > 725L * DAY_SECONDS);
        assert_true(gnutls_x509_crt_get_expiration_time(srv) - now < 735L * DAY_SECONDS);

        /* server.key is the key of server.pem. */
        key = load_key(p.server_key);
        size = sizeof(ski);
        assert_int_equal(gnutls_x509_crt_get_key_id(srv, 0, ski, &size), 0);
        aki_len = sizeof(aki);
        assert_int_equal(gnutls_x509_privkey_get_key_id(key, 0, aki, &aki_len), 0);
        assert_int_equal(aki_len, size);
        assert_memory_equal(aki, ski, size);

        gnutls_x509_privkey_deinit(key);
        gnutls_x509_crt_deinit(srv);
        gnutls_x509_crt_deinit(ca);
}

static void test_reuse(void **state)
{
        struct fixture *fx = *state;
        struct certgen_paths p1, p2;
        char fp1[65], fp2[65], sn1[65], sn2[65];
        char *key1, *key2;
        size_t len1, len2;

        assert_int_equal(certgen_ensure(fx->dir, local_hosts, 2, &p1),
                         CERTGEN_MADE_CA | CERTGEN_MADE_SERVER);
        fingerprint(p1.ca_cert, fp1);
        serial_hex(p1.server_cert, sn1);
        key1 = slurp(fx->dir, "server.key", &len1);

        assert_int_equal(certgen_ensure(fx->dir, local_hosts, 2, &p2), 0);
        assert_string_equal(p1.server_key, p2.server_key);
        fingerprint(p2.ca_cert, fp2);
        serial_hex(p2.server_cert, sn2);
        key2 = slurp(fx->dir, "server.key", &len2);
        assert_string_equal(fp1, fp2);
        assert_string_equal(sn1, sn2);
        assert_int_equal(len1, len2);
        assert_memory_equal(key1, key2, len1);

        /* A subset of the hosts, in another order and case, is covered too. */
        assert_int_equal(certgen_ensure(fx->dir, (const char *const[]){"LOCALHOST"}, 1, &p2), 0);
        serial_hex(p2.server_cert, sn2);
        assert_string_equal(sn1, sn2);
        free(key1);
        free(key2);
}

static void test_extra_host_reissues_server_only(void **state)
{
        struct fixture *fx = *state;
        static const char *const more[] = {"127.0.0.1", "localhost", "::1", "collector.lan"};
        struct certgen_paths p;
        char fp1[65], fp2[65], sn1[65], sn2[65];
        gnutls_x509_crt_t srv;

        assert_int_equal(certgen_ensure(fx->dir, local_hosts, 2, &p),
                         CERTGEN_MADE_CA | CERTGEN_MADE_SERVER);
        fingerprint(p.ca_cert, fp1);
        serial_hex(p.server_cert, sn1);

        assert_int_equal(certgen_ensure(fx->dir, more, 4, &p), CERTGEN_MADE_SERVER);
        fingerprint(p.ca_cert, fp2);
        serial_hex(p.server_cert, sn2);
        assert_string_equal(fp1, fp2);
        assert_string_not_equal(sn1, sn2);
        assert_int_equal(verify_status(p.server_cert, p.ca_cert), 0);
        srv = load_crt(p.server_cert);
        assert_true(gnutls_x509_crt_check_hostname(srv, "collector.lan"));
        assert_true(gnutls_x509_crt_check_hostname(srv, "::1"));
        assert_true(gnutls_x509_crt_check_hostname(srv, "127.0.0.1"));
        assert_false(gnutls_x509_crt_check_hostname(srv, "example.org"));
        gnutls_x509_crt_deinit(srv);

        /* And then it is reused. */
        assert_int_equal(certgen_ensure(fx->dir, more, 4, &p), 0);
        serial_hex(p.server_cert, sn1);
        assert_string_equal(sn1, sn2);
}

static void test_foreign_server_cert_is_replaced(void **state)
{
        struct fixture *fx = *state;
        struct certgen_paths p, q;
        char fp1[65], fp2[65];

        assert_int_equal(certgen_ensure(fx->dir, local_hosts, 2, &p),
                         CERTGEN_MADE_CA | CERTGEN_MADE_SERVER);
        assert_int_equal(certgen_ensure(fx->other, local_hosts, 2, &q),
                         CERTGEN_MADE_CA | CERTGEN_MADE_SERVER);
        fingerprint(p.ca_cert, fp1);
        copy_file(fx->other, fx->dir, "server.pem");
        copy_file(fx->other, fx->dir, "server.key");
        assert_int_not_equal(verify_status(p.server_cert, p.ca_cert), 0);

        assert_int_equal(certgen_ensure(fx->dir, local_hosts, 2, &p), CERTGEN_MADE_SERVER);
        assert_int_equal(verify_status(p.server_cert, p.ca_cert), 0);
        fingerprint(p.ca_cert, fp2);
        assert_string_equal(fp1, fp2);
        assert_mode(p.server_cert, 0644);
        assert_mode(p.server_key, 0600);

        /* A server.key that is not server.pem's key is replaced as well. */
        copy_file(fx->other, fx->dir, "server.key");
        assert_int_equal(certgen_ensure(fx->dir, local_hosts, 2, &p), CERTGEN_MADE_SERVER);
        /* So is a missing one. */
        assert_int_equal(unlink(p.server_key), 0);
        assert_int_equal(certgen_ensure(fx->dir, local_hosts, 2, &p), CERTGEN_MADE_SERVER);
}

/* A new ECDSA P-256 key. */
static gnutls_x509_privkey_t new_key(void)
{
        gnutls_x509_privkey_t key;

        assert_int_equal(gnutls_x509_privkey_init(&key), 0);
        assert_int_equal(
            gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
            0);
        return key;
}

/* Starts a v3 certificate with a one-byte serial, valid from a day ago to days days ahead. */
static gnutls_x509_crt_t new_crt(unsigned char serial, long days)
{
        gnutls_x509_crt_t crt;
        time_t now = time(NULL);

        assert_int_equal(gnutls_x509_crt_init(&crt), 0);
        assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
        assert_int_equal(gnutls_x509_crt_set_serial(crt, &serial, 1), 0);
        assert_int_equal(gnutls_x509_crt_set_activation_time(crt, now - DAY_SECONDS), 0);
        assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, now + days * DAY_SECONDS), 0);
        return crt;
}

/* Writes crt as dir/crt_name (0644) and key as dir/key_name (0600), both PEM. */
static void spit_pair(const char *dir, const char *crt_name, gnutls_x509_crt_t crt,
                      const char *key_name, gnutls_x509_privkey_t key)
{
        gnutls_datum_t d;

        assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), 0);
        spit(dir, crt_name, d.data, d.size, 0644);
        gnutls_free(d.data);
        assert_int_equal(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d), 0);
        spit(dir, key_name, d.data, d.size, 0600);
        gnutls_free(d.data);
}

/* Signs, with the CA in dir, a server certificate for 127.0.0.1 that ends in days days, and
 * writes it as server.pem with its new key as server.key. */
static void plant_server_cert(const char *dir, long days)
{
        char path[PATH_MAX];
        gnutls_x509_crt_t ca, crt;
        gnutls_x509_privkey_t ca_key, key;
        unsigned char ip[4] = {127, 0, 0, 1};

        path_in(dir, "ca.pem", path, sizeof(path));
        ca = load_crt(path);
        path_in(dir, "ca.key", path, sizeof(path));
        ca_key = load_key(path);
        key = new_key();
        crt = new_crt(0x42, days);
        assert_int_equal(gnutls_x509_crt_set_key(crt, key), 0);
        assert_int_equal(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), 0);
        assert_int_equal(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4,
                                                              GNUTLS_FSAN_APPEND),
                         0);
        assert_int_equal(gnutls_x509_crt_sign2(crt, ca, ca_key, GNUTLS_DIG_SHA256, 0), 0);
        spit_pair(dir, "server.pem", crt, "server.key", key);

        gnutls_x509_crt_deinit(crt);
        gnutls_x509_privkey_deinit(key);
        gnutls_x509_privkey_deinit(ca_key);
        gnutls_x509_crt_deinit(ca);
}

static void test_expiring_server_cert_is_replaced(void **state)
{
        struct fixture *fx = *state;
        static const char *const ip_only[] = {"127.0.0.1"};
        struct certgen_paths p;
        char sn[65];

        assert_int_equal(certgen_ensure(fx->dir, ip_only, 1, &p),
                         CERTGEN_MADE_CA | CERTGEN_MADE_SERVER);

        /* 60 days left, the right CA and host: kept. */
        plant_server_cert(fx->dir, 60);
        assert_int_equal(certgen_ensure(fx->dir, ip_only, 1, &p), 0);
        serial_hex(p.server_cert, sn);
        assert_string_equal(sn, "42");

        /* 10 days left: replaced by a two-year certificate. */
        plant_server_cert(fx->dir, 10);
        assert_int_equal(certgen_ensure(fx->dir, ip_only, 1, &p), CERTGEN_MADE_SERVER);
        serial_hex(p.server_cert, sn);
        assert_string_not_equal(sn, "42");
        assert_int_equal(verify_status(p.server_cert, p.ca_cert), 0);
}

/* Replaces the CA in dir by a self-signed one with the same subject that ends in days days. */
static void plant_ca(const char *dir, long days)
{
        static const char cn[] = "Otsinka development CA";
        gnutls_x509_privkey_t key = new_key();
        gnutls_x509_crt_t crt = new_crt(0x43, days);

        assert_int_equal(
            gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, sizeof(cn) - 1),
            0);
        assert_int_equal(gnutls_x509_crt_set_key(crt, key), 0);
        assert_int_equal(gnutls_x509_crt_set_basic_constraints(crt, 1, -1), 0);
        assert_int_equal(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN), 0);
        assert_int_equal(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
        spit_pair(dir, "ca.pem", crt, "ca.key", key);

        gnutls_x509_crt_deinit(crt);
        gnutls_x509_privkey_deinit(key);
}

/* Runs certgen_ensure() on dir, expecting failure, and checks that no file changed. */
static void assert_refused(const char *dir, int want)
{
        static const char *const names[] = {"ca.pem", "ca.key", "server.pem", "server.key"};
        char *before[4] = {0}, *after;
        size_t len[4] = {0}, n;
        char path[PATH_MAX];
        struct certgen_paths p;

        for (size_t i = 0; i < 4; i++) {
                path_in(dir, names[i], path, sizeof(path));
                if (access(path, F_OK) == 0)
                        before[i] = slurp(dir, names[i], &len[i]);
        }
        assert_int_equal(certgen_ensure(dir, local_hosts, 2, &p), want);
        for (size_t i = 0; i < 4; i++) {
                path_in(dir, names[i], path, sizeof(path));
                if (!before[i]) {
                        assert_int_equal(access(path, F_OK), -1);
                        continue;
                }
                after = slurp(dir, names[i], &n);
                assert_int_equal(n, len[i]);
                assert_memory_equal(after, before[i], n);
                free(after);
                free(before[i]);
        }
}

static void test_unusable_files_are_kept(void **state)
{
        struct fixture *fx = *state;
        static const char garbage[] = "this is not a certificate\n";
        struct certgen_paths p, q;
        char fp[65], fp2[65], key_path[PATH_MAX];
        char *ca_pem, *ca_key, *other_key;
        size_t ca_pem_len, ca_key_len, other_key_len;

        assert_int_equal(certgen_ensure(fx->dir, local_hosts, 2, &p),
                         CERTGEN_MADE_CA | CERTGEN_MADE_SERVER);
        assert_int_equal(certgen_ensure(fx->other, local_hosts, 2, &q),
                         CERTGEN_MADE_CA | CERTGEN_MADE_SERVER);
        fingerprint(p.ca_cert, fp);
        ca_pem = slurp(fx->dir, "ca.pem", &ca_pem_len);
        ca_key = slurp(fx->dir, "ca.key", &ca_key_len);
        other_key = slurp(fx->other, "ca.key", &other_key_len);

        /* A corrupt ca.pem: an error, and nothing is overwritten. */
        spit(fx->dir, "ca.pem", garbage, sizeof(garbage) - 1, 0644);
        assert_refused(fx->dir, -EINVAL);
        /* Also when the server certificate would need reissuing. */
        assert_int_equal(certgen_ensure(fx->dir, (const char *const[]){"new.example"}, 1, &p),
                         -EINVAL);
        spit(fx->dir, "ca.pem", ca_pem, ca_pem_len, 0644);

        /* A corrupt ca.key. */
        spit(fx->dir, "ca.key", garbage, sizeof(garbage) - 1, 0600);
        assert_refused(fx->dir, -EINVAL);

        /* A ca.key that belongs to another CA. */
        spit(fx->dir, "ca.key", other_key, other_key_len, 0600);
        assert_refused(fx->dir, -EINVAL);

        /* A missing ca.key: ca.pem is not replaced by a new CA. */
        path_in(fx->dir, "ca.key", key_path, sizeof(key_path));
        assert_int_equal(unlink(key_path), 0);
        assert_refused(fx->dir, -EINVAL);
        spit(fx->dir, "ca.key", ca_key, ca_key_len, 0600);

        /* A CA of someone else's making is used while it has time left, and refused, not
         * replaced, when it ends within 30 days. */
        plant_ca(fx->dir, 60);
        assert_int_equal(certgen_ensure(fx->dir, local_hosts, 2, &p), CERTGEN_MADE_SERVER);
        assert_int_equal(verify_status(p.server_cert, p.ca_cert), 0);
        plant_ca(fx->dir, 20);
        assert_refused(fx->dir, -EINVAL);
        spit(fx->dir, "ca.pem", ca_pem, ca_pem_len, 0644);
        spit(fx->dir, "ca.key", ca_key, ca_key_len, 0600);
        assert_int_equal(certgen_ensure(fx->dir, local_hosts, 2, &p), CERTGEN_MADE_SERVER);

        /* A corrupt server.pem is an error too, not silently replaced. */
        spit(fx->dir, "server.pem", garbage, sizeof(garbage) - 1, 0644);
        assert_refused(fx->dir, -EINVAL);

        /* With the files restored, the same CA is used again. */
        assert_int_equal(unlink(p.server_cert), 0);
        assert_int_equal(certgen_ensure(fx->dir, local_hosts, 2, &p), CERTGEN_MADE_SERVER);
        fingerprint(p.ca_cert, fp2);
        assert_string_equal(fp, fp2);

        free(ca_pem);
        free(ca_key);
        free(other_key);
}

static void test_bad_hosts(void **state)
{
        struct fixture *fx = *state;
        static const char *const bad[] = {
            "",     "bad host",  "-lead.example", "trail-.example",  "a..b",
            "a.b.", "999.1.1.1", "[::1]",         "under_score.lan", "http://x",
        };
        char too_long[CERTGEN_HOST_MAX + 2];
        const char *hosts[CERTGEN_HOSTS_MAX + 1];
        struct certgen_paths p;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const char *const one[] = {"localhost", bad[i]};

                assert_int_equal(certgen_ensure(fx->dir, one, 2, &p), -EINVAL);
        }
        memset(too_long, 'a', sizeof(too_long) - 1);
        too_long[sizeof(too_long) - 1] = '\0';
        assert_int_equal(certgen_ensure(fx->dir, (const char *const[]){too_long}, 1, &p), -EINVAL);
        assert_int_equal(certgen_ensure(fx->dir, local_hosts, 0, &p), -EINVAL);
        for (size_t i = 0; i < CERTGEN_HOSTS_MAX + 1; i++)
                hosts[i] = "localhost";
        assert_int_equal(certgen_ensure(fx->dir, hosts, CERTGEN_HOSTS_MAX + 1, &p), -EINVAL);
        assert_int_equal(certgen_ensure("", local_hosts, 2, &p), -EINVAL);
        assert_int_equal(certgen_ensure(NULL, local_hosts, 2, &p), -EINVAL);

        /* Nothing was written. */
        assert_int_equal(count_entries(fx->dir), 0);

        /* A directory that does not exist yet is made; its parent must exist. */
        {
                char sub[PATH_MAX], deep[PATH_MAX];

                path_in(fx->dir, "sub", sub, sizeof(sub));
                path_in(sub, "deeper", deep, sizeof(deep));
                assert_int_equal(certgen_ensure(deep, local_hosts, 2, &p), -ENOENT);
                assert_int_equal(certgen_ensure(sub, local_hosts, 2, &p),
                                 CERTGEN_MADE_CA | CERTGEN_MADE_SERVER);
                test_remove_tree(sub);
        }
}

/* The smallest HTTPS server: 200 "ok" for everything. */
static enum MHD_Result answer_ok(void *cls, struct MHD_Connection *connection, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
        static char body[] = "ok";
        struct MHD_Response *response;
        enum MHD_Result ret;

        response = MHD_create_response_from_buffer(2, body, MHD_RESPMEM_PERSISTENT);
        if (!response)
                return MHD_NO;
        ret = MHD_queue_response(connection, MHD_HTTP_OK, response);
        MHD_destroy_response(response);
        return ret;
}

static struct MHD_Daemon *https_start(const struct certgen_paths *p, char **key, char **cert,
                                      uint16_t *ret_port)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
        const union MHD_DaemonInfo *info;
        struct MHD_Daemon *d;
        size_t len;

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(fileio_read(p->server_key, CERTGEN_PEM_MAX, key, &len), 0);
        assert_int_equal(fileio_read(p->server_cert, CERTGEN_PEM_MAX, cert, &len), 0);
        d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
                             NULL, NULL, answer_ok, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                             MHD_OPTION_HTTPS_MEM_KEY, *key, MHD_OPTION_HTTPS_MEM_CERT, *cert,
                             MHD_OPTION_END);
        assert_non_null(d);
        info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        assert_non_null(info);
        assert_int_not_equal(info->port, 0);
        *ret_port = info->port;
        return d;
}

/* GETs / from 127.0.0.1:port over TLS, trusting only ca_file and expecting the certificate to
 * name verify_name. Returns 0 and the response in resp, or the GnuTLS error with the
 * verification status in *ret_status. */
static int https_get(uint16_t port, const char *ca_file, const char *verify_name, char *resp,
                     size_t resp_size, unsigned *ret_status)
{
        static const char request[] =
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
        struct timeval tv = {.tv_sec = 10};
        gnutls_certificate_credentials_t cred;
        gnutls_session_t s;
        size_t len = 0;
        int fd, r;

        *ret_status = 0;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);

        assert_int_equal(gnutls_certificate_allocate_credentials(&cred), 0);
        assert_int_equal(gnutls_certificate_set_x509_trust_file(cred, ca_file, GNUTLS_X509_FMT_PEM),
                         1);
        assert_int_equal(gnutls_init(&s, GNUTLS_CLIENT), 0);
        assert_int_equal(gnutls_set_default_priority(s), 0);
        assert_int_equal(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred), 0);
        gnutls_session_set_verify_cert(s, verify_name, 0);
        gnutls_transport_set_int(s, fd);
        gnutls_handshake_set_timeout(s, 10000);
        do
                r = gnutls_handshake(s);
        while (r < 0 && !gnutls_error_is_fatal(r));
        if (r < 0) {
                *ret_status = gnutls_session_get_verify_cert_status(s);
                goto out;
        }
        assert_int_equal(gnutls_record_send(s, request, sizeof(request) - 1),
                         (ssize_t)(sizeof(request) - 1));
        for (;;) {
                ssize_t n = gnutls_record_recv(s, resp + len, resp_size - 1 - len);

                if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
                        continue;
                if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
                        break;
                assert_true(n > 0);
                len += (size_t)n;
                assert_true(len < resp_size - 1);
        }
        resp[len] = '\0';
        gnutls_bye(s, GNUTLS_SHUT_WR);
        r = 0;
out:
        gnutls_deinit(s);
        gnutls_certificate_free_credentials(cred);
        close(fd);
        return r;
}

static void assert_ok_response(const char *resp)
{
        size_t len = strlen(resp);

        assert_true(strncmp(resp, "HTTP/1.1 200", 12) == 0);
        assert_true(len >= 6);
        assert_string_equal(resp + len - 6, "\r\n\r\nok");
}

/* Runs curl against the server; returns its exit status, or -1 when curl is not installed. */
static int curl_get(uint16_t port, const char *ca_file, char *out, size_t out_size)
{
        char cmd[PATH_MAX + 256];
        size_t len = 0;
        FILE *f;
        int status;

        if (system("command -v curl >/dev/null 2>&1") != 0)
                return -1;
        snprintf(cmd, sizeof(cmd),
                 "curl -sS --noproxy '*' --max-time 10 --cacert '%s' https://127.0.0.1:%u/ "
                 "2>/dev/null",
                 ca_file, (unsigned)port);
        f = popen(cmd, "r");
        assert_non_null(f);
        len = fread(out, 1, out_size - 1, f);
        out[len] = '\0';
        status = pclose(f);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static void test_https_end_to_end(void **state)
{
        struct fixture *fx = *state;
        struct certgen_paths p, foreign;
        struct MHD_Daemon *d;
        char *key = NULL, *cert = NULL, resp[4096];
        unsigned status = 0;
        uint16_t port = 0;
        int r;

        assert_int_equal(certgen_ensure(fx->dir, local_hosts, 2, &p),
                         CERTGEN_MADE_CA | CERTGEN_MADE_SERVER);
        assert_int_equal(certgen_ensure(fx->other, local_hosts, 2, &foreign),
                         CERTGEN_MADE_CA | CERTGEN_MADE_SERVER);
        d = https_start(&p, &key, &cert, &port);

        /* Trusting ca.pem: the chain and the names verify, and the server answers. */
        assert_int_equal(https_get(port, p.ca_cert, "127.0.0.1", resp, sizeof(resp), &status), 0);
        assert_ok_response(resp);
        assert_int_equal(https_get(port, p.ca_cert, "localhost", resp, sizeof(resp), &status), 0);
        assert_ok_response(resp);

        /* A name the certificate does not carry. */
        r = https_get(port, p.ca_cert, "example.org", resp, sizeof(resp), &status);
        assert_int_equal(r, GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
        assert_true(status & GNUTLS_CERT_UNEXPECTED_OWNER);

        /* Trusting another development CA: the handshake fails on the signer. */
        r = https_get(port, foreign.ca_cert, "127.0.0.1", resp, sizeof(resp), &status);
        assert_int_equal(r, GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
        assert_true(status & GNUTLS_CERT_SIGNER_NOT_FOUND);

        /* An OpenSSL-based client agrees (exit 60: the peer certificate cannot be verified). */
        r = curl_get(port, p.ca_cert, resp, sizeof(resp));
        if (r >= 0) {
                assert_int_equal(r, 0);
                assert_string_equal(resp, "ok");
                assert_int_equal(curl_get(port, foreign.ca_cert, resp, sizeof(resp)), 60);
        } else
                fprintf(stderr, "curl is not installed; checked with GnuTLS only\n");

        MHD_stop_daemon(d);
        explicit_bzero(key, strlen(key));
        free(key);
        free(cert);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_generate, setup, teardown),
            cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
            cmocka_unit_test_setup_teardown(test_extra_host_reissues_server_only, setup, teardown),
            cmocka_unit_test_setup_teardown(test_foreign_server_cert_is_replaced, setup, teardown),
            cmocka_unit_test_setup_teardown(test_expiring_server_cert_is_replaced, setup, teardown),
            cmocka_unit_test_setup_teardown(test_unusable_files_are_kept, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_hosts, setup, teardown),
            cmocka_unit_test_setup_teardown(test_https_end_to_end, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
