"""Secrets out of every text gapless prints, logs or journals.

Venues echo what they were sent: Bybit's 10004 answer quotes the signed origin string
(API key included), an error page from a proxy may list the request headers
(``Authorization: Bearer <JWT>``). Whatever text reaches an error message, a log line or
the journal goes through :func:`scrub` first; ``GaplessError`` does it when the message is
born, so ``str(exc)``, ``repr(exc)`` and the engine's ``reject_reason`` are clean.

Two layers, both replacing with :data:`MASK` and keeping the rest of the text:

* every value registered with :func:`register_secret` (``Credentials`` registers its api
  key, secret and passphrase when created), wherever it appears;
* shapes that carry credentials whoever they belong to: bearer tokens, JWTs, PEM private
  keys, Bybit's ``origin_string[...]``, ``name: value`` / ``name=value`` pairs whose name
  says key/secret/sign/passphrase/token/authorization (a plain lowercase word as value is
  prose and kept, as are ``*_env``/``*_file`` names), hex runs of 40+ characters (HMAC
  signatures; a 32-hex uuid4 intent id stays readable) and base64 runs of 32+ mixing
  upper, lower and digits (URL paths excepted).

Pure, dependency-free (the model package depends on nothing) and total: :func:`scrub`
never raises, whatever it is given.
"""

from __future__ import annotations

import re
import threading

MASK = "<redacted>"

#: shorter values are not registered: masking "1" everywhere would wreck every message
MIN_SECRET_LEN = 4
#: registered values kept (most recently registered win). Re-registering the same value is
#: free, so recreating the same credentials never grows the set; many *distinct* ones evict
#: the oldest, which the shape rules below still cover.
MAX_SECRETS = 1024

_lock = threading.Lock()
_secrets: dict[str, None] = {}  # insertion order = registration order (LRU)
_secret_re: re.Pattern[str] | None = None
_dirty = False


def register_secret(secret: str | None) -> None:
    """Mask ``secret`` wherever it appears in any later scrubbed text."""
    global _dirty
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LEN or secret == MASK:
        return
    with _lock:
        if secret in _secrets:
            if next(reversed(_secrets)) != secret:  # refresh its place; no recompile needed
                del _secrets[secret]
                _secrets[secret] = None
            return
        _secrets[secret] = None
        while len(_secrets) > MAX_SECRETS:
            del _secrets[next(iter(_secrets))]
        _dirty = True


def clear_secrets() -> None:
    """Forget every registered value (tests)."""
    global _secret_re, _dirty
    with _lock:
        _secrets.clear()
        _secret_re = None
        _dirty = False


def registered_count() -> int:
    """How many values are registered (tests: registration stays bounded)."""
    return len(_secrets)


def _registered() -> re.Pattern[str] | None:
    global _secret_re, _dirty
    if _dirty:
        with _lock:
            if _dirty:
                # longest first, so a secret containing another is masked whole
                alts = sorted(_secrets, key=len, reverse=True)
                _secret_re = re.compile("|".join(map(re.escape, alts))) if alts else None
                _dirty = False
    return _secret_re


def _mask_registered(text: str) -> str:
    pattern = _registered()
    if pattern is None:
        return text
    for _ in range(4):
        # a mask next to the remaining text can spell a secret again ("d>x" after "<redacte")
        new = pattern.sub(MASK, text)
        if new == text:
            return text
        text = new
    return MASK if pattern.search(text) else text


# -- shapes ------------------------------------------------------------------------------
_PEM = re.compile(
    r"-----BEGIN[A-Z ]*PRIVATE KEY-----.*?(?:-----END[A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL
)
# Bybit 10004: "error sign! origin_string[<timestamp><api key><recv window><payload>]"
_ORIGIN = re.compile(r"(origin_string\[)[^\]]*(?:\]|\Z)")
_BEARER = re.compile(r"(\b[Bb]earer\s+)(?!<redacted>)[A-Za-z0-9\-._~+/]+=*")
# a JWT's header always starts with base64url('{"') = "eyJ"; also a truncated one
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-.]{8,}")
_DOTTED = re.compile(
    r"(?<![\w.-])[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}(?![\w-])"
)
_SENSITIVE_NAME = (
    r"(?:key|secret|sign|passphrase|password|passwd|token|authorization|cookie|credential)"
)
# header / query / JSON / repr pairs: X-MBX-APIKEY: v, signature=v, "apiKey":"v", 'k': 'v'
_PAIR = re.compile(
    r"(?<![\w-])(?P<name>[\"']?(?P<label>[\w-]{0,40}?" + _SENSITIVE_NAME + r"[\w-]{0,40})[\"']?"
    r"\s{0,4}[:=]\s{0,4}(?!(?:bearer\s+|basic\s+)?<redacted>)(?:bearer\s+|basic\s+)?)"
    r"(?P<val>\"[^\"]*\"|'[^']*'|[^\s&,;<>\"'\[\]{}()]+)",
    re.IGNORECASE,
)
_HEX = re.compile(r"(?<![0-9A-Za-z+/])[0-9a-fA-F]{40,}(?![0-9A-Za-z+/=])")
_B64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{32,}={0,2}(?![A-Za-z0-9+/=])")


#: names of where a secret lives, not of the secret (``api_key_env: environment variable``)
_LOCATION_SUFFIX = ("_env", "_file", "_path", "_entry")
_PLAIN_WORD = re.compile(r"[a-z]+")


def _pair(m: re.Match[str]) -> str:
    val = m.group("val")
    if m.group("label").lower().endswith(_LOCATION_SUFFIX) or _PLAIN_WORD.fullmatch(val):
        return m.group(0)  # prose ("key: missing") or a pointer to the secret: keep it
    if len(val) >= 2 and val[0] in "\"'" and val[-1] == val[0]:
        return m.group("name") + val[0] + MASK + val[0]
    return m.group("name") + MASK


def _b64(m: re.Match[str]) -> str:
    run = m.group(0)
    if not (any(c.isdigit() for c in run) and any(c.isupper() for c in run)
            and any(c.islower() for c in run)):
        return run  # an identifier or a word run, not key material
    # random base64 has a "/" in 1 of 64 places; a URL path has one every few
    if ("/" in run and not any(len(part) >= 20 for part in run.split("/"))
            and (run.startswith("/") or run.count("/") >= 3)):
        return run
    return MASK


def _shapes(text: str) -> str:
    text = _PEM.sub(MASK, text)
    text = _ORIGIN.sub(lambda m: m.group(1) + MASK + "]", text)
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    text = _JWT.sub(MASK, text)
    text = _DOTTED.sub(MASK, text)
    text = _PAIR.sub(_pair, text)
    text = _HEX.sub(MASK, text)
    return _B64.sub(_b64, text)


def scrub(text: object) -> str:
    """``text`` with secrets and credential-shaped parts replaced by :data:`MASK`.

    Never raises: if anything goes wrong the whole text is replaced, never returned raw.
    """
    try:
        s = text if isinstance(text, str) else str(text)
        if not s:
            return s
        return _mask_registered(_shapes(_mask_registered(s)))
    except Exception:  # a scrubber that raises would lose the error it guards
        return MASK

