"""Helpers for the test_store_* modules (no tests here).

Real parts only: the openssl binary for cross-checks, real subprocesses for
concurrency and kills.
"""
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl binary")
REPO = Path(__file__).resolve().parent.parent


def tree_image(directory: Path) -> dict:
    """Every entry of a directory: file bytes and mode, link targets (byte-compare a tree)."""
    out = {}
    for name in sorted(os.listdir(str(directory))):
        path = directory / name
        info = os.lstat(str(path))
        if stat.S_ISLNK(info.st_mode):
            out[name] = ("link", os.readlink(str(path)))
        elif stat.S_ISDIR(info.st_mode):
            out[name] = ("dir", tree_image(path))
        elif stat.S_ISREG(info.st_mode):
            out[name] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode))
        else:
            out[name] = ("special", stat.S_IFMT(info.st_mode))
    return out


def store_image(directory: Path) -> dict:
    """tree_image without this package's lock file (which records the last holder)."""
    return {k: v for k, v in tree_image(directory).items() if not k.startswith(".ibmi-trust")}


def links_of(directory: Path) -> dict:
    return {name: os.readlink(str(directory / name)) for name in os.listdir(str(directory))
            if os.path.islink(str(directory / name)) and not name.startswith(".ibmi-trust")}


def openssl_rehash_links(directory: Path, scratch: Path) -> dict:
    """The link set `openssl rehash` leaves on a copy of `directory`."""
    copy = scratch / ("rehash-copy-%d" % len(os.listdir(str(scratch))))
    shutil.copytree(str(directory), str(copy), symlinks=True)
    subprocess.run([OPENSSL, "rehash", str(copy)], capture_output=True, timeout=60)
    return links_of(copy)


def openssl_verify(leaf_pem: bytes, tmp: Path, *, capath: Path = None, cafile: Path = None,
                   untrusted: bytes = None) -> subprocess.CompletedProcess:
    leaf = tmp / "verify-leaf.pem"
    leaf.write_bytes(leaf_pem)
    cmd = [OPENSSL, "verify", "-no-CAstore"]
    if capath is not None:
        cmd += ["-no-CAfile", "-CApath", str(capath)]
    if cafile is not None:
        cmd += ["-no-CApath", "-CAfile", str(cafile)]
    if untrusted is not None:
        extra = tmp / "verify-untrusted.pem"
        extra.write_bytes(untrusted)
        cmd += ["-untrusted", str(extra)]
    return subprocess.run(cmd + [str(leaf)], capture_output=True, text=True, timeout=60)


def run_python(code: str, *, env_extra=None, timeout=60, check=False, **kwargs) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter (same venv) with the repo importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=timeout, check=check, **kwargs)


def start_python(code: str, *, env_extra=None) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra or {})
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
