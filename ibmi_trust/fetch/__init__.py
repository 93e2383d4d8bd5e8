"""Sourcing missing issuers safely: AIA over http(s) with hard bounds, the
operator's root program, --from files and --trust-root approvals.

    from ibmi_trust.fetch import Sourcing, RootProgram
    sourcing = Sourcing(fetch=True, root_program=RootProgram.default(),
                        approved_roots={"<sha256>"}, timeout=10.0)
    sourcing.add_files(["issuers.pem"])          # --from

Every sourced certificate passes fetch.check before it is offered; a root is
only ever offered from the root program or an approval (docs/analysis.md).
"""
from ibmi_trust.fetch.roots import RootProgram
from ibmi_trust.fetch.sourcing import Sourcing

__all__ = ["RootProgram", "Sourcing"]
