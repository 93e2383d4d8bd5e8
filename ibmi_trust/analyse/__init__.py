"""Trust analysis: which path a presented chain takes to the store, what is
missing, and what to import, as data (findings, never exceptions), as the
validator the client really runs judges it.

    from ibmi_trust.analyse import analyse_chain, ChainReport, Finding
    from ibmi_trust.analyse.validators import for_store
    report = analyse_chain(presented, store_entries, host, sourcing, validator=for_store(store))

Modules: validators (one per client: openssl, gskit), openssl (the
emulation of OpenSSL's x509_vfy.c the openssl validator runs), referee (the
real `openssl verify` as a second opinion), index (look-ups by name and key
id), paths (candidate paths, shared), report (findings shared by every
validator), policy and names (RFC 5280 rules of the GSKit model), quality
(warnings), crosscheck (cryptography's verifier, GSKit model), core (the
entry point), model (the result types), needs (what to carry in).
"""
from ibmi_trust.analyse.core import analyse_chain, index_store
from ibmi_trust.analyse.model import ChainReport, Finding, Missing, Sourced

__all__ = ["analyse_chain", "index_store", "ChainReport", "Finding", "Missing", "Sourced"]
