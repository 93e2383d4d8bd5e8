"""The gate every sourced certificate passes before it is offered.

A certificate obtained by AIA, from a root program or from a --from file is
only used as `child`'s issuer when it names and signs `child`, is a CA
(basicConstraints), may sign certificates (keyUsage, when present) and is
valid now. Otherwise the reason is returned and it is not used.
"""
import datetime
from typing import Callable, Optional

from ibmi_trust.analyse.names import issuer_name_matches
from ibmi_trust.certs import Cert


def candidate_problem(child: Cert, candidate: Cert, now: datetime.datetime,
                      issued: Optional[Callable[[Cert, Cert], bool]] = None) -> Optional[str]:
    """None when `candidate` may serve as `child`'s issuer, else why not."""
    if not issuer_name_matches(child, candidate):
        return "its subject is not %s's issuer" % child.common_name
    verifies = issued(child, candidate) if issued is not None else child.signed_by(candidate)
    if not verifies:
        return "its key does not verify %s's signature" % child.common_name
    if not candidate.is_ca:
        return "it is not a CA (basicConstraints)"
    if not candidate.can_sign_certs:
        return "it may not sign certificates (keyUsage)"
    if now > candidate.not_after:
        return "it expired on %s" % candidate.not_after.strftime("%Y-%m-%d")
    if now < candidate.not_before:
        return "it is valid only from %s" % candidate.not_before.strftime("%Y-%m-%d")
    return None
