/*
 * GSKPROBE: ibmi-trust's GSKit prober (ILE C).
 *
 * Makes the TLS handshake an IBM i mail program makes, through System TLS
 * (GSKit), against the certificate store *SYSTEM (or an application ID,
 * so that application's CA trust list applies), and writes down what
 * GSKit decided. ibmi-trust uses it as the proof after an import into
 * *SYSTEM and as the referee of its GSKit model (docs/ibmi-backend.md).
 *
 *   CALL PGM(LIB/GSKPROBE) PARM('/path/request ' '/path/result ')
 *
 * Each parameter ends at its first blank (or NUL): a CALL passes a
 * character literal of 32 or more characters with its exact length and
 * nothing after it, so the caller ends each path with a blank.
 *
 * Request: a stream file, ASCII, one probe per line, fields separated by
 * blanks ('-' = none); lines starting with '#' are comments:
 *   ID ADDRESS PORT DIALOGUE SNI STORE STASH TIMEOUT DIAGNOSE EHLO
 *   ID        1-32 of A-Z a-z 0-9 _ -
 *   ADDRESS   an IPv4 or IPv6 address (no name: ibmi-trust resolved it)
 *   DIALOGUE  smtp | imap | pop3 (STARTTLS/STLS first) | none (implicit)
 *   SNI       the server name to send, or '-' (send none)
 *   STORE     *SYSTEM, app:APPLICATION_ID or the IFS path of a .KDB
 *   STASH     the .KDB's stash file or '-' (a password is never taken)
 *   TIMEOUT   seconds per step (connect, dialogue, handshake), 1-300
 *   DIAGNOSE  1: after a trust failure, a second, PASSTHRU handshake
 *             reads GSKit's validation code and the chain (labelled a
 *             diagnostic: never the verdict)
 *   EHLO      the name sent in EHLO (smtp), or '-'
 * Result: a stream file (created, never overwritten), UTF-8/ASCII, one
 * JSON object per line: a header, one line per probe (written as soon as
 * the probe ends), and an end line. Without the end line the program did
 * not finish.
 *
 * GSKit calls, in the order a client makes them (IBM i Global Secure
 * Toolkit (GSKit) APIs, https://www.ibm.com/docs/en/i/7.5?topic=
 * ssw_ibm_i_75/apis/unix9a.htm; service program QSYS/QSOSSLSR; header
 * QSYSINC/H(GSKSSL), 5770-SS1 option 13):
 *   gsk_environment_open
 *   gsk_attribute_set_buffer GSK_KEYRING_FILE "*SYSTEM" (or the .KDB path,
 *     GSK_KEYRING_STASH_FILE) or GSK_OS400_APPLICATION_ID (6999): "buffer
 *     points to the application identifier to be used for the secure
 *     environment" (gsk_attribute_set_buffer, ssw_ibm_i_73/apis/
 *     gsk_attribute_set_buffer.htm)
 *   gsk_attribute_set_enum GSK_SESSION_TYPE GSK_CLIENT_SESSION and
 *     GSK_SERVER_AUTH_TYPE GSK_SERVER_AUTH_FULL. Protocols and cipher
 *     suites are NOT set: the system's defaults (QSSLPCL, QSSLCSL) apply,
 *     which is what the mail program gets
 *   gsk_environment_init: 202 GSK_KEYRING_OPEN_ERROR, 6003 no access,
 *     6002 application not registered, ... are reported as such
 *   gsk_secure_soc_open; gsk_attribute_set_numeric_value GSK_FD and
 *     GSK_HANDSHAKE_TIMEOUT (seconds; "may be set for each individual
 *     secure session after gsk_secure_soc_open() and before
 *     gsk_secure_soc_init()", gsk_attribute_set_numeric_value); SNI with
 *     gsk_attribute_set_buffer GSK_SSL_EXTN_SERVERNAME_REQUEST (230; 701
 *     GSK_ATTRIBUTE_INVALID_ID on a release without it: reported, and the
 *     handshake goes on without SNI, as curl's lib/vtls/gskit.c does)
 *   gsk_secure_soc_init: its return code IS the proof (gsk_secure_soc_init,
 *     ssw_ibm_i_74/apis/gsk_secure_soc_init.htm: GSK_OK, or e.g.
 *     [SSL_ERROR_NOT_TRUSTED_ROOT] "The certificate is not signed by a
 *     trusted certificate authority")
 *   on success: gsk_attribute_get_buffer GSK_CONNECT_SEC_TYPE and the
 *     cipher (GSK_CONNECT_CIPHER_SPEC_EX 244, else GSK_CONNECT_CIPHER_SPEC),
 *     gsk_attribute_get_cert_info GSK_PARTNER_CERT_INFO: every
 *     CERT_BODY_DER element (the partner certificate; whether GSKit also
 *     lists the rest of the chain is to be seen on a real system)
 *   gsk_secure_soc_close, gsk_environment_close; gsk_strerror names a code.
 * The diagnostic handshake sets GSK_SERVER_AUTH_PASSTHRU: "Applications can
 * detect the situation where the secure session started but validation
 * failed by checking GSK_CERTIFICATE_VALIDATION_CODE (6996) via
 * gsk_attribute_get_numeric_value()" (System i Programming Secure Sockets
 * APIs, gsk_attribute_get_enum). Its answer is never the verdict.
 *
 * Characters: every literal of this program is ASCII (#pragma convert(819)
 * below), so the dialogue, the request and the result are ASCII whatever
 * the job's CCSID. Strings handed to GSKit and to the sockets APIs are in
 * the job's CCSID ("The data in the buffer is assumed to be represented
 * in the CCSID currently in effect for the job", gsk_attribute_get_buffer):
 * they are converted at that boundary only, and only characters of the
 * invariant set (A-Z a-z 0-9 and . - _ * / : space), whose code points
 * are the same in every single-byte EBCDIC CCSID, are accepted there.
 *
 * Bounds: at most 256 probes of 1024 characters; every network read has a
 * length check and a time limit; a server line longer than 4096 bytes, or
 * a reply of more than 1000 lines, ends the probe; connecting and the
 * dialogue take at most 3 x TIMEOUT, the handshake TIMEOUT more (the same
 * again for a diagnostic handshake).
 *
 * Off IBM i the same file compiles against a stand-in of the gsk_* calls
 * built on OpenSSL (tests/gskit_standin/): a model of GSKit for the test
 * suite, never shipped. Only a real IBM i shows what GSKit decides.
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <gskssl.h>
#if !defined(__ILEC400__)
#include <sys/select.h>
#endif

#if defined(__ILEC400__)
#pragma convert(819)
#define JOB_BLANK 0x40          /* blank in every EBCDIC CCSID (parameters) */
#define IMPLEMENTATION "IBM i System TLS (GSKit)"
#else
#define JOB_BLANK 0x20
#ifdef GSKPROBE_STANDIN
#define IMPLEMENTATION GSKPROBE_STANDIN
#else
#define IMPLEMENTATION "unknown gsk_* implementation"
#endif
#endif

/* Attribute and code values used by number where a release's header may
   lack the name (values: QSYSINC/H(GSKSSL); curl lib/vtls/gskit.c). */
#define PRB_SNI_REQUEST          ((GSK_BUF_ID)230)   /* SERVERNAME_REQUEST */
#define PRB_CIPHER_SPEC_EX       ((GSK_BUF_ID)244)   /* CONNECT_CIPHER_SPEC_EX */
#define PRB_VALIDATION_CODE      ((GSK_NUM_ID)6996)  /* CERTIFICATE_VALID. */
#define PRB_APPLICATION_ID       ((GSK_BUF_ID)6999)  /* OS400/IBMI_APPL._ID */
#define RC_ATTRIBUTE_INVALID_ID  701
/* IBM i's own codes: GSK_OS400_* in V5R4's header, GSK_IBMI_* in 7.x's */
#define RC_NOT_TRUSTED_ROOT      6000
#define RC_NO_CERT_AUTHORITIES   6005
#define RC_TIMED_OUT             6011
#define RC_CERTIFICATE_REVOKED   6017

#if defined(__ILEC400__)
typedef int sock_length;        /* BSD 4.3 prototypes unless _XOPEN_SOURCE 520 */
#else
typedef socklen_t sock_length;
#endif

#define MAX_LINE        1024
#define MAX_PROBES      256
#define MAX_REQUEST     (MAX_LINE * (MAX_PROBES + 16))
#define MAX_PATH        1024
#define NET_BUFFER      4096
#define MAX_REPLY_LINES 1000
#define MAX_SHOWN       120
#define MAX_CERTS       16
#define MAX_CERT_BYTES  65536
#define OUT_LIMIT       (2 * 1024 * 1024)

/* ---- the request -------------------------------------------------- */
typedef struct {
    char id[33];
    char address[64];
    int port;
    char dialogue[8];
    char sni[256];
    char store[256];
    char stash[MAX_PATH];
    int timeout;
    int diagnose;
    char ehlo[256];
} request_t;

/* ---- output buffer: bounded, never overflows ---------------------- */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    int full;
} out_t;

static void out_bytes(out_t *o, const char *s, size_t n)
{
    if (o->full)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        char *grown;
        while (cap < o->len + n + 1)
            cap *= 2;
        if (cap > OUT_LIMIT) {
            o->full = 1;
            return;
        }
        grown = (char *)realloc(o->data, cap);
        if (grown == NULL) {
            o->full = 1;
            return;
        }
        o->data = grown;
        o->cap = cap;
    }
    memcpy(o->data + o->len, s, n);
    o->len += n;
    o->data[o->len] = 0;
}

static void out_s(out_t *o, const char *s) { out_bytes(o, s, strlen(s)); }

static void out_int(out_t *o, long v)
{
    char digits[24];
    int i = 0;
    unsigned long u = v < 0 ? (unsigned long)(-(v + 1)) + 1 : (unsigned long)v;
    do {
        digits[i++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u && i < 22);
    if (v < 0)
        out_s(o, "-");
    while (i)
        out_bytes(o, &digits[--i], 1);
}

/* A JSON string of ASCII text: anything outside printable ASCII -> '?'. */
static void out_str(out_t *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;
    out_s(o, "\"");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char pair[2];
            pair[0] = '\\';
            pair[1] = (char)c;
            out_bytes(o, pair, 2);
        } else if (c < 0x20) {
            char esc[6];
            esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            out_bytes(o, esc, 6);
        } else if (c > 0x7e) {
            out_s(o, "?");
        } else {
            out_bytes(o, (const char *)&c, 1);
        }
    }
    out_s(o, "\"");
}

static void out_cstr(out_t *o, const char *s) { out_str(o, s, strlen(s)); }

static void out_key(out_t *o, const char *key)
{
    out_s(o, ",\"");
    out_s(o, key);
    out_s(o, "\":");
}

static void out_base64(out_t *o, const unsigned char *p, size_t n)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    char q[4];
    out_s(o, "\"");
    for (i = 0; i + 2 < n; i += 3) {
        q[0] = b64[p[i] >> 2];
        q[1] = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        q[2] = b64[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
        q[3] = b64[p[i + 2] & 63];
        out_bytes(o, q, 4);
    }
    if (n - i == 1) {
        q[0] = b64[p[i] >> 2];
        q[1] = b64[(p[i] & 3) << 4];
        q[2] = '=';
        q[3] = '=';
        out_bytes(o, q, 4);
    } else if (n - i == 2) {
        q[0] = b64[p[i] >> 2];
        q[1] = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
        q[2] = b64[(p[i + 1] & 15) << 2];
        q[3] = '=';
        out_bytes(o, q, 4);
    }
    out_s(o, "\"");
}

/* ---- the job CCSID boundary ---------------------------------------- */
/* The invariant character set (CS 640) has the same code points in every
   single-byte EBCDIC CCSID; nothing else crosses to GSKit or sockets. */
static const char INVARIANT[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    " .-_*/:+<=>%&\"'(),;?";
#if defined(__ILEC400__)
static const unsigned char EBCDIC[] = {
    0xC1,0xC2,0xC3,0xC4,0xC5,0xC6,0xC7,0xC8,0xC9,0xD1,0xD2,0xD3,0xD4,
    0xD5,0xD6,0xD7,0xD8,0xD9,0xE2,0xE3,0xE4,0xE5,0xE6,0xE7,0xE8,0xE9,
    0x81,0x82,0x83,0x84,0x85,0x86,0x87,0x88,0x89,0x91,0x92,0x93,0x94,
    0x95,0x96,0x97,0x98,0x99,0xA2,0xA3,0xA4,0xA5,0xA6,0xA7,0xA8,0xA9,
    0xF0,0xF1,0xF2,0xF3,0xF4,0xF5,0xF6,0xF7,0xF8,0xF9,
    0x40,0x4B,0x60,0x6D,0x5C,0x61,0x7A,0x4E,0x4C,0x7E,0x6E,0x6C,0x50,
    0x7F,0x7D,0x4D,0x5D,0x6B,0x5E,0x6F};
#endif

/* ASCII -> job CCSID; 0 when a character is outside the invariant set. */
static int to_job(const char *ascii, char *job, size_t size)
{
    size_t i, n = strlen(ascii);
    if (n + 1 > size)
        return 0;
    for (i = 0; i < n; i++) {
        const char *at = ascii[i] ? strchr(INVARIANT, ascii[i]) : NULL;
        if (at == NULL)
            return 0;
#if defined(__ILEC400__)
        job[i] = (char)EBCDIC[at - INVARIANT];
#else
        job[i] = *at;
#endif
    }
    job[n] = 0;
    return 1;
}

/* job CCSID -> ASCII (n bytes, or up to NUL when n < 0); others -> '?'. */
static void from_job(const char *job, int n, char *ascii, size_t size)
{
    size_t i = 0;
    if (size == 0)
        return;
    while (job != NULL && (n < 0 ? job[i] != 0 : (int)i < n) && i + 1 < size) {
#if defined(__ILEC400__)
        const unsigned char *at = (const unsigned char *)memchr(
            EBCDIC, (unsigned char)job[i], sizeof(EBCDIC));
        ascii[i] = at ? INVARIANT[at - EBCDIC] : '?';
#else
        unsigned char c = (unsigned char)job[i];
        ascii[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
#endif
        i++;
    }
    ascii[i] = 0;
}

static void gsk_name(int rc, char *text, size_t size)
{
    from_job(gsk_strerror(rc), -1, text, size);
}

/* ---- time ---------------------------------------------------------- */
static long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long)tv.tv_sec * 1000L + (long)(tv.tv_usec / 1000);
}

/* 1 readable/writable, 0 time out, -1 error */
static int wait_fd(int fd, int for_write, long deadline)
{
    for (;;) {
        fd_set set;
        struct timeval tv;
        long left = deadline - now_ms();
        int rc;
        if (left <= 0)
            return 0;
        FD_ZERO(&set);
        FD_SET(fd, &set);
        tv.tv_sec = left / 1000;
        tv.tv_usec = (left % 1000) * 1000;
        rc = select(fd + 1, for_write ? NULL : &set, for_write ? &set : NULL,
                    NULL, &tv);
        if (rc > 0)
            return 1;
        if (rc == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* ---- one probe's outcome ------------------------------------------- */
typedef struct {
    const char *stage;     /* connect, dialogue, environment, session, handshake */
    const char *result;    /* ok, gsk-error, timeout, refused, ... */
    int gsk_rc;            /* -1: GSKit not reached */
    int err;               /* errno, 0 none */
    char detail[512];
    int sni_sent;
    char sec_type[64];
    char cipher[128];
    unsigned char *certs[MAX_CERTS];
    int cert_len[MAX_CERTS];
    int ncerts;
    int certs_dropped;
} outcome_t;

static void set_detail(outcome_t *r, const char *a, const char *b)
{
    size_t n;
    r->detail[0] = 0;
    strncat(r->detail, a, sizeof(r->detail) - 1);
    n = strlen(r->detail);
    if (b != NULL && n < sizeof(r->detail) - 1)
        strncat(r->detail, b, sizeof(r->detail) - 1 - n);
}

static void fail(outcome_t *r, const char *stage, const char *result,
                 const char *a, const char *b)
{
    r->stage = stage;
    r->result = result;
    set_detail(r, a, b);
}

static void free_certs(outcome_t *r)
{
    int i;
    for (i = 0; i < r->ncerts; i++)
        free(r->certs[i]);
    r->ncerts = 0;
}

static const char *errno_name(int e)
{
    switch (e) {
    case ECONNREFUSED: return "connection refused";
    case ETIMEDOUT: return "timed out";
    case ECONNRESET: return "connection reset";
    case EHOSTUNREACH: return "host unreachable";
    case ENETUNREACH: return "network unreachable";
    case EADDRNOTAVAIL: return "address not available";
    case EPIPE: return "broken pipe";
    default: return "socket error";
    }
}

/* ---- connect ------------------------------------------------------- */
static int connect_to(const request_t *q, outcome_t *r, long deadline)
{
    char job_address[64];
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    struct sockaddr *sa;
    sock_length salen;
    int family, fd, flags, rc, soerr = 0;
    sock_length olen = sizeof(soerr);

    memset(&v4, 0, sizeof(v4));
    memset(&v6, 0, sizeof(v6));
    if (!to_job(q->address, job_address, sizeof(job_address))) {
        fail(r, "connect", "bad-request", "address has characters outside the invariant set", NULL);
        return -1;
    }
    if (strchr(q->address, ':') != NULL) {
        family = AF_INET6;
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons((unsigned short)q->port);
        rc = inet_pton(AF_INET6, job_address, &v6.sin6_addr);
        sa = (struct sockaddr *)&v6;
        salen = sizeof(v6);
    } else {
        family = AF_INET;
        v4.sin_family = AF_INET;
        v4.sin_port = htons((unsigned short)q->port);
        rc = inet_pton(AF_INET, job_address, &v4.sin_addr);
        sa = (struct sockaddr *)&v4;
        salen = sizeof(v4);
    }
    if (rc != 1) {
        fail(r, "connect", "bad-request", "not an IP address: ", q->address);
        return -1;
    }
    fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) {
        r->err = errno;
        fail(r, "connect", "error", "socket(): ", errno_name(errno));
        return -1;
    }
    flags = fcntl(fd, F_GETFL, 0);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    rc = connect(fd, sa, salen);
    if (rc < 0 && errno != EINPROGRESS && errno != EWOULDBLOCK) {
        r->err = errno;
        fail(r, "connect", errno == ECONNREFUSED ? "refused" : "unreachable",
             errno_name(errno), NULL);
        close(fd);
        return -1;
    }
    if (rc < 0) {
        rc = wait_fd(fd, 1, deadline);
        if (rc == 0) {
            fail(r, "connect", "timeout", "no connection within the time limit", NULL);
            close(fd);
            return -1;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, (char *)&soerr, &olen) < 0)
            soerr = errno;
        if (rc < 0 || soerr != 0) {
            r->err = soerr ? soerr : errno;
            fail(r, "connect", r->err == ECONNREFUSED ? "refused" : "unreachable",
                 errno_name(r->err), NULL);
            close(fd);
            return -1;
        }
    }
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);   /* GSKit gets a blocking socket */
    return fd;
}

/* ---- the plaintext dialogue ---------------------------------------- */
typedef struct {
    int fd;
    char buf[NET_BUFFER];
    int len;
    long deadline;          /* of the whole dialogue */
    long step;              /* ms one read or write may wait */
} wire_t;

static long step_deadline(const wire_t *w)
{
    long step = now_ms() + w->step;
    return step < w->deadline ? step : w->deadline;
}

/* One line (without CR LF) into `line` (truncated to `size`-1). Returns
   the length, or -1 time out, -2 closed, -3 longer than the buffer,
   -4 socket error. */
static int read_line(wire_t *w, char *line, int size)
{
    for (;;) {
        char *nl = (char *)memchr(w->buf, '\n', (size_t)w->len);
        int got, rc;
        if (nl != NULL) {
            int n = (int)(nl - w->buf);
            int keep = n > 0 && w->buf[n - 1] == '\r' ? n - 1 : n;
            int copy = keep < size - 1 ? keep : size - 1;
            memcpy(line, w->buf, (size_t)copy);
            line[copy] = 0;
            memmove(w->buf, nl + 1, (size_t)(w->len - n - 1));
            w->len -= n + 1;
            return copy;
        }
        if (w->len >= (int)sizeof(w->buf))
            return -3;
        rc = wait_fd(w->fd, 0, step_deadline(w));
        if (rc == 0)
            return -1;
        if (rc < 0)
            return -4;
        got = (int)recv(w->fd, w->buf + w->len, sizeof(w->buf) - (size_t)w->len, 0);
        if (got == 0)
            return -2;
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -4;
        }
        w->len += got;
    }
}

static int send_all(wire_t *w, const char *s)
{
    size_t n = strlen(s), done = 0;
    while (done < n) {
        int rc = wait_fd(w->fd, 1, step_deadline(w));
        int sent;
        if (rc <= 0)
            return -1;
        sent = (int)send(w->fd, (char *)(s + done), n - done, 0);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)sent;
    }
    return 0;
}

static void read_failed(outcome_t *r, int rc, const char *doing)
{
    if (rc == -1)
        fail(r, "dialogue", "timeout", "the server did not answer ", doing);
    else if (rc == -2)
        fail(r, "dialogue", "closed", "the server closed the connection ", doing);
    else if (rc == -3)
        fail(r, "dialogue", "protocol-error", "a line longer than 4096 bytes ", doing);
    else
        fail(r, "dialogue", "error", "socket error ", doing);
}

static void shown(char *dst, const char *src)
{
    size_t n = strlen(src);
    dst[0] = 0;
    strncat(dst, src, n < MAX_SHOWN ? n : MAX_SHOWN);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int upper_eq(const char *a, const char *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z')
            x = (char)(x - 32);
        if (y >= 'a' && y <= 'z')
            y = (char)(y - 32);
        if (x != y)
            return 0;
    }
    return 1;
}

/* One SMTP reply; *code its 3 digits; *starttls set when a line offers it.
   0 ok, -1 failed (r filled). */
static int smtp_reply(wire_t *w, outcome_t *r, const char *doing, int *code,
                      int *starttls, char *first, size_t first_size)
{
    char line[MAX_LINE];
    int lines, n, c = -1;
    for (lines = 0; lines < MAX_REPLY_LINES; lines++) {
        n = read_line(w, line, sizeof(line));
        if (n < 0) {
            read_failed(r, n, doing);
            return -1;
        }
        if (n < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])
            || (n > 3 && line[3] != ' ' && line[3] != '-')) {
            char text[MAX_SHOWN + 1];
            shown(text, line);
            fail(r, "dialogue", "bad-greeting", "not an SMTP reply: ", text);
            return -1;
        }
        if (c < 0) {
            c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            if (first != NULL) {
                first[0] = 0;
                strncat(first, line, first_size - 1 < MAX_SHOWN ? first_size - 1 : MAX_SHOWN);
            }
        }
        if (starttls != NULL && n >= 12 && upper_eq(line + 4, "STARTTLS", 8)
            && (n == 12 || line[12] == ' '))
            *starttls = 1;
        if (n == 3 || line[3] == ' ') {
            *code = c;
            return 0;
        }
    }
    fail(r, "dialogue", "protocol-error", "an SMTP reply of more than 1000 lines ", doing);
    return -1;
}

static int dialogue_smtp(wire_t *w, const request_t *q, outcome_t *r)
{
    char first[MAX_SHOWN + 1], command[300];
    int code = 0, starttls = 0;
    if (smtp_reply(w, r, "in its greeting", &code, NULL, first, sizeof(first)))
        return -1;
    if (code != 220) {
        fail(r, "dialogue", "bad-greeting", "greeting: ", first);
        return -1;
    }
    strcpy(command, "EHLO ");
    strcat(command, strcmp(q->ehlo, "-") ? q->ehlo : "localhost");
    strcat(command, "\r\n");
    if (send_all(w, command)) {
        fail(r, "dialogue", "error", "could not send EHLO", NULL);
        return -1;
    }
    if (smtp_reply(w, r, "after EHLO", &code, &starttls, first, sizeof(first)))
        return -1;
    if (code != 250) {
        fail(r, "dialogue", "no-starttls", "EHLO refused: ", first);
        return -1;
    }
    if (!starttls) {
        fail(r, "dialogue", "no-starttls", "the server does not offer STARTTLS", NULL);
        return -1;
    }
    if (send_all(w, "STARTTLS\r\n")) {
        fail(r, "dialogue", "error", "could not send STARTTLS", NULL);
        return -1;
    }
    if (smtp_reply(w, r, "after STARTTLS", &code, NULL, first, sizeof(first)))
        return -1;
    if (code != 220) {
        fail(r, "dialogue", "starttls-refused", "STARTTLS refused: ", first);
        return -1;
    }
    return 0;
}

static int dialogue_imap(wire_t *w, outcome_t *r)
{
    char line[MAX_LINE], text[MAX_SHOWN + 1];
    int n, lines;
    n = read_line(w, line, sizeof(line));
    if (n < 0) {
        read_failed(r, n, "in its greeting");
        return -1;
    }
    shown(text, line);
    if (n < 4 || !upper_eq(line, "* OK", 4)) {
        fail(r, "dialogue", n >= 9 && upper_eq(line, "* PREAUTH", 9) ? "no-starttls" : "bad-greeting",
             "greeting: ", text);
        return -1;
    }
    if (send_all(w, "A1 STARTTLS\r\n")) {
        fail(r, "dialogue", "error", "could not send STARTTLS", NULL);
        return -1;
    }
    for (lines = 0; lines < MAX_REPLY_LINES; lines++) {
        n = read_line(w, line, sizeof(line));
        if (n < 0) {
            read_failed(r, n, "after STARTTLS");
            return -1;
        }
        if (n >= 3 && memcmp(line, "A1 ", 3) == 0) {
            if (n >= 5 && upper_eq(line + 3, "OK", 2))
                return 0;
            shown(text, line);
            fail(r, "dialogue", "starttls-refused", "STARTTLS refused: ", text);
            return -1;
        }
    }
    fail(r, "dialogue", "protocol-error", "no answer to STARTTLS in 1000 lines", NULL);
    return -1;
}

/* One POP3 line that must start with +OK; else `result` with the line. */
static int pop3_ok(wire_t *w, outcome_t *r, const char *doing, const char *result, const char *what)
{
    char line[MAX_LINE], text[MAX_SHOWN + 1];
    int n = read_line(w, line, sizeof(line));
    if (n < 0) {
        read_failed(r, n, doing);
        return -1;
    }
    if (n < 3 || memcmp(line, "+OK", 3) != 0) {
        shown(text, line);
        fail(r, "dialogue", result, what, text);
        return -1;
    }
    return 0;
}

static int dialogue_pop3(wire_t *w, outcome_t *r)
{
    if (pop3_ok(w, r, "in its greeting", "bad-greeting", "greeting: "))
        return -1;
    if (send_all(w, "STLS\r\n")) {
        fail(r, "dialogue", "error", "could not send STLS", NULL);
        return -1;
    }
    return pop3_ok(w, r, "after STLS", "starttls-refused", "STLS refused: ");
}

static int dialogue(int fd, const request_t *q, outcome_t *r, long deadline)
{
    wire_t *w;
    int rc;
    if (strcmp(q->dialogue, "none") == 0)
        return 0;
    w = (wire_t *)malloc(sizeof(wire_t));
    if (w == NULL) {
        fail(r, "dialogue", "error", "out of storage", NULL);
        return -1;
    }
    w->fd = fd;
    w->len = 0;
    w->deadline = deadline;
    w->step = 1000L * q->timeout;
    if (strcmp(q->dialogue, "smtp") == 0)
        rc = dialogue_smtp(w, q, r);
    else if (strcmp(q->dialogue, "imap") == 0)
        rc = dialogue_imap(w, r);
    else
        rc = dialogue_pop3(w, r);
    if (rc == 0 && w->len > 0) {
        /* bytes after the go-ahead would be read by GSKit as TLS: refuse */
        fail(r, "dialogue", "protocol-error", "the server sent data after the go-ahead", NULL);
        rc = -1;
    }
    free(w);
    return rc;
}

/* ---- GSKit ---------------------------------------------------------- */
static int gsk_failed(outcome_t *r, const char *stage, const char *call, int rc)
{
    char text[200];
    r->stage = stage;
    r->result = "gsk-error";
    r->gsk_rc = rc;
    if (rc == GSK_ERROR_IO)
        r->err = errno;
    gsk_name(rc, text, sizeof(text));
    set_detail(r, call, ": ");
    strncat(r->detail, text, sizeof(r->detail) - strlen(r->detail) - 1);
    return -1;
}

static int not_invariant(outcome_t *r, const char *what)
{
    fail(r, "environment", "bad-request", what, " has characters outside the invariant set");
    return -1;
}

static int open_environment(const request_t *q, int passthru, gsk_handle *env,
                            outcome_t *r)
{
    char job[MAX_PATH];
    int rc = gsk_environment_open(env);
    if (rc != GSK_OK)
        return gsk_failed(r, "environment", "gsk_environment_open", rc);
    if (strncmp(q->store, "app:", 4) == 0) {
        if (!to_job(q->store + 4, job, sizeof(job)))
            return not_invariant(r, "application ID");
        rc = gsk_attribute_set_buffer(*env, PRB_APPLICATION_ID, job, 0);
        if (rc != GSK_OK)
            return gsk_failed(r, "environment", "GSK_OS400_APPLICATION_ID", rc);
    } else {
        if (!to_job(q->store, job, sizeof(job)))
            return not_invariant(r, "store name");
        rc = gsk_attribute_set_buffer(*env, GSK_KEYRING_FILE, job, 0);
        if (rc != GSK_OK)
            return gsk_failed(r, "environment", "GSK_KEYRING_FILE", rc);
        if (strcmp(q->stash, "-") != 0) {
            if (!to_job(q->stash, job, sizeof(job)))
                return not_invariant(r, "stash file name");
            rc = gsk_attribute_set_buffer(*env, GSK_KEYRING_STASH_FILE, job, 0);
            if (rc != GSK_OK)
                return gsk_failed(r, "environment", "GSK_KEYRING_STASH_FILE", rc);
        }
    }
    rc = gsk_attribute_set_enum(*env, GSK_SESSION_TYPE, GSK_CLIENT_SESSION);
    if (rc != GSK_OK)
        return gsk_failed(r, "environment", "GSK_SESSION_TYPE", rc);
    rc = gsk_attribute_set_enum(*env, GSK_SERVER_AUTH_TYPE,
                                passthru ? GSK_SERVER_AUTH_PASSTHRU : GSK_SERVER_AUTH_FULL);
    if (rc != GSK_OK)
        return gsk_failed(r, "environment", "GSK_SERVER_AUTH_TYPE", rc);
    rc = gsk_environment_init(*env);
    if (rc != GSK_OK)
        return gsk_failed(r, "environment", "gsk_environment_init", rc);
    return 0;
}

static void partner_certificates(gsk_handle session, outcome_t *r)
{
    const gsk_cert_data_elem *elements = NULL;
    int count = 0, i;
    if (gsk_attribute_get_cert_info(session, GSK_PARTNER_CERT_INFO, &elements, &count) != GSK_OK
        || elements == NULL)
        return;
    for (i = 0; i < count && i < 10000; i++) {
        const gsk_cert_data_elem *e = &elements[i];
        if (e->cert_data_id != CERT_BODY_DER)
            continue;
        if (e->cert_data_l <= 0 || e->cert_data_l > MAX_CERT_BYTES || e->cert_data_p == NULL
            || r->ncerts >= MAX_CERTS) {
            r->certs_dropped++;
            continue;
        }
        r->certs[r->ncerts] = (unsigned char *)malloc((size_t)e->cert_data_l);
        if (r->certs[r->ncerts] == NULL) {
            r->certs_dropped++;
            continue;
        }
        memcpy(r->certs[r->ncerts], e->cert_data_p, (size_t)e->cert_data_l);
        r->cert_len[r->ncerts] = e->cert_data_l;
        r->ncerts++;
    }
}

static void session_text(gsk_handle session, GSK_BUF_ID id, char *text, size_t size)
{
    const char *buffer = NULL;
    int length = 0;
    text[0] = 0;
    if (gsk_attribute_get_buffer(session, id, &buffer, &length) == GSK_OK && buffer != NULL
        && length >= 0 && length < 4096)
        from_job(buffer, length, text, size);
}

/* One handshake: connect, dialogue, GSKit. validation >= 0 (PASSTHRU) gets
   GSK_CERTIFICATE_VALIDATION_CODE. */
static void handshake(const request_t *q, int passthru, outcome_t *r, int *validation)
{
    gsk_handle env = NULL, session = NULL;
    long deadline = now_ms() + 3L * 1000L * q->timeout;
    int fd = -1, rc;

    r->gsk_rc = -1;
    r->stage = "environment";
    r->result = "error";
    if (open_environment(q, passthru, &env, r))
        goto done;
    fd = connect_to(q, r, now_ms() + 1000L * q->timeout);
    if (fd < 0)
        goto done;
    if (dialogue(fd, q, r, deadline))
        goto done;
    rc = gsk_secure_soc_open(env, &session);
    if (rc != GSK_OK) {
        gsk_failed(r, "session", "gsk_secure_soc_open", rc);
        goto done;
    }
    rc = gsk_attribute_set_numeric_value(session, GSK_FD, fd);
    if (rc != GSK_OK) {
        gsk_failed(r, "session", "GSK_FD", rc);
        goto done;
    }
    rc = gsk_attribute_set_numeric_value(session, GSK_HANDSHAKE_TIMEOUT, q->timeout);
    if (rc != GSK_OK) {
        gsk_failed(r, "session", "GSK_HANDSHAKE_TIMEOUT", rc);
        goto done;
    }
    if (strcmp(q->sni, "-") != 0) {
        char job[256];
        if (!to_job(q->sni, job, sizeof(job))) {
            fail(r, "session", "bad-request", "SNI name outside the invariant set", NULL);
            goto done;
        }
        rc = gsk_attribute_set_buffer(session, PRB_SNI_REQUEST, job, 0);
        if (rc == GSK_OK)
            r->sni_sent = 1;
        else if (rc != RC_ATTRIBUTE_INVALID_ID) {
            gsk_failed(r, "session", "GSK_SSL_EXTN_SERVERNAME_REQUEST", rc);
            goto done;
        }
    }
    rc = gsk_secure_soc_init(session);
    r->gsk_rc = rc;
    if (rc != GSK_OK) {
        gsk_failed(r, "handshake", "gsk_secure_soc_init", rc);
        if (rc == RC_TIMED_OUT)
            r->result = "timeout";
        goto done;
    }
    r->stage = "handshake";
    r->result = "ok";
    r->detail[0] = 0;
    session_text(session, GSK_CONNECT_SEC_TYPE, r->sec_type, sizeof(r->sec_type));
    session_text(session, PRB_CIPHER_SPEC_EX, r->cipher, sizeof(r->cipher));
    if (r->cipher[0] == 0)
        session_text(session, GSK_CONNECT_CIPHER_SPEC, r->cipher, sizeof(r->cipher));
    partner_certificates(session, r);
    if (validation != NULL) {
        int code = -1;
        if (gsk_attribute_get_numeric_value(session, PRB_VALIDATION_CODE, &code) == GSK_OK)
            *validation = code;
    }
done:
    if (session != NULL)
        gsk_secure_soc_close(&session);
    if (env != NULL)
        gsk_environment_close(&env);
    if (fd >= 0)
        close(fd);
}

/* Codes after which a PASSTHRU diagnostic is worth making: the chain or a
   certificate was refused (not the network, not the environment). */
static int trust_failure(int rc)
{
    switch (rc) {
    case GSK_ERROR_CERT_VALIDATION:
    case GSK_KEYFILE_CERT_EXPIRED:
    case GSK_ERROR_BAD_DATE:
    case GSK_ERROR_BAD_CERTIFICATE:
    case GSK_ERROR_UNSUPPORTED_CERTIFICATE_TYPE:
    case GSK_ERROR_BAD_CERT_SIG:
    case GSK_ERROR_BAD_CERT:
    case GSK_ERROR_SELF_SIGNED:
    case RC_NOT_TRUSTED_ROOT:
    case RC_NO_CERT_AUTHORITIES:
    case RC_CERTIFICATE_REVOKED:
        return 1;
    default:
        return 0;
    }
}

static void out_certs(out_t *o, const outcome_t *r)
{
    int i;
    out_s(o, "[");
    for (i = 0; i < r->ncerts; i++) {
        if (i)
            out_s(o, ",");
        out_base64(o, r->certs[i], (size_t)r->cert_len[i]);
    }
    out_s(o, "]");
}

static void out_outcome(out_t *o, const outcome_t *r)
{
    char text[200];
    out_key(o, "stage");
    out_cstr(o, r->stage);
    out_key(o, "result");
    out_cstr(o, r->result);
    out_key(o, "gsk_rc");
    if (r->gsk_rc < 0) {
        out_s(o, "null");
    } else {
        out_int(o, r->gsk_rc);
        out_key(o, "gsk_strerror");
        gsk_name(r->gsk_rc, text, sizeof(text));
        out_cstr(o, text);
    }
    out_key(o, "errno");
    out_int(o, r->err);
    out_key(o, "detail");
    out_cstr(o, r->detail);
    out_key(o, "sni_sent");
    out_s(o, r->sni_sent ? "true" : "false");
    out_key(o, "protocol");
    out_cstr(o, r->sec_type);
    out_key(o, "cipher");
    out_cstr(o, r->cipher);
    out_key(o, "partner_certificates");
    out_certs(o, r);
    out_key(o, "certificates_dropped");
    out_int(o, r->certs_dropped);
}

static void run_probe(const request_t *q, out_t *o)
{
    outcome_t *r = (outcome_t *)calloc(1, sizeof(outcome_t));
    long started = now_ms();
    out_s(o, "{\"kind\":\"probe\",\"id\":");
    out_cstr(o, q->id);
    if (r == NULL) {
        out_s(o, ",\"stage\":\"request\",\"result\":\"error\",\"detail\":\"out of storage\"}\n");
        return;
    }
    out_key(o, "address");
    out_cstr(o, q->address);
    out_key(o, "port");
    out_int(o, q->port);
    out_key(o, "dialogue");
    out_cstr(o, q->dialogue);
    out_key(o, "sni");
    if (strcmp(q->sni, "-") == 0)
        out_s(o, "null");
    else
        out_cstr(o, q->sni);
    out_key(o, "store");
    out_cstr(o, q->store);
    out_key(o, "server_auth");
    out_cstr(o, "GSK_SERVER_AUTH_FULL");
    handshake(q, 0, r, NULL);
    out_key(o, "ok");
    out_s(o, r->gsk_rc == GSK_OK && strcmp(r->result, "ok") == 0 ? "true" : "false");
    out_outcome(o, r);
    if (q->diagnose && trust_failure(r->gsk_rc)) {
        outcome_t *d = (outcome_t *)calloc(1, sizeof(outcome_t));
        int validation = -1;
        if (d != NULL) {
            handshake(q, 1, d, &validation);
            out_s(o, ",\"diagnostic\":{\"label\":");
            out_cstr(o, "PASSTHRU diagnostic handshake: reads the validation code and the "
                        "chain only; never the verdict");
            out_key(o, "server_auth");
            out_cstr(o, "GSK_SERVER_AUTH_PASSTHRU");
            out_key(o, "validation_code");
            if (validation < 0) {
                out_s(o, "null");
            } else {
                char text[200];
                out_int(o, validation);
                out_key(o, "validation_strerror");
                gsk_name(validation, text, sizeof(text));
                out_cstr(o, text);
            }
            out_outcome(o, d);
            out_s(o, "}");
            free_certs(d);
            free(d);
        }
    }
    out_key(o, "elapsed_ms");
    out_int(o, now_ms() - started);
    out_s(o, "}\n");
    free_certs(r);
    free(r);
}

/* ---- parsing the request --------------------------------------------- */
static int only(const char *s, const char *allowed, size_t min, size_t max)
{
    size_t n = strlen(s), i;
    if (n < min || n > max)
        return 0;
    for (i = 0; i < n; i++)
        if (strchr(allowed, s[i]) == NULL || s[i] == 0)
            return 0;
    return 1;
}

static int number(const char *s, int low, int high, int *value)
{
    long v = 0;
    size_t i, n = strlen(s);
    if (n == 0 || n > 6)
        return 0;
    for (i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    if (v < low || v > high)
        return 0;
    *value = (int)v;
    return 1;
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

static void copy_field(char *dst, size_t size, const char *src)
{
    dst[0] = 0;
    strncat(dst, src, size - 1);
}

/* Fills q from one line; returns NULL, or why the line is refused. */
static const char *parse_line(char *line, request_t *q)
{
    char *field[11];
    int n = 0;
    char *p = line;
    while (*p && n < 11) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        field[n++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = 0;
    }
    if (n != 10)
        return "a probe line has 10 fields";
    memset(q, 0, sizeof(*q));
    if (!only(field[0], ALNUM "_-", 1, 32))
        return "bad ID";
    copy_field(q->id, sizeof(q->id), field[0]);
    if (!only(field[1], "0123456789abcdefABCDEF.:", 2, 45))
        return "bad address";
    copy_field(q->address, sizeof(q->address), field[1]);
    if (!number(field[2], 1, 65535, &q->port))
        return "bad port";
    if (strcmp(field[3], "smtp") && strcmp(field[3], "imap") && strcmp(field[3], "pop3")
        && strcmp(field[3], "none"))
        return "bad dialogue";
    copy_field(q->dialogue, sizeof(q->dialogue), field[3]);
    if (strcmp(field[4], "-") && !only(field[4], ALNUM ".-", 1, 253))
        return "bad SNI name";
    copy_field(q->sni, sizeof(q->sni), field[4]);
    if (strcmp(field[5], "*SYSTEM") != 0
        && !(strncmp(field[5], "app:", 4) == 0 && only(field[5] + 4, ALNUM "_.", 1, 100))
        && !(field[5][0] == '/' && only(field[5], ALNUM "_./-", 2, 250)))
        return "bad store (*SYSTEM, app:ID or /path)";
    copy_field(q->store, sizeof(q->store), field[5]);
    if (strcmp(field[6], "-") && !(field[6][0] == '/' && only(field[6], ALNUM "_./-", 2, 250)))
        return "bad stash file";
    copy_field(q->stash, sizeof(q->stash), field[6]);
    if (!number(field[7], 1, 300, &q->timeout))
        return "bad timeout (1-300 seconds)";
    if (strcmp(field[8], "0") && strcmp(field[8], "1"))
        return "bad diagnose flag (0 or 1)";
    q->diagnose = field[8][0] == '1';
    if (strcmp(field[9], "-") && !only(field[9], ALNUM ".-[]:", 1, 255))
        return "bad EHLO name";
    copy_field(q->ehlo, sizeof(q->ehlo), field[9]);
    return NULL;
}

/* ---- files ------------------------------------------------------------ */
/* A CALL parameter as a NUL-terminated path (job CCSID: IFS APIs take
   path names in the job's CCSID). */
static int parameter_path(const char *arg, char *path, size_t size)
{
    size_t n = 0;
    if (arg == NULL)
        return 0;
    while (n + 1 < size && arg[n] != 0 && (unsigned char)arg[n] != JOB_BLANK)
        n++;
    if (n == 0 || n + 1 >= size)
        return 0;
    memcpy(path, arg, n);
    path[n] = 0;
    return 1;
}

static int write_all(int fd, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += w;
        n -= (size_t)w;
    }
    return 0;
}

static int flush_out(int fd, out_t *o)
{
    int rc = 0;
    if (o->full) {
        o->len = 0;
        o->full = 0;
        out_s(o, "{\"kind\":\"error\",\"detail\":\"result line too long\"}\n");
    }
    if (o->len)
        rc = write_all(fd, o->data, o->len);
    o->len = 0;
    return rc;
}

static char *read_request(const char *path, size_t *length)
{
    int fd = open(path, O_RDONLY);
    char *data;
    size_t n = 0;
    if (fd < 0)
        return NULL;
    data = (char *)malloc(MAX_REQUEST + 1);
    if (data == NULL) {
        close(fd);
        return NULL;
    }
    for (;;) {
        ssize_t got = read(fd, data + n, MAX_REQUEST + 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
        if (n > MAX_REQUEST)
            break;
    }
    close(fd);
    data[n > MAX_REQUEST ? MAX_REQUEST : n] = 0;
    *length = n;
    return data;
}

int main(int argc, char *argv[])
{
    char request_path[MAX_PATH], result_path[MAX_PATH];
    char *request, *line, *next;
    size_t length = 0;
    out_t o;
    int fd, probes = 0, refused = 0;

    if (argc < 3 || !parameter_path(argv[1], request_path, sizeof(request_path))
        || !parameter_path(argv[2], result_path, sizeof(result_path)))
        return 2;
#if defined(__ILEC400__)
    /* O_CCSID: the new result file is tagged UTF-8; no conversion (no O_TEXTDATA) */
    fd = open(result_path, O_WRONLY | O_CREAT | O_EXCL | O_CCSID, S_IRUSR | S_IWUSR, 1208);
#else
    fd = open(result_path, O_WRONLY | O_CREAT | O_EXCL, S_IRUSR | S_IWUSR);
#endif
    if (fd < 0)
        return 3;
    memset(&o, 0, sizeof(o));
    out_s(&o, "{\"kind\":\"header\",\"program\":\"GSKPROBE\",\"format\":1,\"implementation\":");
    out_cstr(&o, IMPLEMENTATION);
    request = read_request(request_path, &length);
    if (request == NULL || length > MAX_REQUEST) {
        out_s(&o, ",\"error\":");
        out_cstr(&o, request == NULL ? "the request file cannot be read"
                                     : "the request file is larger than its limit");
        out_s(&o, "}\n{\"kind\":\"end\",\"probes\":0}\n");
        flush_out(fd, &o);
        close(fd);
        free(request);
        free(o.data);
        return 4;
    }
    out_s(&o, "}\n");
    flush_out(fd, &o);
    for (line = request; line != NULL && *line; line = next) {
        request_t q;
        const char *why;
        size_t n;
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = 0;
        n = strlen(line);
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = 0;
        if (n == 0 || line[0] == '#')
            continue;
        if (probes + refused >= MAX_PROBES) {
            out_s(&o, "{\"kind\":\"error\",\"detail\":\"more than 256 probes: the rest is ignored\"}\n");
            break;
        }
        if (n >= MAX_LINE) {
            refused++;
            out_s(&o, "{\"kind\":\"error\",\"detail\":\"a request line is longer than 1023 characters\"}\n");
            flush_out(fd, &o);
            continue;
        }
        why = parse_line(line, &q);
        if (why != NULL) {
            refused++;
            out_s(&o, "{\"kind\":\"error\",\"detail\":");
            out_cstr(&o, why);
            out_s(&o, "}\n");
        } else {
            probes++;
            run_probe(&q, &o);
        }
        if (flush_out(fd, &o))
            break;
    }
    out_s(&o, "{\"kind\":\"end\",\"probes\":");
    out_int(&o, probes);
    out_s(&o, ",\"refused\":");
    out_int(&o, refused);
    out_s(&o, "}\n");
    flush_out(fd, &o);
    close(fd);
    free(request);
    free(o.data);
    return 0;
}
