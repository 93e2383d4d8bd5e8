"""The operator's jobs, tying the stages together:

    check    probe -> read store -> analyse (+ name what is missing)
    fix      check -> source -> plan -> import (backup) -> re-probe -> keep or roll back
    verify   many checks from a configuration file, concurrently (the nightly job)
    selftest the whole of check/fix/check on a throw-away PKI and loopback servers
"""
