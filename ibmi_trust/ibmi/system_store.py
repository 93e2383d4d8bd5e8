"""SystemStore: the TrustStore for IBM i `*SYSTEM` and other DCM .KDB stores.

Reading (issue 4; ref 1, 5): QSYS2.CERTIFICATE_INFO (with *NOPWD first) gives
the DCM labels; the certificate bytes come from a QYKMEXPK export to a
temporary PKCS#12 (CERTIFICATE_INFO carries no certificate body, ref 1.4),
joined by label.

Adding (ref 4, 6, 8): skip what is present (same fingerprint, or same public
key: QYKMIMPK would skip it silently anyway), then under the write protocol
of ibmi_trust.store.transaction (lock, backup of KDB/RDB, write, confirm,
roll back): build a certificates-only PKCS#12 with labels from the subjects,
QYKMIMPK it, export again and confirm each certificate is now there. With
--app-id, DCM is asked whether that application trusts each CA
(QycdCheckCACertTrust, ibmi_trust.ibmi.trust_check); a CA is added to its
list (QycdAddCACertTrust) only when the list restricts trust, lacks the CA,
and the operator consented (--add-to-trust-list). An empty list trusts
every enabled CA and is never added to.

Removing: no documented API removes one certificate from a DCM store (ref 3;
DCM-tools does it through IBM's Java key store only), so remove() refuses
and points to DCM.

The *SYSTEM store path is /QIBM/UserData/ICSS/Cert/Server/DEFAULT.KDB
(ref 10); IBMI_TRUST_SYSTEM_KDB (or options.system_kdb) points elsewhere,
e.g. at a test copy.
"""
import contextlib
import os
import secrets
from typing import Iterable, List, Optional, Sequence

from ibmi_trust.certs import Cert
from ibmi_trust.errors import ConfigError, PasswordError, StoreError
from ibmi_trust.ibmi import cert_info, kdb_backup, keystore_api, password, pkcs12_import, trust_check, trustlist
from ibmi_trust.platform import is_ibmi
from ibmi_trust.store.base import Backup, ChangeReport, ReadProblem, StoreEntry, TrustStore
from ibmi_trust.store.transaction import Transaction, pending_write

DEFAULT_SYSTEM_KDB = "/QIBM/UserData/ICSS/Cert/Server/DEFAULT.KDB"
SYSTEM = "*SYSTEM"


def system_kdb_path(options=None) -> str:
    return (getattr(options, "system_kdb", None) or os.environ.get("IBMI_TRUST_SYSTEM_KDB")
            or DEFAULT_SYSTEM_KDB)


def gskit_partial_chain() -> bool:
    """Does GSKit end a chain at any trusted CA in the store (an intermediate
    without its root)? UNCONFIRMED (docs/verify-on-your-system.md); assumed
    yes, IBMI_TRUST_GSKIT_PARTIAL_CHAIN=0 makes the analysis demand a root."""
    return os.environ.get("IBMI_TRUST_GSKIT_PARTIAL_CHAIN", "1").strip() not in ("0", "no", "false")


class SystemStore(TrustStore):
    validator = "gskit"             # IBM i System TLS judges chains against this store

    @property
    def partial_chain_anchors(self) -> bool:
        return gskit_partial_chain()

    def __init__(self, spec: str, options=None, *, session=None):
        spec = spec.strip()
        self.is_system = spec.upper() == SYSTEM
        self.spec = SYSTEM if self.is_system else spec
        self.options = options
        self.kdb_path = system_kdb_path(options) if self.is_system else spec
        if not self.kdb_path.startswith("/"):
            raise ConfigError("a DCM store is named by its full IFS path (starting with /), not %r" % spec)
        if session is None and not is_ibmi():
            raise ConfigError("%s is an IBM i certificate store; on this machine use --store capath:DIR or bundle:FILE"
                              % self.spec)
        self._session = session
        self._problems: List[ReadProblem] = []
        app_id = getattr(options, "app_id", None)
        if app_id and not self.is_system:
            raise ConfigError("--app-id applies to *SYSTEM only: application CA trust lists name *SYSTEM CAs")

    @property
    def session(self):
        if self._session is None:
            from ibmi_trust.ibmi.session import IbmiSession

            self._session = IbmiSession()
        return self._session

    @property
    def sql_store_name(self) -> str:
        """What CERTIFICATE_INFO takes: *SYSTEM or the path (ref 1.2)."""
        return SYSTEM if self.is_system else self.kdb_path

    @property
    def problems(self) -> List[ReadProblem]:
        return list(self._problems)

    # -- reading -------------------------------------------------------------
    def list(self) -> List[StoreEntry]:
        with self._password() as secret:
            return self._entries(secret)

    @property
    def records_enabled_state(self) -> bool:
        """DCM records an enabled state for every CA (known or not to us)."""
        return True

    @property
    def notes(self) -> List[str]:
        if cert_info.status_column():
            return []
        return ["enabled state of the CAs: unknown (CERTIFICATE_INFO documents no status column; DCM shows it "
                "under Manage Certificates > Set CA status, and a disabled CA is trusted by no application). "
                "Set %s when your release has such a column (docs/verify-on-your-system.md)"
                % cert_info.STATUS_ENV]

    def _entries(self, secret) -> List[StoreEntry]:
        rows = cert_info.read(self.session, self.sql_store_name, secret)
        if not rows and not self.is_system:
            self._refuse_non_store()
        exported = keystore_api.export_store(self.session, self.kdb_path, self._api_password(secret))
        entries, self._problems = join(rows, exported)
        unfinished = pending_write(kdb_backup.lock_path(self.kdb_path, self.options))
        if unfinished:
            self._problems.append(ReadProblem(where=self.spec, reason=unfinished))
        return entries

    def _refuse_non_store(self) -> None:
        """CERTIFICATE_INFO: "If the file name does not identify a certificate store, no rows
        are returned" (rzajqudfcertificateinfo.htm). Say so before any export is tried."""
        if not os.path.exists(self.kdb_path):
            raise StoreError("%s does not exist" % self.kdb_path,
                             hint="name an existing .KDB certificate store (DCM: Select a Certificate Store)")
        raise StoreError("%s is not a certificate store (CERTIFICATE_INFO lists no certificate in it)"
                         % self.kdb_path,
                         hint="check the path in DCM (Select a Certificate Store); an empty store cannot be "
                              "read either: put one CA into it first")

    @contextlib.contextmanager
    def _password(self):
        secret = password.obtain(self.options)
        try:
            yield secret
        finally:
            if secret is not None:
                secret.wipe()

    def _api_password(self, secret):
        if secret is not None:
            return secret
        if password.api_nopwd_enabled():
            return password.NOPWD
        raise PasswordError("reading or changing the certificates of %s needs the store password "
                            "(QYKMEXPK/QYKMIMPK)" % self.spec, hint=password.required_hint())

    # -- adding ------------------------------------------------------------------
    def add(self, certs: Sequence[Cert], *, dry_run: bool = False) -> ChangeReport:
        report = ChangeReport(store=self.spec, dry_run=dry_run)
        app_id = getattr(self.options, "app_id", None)
        app = trustlist.require(self.session, app_id) if app_id else None
        with self._password() as secret:
            if dry_run:
                new = self._plan(certs, self._entries(secret), report)
                report.added = [StoreEntry(cert=c, label=label) for c, label in new]
                if app is not None and new:
                    report.notes.append(
                        "after the import ibmi-trust asks DCM whether %s trusts %s (QycdCheckCACertTrust); it "
                        "adds a CA to %s's list only if that list restricts trust and lacks it, and only with "
                        "--add-to-trust-list" % (app.app_id, ", ".join(label for _c, label in new), app.app_id))
                self._decide_trust(app, report.already_present, report, consent=False)
                return report
            with Transaction(kdb_backup.guard(self.spec, self.kdb_path, self.options)) as txn:
                new = self._plan(certs, self._entries(secret), report)
                if new:
                    report.backup = txn.write(lambda: self._import(new, secret, report),
                                              lambda: self._confirm(new, secret, report, app))
                    report.notes.append(kdb_backup.backup_note(report.backup))
                report.notes.extend(txn.notes)
        self._decide_trust(app, report.already_present, report, consent=self._consent())
        return report

    def trust(self, labels: Sequence[str], *, add: bool = False) -> ChangeReport:
        """`store trust`: does --app-id trust these CAs of *SYSTEM; with add=True (the
        operator's explicit consent) add those a restricting list lacks."""
        app_id = getattr(self.options, "app_id", None)
        if not app_id:
            raise ConfigError("`store trust` needs --app-id ID (see `ibmi-trust store apps`)")
        app = trustlist.require(self.session, app_id)
        report = ChangeReport(store=self.spec, dry_run=not add)
        with self._password() as secret:
            by_label = {e.label.upper(): e for e in self._entries(secret)}
        wanted = []
        for label in labels:
            entry = by_label.get(label.strip().upper())
            if entry is None:
                report.not_found.append(label)
            else:
                wanted.append(entry)
        self._decide_trust(app, wanted, report, consent=add)
        return report

    def _consent(self) -> bool:
        return bool(getattr(self.options, "extend_trust_list", False))

    def _plan(self, certs: Sequence[Cert], current: List[StoreEntry], report: ChangeReport):
        by_sha = {e.cert.sha256: e for e in current}
        by_key = {e.cert.spki_sha256: e for e in current}
        fresh: List[Cert] = []
        for cert in _unique(certs):
            present = by_sha.get(cert.sha256)
            same_key = by_key.get(cert.spki_sha256)
            if present is not None:
                report.already_present.append(present)
            elif same_key is not None or any(c.spki_sha256 == cert.spki_sha256 for c in fresh):
                holder = same_key.label if same_key else "another certificate of this request"
                report.already_present.append(StoreEntry(cert=cert, label=holder))
                report.notes.append("%s has the same public key as %s (a re-issue or cross-certificate); "
                                    "DCM keeps one certificate per key, so it is not imported"
                                    % (cert.subject, holder))
            else:
                fresh.append(cert)
        labels = pkcs12_import.make_labels(fresh, [e.label for e in current])
        return list(zip(fresh, labels))

    def _import(self, new, secret, report: ChangeReport) -> None:
        one_time = secrets.token_urlsafe(24).encode("ascii")
        data, labels_carried = pkcs12_import.build_import_file(new, one_time)
        if not labels_carried:
            report.notes.append("this cryptography cannot write PKCS#12 friendly names and no openssl binary "
                                "was found: DCM chose the labels")
        keystore_api.import_certificates(self.session, self.kdb_path, self._api_password(secret), data, one_time)

    def _confirm(self, new, secret, report: ChangeReport, app) -> None:
        """QYKMIMPK skips duplicates silently (ref 4.1): read the store again."""
        after = {e.cert.sha256: e for e in self._entries(secret)}
        missing = [label for cert, label in new if cert.sha256 not in after]
        if missing:
            raise StoreError("QYKMIMPK reported success but %s is not in the store (DCM skipped it: "
                             "same label or public key?)" % ", ".join(missing))
        for cert, label in new:
            entry = after[cert.sha256]
            report.added.append(entry)
            if entry.label != label:
                report.notes.append("%s was stored with label %r (asked for %r)" % (cert.subject, entry.label, label))
        # Inside the write: a failure to extend a trust list puts the store files back.
        self._decide_trust(app, report.added, report, consent=self._consent())

    def _decide_trust(self, app, entries: Sequence[StoreEntry], report: ChangeReport, *, consent: bool) -> None:
        """Check, decide and (with consent) add each CA for the application (trust_check)."""
        if app is None or not entries:
            return
        library = _install_library()
        added: List[str] = []
        for entry in entries:
            result = (trust_check.check(self.session, app.app_id, entry.label, library) if app.manages_ca_trust
                      else trust_check.TrustCheck(entry.label, trust_check.OWN_LIST))
            decision = trust_check.decide(app, result, entry.enabled, consent)
            if decision.action == trust_check.ADDED and not report.dry_run:
                try:
                    trustlist.add_ca_trust(self.session, app.app_id, [entry.label])
                except StoreError as exc:
                    already = (" (already on its list: %s; entries in QUSRSYS/QYCDCERTI are not put back by "
                               "a file restore)" % ", ".join(added)) if added else ""
                    raise StoreError("adding %s to the CA trust list of %s failed: %s%s"
                                     % (entry.label, app.app_id, exc.message, already)) from None
                added.append(entry.label)
                after = trust_check.check(self.session, app.app_id, entry.label, library)
                decision.reason += "; added to %s's CA trust list%s" % (
                    app.app_id, "" if after.state == trust_check.TRUSTED
                    else " (DCM now reports %s: %s)" % (after.state, after.detail))
            elif decision.action == trust_check.ADDED:
                decision.action = trust_check.NEEDS_CONSENT
                decision.reason = "would add: " + decision.reason
            report.trust_list.append(decision.as_dict())
            report.notes.append(decision.text())

    def applications_with_own_ca_list(self) -> List[trustlist.Application]:
        """Applications for which DCM manages a CA trust list (MANAGED_CA_TRUSTS = YES);
        an empty list trusts every enabled CA."""
        return trustlist.managed_applications(self.session)

    # -- removing ------------------------------------------------------------
    def remove(self, selectors: Iterable[str], *, dry_run: bool = False) -> ChangeReport:
        raise StoreError(
            "removing a certificate from %s is not supported: IBM documents no API that removes "
            "one certificate from a DCM store" % self.spec,
            hint="remove it in Digital Certificate Manager (Manage Certificates > Remove), or put "
                 "a backup back with `ibmi-trust store restore`")

    # -- backups ------------------------------------------------------------------
    def backup(self) -> Backup:
        if not kdb_backup.companions(self.kdb_path):
            raise StoreError("%s has no store files at %s" % (self.spec, self.kdb_path))
        guard = kdb_backup.guard(self.spec, self.kdb_path, self.options)
        with Transaction(guard):          # finishes an interrupted write before copying
            made = guard.backups.create(guard.snapshot)
            guard.backups.prune()
        return made

    def backups(self) -> List[Backup]:
        return kdb_backup.backup_area(self.kdb_path, self.options).list()

    def restore(self, backup_id: Optional[str] = None, *, dry_run: bool = False) -> ChangeReport:
        guard = kdb_backup.guard(self.spec, self.kdb_path, self.options)
        target = guard.backups.find(backup_id)
        report = ChangeReport(store=self.spec, dry_run=dry_run)
        report.notes.append(kdb_backup.RESTORE_NOTE)
        if dry_run:
            report.notes.insert(0, "would restore backup %s" % target.id)
            return report
        copy = target.location

        def confirm():
            if not kdb_backup.matches(self.kdb_path, copy):
                raise StoreError("the store files differ from backup %s after the copy" % target.id)

        with Transaction(guard) as txn:
            report.backup = txn.write(lambda: kdb_backup.put_back(self.kdb_path, copy), confirm)
            report.notes.extend(txn.notes)
        report.notes.insert(0, "restored backup %s (the state before it is backup %s)" % (target.id, report.backup.id))
        report.notes.append(kdb_backup.backup_note(report.backup))
        return report


# -- helpers ---------------------------------------------------------------------
def join(rows: List[dict], exported) -> tuple:
    """Entries from export + CERTIFICATE_INFO rows, and the problems found."""
    by_label = {row["label"]: row for row in rows if row.get("label")}
    by_serial = {_serial(row.get("serial")): row for row in rows if row.get("serial")}
    entries, matched = [], set()
    for cert, name in exported:
        row = by_label.get(name) if name else None
        if row is None:
            row = by_serial.get(format(cert.serial, "X"))
        label = (row or {}).get("label") or name or "(no label) %s" % cert.sha256[:16]
        if row is not None:
            matched.add(row["label"])
        # IBM: all ENABLED CAs in *SYSTEM are trusted by default; a disabled one by nobody.
        enabled = (row or {}).get("enabled")
        entries.append(StoreEntry(cert=cert, label=label, enabled=enabled, trusted=enabled))
    problems = [ReadProblem(where=label, reason="listed by CERTIFICATE_INFO but missing from the QYKMEXPK export")
                for label in by_label if label not in matched]
    return entries, problems


def _serial(value) -> str:
    text = str(value or "").replace(":", "").replace(" ", "").upper().lstrip("0")
    return text or "0"


def _unique(certs: Sequence[Cert]) -> List[Cert]:
    seen, out = set(), []
    for cert in certs:
        if cert.sha256 not in seen:
            seen.add(cert.sha256)
            out.append(cert)
    return out


def _install_library() -> Optional[str]:
    """Where install-objects put ITRCATRST, or None (the trust check then says so)."""
    from ibmi_trust.ibmi import install_record

    try:
        return install_record.library()
    except ConfigError:
        return None
