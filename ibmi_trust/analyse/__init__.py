"""Trust analysis: which path a presented chain takes to the store, what is
missing, and what to import, as data (findings, never exceptions).

    from ibmi_trust.analyse import analyse_chain, ChainReport, Finding
    report = analyse_chain(presented, store_entries, host, sourcing)

Modules: index (look-ups by name and key id), paths (candidate paths),
policy (what makes a path unacceptable), names (host names, name
constraints), quality (warnings), crosscheck (cryptography's verifier),
core (phases, ranking, the report), model (the result types).
"""
from ibmi_trust.analyse.core import analyse_chain, index_store
from ibmi_trust.analyse.model import ChainReport, Finding, Missing, Sourced

__all__ = ["analyse_chain", "index_store", "ChainReport", "Finding", "Missing", "Sourced"]
