"""The endpoint URL taken apart: where it points, and the secrets users put in it.

A URL may carry credentials in two places: its *userinfo* (``http://user:pass@host``) and its
*query* (``http://host/?api_key=...``, for gateways that authenticate by query key). Both are
secrets: masked in every report, log and console line (:func:`masked`), registered with
:mod:`harness.redact` in every form they travel in (the Basic header's base64, URL-encoded,
JSON-escaped). The userinfo becomes an ``Authorization: Basic`` header on every request (REST
and load alike); the query string is appended, exactly as given, to every REST request's path
(httpx would otherwise put every path *after* it, and the load would send no key).

Example:
    >>> parts = split_url("http://me:s3cretpass@host:8080/base/?api_key=k3yk3yk3y")
    >>> parts.base, parts.query, parts.username
    ('http://host:8080/base', 'api_key=k3yk3yk3y', 'me')
    >>> masked("http://me:s3cretpass@host:8080/base/?api_key=k3yk3yk3y")
    'http://***:***@host:8080/base/?api_key=***'
"""

from __future__ import annotations

import base64
import dataclasses
import re
from urllib.parse import parse_qsl, unquote, urlsplit

_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@]*@)?(?P<rest>[^?#]*)(?:\?(?P<query>[^#]*))?(?P<fragment>#.*)?$")


@dataclasses.dataclass(frozen=True)
class UrlParts:
    """``base``: scheme, host, port and path (no userinfo, no query, no trailing slash)."""

    base: str
    username: str | None = None
    password: str | None = None
    query: str = ""

    @property
    def basic_auth(self) -> str | None:
        """The ``Authorization`` value the userinfo stands for (``Basic base64(user:pass)``)."""
        if self.username is None:
            return None
        raw = f"{self.username}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def secrets(self) -> list[str]:
        """Every secret the URL holds: the userinfo (whole and each part) and the query (whole and each value)."""
        found: list[str] = []
        if self.username is not None:
            found += [f"{self.username}:{self.password or ''}", self.password or ""]
            basic = self.basic_auth
            found.append(basic.partition(" ")[2] if basic else "")
        if self.query:
            found.append(self.query)
            found += [value for _, value in parse_qsl(self.query, keep_blank_values=True)]
            found += [raw.partition("=")[2] for raw in self.query.split("&")]
        return [s for s in found if s]

    def credential_values(self) -> list[tuple[str, str]]:
        """``(what, value)`` of the userinfo's credential (the password, else the user name)."""
        if self.password:
            return [("the URL's password", self.password)]
        return [("the URL's user name", self.username)] if self.username else []

    def parameters(self) -> list[tuple[str, str]]:
        """The query's ``(name, value)`` pairs, decoded."""
        return parse_qsl(self.query, keep_blank_values=True)


def split_url(url: str) -> UrlParts:
    """``url`` taken apart (see :class:`UrlParts`); the user name and password are percent-decoded."""
    match = _URL.match(url.strip())
    if not match:
        return UrlParts(url.rstrip("/"))
    userinfo = (match.group("userinfo") or "")[:-1] if match.group("userinfo") else None
    username = password = None
    if userinfo is not None:
        user, sep, pwd = userinfo.partition(":")
        username, password = unquote(user), (unquote(pwd) if sep else None)
    base = (match.group("scheme") + match.group("rest")).rstrip("/")
    return UrlParts(base, username, password, match.group("query") or "")


def masked(url: str) -> str:
    """``url`` with its userinfo and every query value replaced by ``***`` (names kept)."""
    match = _URL.match(url.strip())
    if not match:
        return url
    text = match.group("scheme")
    if match.group("userinfo"):
        user, sep, _ = match.group("userinfo")[:-1].partition(":")
        text += "***" + (":***" if sep else "") + "@"
    text += match.group("rest")
    if match.group("query") is not None:
        pairs = [p.partition("=") for p in match.group("query").split("&")]
        text += "?" + "&".join(f"{k}{sep}***" if sep else ("***" if k else "") for k, sep, _ in pairs)
    return text


def host_of(url: str) -> str:
    """The host of ``url`` (no userinfo): for messages."""
    return urlsplit(split_url(url).base).netloc
