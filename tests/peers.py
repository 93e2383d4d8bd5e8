"""Real third-party peers on loopback: private Postfix and Dovecot instances.

Recipes: ../shared/reference/test-peers.md sections 2 and 3. Each instance
lives in its own temporary directory (nothing in /etc is read or written),
listens on free high ports chosen at start, and is started once per test
session (Postfix takes ~1 s to stop). Fixtures skip, saying why, when the
binaries are missing or we are not root (both need to start as root).

Layout served (both peers):
  127.0.0.1  default dual certificate: A/rsa + A/ec; SNI other.example.test -> A/other
  127.0.0.2  A/rsa only                 127.0.0.3  B/rsa only (a different CA)
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Dict

import pytest

POSTFIX_MASTER = "/usr/lib/postfix/sbin/master"
START_TIMEOUT = 10.0


def missing_reason(binary: str) -> str:
    """Why a peer cannot run here ('' when it can)."""
    if shutil.which(binary) is None and not os.path.exists("/usr/sbin/" + binary):
        return "%s is not installed (scripts/test installs it with apt when run as root)" % binary
    if os.geteuid() != 0:
        return "%s must be started as root" % binary
    return ""


def free_port(addresses=("127.0.0.1",)) -> int:
    """A port number that is free on every address (bound, then released)."""
    for _ in range(50):
        probe = socket.socket()
        probe.bind((addresses[0], 0))
        port = probe.getsockname()[1]
        probe.close()
        if all(_free(addr, port) for addr in addresses[1:]):
            return port
    raise RuntimeError("no common free port on %s" % (addresses,))


def _free(address: str, port: int) -> bool:
    sock = socket.socket()
    try:
        sock.bind((address, port))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def wait_listening(address: str, port: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s during start-up" % (what, proc.returncode))
        try:
            socket.create_connection((address, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("%s did not listen on %s:%d within %ss" % (what, address, port, START_TIMEOUT))


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


# -- Python peers (ibmi_trust.testing.servers) -------------------------------
def creds(issued, *certs):
    """(chain_pem, key_pem) for MailServer: `issued`'s key with exactly these
    certificates, in this order (default: its normal chain, leaf + inter)."""
    chain = b"".join(c.pem().encode("ascii") for c in certs) if certs else issued.chain_pem()
    return chain, issued.key_pem()


def dual(pki, name="A"):
    """The RSA + ECDSA pair of PKI `name`: a dual-certificate server."""
    return [creds(pki[name]["rsa"]), creds(pki[name]["ec"])]


# -- test PKI as files -------------------------------------------------------
def write_pki(pki, directory: str) -> Dict[str, Dict[str, str]]:
    """Files per leaf: leaf.pem, leaf.key, chain.pem (leaf + inter),
    fullchain.pem (key + leaf + inter, Postfix's order). Returns their paths
    and the Issued objects under "issued"."""
    leaves = {
        "A/rsa": pki["A"]["rsa"], "A/ec": pki["A"]["ec"], "B/rsa": pki["B"]["rsa"],
        "A/other": pki["A"]["inter"].leaf(["other.example.test"], key_type="rsa"),
    }
    out = {}
    for name, issued in leaves.items():
        base = os.path.join(directory, name.replace("/", "-"))
        files = {"leaf": base + "-leaf.pem", "key": base + "-leaf.key", "chain": base + "-chain.pem",
                 "fullchain": base + "-fullchain.pem"}
        contents = {"leaf": issued.cert_pem(), "key": issued.key_pem(), "chain": issued.chain_pem(),
                    "fullchain": issued.key_pem() + issued.chain_pem()}
        for kind, path in files.items():
            with open(path, "wb") as fh:
                fh.write(contents[kind])
        out[name] = dict(files, issued=issued)
    return out


# -- Postfix ----------------------------------------------------------------
_POSTFIX_MAIN = """compatibility_level = 3.6
queue_directory = {d}/spool
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.test
mydestination =
relayhost =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
smtpd_banner = $myhostname ESMTP test
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_chain_files = {rsa}, {ec}
tls_server_sni_maps = texthash:{d}/etc/sni
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
"""
_POSTFIX_MASTER_CF = """127.0.0.1:{smtp} inet n - n - - smtpd
127.0.0.1:{submission} inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
127.0.0.1:{smtps} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
127.0.0.2:{smtp} inet n - n - - smtpd
  -o smtpd_tls_chain_files={rsa}
  -o tls_server_sni_maps=
127.0.0.3:{smtp} inet n - n - - smtpd
  -o smtpd_tls_chain_files={b_rsa}
  -o tls_server_sni_maps=
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""
# The queue layout `postfix check` would create (2.6 s on a fresh directory; this takes milliseconds).
_SPOOL = [(d, 0o700, "root") for d in ("active", "bounce", "corrupt", "defer", "deferred", "flush", "hold",
                                        "incoming", "private", "saved", "trace")] + \
         [("maildrop", 0o730, "postdrop"), ("public", 0o710, "postdrop")]


class _Peer:
    """A server process under our control: launched, waited for, stopped."""

    proc = None

    def _launch(self, argv, ports, what: str) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            for port in ports:
                wait_listening("127.0.0.1", port, self.proc, what)
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)


class PostfixPeer(_Peer):
    def __init__(self, directory: str, files):
        self.dir = directory
        self.files = files
        self.ports = {"smtp": free_port(("127.0.0.1", "127.0.0.2", "127.0.0.3")),
                      "submission": free_port(), "smtps": free_port()}

    def start(self) -> "PostfixPeer":
        import grp
        import pwd

        d = self.dir
        os.makedirs(os.path.join(d, "etc"))
        values = dict(self.ports, d=d, rsa=self.files["A/rsa"]["fullchain"], ec=self.files["A/ec"]["fullchain"],
                      b_rsa=self.files["B/rsa"]["fullchain"])
        with open(os.path.join(d, "etc", "main.cf"), "w") as fh:
            fh.write(_POSTFIX_MAIN.format(**values))
        with open(os.path.join(d, "etc", "master.cf"), "w") as fh:
            fh.write(_POSTFIX_MASTER_CF.format(**values))
        with open(os.path.join(d, "etc", "sni"), "w") as fh:
            fh.write("mx.example.test %s, %s\nother.example.test %s\n"
                     % (values["rsa"], values["ec"], self.files["A/other"]["fullchain"]))
        past = time.time() - 60          # Postfix waits (up to ~2 s) for tables modified in the last second
        for name in ("main.cf", "master.cf", "sni"):
            os.utime(os.path.join(d, "etc", name), (past, past))
        postfix_uid = pwd.getpwnam("postfix").pw_uid
        os.makedirs(os.path.join(d, "data"))
        os.chown(os.path.join(d, "data"), postfix_uid, -1)
        os.makedirs(os.path.join(d, "spool", "pid"))
        for name, mode, group in _SPOOL:
            path = os.path.join(d, "spool", name)
            os.mkdir(path)
            os.chmod(path, mode)
            os.chown(path, postfix_uid, grp.getgrnam(group).gr_gid)
        self._launch([POSTFIX_MASTER, "-c", os.path.join(d, "etc"), "-d"], [self.ports["smtp"]], "postfix master")
        return self

    def log(self) -> str:
        try:
            with open(os.path.join(self.dir, "maillog"), errors="replace") as fh:
                return fh.read()
        except OSError:
            return ""


# -- Dovecot ----------------------------------------------------------------
_DOVECOT_CONF = """base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_min_protocol = TLSv1.2
ssl_cert = <{a_rsa_chain}
ssl_key = <{a_rsa_key}
ssl_alt_cert = <{a_ec_chain}
ssl_alt_key = <{a_ec_key}
default_internal_user = dovecot
default_login_user = dovenull
auth_mechanisms = plain
disable_plaintext_auth = yes
passdb {{
  driver = static
  args = password=test
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1 127.0.0.2 127.0.0.3
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1 127.0.0.2 127.0.0.3
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {pop3s}
    ssl = yes
  }}
}}
local_name other.example.test {{
  ssl_cert = <{other_chain}
  ssl_key = <{other_key}
  ssl_alt_cert =
  ssl_alt_key =
}}
local 127.0.0.3 {{
  ssl_cert = <{b_rsa_chain}
  ssl_key = <{b_rsa_key}
  ssl_alt_cert =
  ssl_alt_key =
}}
"""


class DovecotPeer(_Peer):
    def __init__(self, directory: str, files):
        self.dir = directory
        self.files = files
        loopbacks = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
        self.ports = {"imap": free_port(loopbacks), "imaps": free_port(loopbacks),
                      "pop3": free_port(), "pop3s": free_port()}

    def start(self) -> "DovecotPeer":
        d = self.dir
        for sub in ("run", "state", "home"):
            os.makedirs(os.path.join(d, sub))
        f = self.files
        conf = os.path.join(d, "dovecot.conf")
        with open(conf, "w") as fh:
            fh.write(_DOVECOT_CONF.format(
                d=d, a_rsa_chain=f["A/rsa"]["chain"], a_rsa_key=f["A/rsa"]["key"],
                a_ec_chain=f["A/ec"]["chain"], a_ec_key=f["A/ec"]["key"],
                other_chain=f["A/other"]["chain"], other_key=f["A/other"]["key"],
                b_rsa_chain=f["B/rsa"]["chain"], b_rsa_key=f["B/rsa"]["key"], **self.ports))
        self._launch(["dovecot", "-F", "-c", conf],
                     [self.ports[name] for name in ("imap", "imaps", "pop3", "pop3s")], "dovecot")
        return self


# -- fixtures ---------------------------------------------------------------
def world_readable_tempdir(prefix: str) -> str:
    """A fresh directory the daemons' unprivileged users can traverse
    (pytest's own temporary directories are private to root)."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


@pytest.fixture(scope="session")
def peer_pki_files(pki):
    path = world_readable_tempdir("ibmi-trust-pki-")
    yield write_pki(pki, path)
    shutil.rmtree(path, ignore_errors=True)


def _session_peer(cls, binary, files):
    why = missing_reason(binary)
    if why:
        pytest.skip(why)
    path = world_readable_tempdir("ibmi-trust-%s-" % binary)
    peer = cls(path, files)
    try:
        peer.start()
        yield peer
    finally:
        peer.stop()
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postfix(peer_pki_files):
    yield from _session_peer(PostfixPeer, "postfix", peer_pki_files)


@pytest.fixture(scope="session")
def dovecot(peer_pki_files):
    yield from _session_peer(DovecotPeer, "dovecot", peer_pki_files)
