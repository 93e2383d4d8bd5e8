"""Where are we running? Kept tiny: imported on every start-up path."""
import os
import platform
import sys


def is_ibmi() -> bool:
    """True under IBM i PASE (python-on-ibmi.md section 2).

    IBMI_TRUST_FORCE_PLATFORM=ibmi|other overrides, for tests.
    """
    forced = os.environ.get("IBMI_TRUST_FORCE_PLATFORM")
    if forced:
        return forced.lower() == "ibmi"
    return sys.platform == "os400" or platform.system() == "OS400"
