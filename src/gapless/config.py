"""The TOML configuration: journal location and venues, with credentials by reference only.

```toml
journal = "sqlite:///gapless-journal.sqlite"   # relative to this file's directory

[venues.binance]
driver = "binance"
rest_url = "http://127.0.0.1:9001"
ws_url = "ws://127.0.0.1:9002"
credentials_file = "creds.json"                # {venue: {api_key, secret, passphrase, ...}}

[venues.okx]
driver = "ccxt"
exchange = "okx"
rest_url = "https://www.okx.com"
api_key_env = "OKX_KEY"                        # environment variable *names*
secret_env = "OKX_SECRET"
passphrase_env = "OKX_PASSPHRASE"

[engine]                                       # optional; the engine's defaults otherwise
unknown_query_attempts = 6
skew_margin = 1.0                              # seconds added to a request's validity bound
reconcile_interval = 2.0                       # seconds between maintenance passes
```

Secrets never appear in the config itself: inline ``api_key``/``secret``/``passphrase``
keys are refused, and no error message ever contains a secret value.

The schema is closed: an unknown table or key anywhere is a ``ConfigError`` naming it. A
venue's ``options`` are checked against its driver's typed options
(``venues/<name>/options.py``, ``venues/ccxt_bridge/options.py``) at load time, so a
misspelled option fails here, not silently at the first order. ``[risk]``, ``[service]`` and ``[cluster]``
are reserved for the issues that add them: they may appear, empty, and refuse every key.
"""

from __future__ import annotations

import importlib
import math
import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import orjson

from gapless.model import ConfigError
from gapless.obs.logging import register_secret
from gapless.store import journal_path
from gapless.venues.base import Credentials, VenueConfig

__all__ = ["GaplessConfig", "load_config", "parse_config", "write_config", "write_credentials"]

_SECRET_KEYS = ("api_key", "secret", "passphrase")
_ENV_KEYS = {"api_key_env": "api_key", "secret_env": "secret", "passphrase_env": "passphrase"}
_STR_KEYS = ("driver", "rest_url", "ws_url", "exchange", "credentials_file", "credentials_entry")
_VENUE_KEYS = frozenset({*_STR_KEYS, *_ENV_KEYS, "request_timeout", "options"})
_TABLES = ("engine", "risk", "service", "cluster")
_TOP_KEYS = frozenset({"journal", "venues", *_TABLES})
#: native drivers -> their typed options (imported only when a config names the driver)
_OPTION_TYPES = {
    "binance": "gapless.venues.binance.options:BinanceOptions",
    "bybit": "gapless.venues.bybit.options:BybitOptions",
    "okx": "gapless.venues.okx.options:OkxOptions",
    "coinbase": "gapless.venues.coinbase.options:CoinbaseOptions",
    "kraken": "gapless.venues.kraken.options:KrakenOptions",
}
#: the bridge's options (``exchange`` included); ccxt itself is not imported to check them
_CCXT_OPTIONS = "gapless.venues.ccxt_bridge.options:CcxtOptions"
_URL_SCHEMES = {"rest_url": ("http", "https"), "ws_url": ("ws", "wss")}
MAX_REQUEST_TIMEOUT = 3600.0  # an hour: beyond it a "timeout" is a hang


class EngineSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``[engine]``: the engine's knobs; ``None`` keeps the engine's own default."""

    unknown_query_attempts: int | None = None  # queries before an unknown create waits
    skew_margin: float | None = None  # s added to a create's validity bound (clock error)
    reconcile_interval: float | None = None  # s between maintenance passes

    def engine_kwargs(self) -> dict[str, Any]:
        """The settings given, as ``Engine(...)`` keyword arguments."""
        return {k: v for k in self.__struct_fields__ if (v := getattr(self, k)) is not None}


class ReservedSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``[risk]``, ``[service]``, ``[cluster]``: declared now so a config can name them;
    the issues that build each add its keys (until then every key is refused)."""


class GaplessConfig(msgspec.Struct, frozen=True, kw_only=True):
    journal: str  # journal URL; sqlite paths are absolute after loading
    venues: dict[str, VenueConfig]
    engine: EngineSettings = msgspec.field(default_factory=EngineSettings)
    risk: ReservedSettings = msgspec.field(default_factory=ReservedSettings)
    service: ReservedSettings = msgspec.field(default_factory=ReservedSettings)
    cluster: ReservedSettings = msgspec.field(default_factory=ReservedSettings)
    path: str = ""  # the file this came from ("" when parsed from a string)


def load_config(path: str | os.PathLike[str]) -> GaplessConfig:
    """Read and validate the config file; every problem is a ``ConfigError``."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file {p} does not exist") from None
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
        raise ConfigError(f"cannot read config file {p}: {getattr(e, 'strerror', None) or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"config file {p} is not UTF-8 text") from None
    return parse_config(text, base_dir=p.resolve().parent, source=str(p))


def parse_config(
    text: str,
    *,
    base_dir: str | os.PathLike[str] = ".",
    source: str = "<config>",
    environ: Mapping[str, str] | None = None,
) -> GaplessConfig:
    """Validate config text; relative paths resolve against ``base_dir``."""
    base = Path(base_dir)
    env = os.environ if environ is None else environ
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        # the decoder's message names a position, never echoes the offending value
        raise ConfigError(f"{source}: invalid TOML: {e}") from None

    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        _refuse_inline_secrets(data, source, "top level")
        raise ConfigError(
            f"{source}: unknown top-level key(s) {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(_TOP_KEYS))})"
        )

    journal = data.get("journal")
    if journal is None:
        raise ConfigError(f'{source}: missing top-level `journal = "sqlite:///path"`')
    if not isinstance(journal, str):
        raise ConfigError(f"{source}: `journal` must be a string URL")
    journal = _resolve_journal(journal, base, source)

    venues_raw = data.get("venues", {})
    if not isinstance(venues_raw, dict):
        raise ConfigError(f"{source}: `venues` must be a table of [venues.NAME] tables")
    venues: dict[str, VenueConfig] = {}
    cred_cache: dict[Path, dict[str, Any]] = {}
    for name, table in venues_raw.items():
        if not name or not name.isprintable() or name != name.strip():
            raise ConfigError(f"{source}: venue name {name!r} must be printable, without surrounding spaces")
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: venues.{name} must be a table")
        venues[name] = _venue(name, table, base, source, env, cred_cache)
    for table_name in _TABLES:
        if not isinstance(data.get(table_name, {}), dict):
            raise ConfigError(f"{source}: `{table_name}` must be a table ([{table_name}])")
        _refuse_inline_secrets(data.get(table_name, {}), source, f"[{table_name}]")
    reserved = {t: _reserved(t, data.get(t, {}), source) for t in ("risk", "service", "cluster")}
    return GaplessConfig(journal=journal, venues=venues, path=source,
                         engine=_engine(data.get("engine", {}), source), **reserved)


def _engine(t: Mapping[str, Any], source: str) -> EngineSettings:
    allowed = EngineSettings.__struct_fields__
    unknown = sorted(set(t) - set(allowed))
    if unknown:
        raise ConfigError(f"{source}: [engine]: unknown key(s) {', '.join(unknown)} "
                          f"(allowed: {', '.join(allowed)})")
    attempts = t.get("unknown_query_attempts")
    if attempts is not None and (
        isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 100
    ):
        raise ConfigError(f"{source}: [engine].unknown_query_attempts must be a whole number "
                          "from 1 to 100")
    seconds: dict[str, float] = {}
    # (key, may be zero, most): a zero margin is allowed, a zero interval would spin
    for key, zero_ok, high in (("skew_margin", True, 60.0), ("reconcile_interval", False, 3600.0)):
        value = t.get(key)
        if value is None:
            continue
        number = not isinstance(value, bool) and isinstance(value, int | float)
        if not (number and math.isfinite(value) and (value >= 0 if zero_ok else value > 0)
                and value <= high):
            low = "at least 0" if zero_ok else "above 0"
            raise ConfigError(f"{source}: [engine].{key} must be a number of seconds, {low} "
                              f"and at most {high:g}")
        seconds[key] = float(value)
    return EngineSettings(unknown_query_attempts=attempts, **seconds)


def _reserved(table: str, t: Mapping[str, Any], source: str) -> ReservedSettings:
    if t:
        raise ConfigError(f"{source}: [{table}]: unknown key(s) {', '.join(sorted(t))} "
                          f"([{table}] has no settings yet)")
    return ReservedSettings()


def _check_options(driver: str, options: Mapping[str, str], name: str, source: str) -> None:
    """A venue's options against its driver's typed struct (the ccxt bridge's included)."""
    target = _OPTION_TYPES.get(driver) or (_CCXT_OPTIONS if driver == "ccxt" else None)
    if target is None:
        return
    module, _, attr = target.partition(":")
    options_type = getattr(importlib.import_module(module), attr)
    try:
        options_type.parse(options, venue=name)
    except ConfigError as exc:
        raise ConfigError(f"{source}: venues.{name}.options: {exc.message}") from None


def _resolve_journal(url: str, base: Path, source: str) -> str:
    scheme, sep, _ = url.partition("://")
    if not sep:
        raise ConfigError(f"{source}: journal {url!r} is not a URL (expected sqlite:///path)")
    if scheme.lower() != "sqlite":
        return url  # other backends are validated by gapless.store.open_journal
    p = journal_path(url)
    if not p.is_absolute():
        p = base / p
    return "sqlite:///" + str(p)


def _refuse_inline_secrets(table: Mapping[str, Any], source: str, where: str) -> None:
    inline = [k for k in _SECRET_KEYS if k in table]
    if inline:
        raise ConfigError(
            f"{source}: {where} has inline credential key(s) {', '.join(inline)}; "
            'secrets must not be written in the config. Use credentials_file = "..." or '
            "api_key_env / secret_env / passphrase_env naming environment variables"
        )


def _venue(
    name: str,
    t: dict[str, Any],
    base: Path,
    source: str,
    env: Mapping[str, str],
    cred_cache: dict[Path, dict[str, Any]],
) -> VenueConfig:
    where = f"venues.{name}"
    _refuse_inline_secrets(t, source, where)
    unknown = sorted(set(t) - _VENUE_KEYS)
    if unknown:
        raise ConfigError(
            f"{source}: {where}: unknown key(s) {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(_VENUE_KEYS))})"
        )
    for k in (*_STR_KEYS, *_ENV_KEYS):
        if k in t and not isinstance(t[k], str):
            raise ConfigError(f"{source}: {where}.{k} must be a string")
    timeout = t.get("request_timeout", 10.0)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not (math.isfinite(timeout) and 0 < timeout <= MAX_REQUEST_TIMEOUT)
    ):
        raise ConfigError(
            f"{source}: {where}.request_timeout must be a positive number of seconds "
            f"(at most {MAX_REQUEST_TIMEOUT:g})"
        )
    options_raw = t.get("options", {})
    if not isinstance(options_raw, dict) or not all(
        isinstance(v, str) for v in options_raw.values()
    ):
        raise ConfigError(f"{source}: {where}.options must be a table of strings")
    options: dict[str, str] = dict(options_raw)
    if "exchange" in t:
        options["exchange"] = t["exchange"]

    driver = t.get("driver")
    if not driver:
        raise ConfigError(f"{source}: {where}: missing `driver`")
    if "exchange" in t and driver in _OPTION_TYPES:
        raise ConfigError(f'{source}: {where}: `exchange` is for driver = "ccxt" only '
                          f"(driver {driver!r} is one exchange already)")
    _check_options(driver, options, name, source)
    rest_url: str = t.get("rest_url", "")
    ws_url: str = t.get("ws_url", "")

    env_keys = [k for k in _ENV_KEYS if k in t]
    creds = Credentials()
    if "credentials_file" in t:
        if env_keys:
            raise ConfigError(
                f"{source}: {where}: use either credentials_file or *_env keys, not both"
            )
        entry_name = t.get("credentials_entry", name)
        entry = _credentials_entry(
            base / t["credentials_file"], entry_name, source, where, cred_cache
        )
        creds = _creds_from_entry(entry, source, where)
        rest_url = rest_url or _opt_str(entry, "rest_url", source, where)
        ws_url = ws_url or _opt_str(entry, "ws_url", source, where)
    elif env_keys:
        if "api_key_env" not in t or "secret_env" not in t:
            raise ConfigError(f"{source}: {where}: api_key_env and secret_env go together")
        values: dict[str, str] = {}
        for key, field in _ENV_KEYS.items():
            if key not in t:
                continue
            var = t[key]
            val = env.get(var)
            if val is None:
                raise ConfigError(f"{source}: {where}.{key}: environment variable {var} is not set")
            if not val:
                raise ConfigError(f"{source}: {where}.{key}: environment variable {var} is empty")
            values[field] = val
        creds = Credentials(**values)
    elif "credentials_entry" in t:
        raise ConfigError(f"{source}: {where}: credentials_entry needs credentials_file")

    if not rest_url:
        raise ConfigError(f"{source}: {where}: missing `rest_url`")
    _check_url(rest_url, "rest_url", source, where)
    if ws_url:
        _check_url(ws_url, "ws_url", source, where)
    for s in (creds.api_key, creds.secret, creds.passphrase):
        register_secret(s)
    return VenueConfig(
        name=name,
        driver=driver,
        rest_url=rest_url,
        ws_url=ws_url,
        credentials=creds,
        options=options,
        request_timeout=float(timeout),
    )


def _check_url(url: str, key: str, source: str, where: str) -> None:
    """A malformed URL is a config error now, not an *unknown* outcome at the first send."""
    schemes = _URL_SCHEMES[key]
    shown = repr(url) if len(url) <= 200 else repr(url[:197] + "...")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError when not a number in 0..65535
    except ValueError as e:
        raise ConfigError(f"{source}: {where}.{key} {shown} is not a valid URL: {e}") from None
    if parts.username is not None or parts.password is not None:
        # never echoed: whatever sits before the @ may be a secret
        raise ConfigError(
            f"{source}: {where}.{key} must not carry credentials (user:password@); "
            "use credentials_file or *_env keys"
        )
    problem = None
    if parts.scheme.lower() not in schemes:
        problem = f"must start with {' or '.join(s + '://' for s in schemes)}"
    elif not parts.hostname:
        problem = "has no host"
    elif port == 0:
        problem = "has port 0"
    elif any(ch.isspace() or not ch.isprintable() for ch in url) or not url.isascii():
        problem = "contains spaces, control or non-ASCII characters"
    if problem:
        raise ConfigError(f"{source}: {where}.{key} {shown} {problem}")


def _credentials_entry(
    path: Path, entry: str, source: str, where: str, cache: dict[Path, dict[str, Any]]
) -> Mapping[str, Any]:
    data = cache.get(path)
    if data is None:
        try:
            _check_private(path, source, where)
            raw = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(
                f"{source}: {where}: credentials file {path} does not exist"
            ) from None
        except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
            raise ConfigError(
                f"{source}: {where}: cannot read credentials file {path}: "
                f"{getattr(e, 'strerror', None) or e}"
            ) from None
        try:
            loaded = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            # position only: the parser's message could quote file content
            raise ConfigError(
                f"{source}: {where}: credentials file {path} is not valid JSON "
                f"(line {e.lineno}, column {e.colno})"
            ) from None
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"{source}: {where}: credentials file {path} must hold a JSON object "
                "{venue: {api_key, secret, ...}}"
            )
        data = cache[path] = loaded
    if entry not in data:
        known = ", ".join(sorted(str(k) for k in data)) or "none"
        raise ConfigError(
            f"{source}: {where}: credentials file {path} has no entry {entry!r} (has: {known})"
        )
    value = data[entry]
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {where}: entry {entry!r} in {path} must be a JSON object")
    return value


def _check_private(path: Path, source: str, where: str) -> None:
    """Refuse a credentials file others may read, as ssh does for a private key."""
    if os.name != "posix":
        return
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{source}: {where}: credentials file {path} is not a regular file")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"{source}: {where}: credentials file {path} is accessible by group or others "
            f"(mode {mode:04o}); it holds secrets, so gapless refuses it. "
            f"Fix with: chmod 600 {path}"
        )


def _opt_str(entry: Mapping[str, Any], key: str, source: str, where: str) -> str:
    value = entry.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"{source}: {where}: credentials field {key} must be a string")
    return value


def _creds_from_entry(entry: Mapping[str, Any], source: str, where: str) -> Credentials:
    values = {k: _opt_str(entry, k, source, where) for k in _SECRET_KEYS}
    if not values["api_key"] or not values["secret"]:
        raise ConfigError(f"{source}: {where}: credentials entry lacks api_key or secret")
    return Credentials(**values)


# -- writers (used by ``gapless sim --config-out / --credentials-out``) ------------------
def _toml_str(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_key(k: str) -> str:
    if k and all(c.isascii() and (c.isalnum() or c in "-_") for c in k):
        return k
    return _toml_str(k)


def write_config(
    path: str | os.PathLike[str],
    journal_url: str,
    venues: Mapping[str, tuple[str, str, str]],
    credentials_file: str | os.PathLike[str] | None = None,
) -> None:
    """Write a config for ``venues`` ``{name: (driver, rest_url, ws_url)}``.

    ``credentials_file`` is referenced relative to the config's directory when it lies
    inside it; each venue takes its entry of the same name from that file.
    """
    p = Path(path)
    lines = [
        "# written by gapless; secrets live in the credentials file, never here",
        f"journal = {_toml_str(journal_url)}",
    ]
    cred_ref: str | None = None
    if credentials_file is not None:
        cf = Path(credentials_file)
        try:
            cred_ref = str(cf.resolve().relative_to(p.resolve().parent))
        except ValueError:
            cred_ref = str(cf.resolve())
    for name, (driver, rest_url, ws_url) in venues.items():
        lines += [
            "",
            f"[venues.{_toml_key(name)}]",
            f"driver = {_toml_str(driver)}",
            f"rest_url = {_toml_str(rest_url)}",
            f"ws_url = {_toml_str(ws_url)}",
        ]
        if cred_ref is not None:
            lines.append(f"credentials_file = {_toml_str(cred_ref)}")
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, p)


def write_credentials(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Write credentials JSON readable by the owner only (mode 0600 from creation)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    payload = orjson.dumps(dict(data), option=orjson.OPT_INDENT_2) + b"\n"
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
        view = memoryview(payload)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    finally:
        os.close(fd)
