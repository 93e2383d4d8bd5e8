"""`ibmi-trust store list|add|remove|apps|backup|restore --store SPEC`."""
import functools

import click


def _store_options(func):
    """Options every store subcommand takes (IBM i ones are passed through)."""
    options = [
        click.option("--store", "spec", metavar="SPEC",
                     help="*SYSTEM (default on IBM i), /path/STORE.KDB, capath:DIR or bundle:FILE."),
        click.option("--backup-dir", type=click.Path(file_okay=False), metavar="DIR",
                     help="Keep backups here (default: beside the store)."),
        click.option("--retention", type=click.IntRange(min=1), default=10, show_default=True,
                     help="Backups kept per store; older ones are deleted."),
        click.option("--lock-timeout", type=click.FloatRange(min=0), default=10.0, show_default=True,
                     help="Seconds to wait for another writer."),
        click.option("--password-env", metavar="NAME",
                     help="IBM i stores: environment variable holding the store password."),
        click.option("--password-file", type=click.Path(dir_okay=False), metavar="PATH",
                     help="IBM i stores: file (readable only by its owner) holding the password."),
        click.option("--app-id", metavar="ID",
                     help="IBM i: check that this application trusts the CAs (DCM CA trust list)."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _open(kwargs):
    from ibmi_trust.store.spec import StoreOptions, open_store

    options = StoreOptions(
        password_env=kwargs.pop("password_env"), password_file=kwargs.pop("password_file"),
        backup_dir=kwargs.pop("backup_dir"), retention=kwargs.pop("retention"),
        app_id=kwargs.pop("app_id"), lock_timeout=kwargs.pop("lock_timeout"),
    )
    return open_store(kwargs.pop("spec"), options)


def _with_store(func):
    """Open the store from the common options and pass it on."""
    @_store_options
    @click.pass_context
    @functools.wraps(func)
    def wrapper(ctx, **kwargs):
        as_json = kwargs.pop("as_json")
        store = _open(kwargs)
        func(ctx, store, as_json, **kwargs)
        ctx.exit(0)
    return wrapper


@click.group(name="store")
def command():
    """List and change a trust store.

    \b
    Stores (--store):
      *SYSTEM                 IBM i system store (the default on IBM i)
      /path/STORE.KDB         another IBM i certificate store
      capath:DIR              OpenSSL hashed directory (sendmail CACertPath)
      bundle:FILE             PEM bundle (an application's CAfile)

    Every change takes a lock, backs the store up first, writes atomically,
    re-reads the store to confirm and rolls back on any failure.
    """


@command.command(name="list")
@click.option("--long", "long_form", is_flag=True, help="Several lines per CA: subject, SHA-256, issuer, validity, state.")
@click.option("--expiring", type=click.IntRange(-36500, 36500), metavar="DAYS",
              help="Only CAs that expire within DAYS days (expired ones included).")
@click.option("--grep", "pattern", metavar="TEXT",
              help="Only CAs whose label, subject, issuer or SHA-256 contains TEXT (any case).")
@_with_store
def list_command(ctx, store, as_json, long_form, expiring, pattern):
    """Show the CAs in the store, one line each, soonest expiry first:
    expiry date, days left, label (or file), subject CN, short SHA-256."""
    import datetime

    from ibmi_trust.words import whole_days

    entries = store.list()
    problems = store.problems
    notes = getattr(store, "notes", [])
    now = datetime.datetime.now(datetime.timezone.utc)
    shown = sorted((e for e in entries if _selected(e, expiring, pattern, now)),
                   key=lambda e: (e.cert.not_after, e.label))
    if as_json:
        from ibmi_trust.cli.output import emit_json
        from ibmi_trust.jobs.render import SCHEMA_VERSION

        emit_json({"schema_version": SCHEMA_VERSION, "kind": "store-list", "store": store.spec,
                   "total": len(entries), "filter": {"expiring_days": expiring, "grep": pattern},
                   "entries": [dict(e.summary(), days_left=whole_days(e.cert.days_left(now))) for e in shown],
                   "problems": [vars(p) for p in problems], "notes": notes})
        return
    records_state = getattr(store, "records_enabled_state", False)
    if long_form:
        for entry in shown:
            click.echo(_entry_text(entry, records_state))
    elif shown:
        click.echo(_table(shown, now, records_state))
    if expiring is None and not pattern:
        click.echo("%d certificate(s) in %s" % (len(entries), store.spec))
    else:
        click.echo("%d of %d certificate(s) in %s%s%s" % (
            len(shown), len(entries), store.spec, " expire within %d days" % expiring if expiring is not None else "",
            " match %r" % pattern if pattern else ""))
    for note in notes:
        click.echo("note: %s" % note)
    for problem in problems:
        click.echo("problem: %s: %s" % (problem.where, problem.reason), err=True)


def _selected(entry, expiring, pattern, now) -> bool:
    if expiring is not None and entry.cert.days_left(now) > expiring:
        return False
    if pattern:
        wanted = pattern.casefold()
        cert = entry.cert
        return any(wanted in text.casefold() for text in (entry.label, cert.subject, cert.issuer, cert.sha256))
    return True


def _table(entries, now, records_state: bool) -> str:
    from ibmi_trust.words import short_fingerprint, whole_days

    label_width = min(40, max(len("LABEL"), max(len(_label(e, records_state, 999)) for e in entries)))
    name_width = min(40, max(len("SUBJECT CN"), max(len(e.cert.common_name or "") for e in entries)))
    rows = ["%-10s  %6s  %-*s  %-*s  %s" % ("EXPIRES", "DAYS", label_width, "LABEL", name_width, "SUBJECT CN",
                                           "SHA-256")]
    for entry in entries:
        cert = entry.cert
        rows.append("%-10s  %6d  %-*s  %-*s  %s" % (
            cert.not_after.strftime("%Y-%m-%d"), whole_days(cert.days_left(now)), label_width,
            _label(entry, records_state, label_width), name_width, (cert.common_name or cert.subject)[:name_width],
            short_fingerprint(cert.sha256)))
    return "\n".join(rows)


def _label(entry, records_state: bool, width: int) -> str:
    """The label, cut to `width` with its state marker kept whole."""
    marker = ""
    if entry.enabled is False:
        marker = " [disabled]"
    elif entry.enabled is None and records_state:
        marker = " [state?]"
    return entry.label[:max(1, width - len(marker))] + marker


@command.command(name="add")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--trust-root", "trust_roots", multiple=True, metavar="SHA256",
              help="Approve this root (self-issued) certificate by its SHA-256; repeatable.")
@click.option("--dry-run", is_flag=True, help="Show the plan; change nothing.")
@click.option("--add-to-trust-list", is_flag=True,
              help="IBM i, with --app-id: consent to add a CA to the application's CA trust list when that "
                   "list restricts trust and lacks it (never done to an empty list).")
@_with_store
def add_command(ctx, store, as_json, files, trust_roots, dry_run, add_to_trust_list):
    """Add the CA certificates in FILES (PEM, DER or PKCS#7).

    A root certificate is added only with --trust-root naming its SHA-256.
    Certificates already in the store are reported and left alone. A server
    certificate in the files (a fullchain.pem) is skipped with a note: a
    trust store holds CA certificates.
    """
    from ibmi_trust.certs import load_certificate_file
    from ibmi_trust.cli.common import normalise_fingerprints
    from ibmi_trust.errors import FixRefused
    from ibmi_trust.store.approval import check_addable, split_server_certificates, unused_approvals

    normalise_fingerprints(trust_roots)          # not a SHA-256: a usage error (exit 3), as in fix
    certs = list(dict.fromkeys(c for path in files for c in load_certificate_file(path)))
    certs, skipped = split_server_certificates(certs)
    for cert in skipped:
        click.echo("note: skipped %s (sha256 %s): not a CA certificate (a server's own certificate does not "
                   "belong in a trust store)" % (cert.subject, cert.sha256), err=True)
    if not certs:
        raise FixRefused("%s hold%s no CA certificate; a trust store holds CA certificates"
                         % (", ".join(files), "s" if len(files) == 1 else ""), hint="add the CA that issued it instead")
    try:
        check_addable(certs, trust_roots)
    except FixRefused as exc:                   # the whole command, to paste once the fingerprints are checked
        from ibmi_trust.store.approval import unapproved_roots

        roots = unapproved_roots(certs, trust_roots)
        if roots:
            import shlex

            words = ["ibmi-trust", "store", "add"] + list(files) + ["--store", store.spec]
            for fingerprint in list(trust_roots) + [c.sha256 for c in roots]:
                words += ["--trust-root", fingerprint]
            exc.hint = "check each fingerprint with the CA out of band, then: %s" % shlex.join(words)
        raise
    if add_to_trust_list:
        _require_app_id(store, "--add-to-trust-list")
        store.options.extend_trust_list = True
    for unused in unused_approvals(certs, trust_roots):
        click.echo("warning: --trust-root %s matches none of the certificates given" % unused, err=True)
    _show_report(store.add(certs, dry_run=dry_run), as_json)


@command.command(name="remove")
@click.argument("selectors", nargs=-1, required=True)
@click.option("--dry-run", is_flag=True, help="Show the plan; change nothing.")
@_with_store
def remove_command(ctx, store, as_json, selectors, dry_run):
    """Remove certificates by SHA-256 fingerprint or by label (as `store list` shows).

    When any SELECTOR matches nothing, nothing is removed (exit 5).
    """
    from ibmi_trust.errors import FixRefused

    planned = store.remove(selectors, dry_run=True)
    if planned.not_found:
        raise FixRefused("nothing in %s matches %s; nothing was removed" % (
            store.spec, ", ".join(planned.not_found)),
            hint="`ibmi-trust store list --store %s --grep TEXT` shows labels and fingerprints"
                 % _quoted(store.spec))
    _show_report(planned if dry_run else store.remove(selectors), as_json)


@command.command(name="apps")
@_with_store
def apps_command(ctx, store, as_json):
    """IBM i: applications for which DCM manages a CA trust list.

    From QSYS2.CERTIFICATE_USAGE_INFO, MANAGED_CA_TRUSTS = YES. An empty
    list trusts every enabled CA in *SYSTEM; a list with CAs on it trusts
    only those (IBM: "Defining a CA trust list for an application").
    """
    from ibmi_trust.errors import ConfigError

    lister = getattr(store, "applications_with_own_ca_list", None)
    if lister is None:
        raise ConfigError("%s has no application definitions: only IBM i stores (*SYSTEM, .KDB) have them" % store.spec)
    apps = lister()
    if as_json:
        from ibmi_trust.cli.output import emit_json

        emit_json(_document("store-apps", store, applications=[vars(app) for app in apps]))
        return
    for app in apps:
        click.echo("%-40s %-8s %-10s %s" % (app.app_id, app.app_type, app.store, app.description))
    click.echo("%d application(s) have DCM manage a CA trust list (an empty list trusts every enabled CA in *SYSTEM)"
               % len(apps))


@command.command(name="trust")
@click.argument("labels", nargs=-1, required=True)
@click.option("--add", is_flag=True,
              help="Add each CA the application's CA trust list lacks, where that list restricts trust "
                   "(your explicit consent; an empty list, which trusts every enabled CA, is never added to).")
@_with_store
def trust_command(ctx, store, as_json, labels, add):
    """IBM i: does the application --app-id trust these *SYSTEM CAs (LABELS as
    `store list` shows them)? Asks DCM (QycdCheckCACertTrust), says what
    adding a CA to the application's CA trust list would change, and with
    --add does it.
    """
    _require_app_id(store, "store trust")
    _show_report(store.trust(labels, add=add), as_json)


def _require_app_id(store, what: str) -> None:
    from ibmi_trust.errors import ConfigError

    if not hasattr(store, "trust"):
        raise ConfigError("%s applies to IBM i *SYSTEM only: application CA trust lists name *SYSTEM CAs" % what)
    if not getattr(store.options, "app_id", None):
        raise ConfigError("%s needs --app-id ID" % what, hint="`ibmi-trust store apps` lists the application IDs")


@command.command(name="backup")
@_with_store
def backup_command(ctx, store, as_json):
    """Back the store up now."""
    backup = store.backup()
    if as_json:
        from ibmi_trust.cli.output import emit_json

        emit_json(_document("store-backup", store, backup=vars(backup)))
        return
    click.echo("backup %s in %s" % (backup.id, backup.location))


@command.command(name="restore")
@click.argument("backup_id", required=False)
@click.option("--list", "list_only", is_flag=True, help="List the backups; restore nothing.")
@click.option("--dry-run", is_flag=True, help="Show what restoring would change; change nothing.")
@_with_store
def restore_command(ctx, store, as_json, backup_id, list_only, dry_run):
    """Put back a backup (the newest without BACKUP_ID); the current state is backed up first."""
    if list_only:
        backups = store.backups()
        if as_json:
            from ibmi_trust.cli.output import emit_json

            emit_json(_document("store-backups", store, backups=[vars(b) for b in backups]))
            return
        for backup in backups:
            click.echo("%s  %s" % (backup.id, backup.location))
        click.echo("%d backup(s) of %s" % (len(backups), store.spec))
        return
    _show_report(store.restore(backup_id, dry_run=dry_run), as_json)


# -- text output ------------------------------------------------------------
def _entry_text(entry, records_enabled_state: bool = False) -> str:
    from ibmi_trust.words import fingerprint

    cert = entry.cert
    lines = ["%s  %s" % (entry.label, cert.subject),
             "    SHA-256  %s" % fingerprint(cert.sha256),
             "    issuer   %s" % ("(self-issued)" if cert.self_issued else cert.issuer),
             "    valid    %s to %s%s" % (cert.not_before.date(), cert.not_after.date(), _validity_flag(cert))]
    if entry.enabled is not None or records_enabled_state:
        lines.append("    enabled  %s" % {True: "yes", False: "no (trusted by no application)", None: "unknown"}[entry.enabled])
    if entry.trusted is not None:
        lines.append("    trusted  %s" % ("yes" if entry.trusted else "no"))
    return "\n".join(lines)


def _validity_flag(cert) -> str:
    import datetime

    now = datetime.datetime.now(datetime.timezone.utc)
    if now > cert.not_after:
        return "  EXPIRED"
    if now < cert.not_before:
        return "  NOT YET VALID"
    return ""


def _document(kind: str, store, **fields) -> dict:
    """A JSON document of a store command: schema_version, kind, store, fields."""
    from ibmi_trust.jobs.render import SCHEMA_VERSION

    return dict({"schema_version": SCHEMA_VERSION, "kind": kind, "store": store.spec}, **fields)


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _show_report(report, as_json: bool) -> None:
    if as_json:
        from ibmi_trust.cli.output import emit_json
        from ibmi_trust.jobs.render import SCHEMA_VERSION

        emit_json(dict({"schema_version": SCHEMA_VERSION, "kind": "store-change"}, **report.summary()))
        return
    if report.dry_run:
        click.echo("dry run: nothing was changed")
    added, removed = ("would add", "would remove") if report.dry_run else ("added", "removed")
    for verb, entries in ((added, report.added), ("present", report.already_present), (removed, report.removed)):
        for entry in entries:
            click.echo("%-9s %s  %s  SHA-256 %s" % (verb, entry.label, entry.cert.subject, entry.cert.sha256))
    for selector in report.not_found:
        click.echo("not found %s" % selector)
    if report.backup is not None:
        click.echo("backup    %s in %s" % (report.backup.id, report.backup.location))
    for note in report.notes:
        click.echo("  %s" % note)
    if not report.changed and not report.dry_run:
        click.echo("nothing to change in %s" % report.store)


@command.command(name="audit")
@click.option("--roots", metavar="FILE",
              help="Root program bundle to compare roots with (default: certifi, PASE's Mozilla bundle, the system "
                   "bundle).")
@click.option("--warn-days", type=click.IntRange(0, 3650), default=60, show_default=True,
              help="WARNING for a CA that expires within N days (further ahead than check: replacing an anchor "
                   "takes planning).")
@click.option("--nagios", is_flag=True, help="Print one monitoring status line with perfdata.")
@click.option("--history", "history_spec", metavar="PATH|db2:LIB",
              help="The history whose chains to check for what they depend on (default: as check).")
@click.option("--no-history", is_flag=True, help="Do not read the history.")
@click.option("--history-window", type=click.IntRange(1, 3650), default=30, show_default=True, metavar="DAYS",
              help="Chains seen within the last DAYS days count.")
@_store_options
@click.pass_context
def audit_command(ctx, roots, warn_days, nagios, history_spec, no_history, history_window, **kwargs):
    """Audit the store: expired and expiring CAs (anchors included), roots the
    root program does not hold, SHA-1 or small-key CAs, duplicates, disabled
    CAs (IBM i), and which chains seen lately (the history) depend on each.

    \b
    Exit codes as check: 0 OK, 1 WARNING, 2 CRITICAL (a CA a recently seen
    chain depends on has expired), 3 UNKNOWN (with --nagios: could not audit),
    4 store error.
    """
    from ibmi_trust.errors import IbmiTrustError

    as_json = kwargs.pop("as_json")
    try:
        result = _audit(roots, warn_days, history_spec, no_history, history_window, kwargs)
    except IbmiTrustError as exc:
        if not nagios:
            raise
        from ibmi_trust.jobs.audit import unknown_line

        click.echo(unknown_line(exc.message))        # the plugin guidelines: a status line for every outcome
        ctx.exit(3)
    if as_json:
        from ibmi_trust.cli.output import emit_json

        emit_json(result.to_json())
    elif nagios:
        from ibmi_trust.jobs.audit import nagios_line

        click.echo(nagios_line(result))
    else:
        from ibmi_trust.jobs.audit import audit_text

        click.echo(audit_text(result))
    ctx.exit(result.exit_code)


def _audit(roots, warn_days, history_spec, no_history, history_window, kwargs):
    from ibmi_trust.cli.common import build_history
    from ibmi_trust.errors import CertificateError, ConfigError
    from ibmi_trust.fetch import RootProgram
    from ibmi_trust.jobs.audit import run_audit

    try:
        program = RootProgram.from_file(roots) if roots else RootProgram.default()
    except (CertificateError, OSError) as exc:
        raise ConfigError("--roots %s: %s" % (roots, getattr(exc, "message", None) or exc)) from None
    journal = build_history(history_spec=history_spec, no_history=no_history, history_window=history_window)
    store = _open(kwargs)
    return run_audit(store, root_program=program, journal=journal, warn_days=warn_days)
