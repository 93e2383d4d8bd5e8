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
"""
import configparser
import json
import os
from dataclasses import dataclass
from typing import List, Optional

from ibmi_trust.errors import ConfigError

_KEYS = {"host", "port", "protocol", "store", "warn_days", "app_id", "ehlo", "resolve", "name"}


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
        if path.lower().endswith(".json"):
            defaults, entries = _read_json(path)
        else:
            defaults, entries = _read_ini(path)
    except (OSError, ValueError, configparser.Error) as exc:
        raise ConfigError("cannot read %s: %s" % (path, str(exc).splitlines()[0])) from None
    targets = [_target(name, {**defaults, **values}, path) for name, values in entries]
    if not targets:
        raise ConfigError("%s lists no targets" % path)
    return targets


def _read_ini(path):
    parser = configparser.ConfigParser(interpolation=None, default_section="defaults")
    with open(path, encoding="utf-8") as handle:
        parser.read_file(handle)
    defaults = dict(parser.defaults())
    entries = [(name, dict(parser.items(name))) for name in parser.sections()]
    return defaults, entries


def _read_json(path):
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("targets"), list) \
            or not isinstance(data.get("defaults") or {}, dict):
        raise ValueError('expected {"defaults": {...}, "targets": [...]}')
    defaults = {k: str(v) for k, v in (data.get("defaults") or {}).items()}
    entries = []
    for i, item in enumerate(data["targets"], 1):
        if not isinstance(item, dict) or not isinstance(item.get("host"), str) or not item["host"].strip():
            raise ValueError("target %d has no host" % i)
        entries.append((str(item.get("name") or item["host"]), {k: str(v) for k, v in item.items()}))
    return defaults, entries


def _target(name: str, values: dict, path: str) -> TargetConfig:
    unknown = set(values) - _KEYS
    if unknown:
        raise ConfigError("%s [%s]: unknown key(s) %s; known: %s" % (path, name, ", ".join(sorted(unknown)), ", ".join(sorted(_KEYS))))
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
        raise ConfigError("%s [%s]: warn_days must be a whole number from 0 to 3650" % (path, name))
    return TargetConfig(
        name=values.get("name") or name, target=target, protocol=values.get("protocol") or None,
        store=values.get("store") or None, warn_days=warn_days, app_id=values.get("app_id") or None,
        ehlo=values.get("ehlo") or None, resolve=(values.get("resolve") or "").split(),
    )


def _has_port(host: str) -> bool:
    if host.startswith("["):
        return "]:" in host
    return host.count(":") == 1
