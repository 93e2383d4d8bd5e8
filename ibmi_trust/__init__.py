"""ibmi-trust: find and fix the CA certificates an IBM i mail program is missing.

Stages (each a sub-package): probe -> store -> analyse -> fetch -> importer,
tied together by jobs/ (check, fix, verify, selftest) and the cli/.
Importing this package is cheap: no cryptography, pyodbc or itoolkit here.
"""
__version__ = "0.1.0"
