"""itoolkit parameter builders for calling IBM i APIs through XMLSERVICE.

XMLSERVICE data types (IBM/xmlservice docs/functions.rst, "call PGM"):
`Na` character in the job CCSID (converted from the XML's UTF-8), `10i0`
Binary(4), `Nb` raw bytes given as upper-case hex (no conversion; used for
passwords sent with CCSID 1208, as DCM-tools sends them, ref 4.3).

Every API call ends with an ERRC0100 error-code structure whose "bytes
provided" is > 0, so that the API fills it instead of signalling an escape
message (ref 4.3, 19.3); `exception_id(reply)` reads it back.
"""

ERRC0100_BYTES_PROVIDED = 16   # 4 provided + 4 available + 7 exception id + 1 reserved
ERRC0100_VAR = "errc0100"


def char(var: str, text: str):
    """Char(*) input in the job CCSID; XMLSERVICE blank-pads to the declared length."""
    from itoolkit import iData

    return iData(var, "%da" % max(1, len(text)), text)


def fixed_char(var: str, text: str, length: int):
    from itoolkit import iData

    return iData(var, "%da" % length, text)


def int4(var: str, value: int):
    from itoolkit import iData

    return iData(var, "10i0", int(value))


def raw_bytes(var: str, data) -> object:
    """Bytes passed unconverted (e.g. a UTF-8 password with CCSID 1208)."""
    from itoolkit import iData

    return iData(var, "%db" % max(1, len(data)), bytes(data).hex().upper())


def errc0100():
    from itoolkit import iData, iDS

    return (
        iDS(ERRC0100_VAR)
        .addData(iData("bytes_provided", "10i0", ERRC0100_BYTES_PROVIDED))
        .addData(iData("bytes_available", "10i0", 0))
        .addData(iData("exception_id", "7a", ""))
        .addData(iData("reserved", "1a", ""))
    )


def exception_id(reply: dict) -> str:
    """The exception id the API put in ERRC0100 ('' when none)."""
    errc = reply.get(ERRC0100_VAR)
    if not isinstance(errc, dict):
        return ""
    try:
        available = int(str(errc.get("bytes_available", "0")).strip() or "0")
    except ValueError:
        available = 0
    msgid = str(errc.get("exception_id", "")).strip()
    return msgid if available > 0 and msgid else ""
