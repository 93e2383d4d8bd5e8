"""Which OpenSSL security level a client on this machine gets by default.

A TLS client's verifier runs at the SSL security level (libssl sets the
auth level from it, ssl/ssl_cert.c ssl_verify_cert_chain). Unless the
application sets one, the level is what `SSL_CTX_new` leaves, which is read
the way OpenSSL reads it:

1. the configuration file (`OPENSSL_CONF`, else `OPENSSLDIR/openssl.cnf`,
   OPENSSLDIR from `openssl version -d`): the `openssl_conf` section's
   `ssl_conf` section's `system_default` section, whose `CipherString` may
   end in `@SECLEVEL=N` (Debian 11, Fedora's crypto-policies include);
   `.include` lines are followed (bounded);
2. otherwise the compiled default: `-DOPENSSL_TLS_SECURITY_LEVEL=N` in the
   build flags `openssl version -a` prints (Debian 12 compiles 2);
3. otherwise upstream's default for the version: 1 up to 3.1, 2 from 3.2.

`--seclevel N` overrides all of it; the output always says which level was
used and where it came from.
"""
import os
import re
import subprocess
from typing import Dict, List, NamedTuple, Optional, Tuple

from ibmi_trust import openssl_binary

_SECLEVEL = re.compile(r"@SECLEVEL=(\d)")
_COMPILED = re.compile(r"-DOPENSSL_TLS_SECURITY_LEVEL=(\d)")
_OPENSSLDIR = re.compile(r'OPENSSLDIR:\s*"([^"]*)"')
_VERSION = re.compile(r"OpenSSL (\d+)\.(\d+)\.(\d+)")
MAX_INCLUDES = 16
MAX_CONFIG_BYTES = 1024 * 1024


class Level(NamedTuple):
    level: int
    source: str                  # where it came from, in words

    def describe(self) -> str:
        return "security level %d (%s)" % (self.level, self.source)


_FOUND: Dict[Tuple, Level] = {}


def default_level(binary: Optional[str] = None) -> Level:
    """The level an OpenSSL client gets on this machine when it sets none (asked once per process)."""
    binary = binary or openssl_binary.find()
    key = (binary, os.environ.get("OPENSSL_CONF"))
    if key not in _FOUND:
        _FOUND[key] = _default_level(binary)
    return _FOUND[key]


def _default_level(binary: Optional[str]) -> Level:
    info = _version_info(binary) if binary else ""
    config = os.environ.get("OPENSSL_CONF") or _config_path(info)
    if config:
        found = level_from_config(config)
        if found is not None:
            return Level(found, "CipherString @SECLEVEL in %s" % config)
    match = _COMPILED.search(info)
    if match:
        return Level(int(match.group(1)), "compiled into %s" % (binary or "OpenSSL"))
    version = _VERSION.search(info)
    if version:
        major, minor = int(version.group(1)), int(version.group(2))
        level = 2 if (major, minor) >= (3, 2) else 1
        return Level(level, "OpenSSL %d.%d's default" % (major, minor))
    return Level(2, "assumed: no openssl binary to ask")


def level_from_config(path: str) -> Optional[int]:
    """@SECLEVEL of the system_default CipherString that `path` configures, or None."""
    sections = _parse_config(path)
    default = sections.get("default", {})
    init = default.get("openssl_conf")
    ssl_conf = sections.get(init, {}).get("ssl_conf") if init else None
    system = sections.get(ssl_conf, {}).get("system_default") if ssl_conf else None
    cipher = sections.get(system, {}).get("CipherString") if system else None
    match = _SECLEVEL.search(cipher or "")
    return int(match.group(1)) if match else None


def _parse_config(path: str) -> Dict[str, Dict[str, str]]:
    """Sections of an OpenSSL config file: {section: {key: value}}; `.include` followed."""
    sections: Dict[str, Dict[str, str]] = {"default": {}}
    pending: List[Tuple[str, str]] = [(path, "default")]
    seen = set()
    while pending and len(seen) < MAX_INCLUDES:
        current, section = pending.pop(0)
        if current in seen:
            continue
        seen.add(current)
        for file in _expand(current):
            section = _read_into(file, sections, section, pending, os.path.dirname(current))
    return sections


def _expand(path: str) -> List[str]:
    if os.path.isdir(path):
        try:
            return [os.path.join(path, n) for n in sorted(os.listdir(path)) if n.endswith((".cnf", ".conf"))]
        except OSError:
            return []
    return [path]


def _read_into(path, sections, section, pending, base) -> str:
    try:
        with open(path, "rb") as handle:
            text = handle.read(MAX_CONFIG_BYTES).decode("utf-8", "replace")
    except OSError:
        return section
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            sections.setdefault(section, {})
        elif line.startswith(".include"):
            target = line[len(".include"):].lstrip(" =").strip()
            if target:
                pending.append((target if os.path.isabs(target) else os.path.join(base, target), section))
        elif "=" in line:
            key, _, value = line.partition("=")
            sections.setdefault(section, {})[key.strip()] = value.strip().strip('"')
    return section


def _version_info(binary: str) -> str:
    try:
        proc = openssl_binary.run(binary, ["version", "-a"], timeout=10.0)
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout.decode("utf-8", "replace")


def _config_path(info: str) -> Optional[str]:
    match = _OPENSSLDIR.search(info)
    if not match:
        return None
    path = os.path.join(match.group(1), "openssl.cnf")
    return path if os.path.isfile(path) else None


def version_profile(info_or_version: str) -> Optional[str]:
    """"3" or "1.1.1" for an `openssl version` text, None when unknown."""
    match = _VERSION.search(info_or_version)
    if not match:
        return None
    return "3" if int(match.group(1)) >= 3 else "1.1.1"
