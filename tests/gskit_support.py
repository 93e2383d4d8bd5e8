"""GSKPROBE off IBM i: the SAME C source (cl/gskprobe.c, as the package ships
it) compiled with gcc against the OpenSSL stand-in of the gsk_* calls
(tests/gskit_standin/), once per test session (pytest plugin, see conftest).

The stand-in is a model of GSKit (its verdicts are OpenSSL's, mapped to
GSKit's codes): these tests show the program's dialogue, limits, output and
the Python side; they cannot show what GSKit decides. Tests skip, saying why,
where gcc or OpenSSL's headers are missing (scripts/test installs both).
"""
import hashlib
import os
import shutil
import subprocess

import pytest

STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gskit_standin")
FLAGS = ["-std=c99", "-D_DEFAULT_SOURCE", "-O1", "-Wall", "-Wextra", "-Werror"]


def packaged_source() -> str:
    from ibmi_trust import resources

    return os.path.join(resources.resource_dir("cl"), "gskprobe.c")


class Builder:
    """Compiles a gskprobe.c against the stand-in; one binary per distinct source."""

    def __init__(self, directory: str):
        self.directory = directory
        self.binaries = {}
        self.compiles = 0

    def problem(self):
        if not shutil.which("gcc"):
            return "gcc is not installed (scripts/test installs it with apt)"
        if not os.path.isfile("/usr/include/openssl/ssl.h"):
            return "OpenSSL's headers are not installed (libssl-dev; scripts/test installs them with apt)"
        return None

    def __call__(self, source: str) -> str:
        with open(source, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()[:16]
        if digest in self.binaries:
            return self.binaries[digest]
        out = os.path.join(self.directory, "gskprobe-%s" % digest)
        proc = subprocess.run(["gcc"] + FLAGS + ["-I", STANDIN, "-o", out, source,
                                                 os.path.join(STANDIN, "gskit_standin.c"), "-lssl", "-lcrypto"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        if proc.returncode != 0:
            raise AssertionError("gskprobe.c does not compile against the stand-in:\n%s"
                                 % proc.stdout.decode("utf-8", "replace"))
        self.compiles += 1
        self.binaries[digest] = out
        return out


@pytest.fixture(scope="session")
def gskprobe_builder(tmp_path_factory):
    builder = Builder(str(tmp_path_factory.mktemp("gskprobe")))
    why = builder.problem()
    if why:
        pytest.skip("GSKPROBE stand-in: %s" % why)
    return builder


@pytest.fixture(scope="session")
def gskprobe_binary(gskprobe_builder):
    """The packaged gskprobe.c, built against the stand-in."""
    return gskprobe_builder(packaged_source())


class LocalRunner:
    """Runs the stand-in build directly (no simulator): the same request and
    result files as ibmi.gskprobe.ProgramRunner, the stores as PEM files."""

    def __init__(self, binary: str, stores: str, **flags):
        self.binary = binary
        self.stores = stores
        self.flags = flags                      # GSKSTANDIN_* knobs: no_access, partner_chain, no_sni
        self.calls = 0

    def describe(self) -> str:
        return "stand-in build %s" % os.path.basename(self.binary)

    def write_store(self, name: str, certs) -> None:
        os.makedirs(self.stores, exist_ok=True)
        with open(os.path.join(self.stores, name), "w", encoding="ascii") as handle:
            handle.write("".join(c.pem() for c in certs))

    def run_raw(self, request_text: str, workdir: str, timeout: float = 120):
        request = os.path.join(workdir, "request-%d.txt" % self.calls)
        result = os.path.join(workdir, "result-%d.jsonl" % self.calls)
        self.calls += 1
        with open(request, "w", encoding="ascii") as handle:
            handle.write(request_text)
        env = dict(os.environ, GSKSTANDIN_STORES=self.stores)
        for name, on in self.flags.items():
            key = "GSKSTANDIN_" + name.upper()
            if on:
                env[key] = "1"
            else:
                env.pop(key, None)
        proc = subprocess.run([self.binary, request + " ", result + " "], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout)
        data = b""
        if os.path.exists(result):
            with open(result, "rb") as handle:
                data = handle.read()
        return proc.returncode, data

    def run(self, requests):
        import tempfile

        from ibmi_trust.ibmi.gskprobe import parse_result, request_text

        workdir = tempfile.mkdtemp(prefix="gskprobe-test-")
        try:
            _rc, data = self.run_raw(request_text(requests), workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return parse_result(data)
