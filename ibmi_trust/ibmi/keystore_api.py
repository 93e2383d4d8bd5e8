"""QYKMIMPK and QYKMEXPK: import a PKCS#12 into a store, export a store.

Parameters (ref 4.2 from IBM's QYKMIMPK page; QYKMEXPK mirrors it, ref 5,
from DCM-tools' working code, UNCONFIRMED against IBM's QYKMEXPK page):
 1 store path  2 its length  3 'OBJN0100'  4 store password  5 its length
 6 its CCSID (1208)  7 file path  8 its length  9 'OBJN0100'
10 '*PKCS12V3'  11 file password  12 its length  13 its CCSID (1208)
14 error code (ERRC0100, appended by IbmiSession.call_program).
Passwords go as raw UTF-8 bytes with CCSID 1208, as DCM-tools sends them
(ref 4.3); paths in the job CCSID. Both programs are OPM programs in QSYS.

QYKMIMPK skips entries whose label or public key already exist, silently
(ref 4.1): callers must read the store again to confirm.

Reading the export: the file QYKMEXPK writes may use legacy PBES1
algorithms (40-bit RC2 for the certificate bag, as older PKCS#12 writers
do), which cryptography on OpenSSL 3 refuses without OpenSSL's legacy
provider ("Invalid password or PKCS12 data"). read_pkcs12 then hands the
file to the openssl binary (ibmi_trust.openssl_pkcs12, which retries with
`pkcs12 -legacy`); without one it says what is missing.

The PKCS#12 files live in a fresh directory with mode 0700 (the export
holds the store's private keys, encrypted with a random one-time password)
and are removed when done. The export file must not exist beforehand
(CPFB005, "export file already exists").
"""
import os
import secrets
import shutil
import tempfile
from typing import List, Optional, Sequence, Tuple

from ibmi_trust.certs import Cert, compat
from ibmi_trust.errors import StoreError
from ibmi_trust.ibmi import apiparm, openssl_pkcs12

PATH_FORMAT = "OBJN0100"
FILE_VERSION = "*PKCS12V3"
PASSWORD_CCSID = 1208


def import_file(session, store_path: str, store_password, source_path: str, source_password: bytes) -> None:
    session.call_program("QYKMIMPK", "QYKMIMPK",
                         _parameters(store_path, store_password, source_path, source_password), lib="QSYS")


def export_store(session, store_path: str, store_password) -> List[Tuple[Cert, Optional[str]]]:
    """Every certificate of the store with its label, via a temporary export."""
    one_time = secrets.token_urlsafe(24).encode("ascii")
    with private_directory() as workdir:
        target = os.path.join(workdir, "export.p12")
        session.call_program("QYKMEXPK", "QYKMEXPK",
                             _parameters(store_path, store_password, target, one_time), lib="QSYS")
        try:
            os.chmod(target, 0o600)   # the directory is 0700 already
        except OSError:
            pass
        with open(target, "rb") as handle:
            data = handle.read()
    return read_pkcs12(data, one_time)


def import_certificates(session, store_path: str, store_password, pkcs12_data: bytes, pkcs12_password: bytes) -> None:
    with private_directory() as workdir:
        source = os.path.join(workdir, "import.p12")
        fd = os.open(source, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pkcs12_data)
        import_file(session, store_path, store_password, source, pkcs12_password)


def read_pkcs12(data: bytes, password: bytes) -> List[Tuple[Cert, Optional[str]]]:
    """[(cert, friendly name)]; names need cryptography 36+, else the openssl binary,
    which also reads what cryptography cannot (legacy RC2-40 encryption)."""
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        loaded = compat.load_pkcs12_certs(data, bytes(password))
    except ValueError as exc:
        if not openssl_pkcs12.binary():
            raise StoreError("cannot read the store export: %s (legacy RC2-40 encryption needs OpenSSL's "
                             "legacy provider)" % (str(exc).splitlines() or ["not PKCS#12"])[0],
                             hint="install the openssl RPM (`yum install openssl`): `openssl pkcs12 -legacy` "
                                  "reads such files, or set IBMI_TRUST_OPENSSL") from None
        return openssl_pkcs12.read(data, password)
    items = [(Cert(cert.public_bytes(Encoding.DER)), name) for cert, name in loaded]
    if items and all(name is None for _cert, name in items) and openssl_pkcs12.binary():
        return openssl_pkcs12.read(data, password)
    return items


class private_directory:
    """A temporary directory only this user can enter; removed on exit."""

    def __enter__(self) -> str:
        self.path = tempfile.mkdtemp(prefix="ibmi-trust-")
        os.chmod(self.path, 0o700)
        return self.path

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _parameters(store_path: str, store_password, file_path: str, file_password: bytes) -> Sequence:
    store_pw = _password_bytes(store_password)
    return [
        apiparm.char("store_path", store_path),
        apiparm.int4("store_path_len", len(store_path)),
        apiparm.fixed_char("store_path_fmt", PATH_FORMAT, 8),
        apiparm.raw_bytes("store_pw", store_pw),
        apiparm.int4("store_pw_len", len(store_pw)),
        apiparm.int4("store_pw_ccsid", PASSWORD_CCSID),
        apiparm.char("file_path", file_path),
        apiparm.int4("file_path_len", len(file_path)),
        apiparm.fixed_char("file_path_fmt", PATH_FORMAT, 8),
        apiparm.fixed_char("file_version", FILE_VERSION, 10),
        apiparm.raw_bytes("file_pw", file_password),
        apiparm.int4("file_pw_len", len(file_password)),
        apiparm.int4("file_pw_ccsid", PASSWORD_CCSID),
    ]


def _password_bytes(password) -> bytes:
    """A StorePassword's bytes, or the special value *NOPWD (ref 4.4, UNCONFIRMED)."""
    if isinstance(password, str):
        return password.encode("utf-8")
    return bytes(password.utf8())
