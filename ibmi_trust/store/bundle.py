"""bundle:FILE, a PEM bundle (an application's CAfile, a ca-bundle.pem).

Entries are the certificate blocks in file order, labelled "#1", "#2", ...
`add` appends each new CA with a short comment header; `remove` cuts a
block out together with its header (the non-blank lines directly above it)
and leaves every other byte as it was. Every rewrite is a temporary file in
the same directory, fsync'ed and renamed over the bundle, keeping its mode
and owner. A bundle that is a symbolic link is written where it points
(the link stays). A missing bundle is created by `add` when its directory
exists; reading a missing bundle is an error.
"""
import datetime
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

from ibmi_trust.certs import Cert
from ibmi_trust.certs.loading import CERT_LABELS, MAX_INPUT_BYTES, MAX_PROBLEMS_LISTED, scan_pem
from ibmi_trust.errors import CertificateError, StoreError
from ibmi_trust.store import fsops, pemfile
from ibmi_trust.store.base import ChangeReport, ReadProblem, StoreEntry
from ibmi_trust.store.filestore import FileStore, Plan, Scan, Step, raise_confirm


@dataclass
class Block:
    label: str                 # "#N"
    cut_from: int              # start of its header comment (or of the block)
    cut_to: int                # just after the END line's line break
    cert: Optional[Cert]


@dataclass
class BundleScan(Scan):
    data: Optional[bytes] = None          # None: the file does not exist
    blocks: List[Block] = field(default_factory=list)


class BundleStore(FileStore):
    kind = "bundle"

    def __init__(self, path: Path, options):
        super().__init__(path, options)
        self.target = Path(os.path.realpath(str(self.path)))   # where writes go

    @property
    def lock_path(self) -> Path:
        return self.target.parent / ("%s-%s.lock" % (fsops.OWN_PREFIX, self.target.name))

    def require_location(self) -> None:
        if not self.target.parent.is_dir():
            raise StoreError("%s: the directory %s does not exist" % (self.spec, self.target.parent))
        if self.target.exists() and not self.target.is_file():   # before a lock file is made beside it
            raise StoreError("%s: %s is not a regular file" % (self.spec, self.target))

    def scan(self, *, for_write: bool = False) -> BundleScan:
        data = _read(self.target, missing_ok=for_write, spec=self.spec)
        return parse_bundle(data, str(self.path))

    def lookup(self):
        """The bundle read once and indexed by subject, Certs made only for what
        a lookup names (store/bundle_lookup.py)."""
        from ibmi_trust.store.bundle_lookup import BundleLookup

        found = BundleLookup(_read(self.target, missing_ok=False, spec=self.spec), str(self.path))
        found.problems.extend(self.pending_write_problems())
        return found

    def read_copy(self, directory: Path) -> List[StoreEntry]:
        copy = directory / self.path.name
        return parse_bundle(_read(copy, missing_ok=True, spec=self.spec), str(copy)).entries

    # -- planning ---------------------------------------------------------
    def plan_add(self, scan: BundleScan, certs: Sequence[Cert]) -> Plan:
        report = ChangeReport(store=self.spec, dry_run=False)
        present = {e.cert.sha256: e for e in scan.entries}
        text = scan.data or b""
        count = len(scan.blocks)
        for cert in certs:
            if cert.sha256 in present:
                report.already_present.append(present[cert.sha256])
                continue
            count += 1
            entry = StoreEntry(cert, "#%d" % count)
            present[cert.sha256] = entry
            report.added.append(entry)
        if not report.added:
            return Plan(report)
        new_text = text + _appendix(text, [e.cert for e in report.added])
        what = "append %d certificate(s) to %s" % (len(report.added), self.target)
        if scan.data is None:
            what = "create %s with %d certificate(s)" % (self.target, len(report.added))
        return self._plan(report, scan, new_text, what)

    def plan_remove(self, scan: BundleScan, matched: List[StoreEntry], report: ChangeReport) -> Plan:
        if not matched:
            return Plan(report)
        report.removed = matched
        labels = {e.label for e in matched}
        text = scan.data or b""
        for block in reversed(scan.blocks):
            if block.label in labels:
                start, end = _widen_for_blank_line(text, block.cut_from, block.cut_to)
                text = text[:start] + text[end:]
        return self._plan(report, scan, text, "rewrite %s without %s" % (self.target, ", ".join(
            e.label for e in matched)))

    def _plan(self, report: ChangeReport, scan: BundleScan, new_text: bytes, what: str) -> Plan:
        expected = [e.cert.sha256 for e in parse_bundle(new_text, str(self.path)).entries]
        return Plan(report, [Step(what, lambda: self._write(new_text, report))],
                    lambda: self._confirm(new_text, expected, report))

    def _write(self, data: bytes, report: ChangeReport) -> None:
        like = _stat_or_none(self.target)
        report.notes.extend(fsops.write_file(self.target, data, owner=self.owner, like=like))

    def _confirm(self, written: bytes, expected: List[str], report: ChangeReport) -> None:
        data = _read(self.target, missing_ok=False, spec=self.spec)
        if data != written:
            raise_confirm("%s does not hold the bytes just written" % self.target)
        found = [e.cert.sha256 for e in parse_bundle(data, str(self.path)).entries]
        if found != expected:
            raise_confirm("%s does not list the planned certificates" % self.target)
        missing = [e.label for e in report.added if e.cert.sha256 not in found]
        kept = [e.label for e in report.removed if e.cert.sha256 in found]
        if missing or kept:
            raise_confirm("%s: not added %s, not removed %s" % (self.target, missing, kept))

    # -- backup and restore ---------------------------------------------------
    def snapshot(self, directory: Path) -> None:
        if os.path.lexists(str(self.target)):
            fsops.copy_item(self.target, directory / self.path.name)

    def put_back(self, directory: Path) -> None:
        copy = directory / self.path.name
        if os.path.lexists(str(copy)):
            fsops.write_file(self.target, copy.read_bytes(), owner=self.owner, like=os.lstat(str(copy)))
        else:
            fsops.remove(self.target)    # the bundle did not exist when the backup was taken

    def matches(self, directory: Path) -> bool:
        return _image(directory / self.path.name) == _image(self.target)

    def tidy(self) -> List[str]:
        return fsops.remove_temp_files(self.target.parent, self.owner)


# -- reading ----------------------------------------------------------------
def parse_bundle(data: Optional[bytes], where: str) -> BundleScan:
    scan = BundleScan(entries=[], problems=[], data=data)
    for number, label, block, before, cert in read_blocks(data, where, pemfile.cert_of, scan.problems):
        previous_end = _line_end(data, before) if before is not None else 0
        scan.blocks.append(Block(label, _header_start(data, block.start, previous_end), _line_end(data, block.end),
                                 cert))
        if cert is not None:
            scan.entries.append(StoreEntry(cert, label, order=(number,)))
    return scan


def read_blocks(data: Optional[bytes], where: str, read: Callable, problems: List[ReadProblem]):
    """(number, "#N", block, before, read(block) or None) of each certificate
    block in file order (a certs.loading.RawBlock), listing in `problems` what
    cannot be read (read raises CertificateError); `before` is where the PEM
    block before it ended (None for the first), after which its header comment
    may start. Shared by the whole read (parse_bundle) and the index the
    analysis uses (store/bundle_lookup.py), so both report the same problems."""
    if not data:
        return []
    try:
        pem = scan_pem(data)
    except CertificateError as exc:               # past the work budget (certs.loading)
        raise StoreError("%s: %s" % (where, exc)) from None
    out = []
    before = None
    number = broken = 0
    for block in pem.blocks:
        if block.label not in CERT_LABELS:
            before = block.end
            continue
        number += 1
        label = "#%d" % number
        try:
            item = read(block)
        except CertificateError as exc:
            item = None
            broken += 1
            if broken <= MAX_PROBLEMS_LISTED:
                problems.append(ReadProblem("%s %s" % (where, label), str(exc)))
        out.append((number, label, block, before, item))
        before = block.end
    if broken > MAX_PROBLEMS_LISTED:
        problems.append(ReadProblem(where, "%d more unreadable certificate blocks not listed"
                                    % (broken - MAX_PROBLEMS_LISTED)))
    if pem.unterminated:
        problems.append(ReadProblem(where, pem.unterminated_text()))
    if number == 0:
        problems.append(ReadProblem(where, "holds no PEM certificate"))
    return out


def _read(path: Path, *, missing_ok: bool, spec: str) -> Optional[bytes]:
    try:
        info = os.stat(str(path))
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError()
        if not stat.S_ISREG(info.st_mode):        # a pipe would block, a device never end
            raise StoreError("%s: %s is not a regular file" % (spec, path))
        if info.st_size > MAX_INPUT_BYTES:
            raise StoreError("%s: %s is larger than %d bytes" % (spec, path, MAX_INPUT_BYTES))
        with open(str(path), "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        if missing_ok and path.parent.is_dir():
            return None
        raise StoreError("%s: %s does not exist" % (spec, path),
                         hint="add creates a new bundle when its directory exists") from None
    except IsADirectoryError:
        raise StoreError("%s: %s is a directory (use capath:%s)" % (spec, path, path)) from None
    except OSError as exc:
        raise StoreError("%s: cannot read %s: %s" % (spec, path, exc.strerror or exc)) from None


def _line_end(data: bytes, pos: int) -> int:
    """Just after the line break that ends the line containing `pos` (or EOF)."""
    newline = data.find(b"\n", pos)
    return len(data) if newline < 0 else newline + 1


def _header_start(data: bytes, begin: int, floor: int) -> int:
    """Start of the non-blank lines directly above `begin`, not before `floor`."""
    start = begin
    while start > floor:
        line_start = data.rfind(b"\n", floor, start - 1) + 1
        line_start = max(line_start, floor)
        if not data[line_start:start].strip():
            break
        start = line_start
    return start


def _widen_for_blank_line(data: bytes, start: int, end: int) -> Tuple[int, int]:
    """Also drop one blank line after the cut when one precedes it (no double gaps)."""
    before_blank = start == 0 or data[:start].endswith((b"\n\n", b"\r\n\r\n"))
    after = _line_end(data, end) if end < len(data) else end
    if before_blank and end < len(data) and not data[end:after].strip():
        return start, after
    return start, end


def _appendix(text: bytes, certs: List[Cert]) -> bytes:
    out = b"" if not text or text.endswith(b"\n") else b"\n"
    separator = b"\n" if b"\n\n" in text else b""
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    for cert in certs:
        header = "# %s\n# SHA-256 %s, added by ibmi-trust %s\n" % (_printable(cert.subject), cert.sha256, today)
        out += separator + header.encode("utf-8") + cert.pem().encode("ascii")
    return out


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _stat_or_none(path: Path) -> Optional[os.stat_result]:
    try:
        return os.stat(str(path))
    except FileNotFoundError:
        return None


def _image(path: Path):
    try:
        with open(str(path), "rb") as handle:
            return handle.read(), os.stat(str(path)).st_mode & 0o7777
    except FileNotFoundError:
        return None
