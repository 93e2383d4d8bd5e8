"""analyse_chain: one presented chain against one store -> ChainReport.

The verdict is the validator's: the one the client really runs (see
analyse.validators): OpenSSL for CApath and bundle stores, the GSKit model
for *SYSTEM and .KDB stores. Everything a validator shares (candidate paths,
sourcing, the report's findings) lives beside this module.
"""
import datetime
import threading
from typing import Iterable, List, Optional, Tuple, Union

from ibmi_trust.analyse.index import CertIndex
from ibmi_trust.analyse.model import ChainReport
from ibmi_trust.certs import Cert
from ibmi_trust.store.base import StoreEntry

DEFAULT_MAX_CHAIN_DEPTH = 8
_MODEL_LOCK = threading.Lock()         # a view is shared by verify's threads: one model per view


class StoreView(CertIndex):
    """A store's entries, indexed once for many chains (CertIndex[StoreEntry]),
    in the order OpenSSL loads them, with the OpenSSL store model built on first use."""

    def __init__(self, entries: Iterable[StoreEntry] = ()):
        entries = list(entries)
        if any(e.order is not None for e in entries):
            entries.sort(key=lambda e: (e.order is None, e.order or ()))
        self.entries: List[StoreEntry] = entries
        super().__init__((e.cert, e) for e in entries)
        self._model = None

    @property
    def size(self) -> int:
        return len(self.entries)

    def openssl_model(self):
        """The certificates an OpenSSL client can reach, in load order."""
        with _MODEL_LOCK:
            if self._model is None:
                from ibmi_trust.analyse.openssl.verify import StoreModel

                self._model = StoreModel([e.cert for e in self.entries if e.enabled is not False])
            return self._model


class LookupView:
    """A store read one subject at a time (CApathLookup: as OpenSSL reads a CApath
    directory), with the interface the analysis uses of a StoreView."""

    def __init__(self, lookup):
        self.lookup = lookup
        self._model = None

    @property
    def size(self) -> Optional[int]:
        """Certificates in the store when the lookup knows (a bundle), else None."""
        return getattr(self.lookup, "size", None)

    def issuers_of(self, child: Cert) -> List[Tuple[Cert, StoreEntry]]:
        named = [(e.cert, e) for e in self.lookup.named(child.issuer_key)]
        if child.aki and len(named) > 1:
            named.sort(key=lambda item: item[0].ski != child.aki)
        return named

    def entry_for(self, cert: Cert) -> Optional[StoreEntry]:
        return next((e for e in self.lookup.named(cert.subject_key) if e.cert.sha256 == cert.sha256), None)

    def same_key(self, cert: Cert) -> List[Tuple[Cert, StoreEntry]]:
        return [(e.cert, e) for e in self.lookup.named(cert.subject_key)
                if e.cert.spki_sha256 == cert.spki_sha256 and e.cert.sha256 != cert.sha256]

    def openssl_model(self):
        with _MODEL_LOCK:
            if self._model is None:
                from ibmi_trust.analyse.openssl.verify import LookupStoreModel

                self._model = LookupStoreModel(self.lookup)
            return self._model


AnchorIndex = StoreView


def index_store(entries: Iterable[StoreEntry]) -> StoreView:
    """Index store entries once, to analyse many chains against one store."""
    return StoreView(entries)


def view_of(store, entries: Optional[Iterable[StoreEntry]] = None):
    """How the analysis reads `store`: one subject at a time when the store can
    be read that way (a CApath directory), else all its entries, indexed."""
    lookup = getattr(store, "lookup", lambda: None)()
    if lookup is not None:
        return LookupView(lookup)
    return StoreView(store.list() if entries is None else entries)


def analyse_chain(presented: List[Cert], store_entries: Union[Iterable[StoreEntry], StoreView, "LookupView"],
                  host: Optional[str] = None, sourcing=None, now: Optional[datetime.datetime] = None,
                  warn_days: int = 30, *, validator=None, max_chain_depth: int = DEFAULT_MAX_CHAIN_DEPTH,
                  crosscheck: bool = True, partial_chain: bool = True) -> ChainReport:
    """Judge `presented` (leaf first, as the server sent it) against the store.

    validator: an analyse.validators validator; None is the GSKit model with
    `partial_chain`, `max_chain_depth` and `crosscheck` as given.
    sourcing: a fetch.Sourcing, or None to use only what was sent and stored.
    now: aware datetime (naive is taken as UTC); default the current time.
    """
    if not presented:
        raise ValueError("analyse_chain needs at least the server certificate")
    if validator is None:
        from ibmi_trust.analyse.validators.gskit import GSKitModel

        validator = GSKitModel(partial_chain=partial_chain, max_chain_depth=max_chain_depth, crosscheck=crosscheck)
    anchors = store_entries if isinstance(store_entries, (StoreView, LookupView)) else index_store(store_entries)
    return validator.analyse(list(presented), anchors, host, sourcing, utc(now), warn_days)


def utc(now: Optional[datetime.datetime]) -> datetime.datetime:
    """Aware UTC, whole seconds (validity dates have second granularity)."""
    if now is None:
        now = datetime.datetime.now(datetime.timezone.utc)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=datetime.timezone.utc)
    return now.replace(microsecond=0)
