"""`--save-dir`: each captured chain as PEM files, exactly in the order sent.

chain-N.pem holds the whole chain N (N as numbered in the output);
chain-N-cert-M.pem holds its certificate at position M (0 = leaf).
"""
import os
from typing import List

from ibmi_trust.errors import ConfigError
from ibmi_trust.probe.result import ProbeResult


def save_chains(result: ProbeResult, directory: str) -> List[str]:
    """Write the files; return their paths. ConfigError when the directory is unusable."""
    written = []
    try:
        os.makedirs(directory, exist_ok=True)
        for index, variant in enumerate(result.chains, 1):
            written.append(_write(os.path.join(directory, "chain-%d.pem" % index), variant.pem()))
            for pos, cert in enumerate(variant.certificates):
                written.append(_write(os.path.join(directory, "chain-%d-cert-%d.pem" % (index, pos)), cert.pem()))
    except OSError as exc:
        raise ConfigError("--save-dir %s: %s" % (directory, exc.strerror or exc)) from None
    return written


def _write(path: str, text: str) -> str:
    with open(path, "w", encoding="ascii") as fh:
        fh.write(text)
    return path
