"""Proof after an import that does not reuse the analysis.

OpenSSL-profile stores (CApath, bundle): real TLS handshakes that verify,
made by Python's `ssl` (OpenSSL) with `CERT_REQUIRED`, the store as CApath
or CAfile and nothing else (no default paths), TRUSTED_FIRST and no
X509_STRICT or PARTIAL_CHAIN flags (as a plain OpenSSL client), at the
validator's security level, with the same STARTTLS dialogue, over every
address x SNI x key-type combination that served a chain. Each handshake
also reads the chain it verified, so every variant is proven by name: a
combination is retried (bounded) until each variant it served has been
seen; a variant the server does not serve again within that bound is
verified as captured by `openssl verify` against the store (still the real
OpenSSL, never the model), and the proof says which.

The host name is checked where the client checks names (no
--no-check-name), for combinations that send SNI and whose chains name the
host; a name mismatch is reported by the analysis, not a reason to roll
back, since no store change can cure it. Python's client refuses partial
wildcards (`f*.example.com`), which OpenSSL's defaults allow.

*SYSTEM and .KDB stores: GSKit's own handshakes (GSKPROBE, prove_by_gskit
below) over every address x SNI combination, with the application's ID when
--app-id is given ("proof: GSKit handshake"); where GSKPROBE is not
installed (no C compiler, no QSYSINC) or --proof model is asked for, the
GSKit model re-run on a new probe, and the output says so ("proof: GSKit
model", with the reason the handshake was not made).

`fix --partial`: the chains the plan leaves failing (`blocked`) are not
proven. A combination that served only those is not tried; on one that
served fixable chains too, a handshake that fails with the error OpenSSL
gives a blocked chain against the new store is expected (noted), and the
fixable chains must still be met verifying, or pass `openssl verify`; with
GSKit's handshakes, GSKit rejecting a chain left failing is noted too.

`fix --chain FILE` (`prove_offline`): no server to shake hands with; each
chain as read is verified against the store after the import by the real
`openssl verify` (the OpenSSL model without a binary), and the proof says
so ("proof: openssl verify of the chains read from FILE, no handshake").
"""
import hashlib
import math
import ssl
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ibmi_trust.errors import HandshakeError, ProbeError
from ibmi_trust.probe import methods, offers, ratelimit, starttls
from ibmi_trust.probe.handshake import handshake
from ibmi_trust.probe.wire import Wire

KIND_HANDSHAKE = "OpenSSL handshake"
KIND_GSKIT = "GSKit model"
KIND_GSKIT_HANDSHAKE = "GSKit handshake"
KIND_VERIFY = "openssl verify of the chains read from a file (no handshake)"
KIND_MODEL = "the OpenSSL model of the chains read from a file (no openssl binary, no handshake)"
MAX_PER_COMBINATION = 30         # handshakes to meet every variant a combination served
CONNECT_RETRIES = 2


@dataclass
class Proof:
    ok: bool
    failures: List[str]                   # one line per thing that does not verify
    kind: str = KIND_HANDSHAKE
    detail: object = None                 # the after-analysis CheckResult, when one was made
    proven: Dict[int, str] = field(default_factory=dict)     # chain number -> how it was proven
    handshakes: int = 0
    notes: List[str] = field(default_factory=list)
    gskit: Optional[dict] = None          # GSKit handshake: the program's run (ibmi.gskprobe.Run.to_json())
    run: object = None                    # GSKit handshake: the Run itself (not in the JSON twice)

    def to_json(self) -> dict:
        out = {"kind": self.kind, "ok": self.ok, "failures": list(self.failures), "handshakes": self.handshakes,
               "proven": {str(k): v for k, v in sorted(self.proven.items())}, "notes": list(self.notes)}
        if self.gskit is not None:
            out["gskit"] = self.gskit
        return out


def chain_id(ders) -> str:
    return hashlib.sha256(b"".join(ders)).hexdigest()


def verifying_context(offer: offers.Offer, location: dict, level: int, check_name: bool) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = check_name
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.verify_flags = ssl.VERIFY_X509_TRUSTED_FIRST        # no STRICT, no PARTIAL_CHAIN (3.13's defaults)
    ctx.options |= ssl.OP_NO_TICKET
    ctx.set_ciphers(offer.ciphers.replace("@SECLEVEL=0", "@SECLEVEL=%d" % level))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = (ssl.TLSVersion.MINIMUM_SUPPORTED if offer.min_version == "1.0"
                               else offers.TLS_VERSIONS[offer.min_version])
        ctx.maximum_version = offers.TLS_VERSIONS[offer.max_version]
    ctx.load_verify_locations(cafile=location.get("cafile"), capath=location.get("capath"))
    return ctx


def prove_by_handshakes(target, probe_result, variants, store_location: dict, validator, *,
                        referee=None, now=None, ehlo: Optional[str] = None, blocked=()) -> Proof:
    """Handshake with verification over every combination that served a chain
    of `variants`; `blocked`: the chains fix --partial leaves failing."""
    options = probe_result.options
    offer_map = {k: offers.offer_for(k, options.tls_version) for k in ("ecdsa", "rsa")
                 if k != "rsa" or options.tls_version != "1.3"}
    if probe_result.combos and probe_result.combos[0].key_type == "system":
        from ibmi_trust.probe import like_system

        offer_map["system"] = like_system.system_offer()[0]
    limiter = ratelimit.limiter_for(target.host, options.rate, options.concurrency)
    served: Dict[object, Dict[str, int]] = {}
    for v in variants:
        for combo, count in v.variant.combo_counts.items():
            served.setdefault(combo, {})[v.variant.sha256] = count
    mismatch = {v.variant.sha256 for v in variants if any(f.code == "name-mismatch" for f in v.report.findings)}
    proof = Proof(ok=True, failures=[])
    left_failing = _left_failing(blocked, store_location, validator, referee, now)
    seen = set()
    for combo, counts in served.items():
        check_name = bool(validator.check_names and combo.sni and not (set(counts) & mismatch))
        ctx = verifying_context(offer_map[combo.key_type], store_location, validator.level, check_name)
        path_only = verifying_context(offer_map[combo.key_type], store_location, validator.level, False)
        expected = {code: v for v in blocked if combo in v.variant.combo_counts for code in left_failing[v.index]}
        total = sum(counts.values()) + sum(v.variant.combo_counts[combo] for v in blocked
                                           if combo in v.variant.combo_counts)
        budget = 1 if len(counts) == 1 and not expected else min(
            MAX_PER_COMBINATION, math.ceil(3.0 * total / min(counts.values())))
        met = set()
        attempts = 0
        while attempts < budget and not set(counts) <= met:
            attempts += 1
            outcome = _attempt(target, combo, ctx, ehlo or options.ehlo, options.timeout, limiter)
            proof.handshakes += 1
            if isinstance(outcome, _Failed) and outcome.verify_code in NAME_CODES and check_name:
                # Python's client refuses partial wildcards, which OpenSSL allows: a name question,
                # not a store one; the path is proven without the name
                proof.notes.append("%s: Python's name check refuses the name (%s); proven without it"
                                   % (combo, outcome))
                outcome = _attempt(target, combo, path_only, ehlo or options.ehlo, options.timeout, limiter)
                proof.handshakes += 1
            if isinstance(outcome, _Failed) and outcome.verify_code in expected:
                note = "%s: a handshake failed with error %s, as chain %d (left failing) does" % (
                    combo, outcome.verify_code, expected[outcome.verify_code].index)
                if note not in proof.notes:
                    proof.notes.append(note)
                continue
            if isinstance(outcome, _Failed):
                proof.failures.append("%s: %s" % (combo, outcome))
                break
            met.add(outcome)
            seen.add(outcome)
            if outcome not in counts:
                proof.notes.append("%s served a chain not seen before the import; it verifies" % (combo,))
        if not check_name and validator.check_names:
            proof.notes.append("%s: host name not checked in the proof (%s)" % (
                combo, "no SNI" if not combo.sni else "the chain does not name the host: see name-mismatch"))
    for combo in probe_result.combos:
        if combo in served:
            continue
        left = [v.index for v in blocked if combo in v.variant.combo_counts]
        if left:
            proof.notes.append("%s served only chain(s) %s, left failing: not proven" % (
                combo, ", ".join(map(str, left))))
            continue
        # a combination that served nothing before (it failed): if it answers now, it must verify too
        ctx = verifying_context(offer_map[combo.key_type], store_location, validator.level, False)
        outcome = _attempt(target, combo, ctx, ehlo or options.ehlo, options.timeout, limiter, retries=0)
        proof.handshakes += 1
        if isinstance(outcome, _Failed):
            if outcome.startswith(_NO_HANDSHAKE):
                proof.notes.append("%s still does not complete a handshake" % (combo,))
            else:
                proof.failures.append("%s (served no chain before the import): %s" % (combo, outcome))
        else:
            proof.notes.append("%s now serves a chain, and it verifies" % (combo,))
    for v in variants:
        if v.variant.sha256 in seen:
            proof.proven[v.index] = KIND_HANDSHAKE
            continue
        if referee is None:
            proof.failures.append("chain %d was not served again and no openssl binary can verify it" % v.index)
            continue
        verdict = referee.verify(list(v.variant.certificates), level=validator.level, now=now, **store_location)
        if verdict.ok:
            proof.proven[v.index] = "openssl verify (not served again in the proof's handshakes)"
        else:
            proof.failures.append("chain %d: openssl verify: error %s at depth %s (%s)"
                                  % (v.index, verdict.code, verdict.depth, verdict.text))
    proof.ok = not proof.failures
    return proof


_NO_HANDSHAKE = "could not complete a handshake"


def prove_by_gskit(target, probe_result, variants, setting, blocked=frozenset()) -> Proof:
    """GSKit's own handshakes after an import into *SYSTEM (or a .KDB): every
    address x SNI combination that served a chain (repeated where it served
    several), and once each combination that served none. `variants` are the
    chains seen before, judged against the store as it is now (the GSKit
    model); GSKit's answers are settled into them, so they become the
    after-state. A chain GSKit's handshakes did not meet again keeps the
    model's verdict, and the proof says so. Chains numbered in `blocked`
    (--partial leaves them failing) are not proven: GSKit rejecting them is
    noted, not a failure."""
    from ibmi_trust.analyse.model import TRUSTED, UNCONFIRMED
    from ibmi_trust.jobs import gskit

    requests, combo_of = gskit.plan(probe_result, variants, target, setting, include_unserved=True)
    run = setting.runner.run(requests)
    matched = gskit.settle_all(run, variants, combo_of, setting)
    proof = Proof(ok=True, failures=[], kind=KIND_GSKIT_HANDSHAKE, handshakes=len(run.handshakes),
                  gskit=run.to_json(), run=run)
    proof.notes.append("answered by %s" % run.describe())
    proof.failures.extend("GSKPROBE: %s" % error for error in run.errors)
    served = gskit.served_counts(variants)
    attributed = {h.id for hs in matched.by_variant.values() for h in hs}
    for key, handshakes in matched.by_combo.items():
        where = "%s %s" % (key[0], "sni=" + key[1] if key[1] else "no-sni")
        environment = [h for h in handshakes if h.decision == "environment"]
        decided = [h for h in handshakes if h.decision in ("accepts", "rejects")]
        if environment:
            proof.failures.append("%s: GSKit could not open %s: %s" % (where, setting.store_field,
                                                                        environment[0].words()))
        elif key in served and not decided:
            proof.failures.append("%s: %s to prove it: %s" % (where, _NO_HANDSHAKE, handshakes[0].words()))
        elif key not in served and not decided:
            proof.notes.append("%s still does not complete a handshake" % where)
        elif key not in served:
            rejected = [h for h in decided if h.decision == "rejects" and h.id not in attributed]
            if rejected:
                proof.failures.append("%s (served no chain before the import): %s" % (where, rejected[0].words()))
            else:
                proof.notes.append("%s now serves a chain, and GSKit accepts it" % where)
    for h in matched.new_chains + matched.unattributed:
        if h.decision == "rejects":
            proof.failures.append("%s %s: %s on a chain %s" % (h.address, "sni=" + h.sni if h.sni else "no-sni",
                                                                h.words(), "not seen before" if h in
                                                                matched.new_chains else "it did not name"))
        else:
            proof.notes.append("%s served a chain not seen before the import; GSKit accepts it" % h.address)
    app = setting.store_field[4:] if setting.store_field.startswith("app:") else None
    for v in variants:
        answer = v.report.referee or {}
        if v.index in blocked:
            proof.notes.append("chain %d is left failing (--partial): GSKit %s" % (
                v.index, answer.get("words") or answer.get("decision") or "did not meet it again"))
            continue
        if answer.get("decision") == "rejects":
            proof.failures.append("chain %d: GSKit rejects it%s: %s%s" % (
                v.index, " with application ID %s" % app if app else "", answer.get("words"),
                " (the application's CA trust list may lack the new CAs: --add-to-trust-list consents to adding "
                "them)" if app else ""))
        elif answer.get("decision") == "accepts":
            proof.proven[v.index] = KIND_GSKIT_HANDSHAKE
        elif v.report.verdict in (TRUSTED, UNCONFIRMED):
            proof.proven[v.index] = "GSKit model (GSKit's handshakes did not meet it again: %s)" % answer.get("reason")
        else:
            proof.failures.append("chain %d: GSKit's handshakes did not meet it again (%s) and the GSKit model "
                                  "says %s" % (v.index, answer.get("reason"), v.report.verdict))
    proof.ok = not proof.failures
    return proof


def _left_failing(blocked, store_location: dict, validator, referee, now) -> Dict[int, set]:
    """Per blocked chain, the verify errors a handshake that serves it fails with
    now: what the real `openssl verify` says against the new store, else the
    analysis's answer from before the import."""
    out = {}
    for v in blocked:
        codes = set()
        if referee is not None:
            verdict = referee.verify(list(v.variant.certificates), level=validator.level, now=now, **store_location)
            if verdict.ran and not verdict.ok and verdict.code is not None:
                codes.add(int(verdict.code))
        before = v.report.referee or {}
        if before.get("code") is not None:
            codes.add(int(before["code"]))
        error = (v.report.prediction or {}).get("error") or {}
        if error.get("code") is not None:
            codes.add(int(error["code"]))
        out[v.index] = codes
    return out


def prove_offline(variants, store, validator, *, referee=None, now=None, source: str = "") -> Proof:
    """--chain: each chain as read, verified against the store after the import."""
    from ibmi_trust.importer.overlay import judge

    judged = judge(store, variants, validator, referee, now, failing="fails against the store after the import")
    proof = Proof(ok=judged.ok, failures=list(judged.failures), kind=KIND_VERIFY if referee else KIND_MODEL)
    failing = {verdict["chain"] for verdict in judged.verdicts if not verdict.get("ok")}
    for v in variants:
        if v.index not in failing:
            proof.proven[v.index] = proof.kind
    proof.notes.append("the chains were read from %s: no handshake was made; run check without --chain where "
                       "the server is reachable to prove it by handshake" % (source or "a file"))
    return proof


NAME_CODES = (62, 64)             # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH


class _Failed(str):
    """Why a proof handshake failed (a chain id is a plain str)."""
    verify_code = None

    @classmethod
    def of(cls, text: str, code=None) -> "_Failed":
        failed = cls(text)
        failed.verify_code = code
        return failed


def _attempt(target, combo, ctx, ehlo, timeout, limiter, retries: int = CONNECT_RETRIES):
    """The chain id of one verified handshake, or why it failed (_Failed)."""
    last = "no attempt"
    for _ in range(1 + retries):
        method = next(iter(methods.candidates()), "sniff")
        try:
            with limiter.slot(), Wire(combo.address, target.port, timeout) as wire:
                starttls.negotiate(wire, target.dialogue, ehlo)
                session = handshake(wire, ctx, combo.sni, record=methods.needs_raw_bytes(method))
                try:
                    ders = methods.extract(method, session.obj, session.raw)
                except methods.Unusable:
                    ders = [session.obj.getpeercert(binary_form=True)]
                session.goodbye(wire)
                return chain_id(ders)
        except HandshakeError as exc:
            if getattr(exc, "verify_code", None) is not None:
                return _Failed.of(exc.message, exc.verify_code)     # a verification failure: no retry
            last = exc.message
        except ProbeError as exc:
            last = exc.message
    return _Failed.of("%s to prove it: %s" % (_NO_HANDSHAKE, last))
