"""Explain IBM i TLS return codes: `ibmi-trust explain -23`.

    codes.py    the packaged table (ssl-return-codes.csv), indexed
    lookup.py   what an operator types -> the codes it stands for
    advice.py   likely cause for a mail connection and remedy, in our words
    render.py   text, JSON and IBM i message records

Stdlib only, so the command starts fast (imports are slow under PASE): no
cryptography, pyodbc or itoolkit on this path.
"""
from ibmi_trust.explain.lookup import Explanation, UnknownCode, explain

__all__ = ["Explanation", "UnknownCode", "explain"]
