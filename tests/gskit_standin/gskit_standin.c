/*
 * A stand-in of the gsk_* calls GSKPROBE makes, built on OpenSSL, so that
 * cl/gskprobe.c compiles and runs on Linux against loopback servers.
 *
 * It is a MODEL of GSKit, like the Python GSKit model: it shows that the
 * prober's dialogue, call order, error handling, output and the Python side
 * work; it cannot show what GSKit decides. Its verdicts are OpenSSL's
 * (default chain building, no partial chains, no host-name check), mapped to
 * GSKit's return codes as below; the first run on a real IBM i calibrates it
 * (docs/verify-on-your-system.md).
 *
 * Stores (set by the tests or by the IBM i simulator):
 *   GSKSTANDIN_STORES=DIR   *SYSTEM is DIR/SYSTEM.pem (missing: 202
 *                           GSK_KEYRING_OPEN_ERROR); application ID X is
 *                           DIR/app-X.pem (missing: 6002 NOT_REGISTERED);
 *                           a .KDB path P is DIR/kdb<P, / as _>.pem and needs
 *                           a stash file (none: 201 GSK_NO_KEYFILE_PASSWORD)
 *   GSKSTANDIN_NO_ACCESS=1  environment init fails with 6003 (no authority)
 *   GSKSTANDIN_PARTNER_CHAIN=1  GSK_PARTNER_CERT_INFO lists every certificate
 *                           the server sent (default: the partner's only)
 *   GSKSTANDIN_NO_SNI=1     setting SNI answers 701 (a release without it)
 * OpenSSL verify errors -> GSKit codes (the stand-in's choice):
 *   2, 18, 19, 20, 21 (no trusted anchor)   6000 NOT_TRUSTED_ROOT
 *   10 (expired)                            107 KEYFILE_CERT_EXPIRED
 *   9 (not yet valid)                       401 BAD_DATE
 *   7 (bad signature)                       413 BAD_CERT_SIG
 *   23 (revoked)                            6017 CERTIFICATE_REVOKED
 *   anything else                           8 ERROR_CERT_VALIDATION
 * Other handshake failures: time out 6011, closed 420, not TLS 410, no
 * common protocol/cipher 402, an alert 415, else 406.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gskssl.h"

#define ENV_MAGIC 0x47534b45
#define SES_MAGIC 0x47534b53
#define MAX_ELEMS 64

typedef struct {
    int magic;
    char keyring[1024];
    char stash[1024];
    char appid[128];
    int session_type;
    int server_auth;
    int inited;
    SSL_CTX *ctx;
} env_t;

typedef struct {
    int magic;
    env_t *env;
    int fd;
    int timeout;
    char sni[256];
    SSL *ssl;
    int validation;
    char sec_type[16];
    char cipher[128];
    gsk_cert_data_elem elems[MAX_ELEMS];
    int nelems;
    char *owned[MAX_ELEMS];
    int nowned;
} ses_t;

static int verify_index = -1;

static long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long)tv.tv_sec * 1000L + (long)(tv.tv_usec / 1000);
}

static int map_verify(long err)
{
    switch (err) {
    case X509_V_OK: return GSK_OK;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return GSK_OS400_ERROR_NOT_TRUSTED_ROOT;
    case X509_V_ERR_CERT_HAS_EXPIRED: return GSK_KEYFILE_CERT_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID: return GSK_ERROR_BAD_DATE;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE: return GSK_ERROR_BAD_CERT_SIG;
    case X509_V_ERR_CERT_REVOKED: return GSK_OS400_ERROR_CERTIFICATE_REVOKED;
    default: return GSK_ERROR_CERT_VALIDATION;
    }
}

static int on_verify(int ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    ses_t *s = ssl ? SSL_get_ex_data(ssl, verify_index) : NULL;
    if (!ok && s != NULL && s->validation == GSK_OK)
        s->validation = map_verify(X509_STORE_CTX_get_error(store));
    if (s != NULL && s->env->server_auth == GSK_SERVER_AUTH_PASSTHRU)
        return 1;           /* PASSTHRU: record, never refuse */
    return ok;
}

const char *gsk_strerror(int rc)
{
    switch (rc) {
    case GSK_OK: return "The operation was successful.";
    case GSK_INVALID_HANDLE: return "The handle is not valid.";
    case GSK_INVALID_STATE: return "The handle is in the wrong state for this operation.";
    case GSK_ERROR_CERT_VALIDATION: return "Certificate validation error.";
    case GSK_KEYFILE_CERT_EXPIRED: return "The validity time period of the certificate has expired.";
    case GSK_NO_KEYFILE_PASSWORD: return "Neither the password nor the stash file name was specified.";
    case GSK_KEYRING_OPEN_ERROR: return "Certificate store file could not be opened.";
    case GSK_ERROR_BAD_DATE: return "The certificate is not yet valid or has expired.";
    case GSK_ERROR_NO_CIPHERS: return "No cipher suites are available.";
    case GSK_ERROR_IO: return "An error occurred in SSL processing; check the errno value.";
    case GSK_ERROR_BAD_MESSAGE: return "A badly formatted message was received.";
    case GSK_ERROR_BAD_CERT_SIG: return "The certificate signature is not valid.";
    case GSK_ERROR_BAD_PEER: return "The peer system is not recognized.";
    case GSK_ERROR_SOCKET_CLOSED: return "The socket was closed.";
    case GSK_ATTRIBUTE_INVALID_ID: return "The attribute ID is not valid.";
    case GSK_OS400_ERROR_NOT_TRUSTED_ROOT:
        return "The certificate is not signed by a trusted certificate authority.";
    case GSK_OS400_ERROR_NOT_REGISTERED: return "The application is not registered.";
    case GSK_OS400_ERROR_NO_ACCESS: return "No permission to access the certificate store.";
    case GSK_OS400_ERROR_TIMED_OUT: return "The SSL handshake timed out.";
    case GSK_OS400_ERROR_CERTIFICATE_REVOKED: return "The certificate has been revoked.";
    default: return "Unknown GSKit return code (stand-in).";
    }
}

int gsk_environment_open(gsk_handle *handle)
{
    env_t *e = calloc(1, sizeof(env_t));
    if (e == NULL)
        return GSK_INSUFFICIENT_STORAGE;
    e->magic = ENV_MAGIC;
    e->server_auth = GSK_SERVER_AUTH_FULL;
    *handle = e;
    return GSK_OK;
}

static env_t *as_env(gsk_handle h) { return (h && ((env_t *)h)->magic == ENV_MAGIC) ? h : NULL; }
static ses_t *as_ses(gsk_handle h) { return (h && ((ses_t *)h)->magic == SES_MAGIC) ? h : NULL; }

int gsk_attribute_set_buffer(gsk_handle h, GSK_BUF_ID id, const char *value, int length)
{
    env_t *e = as_env(h);
    ses_t *s = as_ses(h);
    size_t n = length > 0 ? (size_t)length : strlen(value);
    char *dst;
    size_t cap;
    if (e == NULL && s == NULL)
        return GSK_INVALID_HANDLE;
    if (e != NULL && id == GSK_KEYRING_FILE) { dst = e->keyring; cap = sizeof(e->keyring); }
    else if (e != NULL && id == GSK_KEYRING_STASH_FILE) { dst = e->stash; cap = sizeof(e->stash); }
    else if (e != NULL && id == GSK_OS400_APPLICATION_ID) { dst = e->appid; cap = sizeof(e->appid); }
    else if (s != NULL && id == GSK_SSL_EXTN_SERVERNAME_REQUEST) {
        if (getenv("GSKSTANDIN_NO_SNI"))
            return GSK_ATTRIBUTE_INVALID_ID;
        dst = s->sni; cap = sizeof(s->sni);
    } else
        return GSK_ATTRIBUTE_INVALID_ID;
    if (n + 1 > cap)
        return GSK_ATTRIBUTE_INVALID_LENGTH;
    memcpy(dst, value, n);
    dst[n] = 0;
    return GSK_OK;
}

int gsk_attribute_set_enum(gsk_handle h, GSK_ENUM_ID id, GSK_ENUM_VALUE value)
{
    env_t *e = as_env(h);
    if (e == NULL)
        return GSK_INVALID_HANDLE;
    if (id == GSK_SESSION_TYPE && value == GSK_CLIENT_SESSION)
        e->session_type = value;
    else if (id == GSK_SERVER_AUTH_TYPE && (value == GSK_SERVER_AUTH_FULL || value == GSK_SERVER_AUTH_PASSTHRU))
        e->server_auth = value;
    else
        return GSK_ATTRIBUTE_INVALID_ENUMERATION;
    return GSK_OK;
}

static int store_file(env_t *e, char *path, size_t size)
{
    const char *dir = getenv("GSKSTANDIN_STORES");
    char name[1100];
    size_t i;
    if (dir == NULL)
        return GSK_KEYRING_OPEN_ERROR;
    if (e->appid[0]) {
        snprintf(path, size, "%s/app-%s.pem", dir, e->appid);
        return access(path, F_OK) == 0 ? GSK_OK : GSK_OS400_ERROR_NOT_REGISTERED;
    }
    if (strcmp(e->keyring, "*SYSTEM") == 0) {
        snprintf(path, size, "%s/SYSTEM.pem", dir);
    } else {
        if (e->stash[0] == 0)
            return GSK_NO_KEYFILE_PASSWORD;
        snprintf(name, sizeof(name), "kdb%s", e->keyring);
        for (i = 0; name[i]; i++)
            if (name[i] == '/')
                name[i] = '_';
        snprintf(path, size, "%s/%s.pem", dir, name);
    }
    return access(path, F_OK) == 0 ? GSK_OK : GSK_KEYRING_OPEN_ERROR;
}

int gsk_environment_init(gsk_handle h)
{
    env_t *e = as_env(h);
    char path[2200];
    int rc;
    X509_STORE *store;
    FILE *f;
    X509 *cert;
    if (e == NULL)
        return GSK_INVALID_HANDLE;
    if (e->inited)
        return GSK_INVALID_STATE;
    if (getenv("GSKSTANDIN_NO_ACCESS"))
        return GSK_OS400_ERROR_NO_ACCESS;
    rc = store_file(e, path, sizeof(path));
    if (rc != GSK_OK)
        return rc;
    if (verify_index < 0)
        verify_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    e->ctx = SSL_CTX_new(TLS_client_method());       /* the library's default protocols */
    if (e->ctx == NULL)
        return GSK_INTERNAL_ERROR;
    SSL_CTX_set_verify(e->ctx, SSL_VERIFY_PEER, on_verify);
    store = SSL_CTX_get_cert_store(e->ctx);
    f = fopen(path, "r");
    if (f == NULL) {
        SSL_CTX_free(e->ctx);
        e->ctx = NULL;
        return GSK_KEYRING_OPEN_ERROR;
    }
    while ((cert = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        X509_STORE_add_cert(store, cert);
        X509_free(cert);
    }
    ERR_clear_error();
    fclose(f);
    e->inited = 1;
    return GSK_OK;
}

int gsk_environment_close(gsk_handle *h)
{
    env_t *e = as_env(*h);
    if (e == NULL)
        return GSK_INVALID_HANDLE;
    if (e->ctx)
        SSL_CTX_free(e->ctx);
    e->magic = 0;
    free(e);
    *h = NULL;
    return GSK_OK;
}

int gsk_secure_soc_open(gsk_handle env, gsk_handle *h)
{
    env_t *e = as_env(env);
    ses_t *s;
    if (e == NULL)
        return GSK_INVALID_HANDLE;
    if (!e->inited)
        return GSK_INVALID_STATE;
    s = calloc(1, sizeof(ses_t));
    if (s == NULL)
        return GSK_INSUFFICIENT_STORAGE;
    s->magic = SES_MAGIC;
    s->env = e;
    s->fd = -1;
    s->timeout = 300;
    *h = s;
    return GSK_OK;
}

int gsk_attribute_set_numeric_value(gsk_handle h, GSK_NUM_ID id, int value)
{
    ses_t *s = as_ses(h);
    if (s == NULL)
        return GSK_INVALID_HANDLE;
    if (id == GSK_FD)
        s->fd = value;
    else if (id == GSK_HANDSHAKE_TIMEOUT && value > 0)
        s->timeout = value;
    else
        return GSK_ATTRIBUTE_INVALID_ID;
    return GSK_OK;
}

static int handshake_failure(ses_t *s, int ssl_error, int saved_errno, int timed_out)
{
    unsigned long err = ERR_peek_error();
    int reason = ERR_GET_REASON(err);
    if (s->env->server_auth == GSK_SERVER_AUTH_FULL && SSL_get_verify_result(s->ssl) != X509_V_OK)
        return map_verify(SSL_get_verify_result(s->ssl));
    if (timed_out)
        return GSK_OS400_ERROR_TIMED_OUT;
    if (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE)
        return saved_errno == ETIMEDOUT ? GSK_OS400_ERROR_TIMED_OUT : GSK_ERROR_SOCKET_CLOSED;
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
    if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        return GSK_ERROR_SOCKET_CLOSED;
#endif
    if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG
        || reason == SSL_R_RECORD_LENGTH_MISMATCH || reason == SSL_R_UNEXPECTED_MESSAGE)
        return GSK_ERROR_BAD_MESSAGE;
    if (reason == SSL_R_NO_PROTOCOLS_AVAILABLE || reason == SSL_R_NO_CIPHERS_AVAILABLE
        || reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION
        || reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)
        return GSK_ERROR_NO_CIPHERS;
    if (ERR_GET_LIB(err) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET)
        return GSK_ERROR_BAD_PEER;
    if (err == 0)
        return GSK_ERROR_SOCKET_CLOSED;
    return GSK_ERROR_IO;
}

static void add_elem(ses_t *s, GSK_CERT_DATA_ID id, char *data, int length)
{
    if (s->nelems >= MAX_ELEMS || data == NULL) {
        free(data);
        return;
    }
    s->elems[s->nelems].cert_data_id = id;
    s->elems[s->nelems].cert_data_p = data;
    s->elems[s->nelems].cert_data_l = length;
    s->nelems++;
    s->owned[s->nowned++] = data;
}

static void add_der(ses_t *s, X509 *cert)
{
    unsigned char *der = NULL;
    int n = i2d_X509(cert, &der);
    char *copy;
    if (n <= 0)
        return;
    copy = malloc((size_t)n);
    if (copy != NULL)
        memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    add_elem(s, CERT_BODY_DER, copy, n);
}

static void add_text(ses_t *s, GSK_CERT_DATA_ID id, const char *text)
{
    add_elem(s, id, strdup(text), (int)strlen(text));
}

static void collect(ses_t *s)
{
    X509 *leaf = SSL_get1_peer_certificate(s->ssl);
    STACK_OF(X509) *sent = SSL_get_peer_cert_chain(s->ssl);
    char name[512];
    const SSL_CIPHER *cipher = SSL_get_current_cipher(s->ssl);
    int version = SSL_version(s->ssl), i;

    strcpy(s->sec_type, version == TLS1_3_VERSION ? "TLSV13" : version == TLS1_2_VERSION ? "TLSV12"
                        : version == TLS1_1_VERSION ? "TLSV11" : "TLSV1");
    if (cipher != NULL)
        snprintf(s->cipher, sizeof(s->cipher), "%s", SSL_CIPHER_standard_name(cipher));
    if (leaf == NULL)
        return;
    add_der(s, leaf);
    X509_NAME_oneline(X509_get_subject_name(leaf), name, sizeof(name));
    add_text(s, CERT_DN_PRINTABLE, name);
    X509_NAME_oneline(X509_get_issuer_name(leaf), name, sizeof(name));
    add_text(s, CERT_ISSUER_DN_PRINTABLE, name);
    if (getenv("GSKSTANDIN_PARTNER_CHAIN") && sent != NULL)
        for (i = 1; i < sk_X509_num(sent); i++)
            add_der(s, sk_X509_value(sent, i));
    X509_free(leaf);
}

/* GSK_HANDSHAKE_TIMEOUT bounds the whole handshake (a server that trickles
   one byte at a time included): non-blocking SSL_connect, polled against the
   deadline; the socket is blocking again afterwards, as it was given. */
int gsk_secure_soc_init(gsk_handle h)
{
    ses_t *s = as_ses(h);
    int rc, error = SSL_ERROR_NONE, saved = 0, flags;
    long deadline;
    if (s == NULL)
        return GSK_INVALID_HANDLE;
    if (s->ssl != NULL || s->fd < 0)
        return GSK_INVALID_STATE;
    s->ssl = SSL_new(s->env->ctx);
    if (s->ssl == NULL)
        return GSK_INTERNAL_ERROR;
    SSL_set_ex_data(s->ssl, verify_index, s);
    SSL_set_fd(s->ssl, s->fd);
    if (s->sni[0])
        SSL_set_tlsext_host_name(s->ssl, s->sni);
    s->validation = GSK_OK;
    flags = fcntl(s->fd, F_GETFL, 0);
    fcntl(s->fd, F_SETFL, flags | O_NONBLOCK);
    deadline = now_ms() + 1000L * s->timeout;
    ERR_clear_error();
    for (;;) {
        struct pollfd p;
        long left;
        errno = 0;
        rc = SSL_connect(s->ssl);
        if (rc == 1)
            break;
        error = SSL_get_error(s->ssl, rc);
        saved = errno;
        if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
            break;
        left = deadline - now_ms();
        if (left <= 0)
            break;
        p.fd = s->fd;
        p.events = error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        p.revents = 0;
        if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
            saved = errno;
            break;
        }
    }
    fcntl(s->fd, F_SETFL, flags);
    if (rc != 1) {
        rc = handshake_failure(s, error, saved, now_ms() >= deadline);
        ERR_clear_error();
        return rc;
    }
    collect(s);
    return GSK_OK;
}

int gsk_attribute_get_buffer(gsk_handle h, GSK_BUF_ID id, const char **value, int *length)
{
    ses_t *s = as_ses(h);
    const char *text;
    if (s == NULL)
        return GSK_INVALID_HANDLE;
    if (id == GSK_CONNECT_SEC_TYPE)
        text = s->sec_type;
    else if (id == GSK_CONNECT_CIPHER_SPEC_EX)
        text = s->cipher;
    else
        return GSK_ATTRIBUTE_INVALID_ID;
    *value = text;
    *length = (int)strlen(text);
    return GSK_OK;
}

int gsk_attribute_get_numeric_value(gsk_handle h, GSK_NUM_ID id, int *value)
{
    ses_t *s = as_ses(h);
    if (s == NULL)
        return GSK_INVALID_HANDLE;
    if (id == GSK_CERTIFICATE_VALIDATION_CODE)
        *value = s->validation;
    else if (id == GSK_FD)
        *value = s->fd;
    else
        return GSK_ATTRIBUTE_INVALID_ID;
    return GSK_OK;
}

int gsk_attribute_get_cert_info(gsk_handle h, GSK_CERT_ID id, const gsk_cert_data_elem **elems, int *count)
{
    ses_t *s = as_ses(h);
    if (s == NULL)
        return GSK_INVALID_HANDLE;
    if (id != GSK_PARTNER_CERT_INFO)
        return GSK_ATTRIBUTE_INVALID_ID;
    if (s->ssl == NULL)
        return GSK_INVALID_STATE;
    *elems = s->elems;
    *count = s->nelems;
    return GSK_OK;
}

int gsk_secure_soc_close(gsk_handle *h)
{
    ses_t *s = as_ses(*h);
    int i;
    if (s == NULL)
        return GSK_INVALID_HANDLE;
    if (s->ssl)
        SSL_free(s->ssl);          /* the socket stays open: the caller closes it */
    for (i = 0; i < s->nowned; i++)
        free(s->owned[i]);
    s->magic = 0;
    free(s);
    *h = NULL;
    return GSK_OK;
}
