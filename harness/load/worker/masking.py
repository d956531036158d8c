"""Mask the load's secrets in text the locust processes write, whole or in part.

The locustfile runs where the harness may not be installed (a pod), so it cannot use
:mod:`harness.redact`; this module is plain Python (standard library only) that the
locustfile loads from beside itself. Its secrets are the request headers it was given
(``MLH_LOAD_HEADERS``): each header value, each cookie's value on its own, the credential
after an ``Authorization`` scheme; and the values of the URL's query (``MLH_LOAD_QUERY``). A server may echo any of them back, whole or cut, in an
error body or a ``Location``: every run of :data:`RUN` or more characters of a secret is
masked, and so are values shaped like a bearer token or a session cookie. Text is always
masked *before* it is cut to a length, so a cut can never leave part of a secret unmasked.

The harness masks again (:func:`harness.redact.redact`) when it reads the workers' files.

Example:
    >>> mask = Masker({"Cookie": "session=s3cr3t-value-0123456789"})
    >>> mask.cut("you sent session=s3cr3t-value-01234 (truncated)")
    'you sent *** (truncated)'
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping

MASK = "***"
RUN = 8  # this many characters of a secret in a row are masked
MIN_SECRET = 4  # shorter values are not secrets worth masking (they would mask ordinary text)
MESSAGE_LIMIT = 200  # characters of a message kept, after masking
CACHE_LIMIT = 512  # masked messages remembered (servers repeat their error texts)
#: headers whose values are not secrets (the rest may be: cookies, tokens, API keys)
PLAIN_HEADERS = frozenset({"host", "content-type", "accept", "user-agent", "accept-encoding", "connection"})
PATTERNS = (
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:authservice_session|_?oauth2_proxy[\w-]*)=)[^\s;,\"']+"),
)


def header_secrets(headers: Mapping[str, str]) -> list[str]:
    """The secret values in ``headers``, longest first."""
    found: set[str] = set()
    for name, value in headers.items():
        if name.lower() in PLAIN_HEADERS or not value:
            continue
        found.add(value.strip())
        if name.lower() in ("cookie", "set-cookie"):
            found.update(part.partition("=")[2].strip() for part in value.split(";"))
        scheme, _, credential = value.strip().partition(" ")
        if credential and scheme.isalpha():  # "Bearer TOKEN", "Basic B64"
            found.add(credential.strip())
    return sorted((s for s in found if len(s) >= MIN_SECRET), key=len, reverse=True)


def query_secrets(query: str) -> list[str]:
    """The values of a URL's query string (``key=...``), raw and as sent, longest first."""
    found = {value for _, value in urllib.parse.parse_qsl(query, keep_blank_values=True)}
    found |= {part.partition("=")[2] for part in query.split("&")}
    return sorted((s for s in found if len(s) >= MIN_SECRET), key=len, reverse=True)


class Masker:
    """Masks the secrets of a set of request headers (and of a URL's query) in any text.

    Args:
        headers: the request headers whose values are secrets (see :func:`header_secrets`).
        query: the endpoint URL's query string, whose values are secrets (:func:`query_secrets`).
    """

    def __init__(self, headers: Mapping[str, str], query: str = "") -> None:
        self.secrets = sorted({*header_secrets(headers), *query_secrets(query)}, key=len, reverse=True)
        self._runs = {s[i:i + RUN] for s in self.secrets if len(s) >= RUN for i in range(len(s) - RUN + 1)}
        self._cache: dict[str, str] = {}
        #: characters read past a message's limit, so a secret that starts inside it is
        #: seen whole before the cut
        self.span = MESSAGE_LIMIT + (len(self.secrets[0]) if self.secrets else 0) + RUN

    def __call__(self, text: str) -> str:
        """``text`` with every secret, every run of :data:`RUN` characters of one and every
        secret-shaped value masked."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        if self._runs:
            text = self._mask_runs(text)
        for pattern in PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + MASK, text)
        return text

    def _mask_runs(self, text: str) -> str:
        runs, out, start, i = self._runs, [], 0, 0
        while i <= len(text) - RUN:
            if text[i:i + RUN] not in runs:
                i += 1
                continue
            end = i + RUN
            while end < len(text) and text[end - RUN + 1:end + 1] in runs:
                end += 1
            out += [text[start:i], MASK]
            start = i = end
        return "".join(out) + text[start:] if out else text

    def cut(self, text: str) -> str:
        """One line of at most :data:`MESSAGE_LIMIT` characters: whitespace collapsed, masked, cut.

        Only the first :attr:`span` characters are looked at: a secret that starts within the
        limit lies inside them whole; one cut by their end keeps fewer than :data:`RUN`
        characters inside, or is masked as a run. Remembered per input, so a server that
        repeats one error text costs the masking once.
        """
        window = text[:self.span]
        found = self._cache.get(window)
        if found is None:
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            found = self._cache[window] = self(" ".join(window.split()))[:MESSAGE_LIMIT]
        return found
