"""Sourcing missing issuers safely: AIA over http(s) with hard bounds, the
operator's root program, --from files and --trust-root approvals.

    from ibmi_trust.fetch import Sourcing, RootProgram
    sourcing = Sourcing(fetch=True, root_program=RootProgram.default(),
                        approved_roots={"<sha256>"}, timeout=10.0)
    sourcing.add_files(["issuers.pem"])          # --from

Every sourced certificate passes fetch.check before it is offered; a root is
only ever offered from the root program or an approval (docs/analysis.md).

The names load on first use, and the network code (http.py) only when a
URL is fetched: `check --no-fetch` imports none of it.
"""
_WHERE = {"RootProgram": "ibmi_trust.fetch.roots", "Sourcing": "ibmi_trust.fetch.sourcing"}

__all__ = ["RootProgram", "Sourcing"]


def __getattr__(name):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
