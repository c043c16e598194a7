/* SPDX-License-Identifier: MIT */
/* The development CA and server certificate for `otsinka-collector demo`, made with GnuTLS's
 * x509 API and kept in one directory: ca.pem, ca.key, server.pem, server.key. An existing CA
 * is never replaced; a server certificate is reissued only when it no longer fits. */
#pragma once

#include <limits.h>
#include <stddef.h>

/* Hosts per server certificate, and the length of one host (a DNS name or an IP address). */
#define CERTGEN_HOSTS_MAX 32
#define CERTGEN_HOST_MAX 253
/* The largest PEM file certgen reads back; also a sensible cap for callers. */
#define CERTGEN_PEM_MAX (64 * 1024)

/* Bits of certgen_ensure()'s non-negative result: what it had to make. */
enum {
        CERTGEN_MADE_CA = 1 << 0,     /* a new CA: terminals must be given the new ca.pem */
        CERTGEN_MADE_SERVER = 1 << 1, /* a new server key and certificate */
};

/* Where certgen_ensure() left the files: dir joined with the file name. */
struct certgen_paths {
        char ca_cert[PATH_MAX];     /* the CA certificate: what terminals trust (0644) */
        char server_cert[PATH_MAX]; /* the server's leaf certificate alone (0644) */
        char server_key[PATH_MAX];  /* the server's private key, PKCS#8 PEM (0600) */
};

/* Makes sure dir (created 0755 if missing, parent not) holds an ECDSA P-256 development CA
 * ("CN=Otsinka development CA", 10 years) and a server certificate from it (2 years, CN =
 * hosts[0], a subjectAltName per host: an IP address if it parses as IPv4/IPv6, otherwise a
 * DNS name). Existing files are reused when they parse and the server certificate is signed
 * by the CA in dir, matches server.key, covers every host and is valid for 30 more days;
 * otherwise the server key and certificate are replaced. The CA is only ever made when
 * neither ca.pem nor ca.key exists: an unparseable, mismatched or expiring CA, or any
 * unparseable file, is an error and nothing is overwritten. Files are replaced atomically
 * (temp file, fsync, rename, fsync of dir).
 *
 * Returns a combination of CERTGEN_MADE_* (0 when all was reused) and fills *ret, or a
 * negative errno: -EINVAL for bad hosts or unusable files, -ENAMETOOLONG, -ENOMEM, -EIO or
 * the errno of a failed file operation. The reason is logged once with log_error(). */
int certgen_ensure(const char *dir, const char *const *hosts, size_t n_hosts,
                   struct certgen_paths *ret);
