"""Value parsers of the settings: each raises ValueError with what it expected.

A setting's parser turns a flag, an environment variable or a TOML value into its typed value;
:mod:`harness.config.sources` turns the ValueError into a ConfigError naming the key.
:func:`parse_grpc_url` raises the ConfigError itself: the gRPC client calls it too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from harness.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
GRPC_PLAIN_SCHEMES = ("grpc://",)
GRPC_TLS_SCHEMES = ("grpcs://",)


def parse_float(value: Any) -> float:
    """A finite number: ``nan`` and ``inf`` (which TOML and ``float()`` accept) are refused.

    A threshold of ``nan`` compares false with everything, so a gate would pass on any figure.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {value!r}")
    return number


def parse_int(value: Any) -> int:
    """A whole number: ``true`` and ``2.5`` are refused rather than read as 1 and 2."""
    if isinstance(value, bool) or not isinstance(value, int | float | str) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"expected a whole number, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"expected a whole number, got {value!r}") from None


def parse_duration(value: Any) -> float:
    """Seconds from ``30``, ``30s``, ``500ms``, ``2m`` or ``1h``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = parse_float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"expected a duration like 30s, 500ms or 2m, got {value!r}")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {value!r}")
    return seconds


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def parse_percent(value: Any) -> float:
    """A fraction from ``20%``, ``0.2`` or ``20`` (values above 1 are read as percent)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a percentage, got {value!r}")
    text = str(value).strip()
    number = parse_float(text.removesuffix("%"))
    if text.endswith("%") or number > 1:
        number /= 100
    if number < 0:
        raise ValueError(f"expected a non-negative percentage, got {value!r}")
    return number


#: RFC 9110 section 5.6.2: a field name is a token
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
#: RFC 9110 section 5.5: a field value is visible ASCII, spaces and tabs (obs-text refused:
#: a non-ASCII value would be sent as Latin-1 by some clients and refused by others)
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")


def check_header(name: str, value: str) -> None:
    """Raise ValueError unless ``name`` is an RFC 9110 token and ``value`` printable ASCII
    (no CR, LF or NUL: no header injection; non-ASCII refused, percent-encode it yourself)."""
    if not _TOKEN.fullmatch(name):
        raise ValueError(f"header name {name!r} is not an RFC 9110 token (letters, digits and !#$%&'*+.^_`|~- only)")
    if not _FIELD_VALUE.fullmatch(value):
        bad = next(c for c in value if not _FIELD_VALUE.fullmatch(c))
        what = "a line break" if bad in "\r\n" else "a control character" if ord(bad) < 0x80 else "a non-ASCII character"
        raise ValueError(f"the value of header {name!r} holds {what} ({bad!r}); header values are printable ASCII "
                         "(percent-encode anything else)")


def parse_header_value(value: Any) -> str:
    """A header value given on its own (the cookie, the Host header): printable ASCII."""
    text = str(value)
    if not _FIELD_VALUE.fullmatch(text):
        bad = next(c for c in text if not _FIELD_VALUE.fullmatch(c))
        raise ValueError(f"a header value holds {'a line break' if bad in chr(13) + chr(10) else 'a control or non-ASCII character'} "
                         f"({bad!r}); header values are printable ASCII (percent-encode anything else)")
    return text


def parse_headers(value: Any) -> tuple[tuple[str, str], ...]:
    """``K:V`` pairs from a list, a mapping or a comma-separated string, checked by :func:`check_header`."""
    if isinstance(value, Mapping):
        items = [f"{k}:{v}" for k, v in value.items()]
    elif isinstance(value, str):
        items = [v for v in value.split(",") if v.strip()]
    else:
        items = list(value)
    pairs = []
    for item in items:
        name, sep, val = str(item).partition(":")
        if not sep or not name.strip():
            raise ValueError(f"expected a header as NAME:VALUE, got {item!r}")
        check_header(name.strip(), val.strip())
        pairs.append((name.strip(), val.strip()))
    return tuple(pairs)


def parse_mapping(value: Any) -> tuple[tuple[str, str], ...]:
    """``name=value`` pairs from a mapping or a comma-separated string."""
    if isinstance(value, Mapping):
        return tuple((str(k), str(v)) for k, v in value.items())
    pairs = []
    for item in str(value).split(","):
        if not item.strip():
            continue
        name, sep, val = item.partition("=")
        if not sep:
            raise ValueError(f"expected NAME=VALUE, got {item!r}")
        pairs.append((name.strip(), val.strip()))
    return tuple(pairs)


def parse_labels(value: Any) -> tuple[str, ...]:
    """Class names from a list or a comma-separated string."""
    items = [str(v).strip() for v in value] if isinstance(value, list | tuple) else str(value).split(",")
    labels = tuple(v.strip() for v in items if v.strip())
    if len(set(labels)) != len(labels):
        raise ValueError(f"class names must be distinct, got {list(labels)}")
    return labels


def positive(kind: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        number = kind(value)
        if number <= 0:
            raise ValueError(f"expected a positive number, got {value!r}")
        return number

    parse.__name__ = f"positive_{kind.__name__}"
    return parse


def non_negative(kind: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        number = kind(value)
        if number < 0:
            raise ValueError(f"expected zero or more, got {value!r}")
        return number

    parse.__name__ = f"non_negative_{kind.__name__}"
    return parse


def parse_fraction(value: Any) -> float:
    """A fraction from ``0.05`` or ``5%``: between 0 and 1 (0 % and 100 %)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a fraction between 0 and 1 or a percentage like 5%, got {value!r}")
    text = str(value).strip()
    number = parse_float(text.removesuffix("%")) / (100 if text.endswith("%") else 1)
    if not 0 <= number <= 1:
        raise ValueError(f"expected a fraction between 0 and 1 or a percentage like 5%, got {value!r}")
    return number


def parse_port(value: Any) -> int:
    """A TCP port, 0 to 65535 (0: pick a free one)."""
    number = parse_int(value)
    if not 0 <= number <= 65535:
        raise ValueError(f"expected a port between 0 and 65535, got {value!r}")
    return number


def parse_list(value: Any) -> tuple[str, ...]:
    """Non-empty strings from a list or a comma-separated string."""
    items = [str(v) for v in value] if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(v.strip() for v in items if v.strip())


def parse_grpc_url(url: str) -> tuple[str, bool]:
    """``(host:port, tls)`` of ``host:port``, ``grpc://host:port`` (plaintext) or ``grpcs://host:port`` (TLS).

    Raises:
        ConfigError: not one of these forms (names the ``grpc_url`` setting).
    """
    text = url.strip()
    tls = False
    for scheme in (*GRPC_PLAIN_SCHEMES, *GRPC_TLS_SCHEMES):
        if text.lower().startswith(scheme):
            tls = scheme in GRPC_TLS_SCHEMES
            text = text[len(scheme):]
            break
    text = text.rstrip("/")
    if "@" in text or "?" in text:
        raise ConfigError("a gRPC address holds no credentials (user:password@ or ?key=): give them as gRPC metadata with "
                          "--header NAME:VALUE", "grpc_url")
    host, sep, port = text.rpartition(":")
    if not sep or not host or "/" in text or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"expected host:port, grpc://host:port or grpcs://host:port, got {url!r}", "grpc_url")
    return text, tls
