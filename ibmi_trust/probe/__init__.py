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

The names load on first use: `from ibmi_trust.probe import Target` reads a
target without importing the probe machinery (threads, ssl offers, ctypes).
"""
_WHERE = {
    "probe": "ibmi_trust.probe.discovery",
    "ProbeOptions": "ibmi_trust.probe.options",
    "ChainVariant": "ibmi_trust.probe.result", "Combo": "ibmi_trust.probe.result",
    "Failure": "ibmi_trust.probe.result", "ProbeResult": "ibmi_trust.probe.result",
    "Target": "ibmi_trust.probe.target", "parse_resolve": "ibmi_trust.probe.target",
}

__all__ = ["probe", "ProbeOptions", "Target", "parse_resolve", "ProbeResult", "ChainVariant", "Combo", "Failure"]


def __getattr__(name):
    if name in _WHERE:
        return getattr(__import__(_WHERE[name], fromlist=(name,)), name)     # importlib would cost 0.4 ms
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
