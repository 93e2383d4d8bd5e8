"""Trust stores: one interface (`base.TrustStore`), three backends.

    *SYSTEM or an IFS .KDB path   -> ibmi_trust.ibmi.system_store (IBM i only)
    capath:DIR                    -> ibmi_trust.store.capath
    bundle:FILE                   -> ibmi_trust.store.bundle

`open_store(spec, options)` picks one (ibmi_trust.store.spec).

Shared by every backend that writes: `lock` (the writer lock and its
journal), `backup` (timestamped copies with retention) and `transaction`
(lock -> back up -> write -> confirm -> roll back). The file stores add
`filestore` (planning and dry run), `fsops` (atomic writes), `rehash`
(OpenSSL's subject-name hash and link numbering) and `pemfile`. What may be
added without the operator's approval: `approval`. Details: docs/stores.md.
"""
