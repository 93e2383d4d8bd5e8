"""`check --prometheus FILE`, `verify --prometheus FILE`: a node_exporter
textfile (the Prometheus text exposition format, 0.0.4), written atomically.

Conventions (conventions.md section 5): one `ibmi_trust_` prefix, base
units (`_seconds`, `_timestamp_seconds`, `_ratio`), a `# HELP` and a
`# TYPE` line per metric, no timestamps (the textfile collector refuses
them), the file ends with a newline, and it is written to a temporary name
in the same directory, then renamed (node_exporter reads `*.prom` only, so
the temporary name ends otherwise). Label values are escaped as the format
says (backslash, double quote, line feed). Every series has `target` and
`store`; per-chain ones `chain` (the chain's number, as check prints it).

Metrics (all gauges):
  ibmi_trust_probe_success                1 when at least one chain was captured (or read)
  ibmi_trust_check_state{state}           1 for the check's state (OK, WARNING, CRITICAL, UNKNOWN), 0 for the others
  ibmi_trust_chains                       distinct chains seen
  ibmi_trust_chains_failing               chains the client would reject
  ibmi_trust_missing_certificates         distinct CA certificates the store lacks
  ibmi_trust_handshakes                   handshakes made by this run
  ibmi_trust_chain_trusted{chain}         1 when the client accepts the chain
  ibmi_trust_chain_share_ratio{chain}     share of handshakes that served it
  ibmi_trust_chain_missing_certificates{chain}
  ibmi_trust_chain_earliest_expiry_timestamp_seconds{chain}   earliest notAfter on its path (as sent without one)
  ibmi_trust_certificate_expiry_timestamp_seconds{chain, position, subject, sha256}   every certificate as sent and the anchor
  ibmi_trust_check_timestamp_seconds      when the check ran (Unix time)
  ibmi_trust_check_duration_seconds
  ibmi_trust_build_info{version}          1
"""
import calendar
import datetime
import os
import tempfile
from typing import Dict, List, Tuple

from ibmi_trust.errors import ConfigError

PREFIX = "ibmi_trust_"

HELP = {
    "probe_success": "1 when at least one certificate chain was captured (or read with --chain), else 0.",
    "check_state": "1 for the state of the last check (OK, WARNING, CRITICAL, UNKNOWN), 0 for the others.",
    "chains": "Distinct certificate chains the server presented.",
    "chains_failing": "Chains the client would reject (path or host name).",
    "missing_certificates": "Distinct CA certificates the trust store lacks.",
    "handshakes": "TLS handshakes made by the last check.",
    "chain_trusted": "1 when the client accepts this chain, else 0.",
    "chain_share_ratio": "Share of handshakes that served this chain.",
    "chain_missing_certificates": "CA certificates this chain needs that the store lacks.",
    "chain_earliest_expiry_timestamp_seconds": "Earliest notAfter (Unix time) on the chain's path, anchor included.",
    "certificate_expiry_timestamp_seconds": "notAfter (Unix time) of each certificate as sent, and of the anchor.",
    "check_timestamp_seconds": "When the last check ran (Unix time).",
    "check_duration_seconds": "How long the last check took.",
    "build_info": "The ibmi-trust version that wrote this file.",
    "verify_targets": "Targets of the last verify run by state.",
}
STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")


class Metrics:
    """Samples grouped by metric name, in first-seen order."""

    def __init__(self):
        self.samples: Dict[str, List[Tuple[Dict[str, str], float]]] = {}

    def add(self, name: str, labels: Dict[str, str], value: float) -> None:
        self.samples.setdefault(name, []).append((labels, value))

    def text(self) -> str:
        lines = []
        for name, samples in self.samples.items():
            lines.append("# HELP %s%s %s" % (PREFIX, name, _escape_help(HELP[name])))
            lines.append("# TYPE %s%s gauge" % (PREFIX, name))
            for labels, value in samples:
                lines.append("%s%s%s %s" % (PREFIX, name, _labels(labels), _number(value)))
        return "\n".join(lines) + "\n"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(labels: Dict[str, str]) -> str:
    if not labels:
        return ""
    return "{%s}" % ",".join('%s="%s"' % (k, str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
                             for k, v in labels.items())


def _number(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if float(value).is_integer():
        return "%d" % value
    return repr(float(value))


def _unix(when: datetime.datetime) -> int:
    return calendar.timegm(when.utctimetuple())


def add_check(metrics: Metrics, result, base: Dict[str, str]) -> None:
    """The series of one check result."""
    from ibmi_trust.jobs import status as st

    captured = bool(result.variants)
    metrics.add("probe_success", dict(base), 1 if captured else 0)
    for state in STATES:
        metrics.add("check_state", dict(base, state=state), 1 if result.status == state else 0)
    metrics.add("chains", dict(base), len(result.variants))
    metrics.add("chains_failing", dict(base), sum(1 for v in result.variants if not v.report.client_accepts))
    metrics.add("missing_certificates", dict(base), len(result.missing()))
    metrics.add("handshakes", dict(base), result.probe.handshakes if result.probe is not None else 0)
    for v in result.variants:
        chain = dict(base, chain=str(v.index))
        metrics.add("chain_trusted", chain, 1 if v.report.client_accepts and v.report.status != st.CRITICAL else 0)
        metrics.add("chain_share_ratio", chain, round(v.variant.share, 6))
        metrics.add("chain_missing_certificates", chain, len(v.report.missing))
        path = list(v.report.path) or list(v.variant.certificates)
        metrics.add("chain_earliest_expiry_timestamp_seconds", chain, min(_unix(c.not_after) for c in path))
        shown = list(v.variant.certificates)
        if v.report.anchor is not None and v.report.anchor not in shown:
            shown.append(v.report.anchor)
        for position, cert in enumerate(shown):
            role = "anchor" if cert is v.report.anchor else str(position)
            metrics.add("certificate_expiry_timestamp_seconds",
                        dict(chain, position=role, subject=cert.subject, sha256=cert.sha256), _unix(cert.not_after))
    if result.checked_at:
        when = datetime.datetime.strptime(result.checked_at, "%Y-%m-%dT%H:%M:%SZ")
        metrics.add("check_timestamp_seconds", dict(base), calendar.timegm(when.timetuple()))
    metrics.add("check_duration_seconds", dict(base), round(result.elapsed, 3))


def check_metrics(result) -> str:
    metrics = Metrics()
    add_check(metrics, result, {"target": result.target.display(), "store": result.store_spec})
    _build_info(metrics)
    return metrics.text()


def verify_metrics(verify) -> str:
    metrics = Metrics()
    counts = verify.counts()
    for state in STATES:
        metrics.add("verify_targets", {"state": state}, counts[state])
    seen = set()
    for outcome in verify.outcomes:
        store = outcome.result.store_spec if outcome.result is not None else (outcome.config.store or "")
        if (outcome.config.target, store) in seen:         # the same series twice would spoil the file
            continue
        seen.add((outcome.config.target, store))
        if outcome.result is not None:
            add_check(metrics, outcome.result, {"target": outcome.config.target, "store": outcome.result.store_spec})
        else:
            base = {"target": outcome.config.target, "store": store}
            metrics.add("probe_success", dict(base), 0)
            for state in STATES:
                metrics.add("check_state", dict(base, state=state), 1 if state == "UNKNOWN" else 0)
    _build_info(metrics)
    return metrics.text()


def _build_info(metrics: Metrics) -> None:
    from ibmi_trust import __version__

    metrics.add("build_info", {"version": __version__}, 1)


def write_textfile(path: str, text: str) -> None:
    """Write `text` to `path` atomically: a temporary file in the same
    directory (not ending in .prom), flushed to disk, then renamed over it."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)                    # node_exporter runs as another user
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise ConfigError("cannot write the Prometheus file %s: %s" % (path, exc.strerror or exc)) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
