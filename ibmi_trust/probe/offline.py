"""`--chain FILE`: the chains a server presents, read from a file instead of
a connection (check, needs and fix judge them against the store with no
connection to the server; AIA fetching still works unless --no-fetch).

What FILE may be:

- what `openssl s_client -showcerts` prints; several runs appended to one
  file (`for i in 1 2 3 ...; do openssl s_client ... -showcerts; done`)
  are several captures: each run (from its `CONNECTED(` line, else its
  `Certificate chain` line) is one chain, identical chains are counted
  together, so a load balancer's variants show with their shares;
- a directory `ibmi-trust probe --save-dir DIR` wrote (its chain-N.pem);
- a PEM file holding one chain, leaf first, as sent;
- DER (the server certificate alone) or PKCS#7 (a set: the certificate that
  is not a CA is put first).

The result is a ProbeResult (`OfflineResult`) with no handshakes: every
chain is "served" by one pseudo-combination naming the file. Reading is
one pass over the lines; the file is bounded by the certificate reader
(64 MiB) and MAX_CHAINS captures.
"""
import os
import re
from typing import List, Tuple

from ibmi_trust.errors import CertificateError, ConfigError
from ibmi_trust.probe.result import Combo, ProbeResult

MAX_CHAINS = 10000
_RUN_STARTS = (b"CONNECTED(", b"Certificate chain")
_SAVED = re.compile(r"^chain-(\d{1,6})\.pem$")


class OfflineResult(ProbeResult):
    """A ProbeResult whose chains were read from a file: no handshake made."""

    def __init__(self, target, options, source: str, form: str):
        super().__init__(target, options, [], [Combo("file", None, "read")])
        self.source = source
        self.form = form
        self.chains_read = 0

    def to_json(self) -> dict:
        out = super().to_json()
        out["source"] = {"kind": "file", "path": self.source, "format": self.form, "chains_read": self.chains_read}
        return out


def read_chains(path: str, target, options) -> OfflineResult:
    """The chains in `path` (a file or a --save-dir directory) as an OfflineResult."""
    chains, form = _chains_of(path)
    if not chains:
        raise ConfigError("--chain %s holds no certificate chain" % path)
    if len(chains) > MAX_CHAINS:
        raise ConfigError("--chain %s holds %d captures; at most %d are read" % (path, len(chains), MAX_CHAINS))
    result = OfflineResult(target, options, path, form)
    combo = result.combos[0]
    for certs in chains:
        result.add_chain(combo, [c.der for c in certs], "file", "")
    result.finish()
    result.chains_read, result.handshakes = result.handshakes, 0
    result.methods.clear()
    result.tls_versions.clear()
    result.notes.append("chains read from %s (%s); no connection was made to %s" % (path, form, target.display()))
    return result


def _chains_of(path: str) -> Tuple[List[list], str]:
    from ibmi_trust.certs import load_certificate_file, load_certificates
    from ibmi_trust.certs.loading import MAX_INPUT_BYTES

    try:
        if os.path.isdir(path):
            return _saved_dir(path), "probe --save-dir directory"
        with open(path, "rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise ConfigError("--chain %s: %s" % (path, exc.strerror or exc)) from None
    try:
        if b"-----BEGIN" not in data:
            certs = load_certificate_file(path)
            return [_leaf_first(certs) if len(certs) > 1 else certs], "DER or PKCS#7"
        runs = _runs(data)
        if len(runs) > 1 or _RUN_STARTS[1] in data:
            chains = [load_certificates(run) for run in runs if b"-----BEGIN" in run]
            return chains, "openssl s_client output, %d run%s" % (len(chains), "" if len(chains) == 1 else "s")
        return [load_certificates(data)], "PEM"
    except CertificateError as exc:
        raise ConfigError("--chain %s: %s" % (path, exc)) from None


def _runs(data: bytes) -> List[bytes]:
    """Split s_client output into runs: at CONNECTED( lines when there are
    any, else at "Certificate chain" lines (one pass over the lines)."""
    marker = _RUN_STARTS[0] if _RUN_STARTS[0] in data else _RUN_STARTS[1]
    runs, current = [], []
    for line in data.splitlines(keepends=True):
        if line.startswith(marker) and current:
            runs.append(b"".join(current))
            current = []
        current.append(line)
    if current:
        runs.append(b"".join(current))
    return runs


def _saved_dir(path: str) -> List[list]:
    from ibmi_trust.certs import load_certificate_file

    numbered = []
    for name in os.listdir(path):
        match = _SAVED.match(name)
        if match:
            numbered.append((int(match.group(1)), name))
    if not numbered:
        raise ConfigError("--chain %s: no chain-N.pem files (as `ibmi-trust probe --save-dir` writes them)" % path)
    try:
        return [load_certificate_file(os.path.join(path, name)) for _n, name in sorted(numbered)]
    except CertificateError as exc:
        raise ConfigError("--chain %s" % exc) from None


def _leaf_first(certs: list) -> list:
    """A PKCS#7 set has no order: the certificate that is not a CA goes first."""
    leaves = [c for c in certs if not c.is_ca]
    if not leaves:
        return certs
    return [leaves[0]] + [c for c in certs if c is not leaves[0]]
