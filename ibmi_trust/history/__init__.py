"""Memory across runs: every handshake kept, so rare chains add up over nights.

Modules, one job each: `records` (the data), `location` (where the history
lives), `sqlite_store` / `db2_store` (the two stores), `retention`,
`cumulative` (the window: chains, guarantee), `novelty` (what is new),
`diff` (two runs or reports), `journal` (what check/fix/verify call; never
fails a check), `report` (`ibmi-trust history TARGET`).
"""
