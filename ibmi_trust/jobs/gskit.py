"""GSKit's own handshakes in check and fix (*SYSTEM and .KDB stores).

check: after the GSKit model has judged every chain, GSKPROBE makes the mail
program's handshake through GSKit for every address x SNI combination that
served a chain (repeated, bounded, where one combination served several
chains), each handshake is matched to the chain it met, and GSKit's answer
decides (analyse.gskit_referee.settle_gskit): a disagreement with the model
is a finding, and both answers stay in the JSON.

fix: the same handshakes after the import are the proof (importer.proof.
prove_by_gskit), and a combination that served nothing before is tried once.

`--proof gskit|model` (CheckOptions.proof; default "auto": GSKit when
GSKPROBE is installed). "model" keeps the GSKit model alone; "gskit" makes a
missing program an error; "auto" says in the output why the model decided.
"""
import math
import socket
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ibmi_trust.errors import ConfigError, IbmiApiError

CHOICES = ("auto", "gskit", "model")
MAX_PER_COMBINATION = 8          # handshakes to meet every chain one combination served
MAX_HANDSHAKES = 64              # per run: each may take 8 x --timeout at worst


def choice(options) -> str:
    value = getattr(options, "proof", None) or "auto"
    if value not in CHOICES:
        raise ConfigError("--proof takes %s, not %r" % (" or ".join(CHOICES), value))
    return value


def applies(store) -> bool:
    """Stores GSKit judges: *SYSTEM and .KDB (ibmi.system_store.SystemStore)."""
    return store is not None and getattr(store, "validator", None) == "gskit" and hasattr(store, "session")


@dataclass
class Setting:
    """Where and how GSKPROBE runs for one store."""
    runner: object                      # ibmi.gskprobe.ProgramRunner, None when unavailable
    reason: str = ""                    # why it is unavailable
    store_field: str = "*SYSTEM"
    stash: Optional[str] = None
    timeout: int = 10
    ehlo: Optional[str] = None


def setting_for(store, options, target) -> Setting:
    """The runner for this store, or why there is none (raises with --proof gskit)."""
    from ibmi_trust.ibmi import gskprobe

    wanted = choice(options)
    app_id = getattr(getattr(store, "options", None), "app_id", None)
    stash = None if getattr(store, "is_system", True) else gskprobe.stash_for(store.kdb_path)
    probe_options = options.probe_options
    timeout = max(1, min(300, int(math.ceil(getattr(probe_options, "timeout", 10.0) or 10.0))))
    base = dict(store_field=gskprobe.store_field(store.spec, app_id), stash=stash, timeout=timeout,
                ehlo=_ehlo(getattr(probe_options, "ehlo", None)))
    if wanted == "model":
        return Setting(runner=None, reason="--proof model", **base)
    runner, why = gskprobe.runner_for(store.session)
    if runner is None and wanted == "gskit":
        raise ConfigError("--proof gskit: the GSKit handshake is unavailable: %s" % why,
                          hint="or run with --proof model to judge by the GSKit model alone")
    if runner is not None and not getattr(store, "is_system", True) and stash is None:
        why = ("GSKit opens %s only with its password or a stash file beside it, and ibmi-trust never hands a "
               "program a password" % store.spec)
        if wanted == "gskit":
            raise ConfigError("--proof gskit: %s" % why)
        runner = None
    return Setting(runner=runner, reason=why or "", **base)


def _ehlo(name: Optional[str]) -> Optional[str]:
    """--ehlo, else this host's name when qualified; None (the program sends
    "localhost") for anything GSKPROBE does not take."""
    from ibmi_trust.ibmi.gskprobe import EHLO_NAME

    candidate = name or socket.gethostname()
    if not name and "." not in candidate:
        return None
    return candidate if EHLO_NAME.match(candidate) else None


# -- which handshakes ------------------------------------------------------------------
ComboKey = Tuple[str, Optional[str]]           # (address, SNI): GSKit offers what the system offers


def served_counts(variants) -> Dict[ComboKey, Dict[int, int]]:
    """(address, SNI) -> {chain number: times served} over every key type."""
    out: Dict[ComboKey, Dict[int, int]] = {}
    for v in variants:
        for combo, count in v.variant.combo_counts.items():
            key = (combo.address, combo.sni)
            out.setdefault(key, {})
            out[key][v.index] = out[key].get(v.index, 0) + count
    return out


def plan(probe_result, variants, target, setting: Setting, *, include_unserved: bool = False):
    """The requests, and which combination each request id probes."""
    from ibmi_trust.ibmi.gskprobe import ProbeRequest

    served = served_counts(variants)
    keys = list(served)
    if include_unserved:
        for combo in probe_result.combos:
            key = (combo.address, combo.sni)
            if key not in served and key not in keys:
                keys.append(key)
    requests, combo_of = [], {}
    for number, key in enumerate(keys, 1):
        counts = served.get(key, {})
        repeats = 1 if len(counts) <= 1 else min(MAX_PER_COMBINATION,
                                                 int(math.ceil(3.0 * sum(counts.values()) / min(counts.values()))))
        for attempt in range(1, repeats + 1):
            if len(requests) >= MAX_HANDSHAKES:
                break
            rid = "c%d-%d" % (number, attempt)
            req = ProbeRequest(rid, key[0], target.port, target.dialogue, key[1], setting.store_field,
                               stash=setting.stash, timeout=setting.timeout, diagnose=True, ehlo=setting.ehlo)
            try:
                req.line()
            except ConfigError:
                break        # e.g. an IPv6 zone or an SNI name outside the invariant set: not probed, said so
            requests.append(req)
            combo_of[rid] = key
    return requests, combo_of


# -- which chain each handshake met ------------------------------------------------------
@dataclass
class Matched:
    by_variant: Dict[int, list] = field(default_factory=dict)       # chain number -> [Handshake]
    new_chains: list = field(default_factory=list)                  # handshakes that met a chain not seen before
    unattributed: list = field(default_factory=list)                # a verdict that names no chain we can tell
    by_combo: Dict[ComboKey, list] = field(default_factory=dict)


def match(run, variants, combo_of: Dict[str, ComboKey]) -> Matched:
    import hashlib

    served = served_counts(variants)
    by_chain = {v.variant.sha256: v.index for v in variants}
    by_leaf: Dict[str, List[int]] = {}
    for v in variants:
        by_leaf.setdefault(v.variant.certificates[0].sha256, []).append(v.index)
    out = Matched()
    for h in run.handshakes:
        key = combo_of.get(h.id)
        if key is None:
            continue
        out.by_combo.setdefault(key, []).append(h)
        if h.decision not in ("accepts", "rejects"):
            continue
        ders = h.certificates or h.diagnostic_certificates
        index = None
        if len(ders) > 1:
            index = by_chain.get(hashlib.sha256(b"".join(ders)).hexdigest())
        if index is None and ders:
            leaf = hashlib.sha256(ders[0]).hexdigest()
            candidates = by_leaf.get(leaf, [])
            here = [i for i in candidates if i in served.get(key, {})]
            picked = here if here else candidates
            if len(picked) == 1:
                index = picked[0]
            elif not picked:
                out.new_chains.append(h)
                continue
        if index is None and not ders and len(served.get(key, {})) == 1:
            index = next(iter(served[key]))
        if index is None:
            out.unattributed.append(h)
            continue
        out.by_variant.setdefault(index, []).append(h)
    return out


def answer_for(handshakes, setting: Setting, run, reason: str = "") -> dict:
    """GSKit's answer on one chain, from the handshakes that met it."""
    from ibmi_trust.ibmi.gskprobe import code_words, describe_code

    rejecting = [h for h in handshakes if h.decision == "rejects"]
    accepting = [h for h in handshakes if h.decision == "accepts"]
    chosen = rejecting[0] if rejecting else accepting[0] if accepting else None
    out = {"validator": "gskit", "ran": chosen is not None, "ok": bool(accepting) and not rejecting,
           "decision": "rejects" if rejecting else "accepts" if accepting else None,
           "store": setting.store_field, "implementation": run.implementation if run else None,
           "handshakes": [h.id for h in handshakes], "reason": reason or None}
    if chosen is not None:
        out.update(gsk=describe_code(chosen.gsk_rc), words=code_words(chosen.gsk_rc),
                   gsk_strerror=chosen.gsk_strerror, protocol=chosen.protocol, cipher=chosen.cipher,
                   diagnostic=(chosen.diagnostic or {}).get("validation_code"))
    return out


def settle_all(run, variants, combo_of, setting: Setting) -> Matched:
    """Match the run to the chains and let GSKit decide each one it met."""
    from ibmi_trust.analyse.gskit_referee import settle_gskit

    matched = match(run, variants, combo_of)
    for v in variants:
        handshakes = matched.by_variant.get(v.index, [])
        reason = ""
        if not handshakes:
            reason = _why_not_met(v, matched, run)
        settle_gskit(v.report, answer_for(handshakes, setting, run, reason))
    return matched


def _why_not_met(v, matched: Matched, run) -> str:
    tried = [h for key, hs in matched.by_combo.items() for h in hs if key in
             {(c.address, c.sni) for c in v.variant.combos}]
    if not tried:
        return "no GSKit handshake was made to a combination that served it"
    failed = [h for h in tried if h.decision in ("environment", "no-handshake")]
    if failed:
        return failed[0].words()
    return "GSKit's handshakes to its combinations met other chains"


# -- check ------------------------------------------------------------------------------------
@dataclass
class Referee:
    """What check records: the setting, the run (or why none), the words for the output."""
    available: bool
    reason: str = ""
    program: str = ""
    run: object = None
    error: str = ""

    def words(self) -> str:
        if not self.available:
            return "GSKit handshake unavailable (%s): the verdicts are the GSKit model's" % self.reason
        if self.error:
            return "GSKit handshake failed (%s): the verdicts are the GSKit model's" % self.error
        return "GSKit handshake (%s; %s)" % (self.program, self.run.describe())

    def to_json(self) -> dict:
        return {"kind": "GSKit handshake", "available": self.available, "reason": self.reason or None,
                "program": self.program or None, "error": self.error or None,
                "run": self.run.to_json() if self.run is not None else None}


def referee_check(target, probe_result, variants, store, options) -> Optional[Referee]:
    """Run GSKit's handshakes for a check and let GSKit decide; None where GSKit does
    not judge the store. Environment errors (GSKit cannot open the store) stay
    visible in the JSON and as gskit-no-verdict findings."""
    if not applies(store) or probe_result is None or not variants:
        return None
    setting = setting_for(store, options, target)
    if setting.runner is None:
        return Referee(available=False, reason=setting.reason)
    requests, combo_of = plan(probe_result, variants, target, setting)
    if not requests:
        return Referee(available=False, reason="no combination that served a chain can be handed to GSKPROBE "
                                               "(addresses and names outside its character set)")
    try:
        run = setting.runner.run(requests)
    except IbmiApiError as exc:
        if choice(options) == "gskit":
            raise
        return Referee(available=True, program=setting.runner.describe(), error=exc.message)
    settle_all(run, variants, combo_of, setting)
    return Referee(available=True, program=setting.runner.describe(), run=run)
