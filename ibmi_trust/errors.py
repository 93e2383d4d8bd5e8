"""The exception tree and exit codes, in one place.

Modeled on httpx: one base class, one branch per stage. Expected failures
raise a subclass of IbmiTrustError carrying a one-line message (and perhaps a
hint); the CLI boundary (ibmi_trust.cli) turns it into that line on stderr and
the exit code below, never a traceback. Trust gaps are not exceptions: the
analysis returns them as data (ibmi_trust.analyse).
"""

# Exit codes. 0-3 follow the monitoring-plugin convention (conventions.md).
EXIT_OK = 0
EXIT_WARNING = 1
EXIT_CRITICAL = 2
EXIT_UNKNOWN = 3          # could not probe / could not run
EXIT_STORE = 4            # trust store could not be read or written (left as it was)
EXIT_REFUSED = 5          # fix refused (unapproved root, operator declined, nothing safe to add)
EXIT_ROLLED_BACK = 6      # fix imported, re-probe failed, store rolled back
EXIT_PARTIAL = 7          # fix --partial: the fixable chains fixed and proven, the blocked ones still fail


class IbmiTrustError(Exception):
    """Base of every expected failure."""

    exit_code = EXIT_UNKNOWN

    def __init__(self, message: str, *, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(IbmiTrustError):
    """Bad option value, configuration file or environment."""


# --- probe ---------------------------------------------------------------
class ProbeError(IbmiTrustError):
    """Could not obtain a chain from the server."""


class ResolveError(ProbeError):
    """The host name does not resolve."""


class ConnectError(ProbeError):
    """TCP connection refused, unreachable or timed out."""


class ConnectTimeout(ConnectError):
    """No TCP answer within the time allowed (a stall, not a refusal)."""


class ProbeTimeout(ProbeError):
    """The server stopped answering mid-conversation."""


class ProbeDeadline(ProbeTimeout):
    """The whole probe's time limit ran out during this conversation."""


class StartTLSError(ProbeError):
    """The plaintext dialogue before TLS failed."""


class NoStartTLS(StartTLSError):
    """The server does not offer STARTTLS / STLS."""


class StartTLSRefused(StartTLSError):
    """The server answered STARTTLS with an error (454, 5xx, NO, -ERR)."""


class BadGreeting(StartTLSError):
    """The server greeted with an error or something that is not the protocol."""


class HandshakeError(ProbeError):
    """The TLS handshake failed (alert, reset, not TLS at all)."""


# --- trust stores --------------------------------------------------------
class StoreError(IbmiTrustError):
    """A trust store could not be read or written; it was left as it was."""

    exit_code = EXIT_STORE


class StoreLocked(StoreError):
    """Another writer holds the store lock."""


class StoreWriteError(StoreError):
    """A write failed; the store was rolled back to its backup."""


class IbmiApiError(StoreError):
    """An IBM i API, SQL statement or XMLSERVICE call failed."""

    def __init__(self, message: str, *, api: str = "", message_id: str = "", hint: str = ""):
        super().__init__(message, hint=hint)
        self.api = api
        self.message_id = message_id


class PasswordError(StoreError):
    """The store password could not be obtained safely."""


# --- sourcing and fixing ------------------------------------------------
class FetchError(IbmiTrustError):
    """A download (AIA) failed; usually reported as a finding, not raised."""


class CertificateError(IbmiTrustError):
    """Input that should be a certificate is not one."""


class BadCertificateName(CertificateError):
    """A certificate whose subject or issuer cannot be read as text (e.g. a
    UTF8String holding bytes that are not UTF-8); the message shows the name
    with the bad bytes escaped."""


class FixRefused(IbmiTrustError):
    """fix will not do what it was asked (unapproved root, declined)."""

    exit_code = EXIT_REFUSED


class RolledBack(IbmiTrustError):
    """fix imported, the re-probe did not prove the fix, the store was restored."""

    exit_code = EXIT_ROLLED_BACK


# --- showing untrusted text in a message --------------------------------
SHOWN_LIMIT = 80


def shown(value, limit: int = SHOWN_LIMIT) -> str:
    """`value` quoted for a one-line message: control characters escaped and,
    past `limit` characters, cut with its full length said (a 10 KB host name
    is echoed as 80 characters, once)."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return "%r... (%d characters)" % (text[:limit], len(text))


def brief(value, limit: int = SHOWN_LIMIT) -> str:
    """`value` as it is when short and printable, else as `shown` gives it."""
    text = str(value)
    return text if len(text) <= limit and text.isprintable() else shown(text, limit)
