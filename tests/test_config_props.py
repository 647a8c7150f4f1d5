"""Property tests: any config text yields a ``GaplessConfig`` or a ``ConfigError``, never
another exception, and what loads has URLs and timeouts the adapters can use."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gapless.config import GaplessConfig, load_config, parse_config, write_credentials
from gapless.model import ConfigError

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def toml_str(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out) + '"'


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{toml_str(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


urls = st.one_of(
    st.text(max_size=30),
    st.builds(lambda s, h, p, rest: f"{s}://{h}{p}{rest}",
              st.sampled_from(["http", "https", "ws", "wss", "HTTP", "ftp", ""]),
              st.sampled_from(["127.0.0.1", "h", "", "[::1]", "[::1", "a b", "user:pw@h"]),
              st.one_of(st.just(""), st.integers(-5, 70000).map(lambda p: f":{p}"),
                        st.text(max_size=5).map(lambda p: f":{p}")),
              st.sampled_from(["", "/", "/v1?x=1", "/\u00e9", " "])),
)
scalar = st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(),
                   st.text(max_size=20), urls)
value = st.recursive(scalar, lambda c: st.lists(c, max_size=3)
                     | st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=5)
anything = st.one_of(value, urls, st.sampled_from(["binance", "ccxt", "creds.json", "K", "S",
                                                  "E", ".", "binance"]))
options = st.dictionaries(st.sampled_from(["recv_window", "exchange", "x"]), st.text(max_size=8),
                          max_size=2)
good_urls = st.sampled_from(["http://127.0.0.1:8100", "https://h/v1", "ws://127.0.0.1:1", ""])
venue_table = st.fixed_dictionaries(
    {"driver": st.one_of(st.just("binance"), anything), "rest_url": good_urls | urls},
    optional={k: anything for k in ("exchange", "credentials_file", "credentials_entry",
                                    "api_key_env", "secret_env", "request_timeout")}
    | {"ws_url": good_urls | urls, "options": options | value},
)
wild_venue_table = st.dictionaries(st.sampled_from(["secret", "bogus", "passphrase_env",
                                                    "passphrase"]), anything, max_size=2).flatmap(
    lambda extra: venue_table.map(lambda t: {**t, **extra}))
journal = st.one_of(st.just("sqlite:///j.db"), value, st.sampled_from(
    ["sqlite://", "sqlite:///:memory:", "SQLITE:///x", "postgresql://h/db", "sqlite:///a\x00b"]))
names = st.one_of(st.sampled_from(["binance", "okx", "b"]), st.text(max_size=8))
#: a well-formed top level, so that the venue tables themselves get exercised
document = st.builds(lambda v: {"journal": "sqlite:///j.db", "venues": v},
                     st.dictionaries(names, venue_table, max_size=3))
#: anything at the top level
wild_document = st.fixed_dictionaries(
    {"venues": st.dictionaries(names, wild_venue_table, max_size=2)},
    optional={"journal": journal, "secret": value, "other": value},
)


def render(doc: dict[str, Any]) -> str:
    lines = [f"{toml_str(k)} = {toml_value(v)}" for k, v in doc.items() if k != "venues"]
    for name, table in doc["venues"].items():
        lines.append(f"[venues.{toml_str(name)}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _usable(cfg: GaplessConfig) -> None:
    for v in cfg.venues.values():
        rest = urlsplit(v.rest_url)
        assert rest.scheme.lower() in ("http", "https") and rest.hostname
        assert rest.port is None or 0 < rest.port <= 65535
        assert not v.ws_url or urlsplit(v.ws_url).scheme.lower() in ("ws", "wss")
        assert math.isfinite(v.request_timeout) and v.request_timeout > 0
        assert all(isinstance(o, str) for o in v.options.values())


ENV = {"K": "key-value", "S": "secret-value", "E": ""}
CREDS_DIR = Path(tempfile.mkdtemp(prefix="gapless-cfg-props-"))
write_credentials(CREDS_DIR / "creds.json", {"binance": {"api_key": "k", "secret": "s",
                                                         "rest_url": "http://127.0.0.1:1"}})


@SETTINGS
@given(doc=document | wild_document)
def test_structured_config_is_total(doc: dict[str, Any]) -> None:
    try:
        cfg = parse_config(render(doc), base_dir=CREDS_DIR, environ=ENV)
    except ConfigError:
        return
    _usable(cfg)


@SETTINGS
@given(text=st.text(max_size=300))
def test_any_text_is_total(text: str) -> None:
    try:
        parse_config(text, environ=ENV)
    except ConfigError:
        pass


@settings(max_examples=50, deadline=None)
@given(raw=st.binary(max_size=200), mode=st.sampled_from([0o600, 0o644, 0o000]))
def test_any_file_is_total(raw: bytes, mode: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "gapless.toml"
        p.write_bytes(raw)
        os.chmod(p, mode)
        try:
            load_config(p)
        except ConfigError:
            pass
