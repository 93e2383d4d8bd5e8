"""Validators: whose verdict the analysis predicts, one module each.

  openssl  CApath and bundle stores: every OpenSSL TLS client (sendmail,
           Postfix, Python, curl); the emulation of x509_vfy.c in
           analyse.openssl, refereed by the real `openssl` when it is here
  gskit    *SYSTEM and .KDB stores: IBM i System TLS, a model (GSKit cannot
           run off IBM i)

A validator has `kind`, `describe()`, `to_json()` and
`analyse(presented, anchors, host, sourcing, now, warn_days) -> ChainReport`;
a new client (Java, GnuTLS) is one new module here plus a line in `for_store`.
"""
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class ValidatorOptions:
    seclevel: Optional[int] = None          # OpenSSL: None = the level this machine's OpenSSL uses
    check_names: bool = True                # False: the client does not check host names
    openssl_version: Optional[str] = None   # "3" or "1.1.1"; None = the openssl binary's, else Python's


def for_store(store, options: Optional[ValidatorOptions] = None):
    """The validator the client of `store` runs."""
    options = options or ValidatorOptions()
    if getattr(store, "validator", "openssl") == "gskit":
        from ibmi_trust.analyse.validators.gskit import GSKitModel

        return GSKitModel(partial_chain=store.partial_chain_anchors, check_names=options.check_names,
                          unknown_state_unconfirmed=True)
    return openssl_profile(options)


def openssl_profile(options: ValidatorOptions):
    import os
    import ssl

    from ibmi_trust.analyse.openssl import seclevel
    from ibmi_trust.analyse.validators.openssl import OpenSSLProfile

    version = options.openssl_version or os.environ.get("IBMI_TRUST_OPENSSL_PROFILE")
    level = options.seclevel
    source = "--seclevel"
    if level is None:
        found = seclevel.default_level()
        level, source = found.level, found.source
    if version is None:
        from ibmi_trust.analyse import referee as referee_module

        referee = referee_module.cached()
        version = referee.profile if referee is not None else seclevel.version_profile(ssl.OPENSSL_VERSION) or "3"
    return OpenSSLProfile(version=version, level=level, level_source=source, check_names=options.check_names)
