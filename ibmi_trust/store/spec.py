"""`--store SPEC` -> a TrustStore.

    *SYSTEM                 IBM i system store (default on IBM i)
    /path/to/STORE.KDB      another IBM i certificate store (IFS path)
    capath:DIR              OpenSSL hashed directory (sendmail CACertPath, SSL_CERT_DIR)
    bundle:FILE             PEM bundle (an application's CAfile)

The IBM i backend is imported only when asked for (it needs pyodbc and
itoolkit, and refuses to run elsewhere); the file stores too, so reading
options (StoreOptions) imports no store code.
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from ibmi_trust.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from ibmi_trust.store.base import TrustStore

ACCEPTED = "*SYSTEM, an IFS path to a .KDB store, capath:DIR or bundle:FILE"
DEFAULT_RETENTION = 10                    # backups kept per store (store.backup uses it too)


@dataclass
class StoreOptions:
    password_env: Optional[str] = None    # IBM i stores: variable holding the store password
    password_file: Optional[str] = None   # IBM i stores: owner-only file holding it
    backup_dir: Optional[str] = None      # default: beside the store
    retention: int = DEFAULT_RETENTION    # backups kept per store
    app_id: Optional[str] = None          # IBM i: application whose CA trust is checked
    extend_trust_list: bool = False       # IBM i: consent to add a CA to that application's restricting list
    lock_timeout: float = 10.0            # seconds to wait for another writer

    def __post_init__(self):
        if self.retention < 1:
            raise ConfigError("--retention must be at least 1 (got %d)" % self.retention)
        if self.lock_timeout < 0:
            raise ConfigError("--lock-timeout must not be negative")


def open_store(spec: Optional[str], options: Optional[StoreOptions] = None) -> "TrustStore":
    """The store named by `spec` (None: *SYSTEM on IBM i, else an error)."""
    options = options or StoreOptions()
    if spec is None or not spec.strip():
        from ibmi_trust.platform import is_ibmi

        if not is_ibmi():
            raise ConfigError(
                "--store is required off IBM i: use capath:DIR or bundle:FILE",
                hint="for example --store capath:/etc/mail/certs or --store bundle:/etc/ssl/cert.pem",
            )
        spec = "*SYSTEM"
    spec = spec.strip()
    kind, sep, rest = spec.partition(":")
    if sep and kind.lower() in ("capath", "bundle"):
        if not rest.strip():
            raise ConfigError("%s: needs a path after the colon (%s:PATH)" % (spec, kind.lower()))
        _refuse_ibmi_options(spec, options)
        path = Path(os.path.abspath(os.path.expanduser(rest.strip())))
        if kind.lower() == "capath":
            from ibmi_trust.store.capath import CApathStore

            return CApathStore(path, options)
        from ibmi_trust.store.bundle import BundleStore

        return BundleStore(path, options)
    if spec.upper() == "*SYSTEM" or spec.lower().endswith(".kdb"):
        from ibmi_trust.ibmi.system_store import SystemStore

        return SystemStore(spec, options)
    raise ConfigError("unknown store %r" % spec, hint="accepted: %s" % ACCEPTED)


def _refuse_ibmi_options(spec: str, options: StoreOptions) -> None:
    given = [name for name, value in (("--password-env", options.password_env),
                                      ("--password-file", options.password_file),
                                      ("--app-id", options.app_id)) if value]
    if given:
        raise ConfigError("%s apply only to IBM i stores (*SYSTEM or a .KDB), not to %s"
                          % (" and ".join(given), spec))
