"""The nightly job's target list: an INI file (or JSON) an operator can edit.

    # /home/ITRUST/targets.ini
    [defaults]
    store = *SYSTEM
    warn_days = 30

    [smtp.office365.com:587]
    app_id = QIBM_QTMS_SMTP_CLIENT

    [mail.example.com]
    protocol = smtps
    port = 465

A section name is the target (host or host:port); keys: host, port,
protocol, store, warn_days, app_id, ehlo, resolve (comma list of
HOST:PORT:ADDR entries separated by spaces). A file ending in .json holds
{"defaults": {...}, "targets": [{"host": ..., ...}, ...]} with the same keys.

Both readers are single passes over the text (the INI reader is our own:
configparser's option pattern backtracks quadratically on long lines), and
the input is bounded: MAX_BYTES per file, MAX_LINE characters per INI line,
MAX_DEPTH levels of JSON nesting, MAX_TARGETS targets. Anything beyond is a
one-line ConfigError naming the limit.
"""
import json
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from ibmi_trust.errors import ConfigError, brief, shown

_KEYS = {"host", "port", "protocol", "store", "warn_days", "app_id", "ehlo", "resolve", "name"}
MAX_BYTES = 1024 * 1024
MAX_LINE = 4096
MAX_DEPTH = 8                    # the format needs 3: {"targets": [{...}]}
MAX_TARGETS = 1000
DEFAULTS = "defaults"


class _Malformed(ValueError):
    """The file is not the format it claims (reported as "cannot read")."""


@dataclass
class TargetConfig:
    name: str
    target: str                      # host[:port] as Target.parse reads it
    protocol: Optional[str]
    store: Optional[str]
    warn_days: int
    app_id: Optional[str]
    ehlo: Optional[str]
    resolve: List[str]


def load_config(path: str) -> List[TargetConfig]:
    if not os.path.isfile(path):
        raise ConfigError("configuration file %s does not exist" % path)
    try:
        text = _read_text(path)
        if path.lower().endswith(".json"):
            defaults, entries = _read_json(text)
        else:
            defaults, entries = _read_ini(text)
    except (OSError, _Malformed) as exc:
        raise ConfigError("cannot read %s: %s" % (path, (str(exc).splitlines() or ["?"])[0])) from None
    if len(entries) > MAX_TARGETS:
        raise ConfigError("%s lists %d targets; at most %d are allowed in one file (split it)"
                          % (path, len(entries), MAX_TARGETS))
    targets = [_target(name, {**defaults, **values}, path) for name, values in entries]
    if not targets:
        raise ConfigError("%s lists no targets" % path)
    return targets


def _read_text(path: str) -> str:
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _Malformed("larger than %d bytes" % MAX_BYTES)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _Malformed("not UTF-8 (byte %d)" % exc.start) from None


def _read_ini(text: str) -> Tuple[Dict[str, str], List[Tuple[str, Dict[str, str]]]]:
    """[section] headers, `key = value` / `key: value` lines, # and ; comments,
    indented continuation lines; keys are case-insensitive ([defaults] holds
    the defaults). One pass, no regular expression."""
    sections: Dict[str, Dict[str, str]] = {}
    current: Optional[Dict[str, str]] = None
    last_key: Optional[str] = None
    for number, raw in enumerate(text.splitlines(), 1):
        if len(raw) > MAX_LINE:
            raise _Malformed("line %d is longer than %d characters" % (number, MAX_LINE))
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if raw[0] in " \t" and current is not None and last_key is not None:
            current[last_key] += "\n" + line            # a continuation line
            continue
        if line.startswith("["):
            if not line.endswith("]") or len(line) < 3:
                raise _Malformed("line %d: %s is not a [section] header" % (number, shown(line)))
            name = line[1:-1].strip()
            if name in sections:
                raise _Malformed("line %d: section [%s] appears twice" % (number, name))
            current = sections[name] = {}
            last_key = None
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i > 0), default=-1)
        if cut < 0:
            raise _Malformed("line %d: %s is neither [section] nor key = value" % (number, shown(line)))
        if current is None:
            raise _Malformed("line %d: key before the first [section]" % number)
        key = line[:cut].strip().lower()
        if key in current:
            raise _Malformed("line %d: key %s appears twice in its section" % (number, shown(key)))
        current[key] = line[cut + 1:].strip()
        last_key = key
    defaults = sections.pop(DEFAULTS, {})
    return defaults, list(sections.items())


def _read_json(text: str):
    depth = _json_depth(text)
    if depth > MAX_DEPTH:
        raise _Malformed("JSON nested deeper than %d levels" % MAX_DEPTH)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _Malformed(str(exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("targets"), list) \
            or not isinstance(data.get("defaults") or {}, dict):
        raise _Malformed('expected {"defaults": {...}, "targets": [...]}')
    defaults = {k: str(v) for k, v in (data.get("defaults") or {}).items()}
    entries = []
    for i, item in enumerate(data["targets"], 1):
        if not isinstance(item, dict) or not isinstance(item.get("host"), str) or not item["host"].strip():
            raise _Malformed("target %d has no host" % i)
        entries.append((str(item.get("name") or item["host"]), {k: str(v) for k, v in item.items()}))
    return defaults, entries


def _json_depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings, in one pass (json
    itself recurses, and 100,000 levels would exhaust the stack)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def _target(name: str, values: dict, path: str) -> TargetConfig:
    unknown = set(values) - _KEYS
    if unknown:
        raise ConfigError("%s [%s]: unknown key(s) %s; known: %s" % (path, brief(name), ", ".join(
            brief(k, 40) for k in sorted(unknown)), ", ".join(sorted(_KEYS))))
    host = values.get("host") or name
    port = values.get("port")
    target = host
    if port and not _has_port(host):
        target = "%s:%s" % ("[%s]" % host if ":" in host else host, port)   # a bare ::1 becomes [::1]:PORT
    try:
        warn_days = int(values.get("warn_days", 30))
    except ValueError:
        warn_days = -1
    if not 0 <= warn_days <= 3650:
        raise ConfigError("%s [%s]: warn_days must be a whole number from 0 to 3650" % (path, brief(name)))
    return TargetConfig(
        name=values.get("name") or name, target=target, protocol=values.get("protocol") or None,
        store=values.get("store") or None, warn_days=warn_days, app_id=values.get("app_id") or None,
        ehlo=values.get("ehlo") or None, resolve=(values.get("resolve") or "").split(),
    )


def _has_port(host: str) -> bool:
    if host.startswith("["):
        return "]:" in host
    return host.count(":") == 1
