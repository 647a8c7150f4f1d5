"""Structured logging (structlog) with secret redaction on every event.

Two layers of redaction run right before rendering, for structlog *and* stdlib
``logging`` records:

* values under keys that look sensitive (``secret``, ``api_key``, ``passphrase``,
  ``signature``, ``token``, ``authorization``, ``password``, ...) are masked whole;
* every string value (messages, nested dicts/lists, formatted exceptions, object reprs)
  goes through ``gapless.model.redact.scrub``: registered secrets (``register_secret``;
  ``Credentials`` registers its own) and credential shapes (bearer tokens, JWTs,
  ``X-BAPI-SIGN: ...``-style pairs, signature-like runs) are masked wherever they appear.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import IO, Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

# one registry and one scrubber for errors, logs and the journal (model depends on nothing)
from gapless.model.redact import MASK, MIN_SECRET_LEN, clear_secrets, register_secret, scrub

__all__ = [
    "MASK",
    "MIN_SECRET_LEN",
    "SENSITIVE_KEY",
    "clear_secrets",
    "configure_logging",
    "get_logger",
    "redact",
    "register_secret",
    "scrub_text",
]

SENSITIVE_KEY = re.compile(
    r"secret|api[_-]?key|apikey|passphrase|password|passwd|signature|token|authorization|"
    r"x-mbx-apikey|ok-access-key|ok-access-sign|x-bapi-sign|api-sign|cookie|private[_-]?key",
    re.IGNORECASE,
)


def scrub_text(text: str) -> str:
    """``text`` with every registered secret and credential-shaped part masked."""
    return scrub(text)


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return scrub_text(object.__repr__(value))
    if isinstance(value, str):
        return scrub_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, bytes | bytearray):
        return scrub_text(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {
            k: (MASK if isinstance(k, str) and SENSITIVE_KEY.search(k) else _scrub(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v, depth + 1) for v in value]
    # arbitrary objects are rendered by repr later; render (and scrub) them now instead
    try:
        text = repr(value)
    except Exception:  # a log line must not raise because of its argument
        return f"<{type(value).__name__}: repr failed>"
    cleaned = scrub_text(text)
    return value if cleaned == text else cleaned


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask sensitive keys and registered secret strings."""
    out: EventDict = {}
    for key, value in event_dict.items():
        if key.startswith("_"):  # structlog/stdlib plumbing (_record, _from_structlog)
            out[key] = value
        elif key != "event" and SENSITIVE_KEY.search(key):
            out[key] = MASK
        else:
            out[key] = _scrub(value)
    return out


def configure_logging(
    level: str | int = "INFO", json: bool = False, *, stream: IO[str] | None = None
) -> None:
    """Route structlog and stdlib logging through one redacting renderer on ``stream``."""
    if isinstance(level, str):
        lvl = logging.getLevelName(level.upper())
        if not isinstance(lvl, int):
            raise ValueError(f"unknown log level {level!r}")
    else:
        lvl = level
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    pre_chain: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        timestamper,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=_plain_exc)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_gapless", False):
            root.removeHandler(h)
    handler._gapless = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(lvl)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *pre_chain,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def _plain_exc(sio: IO[str], exc_info: Any) -> None:  # pragma: no cover - exc already text
    import traceback

    sio.write("\n" + "".join(traceback.format_exception(*exc_info)))


def get_logger(name: str | None = None, **initial: Any) -> Any:
    return structlog.get_logger(name, **initial)
