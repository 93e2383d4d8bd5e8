"""Stage 1, probe: capture every certificate chain a mail server presents.

    from ibmi_trust.probe import Target, ProbeOptions, probe
    result = probe(Target.parse("mx.example.test:25"), ProbeOptions())

Modules, in the order a probe uses them: target (what to probe, --resolve),
resolve (addresses), ratelimit, wire (one connection with deadlines and caps),
starttls (plaintext dialogues), offers (ClientHello offers and contexts),
handshake (MemoryBIO pump), methods + openssl_chain + tls12 (reading the chain),
capture (one handshake), discovery + stopping (variants and the stopping
rule), result (data + JSON), render and save (human output, PEM files),
like_system (IBM i system values -> offer). See docs/probe.md.
"""
from ibmi_trust.probe.discovery import probe
from ibmi_trust.probe.options import ProbeOptions
from ibmi_trust.probe.result import ChainVariant, Combo, Failure, ProbeResult
from ibmi_trust.probe.target import Target, parse_resolve

__all__ = ["probe", "ProbeOptions", "Target", "parse_resolve", "ProbeResult", "ChainVariant", "Combo", "Failure"]
