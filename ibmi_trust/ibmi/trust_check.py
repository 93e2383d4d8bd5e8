"""Does an application trust a CA? And may ibmi-trust add the CA to its list?

What IBM documents (DCM, "Defining a CA trust list for an application",
https://www.ibm.com/docs/en/i/7.5?topic=dcm-defining-ca-trust-list-application):
  "By default, there is no CA trust list and all enabled CAs in the *SYSTEM
  store are trusted. ... If the definition for the application indicates that
  a CA trust list is defined and no CAs are included in the CA trust list,
  all enabled CAs in the *SYSTEM store are trusted. When you add a CA to the
  trust list for an application, you must ensure that the CA is enabled as well."
So MANAGED_CA_TRUSTS = YES (CERTIFICATE_USAGE_INFO: "whether the application
wants the system to manage the list of CA certificates the application
trusts") does NOT mean "restricted": an empty list trusts every enabled CA,
and adding one CA to it would cut the application down to that CA.

How ibmi-trust finds out: QycdCheckCACertTrust (QICSS/QYCDCUSG, IBM i 7.4,
https://ibm.com/support/knowledgecenter/ssw_ibm_i_74/apis/qycdchct.htm)
"will verify that the CA certificates, identified by the list of labels, are
trusted by the application. If the application is managing its own list of
trusted CA certificates, or does not support client authentication, then this
API will not verify the list ... and will return the appropriate return
indicator." Its label list holds POINTERS to NUL-terminated labels, which
XMLSERVICE cannot build; install-objects therefore compiles ITRCATRST
(cl/itrcatrst.clle), an ILE CL wrapper that builds the entry and passes the
indicator back, and this module calls it through XMLSERVICE.

The one-character indicator codes are not in the material available when
this was written: CHECK_INDICATORS below is UNCONFIRMED and settable with
IBMI_TRUST_CA_CHECK_INDICATORS ("1=trusted,0=not-trusted,2=own-list,3=no-client-auth");
any other answer is "unknown". On unknown ibmi-trust never adds anything.

The rule (decide): add a CA to a list only when the application has DCM
manage its list, the check says NOT trusted (so the list is not empty, or
the CA is disabled), the CA is not known to be disabled, and the operator
gave explicit consent (--add-to-trust-list, or `store trust --add`). The
decision says what adding changes and the command that does it.
"""
import os
from dataclasses import asdict, dataclass
from typing import Dict, Optional

from ibmi_trust.errors import ConfigError, IbmiApiError
from ibmi_trust.ibmi import apiparm

CHECKER_PROGRAM = "ITRCATRST"
INDICATOR_ENV = "IBMI_TRUST_CA_CHECK_INDICATORS"
TRUSTED, NOT_TRUSTED, OWN_LIST, NO_CLIENT_AUTH, UNKNOWN = (
    "trusted", "not-trusted", "own-list", "no-client-auth", "unknown")
DEFAULT_INDICATORS = "1=trusted,0=not-trusted,2=own-list,3=no-client-auth"     # UNCONFIRMED

# decision actions
NOTHING, ADDED, NEEDS_CONSENT, ENABLE_IN_DCM, NOT_DECIDED = "none", "added", "needs-consent", "enable-in-dcm", "unknown"


def indicators() -> Dict[str, str]:
    raw = os.environ.get(INDICATOR_ENV, "").strip() or DEFAULT_INDICATORS
    table = {}
    for part in raw.split(","):
        code, _, state = part.partition("=")
        if len(code.strip()) != 1 or state.strip() not in (TRUSTED, NOT_TRUSTED, OWN_LIST, NO_CLIENT_AUTH):
            raise ConfigError("%s: %r is not CODE=STATE (states: trusted, not-trusted, own-list, no-client-auth)"
                              % (INDICATOR_ENV, part.strip()))
        table[code.strip()] = state.strip()
    return table


@dataclass
class TrustCheck:
    label: str
    state: str                 # TRUSTED, NOT_TRUSTED, OWN_LIST, NO_CLIENT_AUTH or UNKNOWN
    detail: str = ""           # the indicator, or why the state is unknown


def check(session, app_id: str, label: str, library: Optional[str]) -> TrustCheck:
    """QycdCheckCACertTrust for one label, through ITRCATRST in `library`."""
    if not library:
        return TrustCheck(label, UNKNOWN, "the ibmi-trust library is not known here, so %s cannot be called "
                                          "(run `ibmi-trust install-objects --library LIB`)" % CHECKER_PROGRAM)
    try:
        out = session.call_program(
            "QycdCheckCACertTrust", CHECKER_PROGRAM,
            [apiparm.fixed_char("app_id", app_id, 100), apiparm.int4("app_id_len", len(app_id)),
             apiparm.fixed_char("ca_label", label, 1024), apiparm.int4("ca_label_len", len(label)),
             apiparm.fixed_char("indicator", "", 1)],
            lib=library, outputs=("indicator",))
    except IbmiApiError as exc:
        reason = exc.message
        if "1000005" in reason or "resolve" in reason.lower():
            reason += " (is %s/%s installed? `ibmi-trust install-objects --library %s`; the API needs IBM i 7.4)" % (
                library, CHECKER_PROGRAM, library)
        return TrustCheck(label, UNKNOWN, reason)
    code = str(out.get("indicator") or "").strip()
    return TrustCheck(label, indicators().get(code, UNKNOWN), "return indicator %r" % code)


@dataclass
class TrustDecision:
    app_id: str
    label: str
    state: str                 # the check's state
    action: str                # NOTHING, ADDED, NEEDS_CONSENT, ENABLE_IN_DCM, NOT_DECIDED
    reason: str                # what IBM's rules make of it, and what adding changes
    next_command: str = ""     # the command that acts on it, complete enough to paste

    def as_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        return self.reason + ((": " + self.next_command) if self.next_command else "")


def consent_command(app_id: str, label: str) -> str:
    return "ibmi-trust store trust --store '*SYSTEM' --app-id %s --add %s" % (app_id, _shell_word(label))


def decide(app, result: TrustCheck, enabled: Optional[bool], consent: bool) -> TrustDecision:
    """What to do about `result.label` for application `app` (trustlist.Application)."""
    app_id, label = app.app_id, result.label
    if not app.manages_ca_trust:
        return TrustDecision(app_id, label, OWN_LIST, NOTHING,
                             "%s does not have DCM manage a CA trust list (MANAGED_CA_TRUSTS=NO): there is no "
                             "DCM list to add %s to" % (app_id, label))
    if result.state == TRUSTED:
        return TrustDecision(app_id, label, TRUSTED, NOTHING,
                             "%s trusts %s already (its CA trust list is empty, which trusts every enabled CA "
                             "in *SYSTEM, or lists it): nothing added" % (app_id, label))
    if result.state == OWN_LIST:
        return TrustDecision(app_id, label, OWN_LIST, NOTHING,
                             "%s manages its own list of trusted CAs, which DCM does not check: nothing added; "
                             "see that application's own configuration" % app_id)
    if result.state == NO_CLIENT_AUTH:
        return TrustDecision(app_id, label, NO_CLIENT_AUTH, NOTHING,
                             "%s does not do client authentication, which DCM's CA trust lists are for: "
                             "nothing added" % app_id)
    if result.state != NOT_TRUSTED:
        return TrustDecision(app_id, label, UNKNOWN, NOT_DECIDED,
                             "whether %s trusts %s is unknown (%s): nothing was added. Check it in DCM (Manage "
                             "Applications > Define CA trust list)" % (app_id, label, result.detail),
                             "ibmi-trust doctor")
    if enabled is False:
        return TrustDecision(app_id, label, NOT_TRUSTED, ENABLE_IN_DCM,
                             "%s is disabled in *SYSTEM, so no application trusts it: enable it in DCM (Manage "
                             "Certificates > Set CA status); adding it to a CA trust list would not help" % label)
    change = ("%s does not trust %s: its CA trust list names the CAs it trusts and %s is not on it. Adding %s "
              "makes %s trust %s as well; the CAs already on the list stay trusted" % (
                  app_id, label, label, label, app_id, label))
    if enabled is None:
        change += (". (Confirm first in DCM that %s is enabled: a disabled CA is trusted by nobody, and if "
                   "%s's list were empty, adding %s would make it trust %s only)" % (label, app_id, label, label))
    if consent:
        return TrustDecision(app_id, label, NOT_TRUSTED, ADDED, change)
    return TrustDecision(app_id, label, NOT_TRUSTED, NEEDS_CONSENT, change + ". Not added without your consent",
                         consent_command(app_id, label))


def _shell_word(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"
