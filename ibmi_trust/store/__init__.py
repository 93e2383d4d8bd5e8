"""Trust stores: one interface (`base.TrustStore`), three backends.

    *SYSTEM or an IFS .KDB path   -> ibmi_trust.ibmi.system_store (IBM i only)
    capath:DIR                    -> ibmi_trust.store.capath
    bundle:FILE                   -> ibmi_trust.store.bundle

`open_store(spec)` picks one (ibmi_trust.store.spec).
"""
