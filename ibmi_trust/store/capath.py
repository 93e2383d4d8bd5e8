"""capath:DIR, an OpenSSL hashed directory (sendmail's CACertPath, SSL_CERT_DIR).

One PEM file per CA ("DigiCert_Global_Root_G2.pem") plus the `HHHHHHHH.N`
links OpenSSL looks certificates up by, named and numbered as `openssl
rehash` names them (ibmi_trust.store.rehash). Every write re-links the whole
directory, as `openssl rehash` would, and also drops links whose target is
gone or no longer matches. Files this package did not write are kept; files
it cannot use are reported in `problems`, never fatal.

What a write may touch: certificate and CRL files OpenSSL would link, and
symbolic links that point to a file inside the directory. Links that point
elsewhere (`deadbeef.0 -> /etc/passwd`), regular files named like hash links,
other files and directories are foreign: reported when they matter, their
ids skipped, and never written, replaced, deleted or restored.

What OpenSSL can reach decides `enabled`: a certificate file without a link,
or linked behind a gap in the numbering (lookups stop at the first missing
or broken `.N`), is listed with enabled=False.
"""
import functools
import hashlib
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

from ibmi_trust.certs import Cert
from ibmi_trust.certs.loading import MAX_INPUT_BYTES
from ibmi_trust.errors import CertificateError, StoreError
from ibmi_trust.store import fsops, pemfile
from ibmi_trust.store.base import ChangeReport, ReadProblem, StoreEntry
from ibmi_trust.store.capath_rule import STOP, broken_name_rule
from ibmi_trust.store.filestore import FileStore, Plan, Scan, Step, raise_confirm
from ibmi_trust.certs.der import DerError
from ibmi_trust.store.rehash import (CERT, CRL, REHASH_EXTENSIONS, Link, Linkable,
                                     crl_issuer_der, hash_text, name_hash, number_links,
                                     parse_link_name, subject_hash, visit_order)

Bucket = Tuple[str, int]                    # (CERT or CRL, subject hash)


@dataclass
class Held:
    """What one file that OpenSSL would link holds."""
    linkable: Linkable
    cert: Optional[Cert]                    # None for a CRL


@dataclass
class DirScan(Scan):
    files: Dict[str, Held] = field(default_factory=dict)       # linkable files, in visit order
    links: List[Link] = field(default_factory=list)            # links to those files
    stale: Dict[str, str] = field(default_factory=dict)        # link name -> why it is useless
    reserved: Dict[str, Tuple[str, int, int]] = field(default_factory=dict)  # foreign name -> id
    taken: Set[str] = field(default_factory=set)               # every name, case-folded
    foreign: Dict[str, str] = field(default_factory=dict)      # name -> why it is never touched


class CApathStore(FileStore):
    kind = "capath"

    @property
    def lock_path(self) -> Path:
        """Beside the directory, as the backups are by default: nothing of ours
        inside the CApath but the certificates and their links (a CACertPath
        is read by sendmail, which wants CA files there and nothing else)."""
        return self.path.parent / ("%s-%s.lock" % (fsops.OWN_PREFIX, self.path.name))

    def require_location(self) -> None:
        if not self.path.is_dir():
            what = "is not a directory" if self.path.exists() else "does not exist"
            raise StoreError("%s: %s %s" % (self.spec, self.path, what),
                             hint="a CApath store is an existing directory (create it first if you "
                                  "mean a new one: mkdir -p %s)" % self.path)

    def lookup(self):
        """One subject at a time, as OpenSSL's by_dir reads it (store/capath_lookup.py)."""
        from ibmi_trust.store.capath_lookup import CApathLookup

        self.require_location()
        found = CApathLookup(str(self.path))
        found.problems.extend(self.pending_write_problems())
        return found

    def scan(self, *, for_write: bool = False) -> DirScan:
        self.require_location()
        return scan_directory(self.path)

    def read_copy(self, directory: Path) -> List[StoreEntry]:
        return scan_directory(directory / self.path.name).entries

    # -- planning ---------------------------------------------------------
    def plan_add(self, scan: DirScan, certs: Sequence[Cert]) -> Plan:
        report = ChangeReport(store=self.spec, dry_run=False)
        working = {e.cert.sha256: e for e in scan.entries if e.enabled}
        unlinked: Dict[str, str] = {}
        for name, held in scan.files.items():
            if held.cert is not None:
                unlinked.setdefault(held.cert.sha256, name)
        taken = set(scan.taken)
        new_files: Dict[str, Cert] = {}
        relinked: Dict[str, StoreEntry] = {}
        for cert in certs:
            if cert.sha256 in working:
                report.already_present.append(working[cert.sha256])
            elif cert.sha256 in unlinked:
                relinked[unlinked[cert.sha256]] = StoreEntry(cert, unlinked[cert.sha256], enabled=True)
            else:
                name = file_name_for(cert, taken)
                taken.add(name.casefold())
                new_files[name] = cert
                report.added.append(StoreEntry(cert, name, enabled=True))
        if not report.added and not relinked:
            return Plan(report)
        linkables = {name: held.linkable for name, held in scan.files.items()}
        for name, cert in new_files.items():
            linkables[name] = Linkable(name, CERT, subject_hash(cert), cert.sha256)
        plan, new_links = self._plan(scan, report, linkables, write=new_files, delete=[])
        for name, entry in relinked.items():
            if name in new_links.values():
                report.added.append(entry)
                report.notes.append("%s was in the directory without a usable hash link; linking it" % name)
            else:
                report.already_present.append(StoreEntry(entry.cert, name, enabled=False))
                report.notes.append("%s is in the directory but OpenSSL cannot reach it and re-linking "
                                    "does not help: see the problems `store list` shows" % name)
        return plan if report.added else Plan(report)

    def plan_remove(self, scan: DirScan, matched: List[StoreEntry], report: ChangeReport) -> Plan:
        for entry in [e for e in matched if e.label in scan.foreign]:
            matched.remove(entry)
            report.notes.append("%s is not removed: %s, left alone" % (entry.label, scan.foreign[entry.label]))
        if not matched:
            return Plan(report)
        report.removed = matched
        delete = [e.label for e in matched]
        linkables = {name: held.linkable for name, held in scan.files.items() if name not in delete}
        return self._plan(scan, report, linkables, write={}, delete=delete)[0]

    def _plan(self, scan: DirScan, report: ChangeReport, linkables: Dict[str, Linkable],
              write: Dict[str, Cert], delete: List[str]) -> Tuple[Plan, Dict[str, str]]:
        """The steps that write, re-link and delete; also the links to be (re)made."""
        reserved: Dict[Bucket, Set[int]] = {}
        for name, (kind, hash_value, index) in scan.reserved.items():
            if name not in delete:
                reserved.setdefault((kind, hash_value), set()).add(index)
        wanted = number_links(list(linkables.values()),
                              [link for link in scan.links if link.target in linkables], reserved)
        current = {link.name: link.target for link in scan.links}
        new_links = {name: target for name, target in wanted.items() if current.get(name) != target}
        steps = [Step("write %s (%s)" % (name, cert.subject), functools.partial(self._write_cert, name, cert))
                 for name, cert in write.items()]
        steps += [Step("link %s -> %s" % (name, target),
                       functools.partial(fsops.write_symlink, self.path / name, target, owner=self.owner))
                  for name, target in sorted(new_links.items())]
        for name in visit_order(set(current) | set(scan.stale)):
            if name not in wanted:
                why = ("was -> %s" % current[name]) if name in current else scan.stale[name]
                steps.append(Step("unlink %s (%s)" % (name, why),
                                  functools.partial(fsops.remove, self.path / name)))
        steps += [Step("delete %s" % name, functools.partial(fsops.remove, self.path / name))
                  for name in delete]
        return Plan(report, steps, functools.partial(self._confirm, wanted, write, delete)), new_links

    def _write_cert(self, name: str, cert: Cert) -> None:
        fsops.write_file(self.path / name, cert.pem().encode("ascii"), owner=self.owner)

    def _confirm(self, wanted: Dict[str, str], written: Dict[str, Cert], deleted: List[str]) -> None:
        after = scan_directory(self.path)
        actual = {link.name: link.target for link in after.links}
        if actual != wanted:
            wrong = sorted(set(actual.items()) ^ set(wanted.items()))
            raise_confirm("hash links differ from the plan: %s" % ", ".join("%s -> %s" % w for w in wrong[:5]))
        if after.stale:
            raise_confirm("useless links remain: %s" % ", ".join(sorted(after.stale)))
        for name, cert in written.items():
            held = after.files.get(name)
            if held is None or held.cert is None or held.cert.sha256 != cert.sha256:
                raise_confirm("%s does not hold %s" % (name, cert.subject))
        for name in deleted:
            if os.path.lexists(str(self.path / name)):
                raise_confirm("%s is still there" % name)

    # -- backup and restore ---------------------------------------------------
    def snapshot(self, directory: Path) -> None:
        copy = directory / self.path.name
        copy.mkdir()
        for name in os.listdir(str(self.path)):     # the whole directory; put_back uses only what is ours
            if name.startswith(fsops.OWN_PREFIX):
                continue
            try:
                mode = os.lstat(str(self.path / name)).st_mode
                if stat.S_ISREG(mode) or stat.S_ISLNK(mode):      # never a FIFO or device
                    fsops.copy_item(self.path / name, copy / name)
            except OSError:
                continue  # unreadable: neither copied nor ever touched

    def put_back(self, directory: Path) -> None:
        copy = directory / self.path.name
        if not copy.is_dir():
            raise StoreError("%s holds no copy of %s" % (directory, self.path))
        want, have = _image(copy), _image(self.path)
        for name, item in sorted(want.items(), key=lambda kv: (kv[1][0] == "link", kv[0])):
            if have.get(name) == item:
                continue
            if name not in have and os.path.lexists(str(self.path / name)):
                continue                        # something foreign holds the name now: never replaced
            if item[0] == "link":
                fsops.write_symlink(self.path / name, item[1], owner=self.owner)
            else:
                fsops.write_file(self.path / name, item[1], owner=self.owner, like=os.lstat(str(copy / name)))
        for name in have:
            if name not in want:
                fsops.remove(self.path / name)

    def matches(self, directory: Path) -> bool:
        copy = directory / self.path.name
        return copy.is_dir() and _image(copy) == _image(self.path)

    def tidy(self) -> List[str]:
        return fsops.remove_temp_files(self.path, self.owner)


# -- reading a directory ---------------------------------------------------
def scan_directory(directory: Path) -> DirScan:
    base = str(directory)                       # plain strings: pathlib costs more than the read itself
    try:
        names = os.listdir(base)
    except OSError as exc:
        raise StoreError("cannot read %s: %s" % (directory, exc.strerror or exc)) from None
    scan = DirScan(entries=[], problems=[], taken={n.casefold() for n in names})
    hash_links, hash_others = [], []
    file_links: Set[str] = set()               # certificate files that are themselves symbolic links
    for name in visit_order(names):
        if name.startswith(fsops.OWN_PREFIX):
            continue
        full = os.path.join(base, name)
        try:
            mode = os.lstat(full).st_mode
        except OSError:
            continue
        parsed = parse_link_name(name)
        if parsed is not None:
            (hash_links if stat.S_ISLNK(mode) else hash_others).append((name,) + parsed)
        elif name.lower().endswith(REHASH_EXTENSIONS) and not stat.S_ISDIR(mode):
            if stat.S_ISLNK(mode):
                file_links.add(name)
            held, why = read_linkable(full, name)
            if held is not None:
                scan.files[name] = held
            elif why:
                scan.problems.append(ReadProblem(full, why))
    valid: Dict[Bucket, Dict[int, str]] = {}      # bucket -> id -> name, for reachability
    foreign: Dict[str, Cert] = {}
    usable: Dict[Bucket, Set[int]] = {}           # ids OpenSSL can load (of this subject or another)
    for name, kind, hash_value, index in hash_others:
        scan.reserved[name] = (kind, hash_value, index)
        scan.foreign[name] = "a regular file named like a hash link"
        held, why = read_linkable(directory / name, name)
        if held is not None:
            usable.setdefault((kind, hash_value), set()).add(index)
        if held is not None and (held.linkable.kind, held.linkable.hash) == (kind, hash_value):
            valid.setdefault((kind, hash_value), {})[index] = name
            if held.cert is not None:
                foreign[name] = held.cert
        else:
            scan.problems.append(ReadProblem(str(directory / name), "named like a hash link but "
                                             + (why or _hash_mismatch(held, hash_value))))
    for name, kind, hash_value, index in hash_links:
        try:
            target = os.readlink(str(directory / name))
        except OSError:
            continue                                # gone since listdir: neither used nor touched
        local = scan.files.get(target) if "/" not in target else None
        if local is not None:
            usable.setdefault((kind, hash_value), set()).add(index)
        if local is not None and (local.linkable.kind, local.linkable.hash) == (kind, hash_value):
            scan.links.append(Link(name, kind, hash_value, index, target))
            valid.setdefault((kind, hash_value), {})[index] = target
            continue
        held, why = read_linkable(directory / name, name)
        if held is not None:
            usable.setdefault((kind, hash_value), set()).add(index)
        works = held is not None and (held.linkable.kind, held.linkable.hash) == (kind, hash_value)
        if works or not points_inside(directory, target):
            # not one of ours (kept, its id skipped): it works, or it points outside the directory
            scan.reserved[name] = (kind, hash_value, index)
            scan.foreign[name] = "a link to %s" % target
        if works:
            valid.setdefault((kind, hash_value), {})[index] = name
            if held.cert is not None:
                foreign[name] = held.cert
        elif name in scan.reserved:
            scan.problems.append(ReadProblem(str(directory / name), "-> %s: %s; it points outside the directory, "
                                             "so it is left alone" % (target, why or _hash_mismatch(held, hash_value))))
        else:
            scan.stale[name] = "-> %s: %s" % (target, why or _hash_mismatch(held, hash_value))
            scan.problems.append(ReadProblem(str(directory / name), scan.stale[name]))
    for name in file_links & set(scan.files):
        target = _outside_target(directory, name)
        if target is not None:
            scan.foreign[name] = "a link to %s, outside the directory" % target
    present: Dict[Bucket, Set[int]] = {}          # every id that exists under a hash name, working or not
    for name, kind, hash_value, index in hash_links + hash_others:
        present.setdefault((kind, hash_value), set()).add(index)
    reachable = _reachable(valid, present, usable, directory, scan.problems)
    order = _lookup_order(valid, reachable)
    for name, held in scan.files.items():
        if held.cert is not None:
            scan.entries.append(StoreEntry(held.cert, name, enabled=name in reachable, order=order.get(name)))
    for name, cert in foreign.items():
        scan.entries.append(StoreEntry(cert, name, enabled=name in reachable, order=order.get(name)))
    _report_unlinked(scan, reachable, directory)
    scan.entries.sort(key=lambda e: os.fsencode(e.label))
    return scan


def _reachable(valid: Dict[Bucket, Dict[int, str]], present: Dict[Bucket, Set[int]],
               usable: Dict[Bucket, Set[int]], directory: Path, problems: List[ReadProblem]) -> Set[str]:
    """Names OpenSSL finds: it tries .0, .1, ... and stops at the first id that does
    not exist; an id it cannot load (dangling, unparsable) is skipped or ends the
    lookup as this machine's OpenSSL does (store/capath_rule.py); an id holding
    another subject's certificate is loaded and passed over (by_dir.c)."""
    out: Set[str] = set()
    for bucket, ids in valid.items():
        kind, hash_value = bucket
        exists = present.get(bucket, set()) | set(ids)
        loads = usable.get(bucket, set()) | set(ids)
        index = 0
        while index in exists:
            if index not in loads and broken_name_rule().name == STOP:
                break
            if index in ids:
                out.add(ids[index])
            index += 1
        for lost in sorted(i for i in ids if i > index):
            why = "missing" if index not in exists else "unusable"
            problems.append(ReadProblem(
                str(directory / ("%s.%s%d" % (hash_text(hash_value), kind, lost))),
                "OpenSSL cannot reach it: lookups stop at the %s %s.%s%d"
                % (why, hash_text(hash_value), kind, index)))
    return out


def _lookup_order(valid: Dict[Bucket, Dict[int, str]], reachable: Set[str]) -> Dict[str, tuple]:
    """(hash, .N) of the first link OpenSSL reaches each file by: certificates of one
    subject share a hash, so within a subject this is the order OpenSSL loads them."""
    out: Dict[str, tuple] = {}
    for (kind, hash_value), ids in valid.items():
        if kind != CERT:
            continue
        for index in sorted(ids):
            name = ids[index]
            if name in reachable:
                out.setdefault(name, (hash_value, index))
    return out


def _report_unlinked(scan: DirScan, reachable: Set[str], directory: Path) -> None:
    working = {e.cert.sha256 for e in scan.entries if e.enabled}
    for name, held in scan.files.items():
        if held.cert is not None and name not in reachable and held.cert.sha256 not in working:
            scan.problems.append(ReadProblem(str(directory / name),
                                             "no usable hash link: OpenSSL does not see this certificate "
                                             "(the next write re-links the directory)"))


def _hash_mismatch(held: Optional[Held], expected: int) -> str:
    if held is None:
        return "not a certificate or CRL"
    return "its subject hash is %s, not %s" % (hash_text(held.linkable.hash), hash_text(expected))


def read_linkable(path, name: str):
    """(Held, None) when OpenSSL's rehash would link `path`, else (None, why or None)."""
    path = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None, "broken symbolic link"
    except OSError as exc:
        return None, "cannot read it: %s" % (exc.strerror or exc)
    if stat.S_ISDIR(info.st_mode):
        return None, None
    if not stat.S_ISREG(info.st_mode):
        return None, "not a regular file"
    if info.st_size > MAX_INPUT_BYTES:
        return None, "larger than %d bytes" % MAX_INPUT_BYTES
    try:
        with open(str(path), "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return None, "cannot read it: %s" % (exc.strerror or exc)
    return linkable_content(data, name)


def linkable_content(data: bytes, name: str):
    """Mirror of openssl rehash: exactly one certificate (or one CRL) in PEM."""
    try:
        pem = pemfile.scan(data)
    except CertificateError as exc:
        return None, str(exc)
    if pem.unterminated:                  # OpenSSL's PEM reader gives up on the whole file
        return None, pem.unterminated_text().replace(", ignored", "")
    groups: List[Dict[str, pemfile.PemBlock]] = []
    current: Dict[str, pemfile.PemBlock] = {}
    for block in pem.blocks:
        slot = "cert" if block.is_cert else "crl" if block.is_crl else "key" if block.is_key else None
        if slot is None:
            continue
        if not block.der:
            return None, "its %s block is broken: %s" % (block.label, block.problem or "no content")
        if slot in current:
            groups.append(current)
            current = {}
        current[slot] = block
    if current:
        groups.append(current)
    if not groups:
        return None, "no PEM certificate or CRL in it (OpenSSL's CApath reads PEM only)"
    if len(groups) > 1:
        return None, ("holds %d certificates or CRLs; OpenSSL links only files holding exactly one"
                      % len(groups))
    group = groups[0]
    try:
        if "cert" in group:
            cert = pemfile.cert_of(group["cert"])
            return Held(Linkable(name, CERT, subject_hash(cert), cert.sha256), cert), None
        if "crl" in group:
            der = group["crl"].der
            return Held(Linkable(name, CRL, name_hash(crl_issuer_der(der)), hashlib.sha256(der).hexdigest()),
                        None), None
    except (CertificateError, DerError) as exc:
        return None, str(exc)
    return None, "holds a private key but no certificate"


# -- naming new files --------------------------------------------------------
def file_name_for(cert: Cert, taken: Set[str]) -> str:
    """`Common_Name.pem`, unique among `taken` (case-folded: IFS root is case-insensitive)."""
    base = _slug(cert.common_name) or "ca_" + cert.sha256[:16]
    name, number = base + ".pem", 2
    while name.casefold() in taken:
        name, number = "%s_%d.pem" % (base, number), number + 1
    return name


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9.-]+", "_", ascii_text).strip("._-")[:64].rstrip("._-")


def points_inside(directory: Path, target: str) -> bool:
    """Does a link in `directory` with this target name a file directly inside it?"""
    base = os.path.normpath(str(directory))
    return os.path.dirname(os.path.normpath(os.path.join(base, target))) == base


def _outside_target(directory: Path, name: str) -> Optional[str]:
    """The target of `name` when it is a symbolic link pointing outside `directory`."""
    try:
        target = os.readlink(str(directory / name))
    except OSError:
        return None                                 # not a link
    return None if points_inside(directory, target) else target


def _image(directory: Path) -> Dict[str, tuple]:
    """What this store manages in the directory: what a restore puts back
    (and compares). That is certificate and CRL files OpenSSL would link,
    and links to files inside the directory. Everything else (links
    elsewhere, regular files named like hash links, other files,
    directories) is foreign: never copied, written or deleted."""
    out: Dict[str, tuple] = {}
    for name in os.listdir(str(directory)):
        if name.startswith(fsops.OWN_PREFIX):
            continue
        path = directory / name
        try:
            info = os.lstat(str(path))
            if stat.S_ISLNK(info.st_mode):
                target = os.readlink(str(path))
                if points_inside(directory, target):
                    out[name] = ("link", target)
            elif (stat.S_ISREG(info.st_mode) and parse_link_name(name) is None
                  and name.lower().endswith(REHASH_EXTENSIONS) and info.st_size <= MAX_INPUT_BYTES):
                with open(str(path), "rb") as handle:
                    data = handle.read()
                if linkable_content(data, name)[0] is not None:
                    out[name] = ("file", data, stat.S_IMODE(info.st_mode))
        except OSError:
            continue  # unreadable: neither copied nor ever touched
    return out
