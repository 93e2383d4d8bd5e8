"""The IBM i secure-socket return codes, indexed.

ssl-return-codes.csv beside this module is the one source of truth for codes
(a copy of the project's reference table; see docs/explain.md for its columns
and sources). code_table.py is the same data as Python literals, generated
by scripts/gen_code_table.py and checked against the CSV by a test, so a run
neither parses the CSV nor compiles a regular expression. This module only
indexes it:

- by (api, code): `SSL_` codes are negative, GSKit codes positive (IBM's
  convention), GSKit certificate-validation reasons are 575xxx;
- by constant name, including the older names the `notes` column records
  (GSK_OS400_*, GSK_AS400_*, alternative spellings);
- by IBM message ID (CPDBC84 belongs to two codes, so an ID maps to a list);
- the `SSL_` <-> GSKit counterparts the notes record ("GSKit equivalent
  6000? (name-based)"; without "?" the pairing is confirmed by a source).

Stdlib only, and not even dataclasses or typing: `ibmi-trust explain` must
start fast (imports are slow under PASE).
"""
CSV_NAME = "ssl-return-codes.csv"
SSL_API = "SSL_"
GSKIT_API = "GSKit"
VALIDATION_RANGE = range(575000, 576000)


class Record(tuple):
    """An immutable record: a tuple whose items are also named (_fields), with
    value equality and hashing; cheaper to build than a frozen dataclass and
    without importing dataclasses or collections."""

    __slots__ = ()
    _fields = ()

    def __new__(cls, *values):
        if len(values) != len(cls._fields):
            raise TypeError("%s takes %d values (%s), got %d"
                            % (cls.__name__, len(cls._fields), ", ".join(cls._fields), len(values)))
        return tuple.__new__(cls, values)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for index, name in enumerate(cls._fields):
            setattr(cls, name, property(lambda self, index=index: self[index]))

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % item for item in zip(self._fields, self)))


class ReturnCode(Record):
    __slots__ = ()
    _fields = ("api", "code", "constant", "message_id", "category", "meaning",
               "ibm_steps",        # the CSV's `remedy` column: operator steps on IBM i
               "source", "notes",
               "aliases")          # older names, from the notes

    @property
    def key(self) -> "tuple[str, int]":
        return (self.api, self.code)

    @property
    def family(self) -> str:
        if self.api == SSL_API:
            return "SSL_ API (QSOSSL)"
        if self.code in VALIDATION_RANGE:
            return "GSKit certificate-validation reason"
        return "GSKit (System TLS) API"

    def label(self) -> str:
        """'SSL_ -23 SSL_ERROR_NOT_TRUSTED_ROOT'."""
        return "%s %d %s" % (self.api, self.code, self.constant)


class Twin(Record):
    __slots__ = ()
    _fields = ("code",             # the counterpart ReturnCode
               "confirmed")        # False: inferred from the constant names only


class CodeTable:
    def __init__(self, rows, twin_pairs=()):
        """rows: ReturnCodes; twin_pairs: (SSL_ code, GSKit code, confirmed)."""
        self.rows = list(rows)
        self.by_key = {}               # (api, code) -> ReturnCode
        self.twins = {}                # (api, code) -> [Twin]
        self._by_name = self._by_message_id = None
        for row in self.rows:
            key = (row[0], row[1])     # not through the properties: this runs at every start
            if key in self.by_key:
                raise ValueError("%s: duplicate code %s %d" % (CSV_NAME, key[0], key[1]))
            self.by_key[key] = row
        for ssl_code, gskit_code, confirmed in twin_pairs:
            ssl_row, gskit_row = self.get(SSL_API, ssl_code), self.get(GSKIT_API, gskit_code)
            self.twins.setdefault(ssl_row.key, []).append(Twin(gskit_row, confirmed))
            self.twins.setdefault(gskit_row.key, []).append(Twin(ssl_row, confirmed))

    def get(self, api: str, code: int) -> "ReturnCode | None":
        return self.by_key.get((api, code))

    @property
    def by_name(self) -> "dict[str, ReturnCode]":
        """CONSTANT or alias, upper case -> ReturnCode (built when a name is asked for)."""
        if self._by_name is None:
            self._by_name = {}
            for row in self.rows:
                for name in (row.constant,) + row.aliases:
                    self._by_name[name.upper()] = row
        return self._by_name

    @property
    def by_message_id(self) -> "dict[str, list[ReturnCode]]":
        """CPDBCxx -> [ReturnCode] (built when a message ID is asked for)."""
        if self._by_message_id is None:
            self._by_message_id = {}
            for row in self.rows:
                if row.message_id:
                    self._by_message_id.setdefault(row.message_id, []).append(row)
        return self._by_message_id


_TABLE = None


def table() -> CodeTable:
    """The packaged table, built once."""
    global _TABLE
    if _TABLE is None:
        from ibmi_trust.explain import code_table

        _TABLE = CodeTable((tuple.__new__(ReturnCode, row) for row in code_table.ROWS), code_table.TWINS)
    return _TABLE
