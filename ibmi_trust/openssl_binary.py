"""The `openssl` command: where it is, and running it with a minimal environment.

Several stages run the real `openssl` binary: the referee that cross-checks
verdicts on CApath and bundle stores (analyse.referee), and PKCS#12 label
handling on old cryptography (ibmi.openssl_pkcs12).

Where it is looked for, first found wins:
  1. $IBMI_TRUST_OPENSSL (an explicit path);
  2. on IBM i: /QOpenSys/pkgs/bin/openssl (the current RPM), then
     /QOpenSys/usr/bin/openssl (the old base PASE one); under QSH, PATH does
     not hold /QOpenSys/pkgs/bin, so both are named explicitly;
  3. elsewhere: PATH.

A child process gets only the environment it needs (PATH, library paths,
locale, OpenSSL's own configuration variables): never a store password's
variable, nor anything else of ours.
"""
import os
import shutil
import subprocess
from typing import Dict, List, Optional, Sequence

from ibmi_trust.platform import is_ibmi

PASE_CANDIDATES = ("/QOpenSys/pkgs/bin/openssl", "/QOpenSys/usr/bin/openssl")
ENV = "IBMI_TRUST_OPENSSL"
# What a child openssl may see: how to find programs and libraries, the
# locale, and OpenSSL's own configuration (which decides its behaviour).
PASSED_VARIABLES = ("PATH", "LIBPATH", "LD_LIBRARY_PATH", "LANG", "LC_ALL", "TZ",
                    "OPENSSL_CONF", "OPENSSL_MODULES", "OPENSSL_ENGINES", "SSL_CERT_DIR", "SSL_CERT_FILE")


def find() -> Optional[str]:
    """The openssl binary to run, or None when there is none."""
    configured = os.environ.get(ENV, "").strip()
    if configured:
        return configured
    if is_ibmi():
        for candidate in PASE_CANDIDATES:
            if os.access(candidate, os.X_OK):
                return candidate
    return shutil.which("openssl")


def child_environment(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The minimal environment for a child process."""
    env = {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update(extra or {})
    return env


def run(binary: str, args: Sequence[str], *, input: Optional[bytes] = None,
        timeout: float = 30.0) -> subprocess.CompletedProcess:
    """Run `binary args` with the minimal environment; raises OSError or
    subprocess.TimeoutExpired (callers translate them)."""
    command: List[str] = [binary] + list(args)
    return subprocess.run(command, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, env=child_environment(), stdin=None if input is not None
                          else subprocess.DEVNULL)
