"""Files shipped with the package: sql/*.sql and cl/* sources.

Installed, they are the packages ibmi_trust.sql and ibmi_trust.cl (mapped
from the top-level sql/ and cl/ folders in pyproject.toml); in a checkout run
with PYTHONPATH they are read from those folders directly.
"""
import os

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def resource_dir(kind: str) -> str:
    """Directory of `kind` ("sql" or "cl")."""
    if kind not in ("sql", "cl"):
        raise ValueError(kind)
    installed = os.path.join(_PKG_DIR, kind)
    if os.path.isdir(installed):
        return installed
    try:
        import importlib

        module = importlib.import_module("ibmi_trust." + kind)
        return os.path.dirname(os.path.abspath(module.__file__))
    except ImportError:
        return os.path.join(os.path.dirname(_PKG_DIR), kind)


def read_text(kind: str, name: str) -> str:
    with open(os.path.join(resource_dir(kind), name), encoding="utf-8") as handle:
        return handle.read()


def list_names(kind: str, suffix: str = ""):
    return sorted(n for n in os.listdir(resource_dir(kind)) if n.endswith(suffix) and not n.startswith("__"))
