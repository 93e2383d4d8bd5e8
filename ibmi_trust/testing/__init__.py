"""Throw-away PKIs and loopback peers, used by the test suite and `selftest`.

Nothing here touches a real trust store or leaves loopback.
"""
