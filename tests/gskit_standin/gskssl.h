/*
 * A stand-in of IBM i's QSYSINC/H(GSKSSL) for the gsk_* calls GSKPROBE
 * (cl/gskprobe.c) makes, so the same C source compiles with gcc on Linux
 * and runs against the test suite's loopback servers. Names and values are
 * IBM's (V5R4 gskssl.h, https://github.com/friedkiwi/iheaders/blob/master/
 * v5r4/GSKSSL.H; 7.x additions from Scott Klement's GSKSSL_H); only what the
 * prober uses is declared. The functions (gskit_standin.c) are built on
 * OpenSSL: a MODEL of GSKit for tests, never shipped, never GSKit.
 */
#ifndef GSKIT_STANDIN_GSKSSL_H
#define GSKIT_STANDIN_GSKSSL_H

#define GSKPROBE_STANDIN "stand-in: a model of GSKit built on OpenSSL (tests/gskit_standin), not GSKit"

/* return codes */
#define GSK_OK                                     0
#define GSK_INVALID_HANDLE                         1
#define GSK_INTERNAL_ERROR                         3
#define GSK_INSUFFICIENT_STORAGE                   4
#define GSK_INVALID_STATE                          5
#define GSK_ERROR_CERT_VALIDATION                  8
#define GSK_KEYFILE_CERT_EXPIRED                 107
#define GSK_NO_KEYFILE_PASSWORD                  201
#define GSK_KEYRING_OPEN_ERROR                   202
#define GSK_ERROR_BAD_DATE                       401
#define GSK_ERROR_NO_CIPHERS                     402
#define GSK_ERROR_BAD_CERTIFICATE                404
#define GSK_ERROR_UNSUPPORTED_CERTIFICATE_TYPE   405
#define GSK_ERROR_IO                             406
#define GSK_ERROR_BAD_MESSAGE                    410
#define GSK_ERROR_BAD_CERT_SIG                   413
#define GSK_ERROR_BAD_CERT                       414
#define GSK_ERROR_BAD_PEER                       415
#define GSK_ERROR_SELF_SIGNED                    417
#define GSK_ERROR_SOCKET_CLOSED                  420
#define GSK_ATTRIBUTE_INVALID_ID                 701
#define GSK_ATTRIBUTE_INVALID_LENGTH             702
#define GSK_ATTRIBUTE_INVALID_ENUMERATION        703
#define GSK_OS400_ERROR_NOT_TRUSTED_ROOT        6000
#define GSK_OS400_ERROR_NOT_REGISTERED          6002
#define GSK_OS400_ERROR_NO_ACCESS               6003
#define GSK_OS400_ERROR_NO_CERTIFICATE_AUTHORITIES 6005
#define GSK_OS400_ERROR_TIMED_OUT               6011
#define GSK_OS400_ERROR_CERTIFICATE_REVOKED     6017

typedef void *gsk_handle;

typedef enum GSK_BUF_ID_T {
    GSK_KEYRING_FILE = 201,
    GSK_KEYRING_STASH_FILE = 204,
    GSK_CONNECT_CIPHER_SPEC = 207,
    GSK_CONNECT_SEC_TYPE = 208,
    GSK_SSL_EXTN_SERVERNAME_REQUEST = 230,
    GSK_CONNECT_CIPHER_SPEC_EX = 244,
    GSK_OS400_APPLICATION_ID = 6999,
    GSK_OS400_BUF_FINAL = 70000
} GSK_BUF_ID;

typedef enum GSK_NUM_ID_T {
    GSK_FD = 300,
    GSK_CERTIFICATE_VALIDATION_CODE = 6996,
    GSK_HANDSHAKE_TIMEOUT = 6998,
    GSK_OS400_NUM_FINAL = 70000
} GSK_NUM_ID;

typedef enum GSK_ENUM_ID_T {
    GSK_SESSION_TYPE = 402,
    GSK_SERVER_AUTH_TYPE = 410,
    GSK_OS400_ENUM_FINAL = 70000
} GSK_ENUM_ID;

typedef enum GSK_ENUM_VALUE_T {
    GSK_NULL = 500,
    GSK_CLIENT_SESSION = 507,
    GSK_SERVER_AUTH_FULL = 534,
    GSK_SERVER_AUTH_PASSTHRU = 535,
    GSK_OS400_ENUM_VALUE_FINAL = 70000
} GSK_ENUM_VALUE;

typedef enum GSK_CERT_DATA_ID_T {
    CERT_BODY_DER = 600,
    CERT_SERIAL_NUMBER = 602,
    CERT_DN_PRINTABLE = 616,
    CERT_ISSUER_DN_PRINTABLE = 656,
    GSK_OS400_CERT_DATA_FINAL = 70000
} GSK_CERT_DATA_ID;

typedef struct gsk_cert_data_elem_t {
    GSK_CERT_DATA_ID cert_data_id;
    char *cert_data_p;
    int cert_data_l;
} gsk_cert_data_elem;

typedef enum GSK_CERT_ID_T {
    GSK_PARTNER_CERT_INFO = 700,
    GSK_LOCAL_CERT_INFO = 701,
    GSK_OS400_CERT_FINAL = 70000
} GSK_CERT_ID;

int gsk_environment_open(gsk_handle *);
int gsk_environment_init(gsk_handle);
int gsk_environment_close(gsk_handle *);
int gsk_secure_soc_open(gsk_handle, gsk_handle *);
int gsk_secure_soc_init(gsk_handle);
int gsk_secure_soc_close(gsk_handle *);
int gsk_attribute_set_buffer(gsk_handle, GSK_BUF_ID, const char *, int);
int gsk_attribute_set_enum(gsk_handle, GSK_ENUM_ID, GSK_ENUM_VALUE);
int gsk_attribute_set_numeric_value(gsk_handle, GSK_NUM_ID, int);
int gsk_attribute_get_buffer(gsk_handle, GSK_BUF_ID, const char **, int *);
int gsk_attribute_get_numeric_value(gsk_handle, GSK_NUM_ID, int *);
int gsk_attribute_get_cert_info(gsk_handle, GSK_CERT_ID, const gsk_cert_data_elem **, int *);
const char *gsk_strerror(int);

#endif
