"""`ibmi-trust --version --verbose`: what a support ticket asks first.

One line each: the package, Python, the OpenSSL of the ssl module and the
`openssl` command ibmi-trust runs (openssl_binary.find()), cryptography and
the OpenSSL it uses, click, pyodbc, itoolkit, the platform (the IBM i
release under PASE) and the root program a fix would take roots from.

Every line is computed on its own and says "unknown (...)" rather than fail:
the report is most wanted when something is broken. pyodbc and itoolkit are
not imported (IBM i-only modules load only inside ibmi_trust/ibmi/): their
versions come from the installed distributions' metadata. Plain `--version`
does not come here (cli/fast.py answers it at once).
"""
import os
import sys

NOT_INSTALLED = "not installed"
OPENSSL_TIMEOUT = 5.0                   # seconds for `openssl version`


def verbose_report() -> str:
    from ibmi_trust import __version__

    lines = []
    for label, describe in _ITEMS:
        try:
            value = describe()
        except Exception as exc:        # never fail: say what went wrong instead
            value = "unknown (%s: %s)" % (type(exc).__name__, exc)
        lines.append((label, value))
    width = max(len(label) for label, _ in lines) + 2
    return "ibmi-trust %s\n" % __version__ + "".join("%-*s%s\n" % (width, label + ":", value) for label, value in lines)


def python_line() -> str:
    return "%s (%s) %s" % (sys.version.split()[0], sys.implementation.name, sys.executable or "?")


def ssl_line() -> str:
    import ssl

    return ssl.OPENSSL_VERSION


def openssl_command_line() -> str:
    from ibmi_trust import openssl_binary

    binary = openssl_binary.find()
    if binary is None:
        return "not found (set %s=/path/to/openssl)" % openssl_binary.ENV
    try:
        done = openssl_binary.run(binary, ["version"], timeout=OPENSSL_TIMEOUT)
    except Exception as exc:
        return "%s (cannot run it: %s)" % (binary, exc)
    text = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0 or not text:
        return "%s (`openssl version` exited %d)" % (binary, done.returncode)
    return "%s: %s" % (binary, text[0])


def cryptography_line() -> str:
    version = distribution_version("cryptography")
    if version == NOT_INSTALLED:
        return version
    try:
        from cryptography.hazmat.backends.openssl.backend import backend

        return "%s (%s)" % (version, backend.openssl_version_text())
    except Exception as exc:            # installed but broken: the version still helps
        return "%s (cannot load it: %s: %s)" % (version, type(exc).__name__, exc)


def distribution_version(name: str) -> str:
    """The installed version of distribution `name`, without importing it."""
    from importlib import metadata, util

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "present, version not recorded" if util.find_spec(name) else NOT_INSTALLED


def platform_line(uname=None, on_ibmi=None) -> str:
    """Under PASE, the IBM i release from uname's version and release fields
    (what `uname -v` and `uname -r` print: IBM documents them as the version
    level and the release level, "uname - Return system name", QShell
    utilities, https://www.ibm.com/support/knowledgecenter/ja/ssw_ibm_i_73/rzahz/rzahzuname.htm);
    that they read 7 and 5 on IBM i 7.5 is listed in
    docs/verify-on-your-system.md. Elsewhere: the kernel's name, release and
    machine. os.uname() is the same call as the command, without a process."""
    if on_ibmi is None:
        from ibmi_trust.platform import is_ibmi as on_ibmi
    u = (uname or os.uname)()
    if on_ibmi():
        release = "%s.%s" % (u.version, u.release) if (u.version + u.release).isdigit() else "release unknown"
        return "IBM i %s (PASE; uname -s %s, -v %s, -r %s, -m %s)" % (release, u.sysname, u.version, u.release,
                                                                      u.machine)
    return "%s %s %s" % (u.sysname, u.release, u.machine)


def root_program_line() -> str:
    from ibmi_trust.fetch.roots import default_candidates

    for name, path in default_candidates():
        if path and os.path.isfile(path):
            return "%s %s (the default; --roots FILE picks another)" % (name, path)
    return "none found (pass --roots FILE to fix, or install certifi)"


_ITEMS = (
    ("python", python_line),
    ("ssl module", ssl_line),
    ("openssl command", openssl_command_line),
    ("cryptography", cryptography_line),
    ("click", lambda: distribution_version("click")),
    ("pyodbc", lambda: distribution_version("pyodbc")),
    ("itoolkit", lambda: distribution_version("itoolkit")),
    ("platform", platform_line),
    ("root program", root_program_line),
)
