"""AIA caIssuers: fetch each URL at most once per run, parse what comes back.

Answers are DER, PEM or PKCS#7 certs-only (.p7c), in any of them one or
more certificates. Everything that goes wrong becomes a Finding in the
answer (aia-fetch-failed, aia-not-followed), never an exception. Download
and parsing share the per-URL time limit (the PEM reader is linear and
checks the deadline between blocks), so a hostile answer costs at most that.
"""
import threading
import time
from typing import Dict, List, NamedTuple, Optional, Tuple

from ibmi_trust.analyse.model import INFO, WARNING, Finding
from ibmi_trust.certs import Cert, load_certificates
from ibmi_trust.errors import CertificateError

MAX_URLS_PER_CERT = 4


class AiaAnswer(NamedTuple):
    url: str
    certs: Tuple[Cert, ...]
    finding: Optional[Finding]      # set when nothing usable came back


class AiaClient:
    """The per-run AIA cache and its bounds; safe to share between threads.

    Per run: each URL once, at most `max_fetches` downloads and `budget`
    seconds of downloading in all (so a machine without internet access
    loses at most that much, however many chains it analyses).
    """

    def __init__(self, *, timeout: float, max_bytes: int, max_redirects: int, max_fetches: int = 32,
                 budget: float = 60.0):
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.max_fetches = max_fetches
        self.budget = budget
        self.fetches = 0                       # network requests made (redirects not counted)
        self.seconds = 0.0                     # time spent downloading
        self._answers: Dict[str, AiaAnswer] = {}
        self._lock = threading.Lock()
        self._url_locks: Dict[str, threading.Lock] = {}

    def answers_for(self, child: Cert) -> List[AiaAnswer]:
        return [self.get(url, child) for url in child.ca_issuers[:MAX_URLS_PER_CERT]]

    def get(self, url: str, child: Cert) -> AiaAnswer:
        with self._lock:
            answer = self._answers.get(url)
            url_lock = self._url_locks.setdefault(url, threading.Lock())
        if answer is not None:
            return answer
        with url_lock:                         # a second thread asking waits for the first's answer
            answer = self._answers.get(url)
            if answer is None:
                answer = self._fetch(url, child)
                with self._lock:
                    self._answers[url] = answer
        return answer

    def _fetch(self, url: str, child: Cert) -> AiaAnswer:
        from ibmi_trust.fetch.http import FetchFailed, fetch, scheme_of   # network code: only when fetching

        scheme = scheme_of(url)
        if scheme not in ("http", "https"):
            return AiaAnswer(url, (), Finding(
                "aia-not-followed", INFO,
                "%s names its issuer at %s; only http and https are followed (fetch it by hand, use --from)"
                % (child.common_name, url), child.subject, child.sha256, {"url": url, "scheme": scheme}))
        with self._lock:
            left = self.budget - self.seconds
            if self.fetches >= self.max_fetches or left <= 0:
                return self._failed(url, child, "fetch-limit", "AIA download limit of this run reached "
                                    "(%d downloads, %.0f s)" % (self.max_fetches, self.budget))
            self.fetches += 1
        started = time.monotonic()
        limit = min(self.timeout, left)
        problems: List[str] = []
        try:     # download and parse share one time limit: parsing counts against it
            response = fetch(url, timeout=limit, max_bytes=self.max_bytes, max_redirects=self.max_redirects)
            certs = load_certificates(response.body, strict=False, problems=problems, deadline=started + limit)
        except FetchFailed as exc:
            return self._failed(url, child, exc.reason, exc.message)
        except CertificateError as exc:
            certs, problems = [], [exc.message]
        finally:
            with self._lock:
                self.seconds += time.monotonic() - started
        if not certs:
            why = ": " + problems[0][:160] if problems else ""
            return self._failed(url, child, "not-a-certificate", "the answer is not a certificate (%s, %d bytes%s)"
                                % (response.content_type or "no content type", len(response.body), why))
        return AiaAnswer(url, tuple(certs), None)

    @staticmethod
    def _failed(url: str, child: Cert, reason: str, message: str) -> AiaAnswer:
        return AiaAnswer(url, (), Finding(
            "aia-fetch-failed", WARNING, "could not get the issuer of %s from %s: %s"
            % (child.common_name, url, message), child.subject, child.sha256, {"url": url, "reason": reason}))
