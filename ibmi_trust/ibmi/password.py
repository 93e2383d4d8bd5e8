"""The certificate store password: where it may come from and how it is held.

Order (issue 4; ref 1.2, 4.4, 10):
1. `*NOPWD` first wherever IBM documents it: CERTIFICATE_INFO uses the
   system's stashed password. For QYKMIMPK/QYKMEXPK the stash is
   UNCONFIRMED, so `*NOPWD` is sent to them only when IBMI_TRUST_API_NOPWD=1.
2. Else the environment variable named by --password-env, or the file named
   by --password-file, which must be a regular file owned by this user and
   not accessible by group or others (mode 0600 or 0400).

The password is never accepted on a command line, never logged, never put
in an exception message (only where it came from). It is held in a
bytearray and zeroed by `wipe()` (the `with` block does it). Python cannot
wipe the copies it makes as `str` (the SQL parameter, os.environ itself) or
inside the XMLSERVICE request text; those live until garbage collection.
"""
import os
import stat
from typing import Optional

from ibmi_trust.errors import ConfigError, PasswordError

NOPWD = "*NOPWD"
MAX_PASSWORD_BYTES = 1024


def api_nopwd_enabled() -> bool:
    """IBMI_TRUST_API_NOPWD=1: send *NOPWD to QYKMIMPK/QYKMEXPK (UNCONFIRMED, ref 4.4)."""
    return os.environ.get("IBMI_TRUST_API_NOPWD", "").strip().lower() in ("1", "yes", "true")


class StorePassword:
    """A password in a bytearray; `source` says where it came from (safe to print)."""

    def __init__(self, secret: bytearray, source: str):
        self._secret = secret
        self.source = source

    def utf8(self) -> bytearray:
        return self._secret

    def text(self) -> str:
        """The password as str (for an SQL parameter; this copy cannot be wiped)."""
        return self._secret.decode("utf-8")

    def wipe(self) -> None:
        for index in range(len(self._secret)):
            self._secret[index] = 0
        del self._secret[:]

    def __enter__(self) -> "StorePassword":
        return self

    def __exit__(self, *exc) -> None:
        self.wipe()

    def __repr__(self) -> str:
        return "<StorePassword from %s>" % self.source

    __str__ = __repr__


def configured(options) -> bool:
    return bool(getattr(options, "password_env", None) or getattr(options, "password_file", None))


def obtain(options) -> Optional[StorePassword]:
    """The password named by options (password_env / password_file), or None."""
    env_name = getattr(options, "password_env", None)
    file_name = getattr(options, "password_file", None)
    if env_name and file_name:
        raise ConfigError("give either --password-env or --password-file, not both")
    if env_name:
        return _from_environment(env_name)
    if file_name:
        return _from_file(str(file_name))
    return None


def required_hint() -> str:
    return ("name the store password with --password-env VAR or --password-file FILE "
            "(a file only its owner can read); it is never taken on the command line")


def _from_environment(name: str) -> StorePassword:
    value = os.environ.get(name)
    if not value:
        raise PasswordError("environment variable %s is not set or empty" % name, hint=required_hint())
    secret = bytearray(value.encode("utf-8"))
    _check_length(secret, "environment variable %s" % name)
    return StorePassword(secret, "environment variable %s" % name)


def _from_file(path: str) -> StorePassword:
    where = "password file %s" % path
    try:
        # O_NONBLOCK: a named pipe must not hang the open (it is refused below)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise PasswordError("cannot open %s: %s" % (where, exc.strerror or exc),
                            hint="the file must exist, be a regular file (not a symbolic link) and be readable by you") from None
    try:
        info = os.fstat(fd)  # of the file actually opened: no race with a later swap
        if not stat.S_ISREG(info.st_mode):
            raise PasswordError("%s is not a regular file" % where)
        if info.st_uid != os.geteuid():
            raise PasswordError("%s is not owned by this user" % where,
                                hint="the file must belong to the user running ibmi-trust")
        if info.st_mode & 0o077:
            raise PasswordError("%s is accessible by group or others (mode %04o)" % (where, stat.S_IMODE(info.st_mode)),
                                hint="chmod 600 %s" % path)
        secret = bytearray()
        while len(secret) <= MAX_PASSWORD_BYTES + 2:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            secret.extend(chunk)
    finally:
        os.close(fd)
    for ending in (b"\r\n", b"\n"):
        if secret.endswith(ending):
            del secret[-len(ending):]
            break
    password = StorePassword(secret, where)
    try:
        if not secret:
            raise PasswordError("%s is empty" % where)
        _check_length(secret, where)
        try:
            secret.decode("utf-8")
        except UnicodeDecodeError:
            raise PasswordError("%s is not UTF-8 text" % where) from None
    except PasswordError:
        password.wipe()
        raise
    return password


def _check_length(secret: bytearray, where: str) -> None:
    if len(secret) > MAX_PASSWORD_BYTES:
        raise PasswordError("the password in %s is longer than %d bytes" % (where, MAX_PASSWORD_BYTES))
