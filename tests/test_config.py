"""Config loading: journal URL resolution, credentials by reference only, clear errors."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from gapless.config import load_config, parse_config, write_config, write_credentials
from gapless.model import ConfigError
from gapless.store import journal_path, open_journal
from gapless.store.sqlite import SqliteJournal

SECRET = "s3cr3t-value-XYZ"
CREDS = {
    "binance": {
        "rest_url": "http://127.0.0.1:9001",
        "ws_url": "ws://127.0.0.1:9002",
        "api_key": "key-binance-123",
        "secret": SECRET,
        "passphrase": "",
    },
    "okx": {
        "rest_url": "http://127.0.0.1:9011",
        "ws_url": "ws://127.0.0.1:9012",
        "api_key": "key-okx-456",
        "secret": "okx-secret-789",
        "passphrase": "okx-pass-000",
    },
}


def write(tmp_path: Path, text: str, name: str = "gapless.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


def test_load_with_credentials_file(tmp_path: Path) -> None:
    write_credentials(tmp_path / "creds.json", CREDS)
    cfg_path = write(
        tmp_path,
        """
journal = "sqlite:///data/journal.sqlite"

[venues.binance]
driver = "binance"
rest_url = "http://127.0.0.1:9001"
ws_url = "ws://127.0.0.1:9002"
credentials_file = "creds.json"

[venues.okx]
driver = "ccxt"
exchange = "okx"
credentials_file = "creds.json"   # urls come from the credentials file
request_timeout = 3
""",
    )
    cfg = load_config(cfg_path)
    assert journal_path(cfg.journal) == tmp_path.resolve() / "data" / "journal.sqlite"
    b, o = cfg.venues["binance"], cfg.venues["okx"]
    assert (b.driver, b.rest_url, b.ws_url) == (
        "binance",
        "http://127.0.0.1:9001",
        "ws://127.0.0.1:9002",
    )
    assert b.credentials.api_key == "key-binance-123" and b.credentials.secret == SECRET
    assert o.driver == "ccxt" and o.options == {"exchange": "okx"}
    assert o.rest_url == "http://127.0.0.1:9011" and o.request_timeout == 3.0
    assert o.credentials.passphrase == "okx-pass-000"
    assert SECRET not in repr(cfg)


async def test_journal_url_opens_where_config_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg_path = write(tmp_path, 'journal = "sqlite:///j.sqlite"\n')
    monkeypatch.chdir("/")
    cfg = load_config(cfg_path)
    j = open_journal(cfg.journal)
    assert isinstance(j, SqliteJournal)
    await j.open()
    await j.close()
    assert (tmp_path / "j.sqlite").exists()


def test_absolute_journal_path_kept(tmp_path: Path) -> None:
    cfg = parse_config(f'journal = "sqlite:///{tmp_path}/abs.db"', base_dir="/elsewhere")
    assert journal_path(cfg.journal) == tmp_path / "abs.db"


def test_postgres_url_passed_through() -> None:
    cfg = parse_config('journal = "postgresql://db/gapless"')
    assert cfg.journal == "postgresql://db/gapless"
    with pytest.raises(ConfigError, match="not yet supported"):
        open_journal(cfg.journal)


def test_env_credentials() -> None:
    text = """
journal = "sqlite:///j.db"
[venues.okx]
driver = "ccxt"
exchange = "okx"
rest_url = "https://example.invalid"
api_key_env = "OKX_KEY"
secret_env = "OKX_SECRET"
passphrase_env = "OKX_PASS"
"""
    env = {"OKX_KEY": "k-1234", "OKX_SECRET": SECRET, "OKX_PASS": "pp-5678"}
    cfg = parse_config(text, environ=env)
    c = cfg.venues["okx"].credentials
    assert (c.api_key, c.secret, c.passphrase) == ("k-1234", SECRET, "pp-5678")

    with pytest.raises(ConfigError, match="OKX_PASS is not set") as ei:
        parse_config(text, environ={"OKX_KEY": "k-1234", "OKX_SECRET": SECRET})
    assert SECRET not in str(ei.value)
    with pytest.raises(ConfigError, match="empty"):
        parse_config(text, environ={**env, "OKX_KEY": ""})


def test_public_only_venue_has_empty_credentials() -> None:
    cfg = parse_config(
        'journal = "sqlite:///j.db"\n[venues.x]\ndriver = "binance"\nrest_url = "http://h"\n'
    )
    assert cfg.venues["x"].credentials.api_key == ""


@pytest.mark.parametrize("key", ["api_key", "secret", "passphrase"])
def test_inline_secrets_refused_without_echo(key: str) -> None:
    text = f"""
journal = "sqlite:///j.db"
[venues.binance]
driver = "binance"
rest_url = "http://h"
{key} = "{SECRET}"
"""
    with pytest.raises(ConfigError, match="inline") as ei:
        parse_config(text)
    assert SECRET not in str(ei.value)
    assert SECRET not in repr(ei.value)


def test_inline_secret_at_top_level_refused() -> None:
    with pytest.raises(ConfigError, match="inline") as ei:
        parse_config(f'journal = "sqlite:///j.db"\nsecret = "{SECRET}"\n')
    assert SECRET not in str(ei.value)


def test_toml_syntax_error_does_not_echo_value() -> None:
    with pytest.raises(ConfigError, match="invalid TOML") as ei:
        parse_config(f'journal = "sqlite:///j.db"\n[venues.b]\nfoo = {SECRET}\n')
    assert SECRET not in str(ei.value)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "missing top-level `journal"),
        ("journal = 5", "must be a string"),
        ('journal = "j.db"', "not a URL"),
        ('journal = "sqlite:///j.db"\nvenus = 1', "unknown top-level"),
        ('journal = "sqlite:///j.db"\nvenues = 3', "must be a table"),
        ('journal = "sqlite:///j.db"\n[venues.b]\nrest_url = "http://h"', "missing `driver`"),
        ('journal = "sqlite:///j.db"\n[venues.b]\ndriver = "binance"', "missing `rest_url`"),
        (
            'journal = "sqlite:///j.db"\n[venues.b]\ndriver = 7\nrest_url = "h"',
            r"driver must be a string",
        ),
        (
            'journal = "sqlite:///j.db"\n[venues.b]\ndriver = "x"\nrest_url = "h"\nrest_ulr = "h"',
            "unknown key",
        ),
        (
            'journal = "sqlite:///j.db"\n[venues.b]\ndriver = "x"\nrest_url = "h"\nrequest_timeout = "fast"',
            "positive number",
        ),
        (
            'journal = "sqlite:///j.db"\n[venues.b]\ndriver = "x"\nrest_url = "h"\noptions = {a = 1}',
            "table of strings",
        ),
        (
            'journal = "sqlite:///j.db"\n[venues.b]\ndriver = "x"\nrest_url = "h"\napi_key_env = "K"',
            "go together",
        ),
        (
            'journal = "sqlite:///j.db"\n[venues.b]\ndriver = "x"\nrest_url = "h"\ncredentials_file = "c.json"\napi_key_env = "K"\nsecret_env = "S"',
            "not both",
        ),
    ],
)
def test_bad_input_is_config_error(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_config(text, environ={})


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_credentials_file_errors(tmp_path: Path) -> None:
    base = 'journal = "sqlite:///j.db"\n[venues.kraken]\ndriver = "x"\nrest_url = "h"\ncredentials_file = "c.json"\n'
    cfg = write(tmp_path, base)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(cfg)
    write_credentials(tmp_path / "c.json", CREDS)
    with pytest.raises(ConfigError, match="no entry 'kraken'") as ei:
        load_config(cfg)
    assert SECRET not in str(ei.value)
    private(tmp_path / "c.json", '{"kraken": {"secret": "' + SECRET + '", oops}')
    with pytest.raises(ConfigError, match="not valid JSON") as ei:
        load_config(cfg)
    assert SECRET not in str(ei.value)
    private(tmp_path / "c.json", "[1, 2]")
    with pytest.raises(ConfigError, match="JSON object"):
        load_config(cfg)
    private(tmp_path / "c.json", '{"kraken": {"api_key": "k"}}')
    with pytest.raises(ConfigError, match="lacks api_key or secret"):
        load_config(cfg)


def test_credentials_entry_override(tmp_path: Path) -> None:
    write_credentials(tmp_path / "c.json", CREDS)
    cfg = write(
        tmp_path,
        'journal = "sqlite:///j.db"\n[venues.main]\ndriver = "binance"\n'
        'credentials_file = "c.json"\ncredentials_entry = "binance"\n',
    )
    v = load_config(cfg).venues["main"]
    assert v.credentials.secret == SECRET and v.rest_url == "http://127.0.0.1:9001"


def test_write_credentials_mode_0600(tmp_path: Path) -> None:
    p = tmp_path / "creds.json"
    p.write_text("{}")
    os.chmod(p, 0o644)  # pre-existing world-readable file gets tightened
    write_credentials(p, CREDS)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert orjson.loads(p.read_bytes()) == CREDS
    fresh = tmp_path / "sub" / "new.json"
    write_credentials(fresh, CREDS)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_write_config_round_trip(tmp_path: Path) -> None:
    write_credentials(tmp_path / "creds.json", CREDS)
    cfg_path = tmp_path / "gapless.toml"
    write_config(
        cfg_path,
        "sqlite:///gapless-journal.sqlite",
        {
            "binance": ("binance", "http://127.0.0.1:9001", "ws://127.0.0.1:9002"),
            "okx": ("okx", "http://127.0.0.1:9011", 'ws://127.0.0.1:9012/"q"\\'),
        },
        tmp_path / "creds.json",
    )
    text = cfg_path.read_text()
    assert SECRET not in text and "key-binance-123" not in text
    assert 'credentials_file = "creds.json"' in text
    cfg = load_config(cfg_path)
    assert set(cfg.venues) == {"binance", "okx"}
    assert cfg.venues["okx"].ws_url == 'ws://127.0.0.1:9012/"q"\\'
    assert cfg.venues["binance"].credentials.secret == SECRET
    assert journal_path(cfg.journal) == tmp_path.resolve() / "gapless-journal.sqlite"


def test_write_config_credentials_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    write_credentials(tmp_path / "b" / "creds.json", CREDS)
    cfg_path = tmp_path / "a" / "gapless.toml"
    write_config(
        cfg_path,
        "sqlite:///j.db",
        {"binance": ("binance", "http://h", "")},
        tmp_path / "b" / "creds.json",
    )
    assert load_config(cfg_path).venues["binance"].credentials.secret == SECRET


def test_loaded_secrets_are_redacted_from_logs(tmp_path: Path) -> None:
    from gapless.obs.logging import clear_secrets, configure_logging, get_logger

    write_credentials(tmp_path / "creds.json", CREDS)
    cfg_path = tmp_path / "gapless.toml"
    write_config(
        cfg_path, "sqlite:///j.db", {"okx": ("okx", "http://h", "")}, tmp_path / "creds.json"
    )
    clear_secrets()
    buf = io.StringIO()
    configure_logging("INFO", json=True, stream=buf)
    try:
        load_config(cfg_path)
        get_logger("t").info("debugging", blob="okx-secret-789 and okx-pass-000")
        assert "okx-secret-789" not in buf.getvalue() and "okx-pass-000" not in buf.getvalue()
    finally:
        import logging

        import structlog

        for h in list(logging.getLogger().handlers):
            if getattr(h, "_gapless", False):
                logging.getLogger().removeHandler(h)
        structlog.reset_defaults()
        clear_secrets()


# -- issue 7, defect 7: every bad config is a ConfigError at load, never later ------------
VENUE = 'journal = "sqlite:///j.db"\n[venues.b]\ndriver = "binance"\n'


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ('rest_url = "http://127.0.0.1:99999"', "not a valid URL: Port out of range"),
        ('rest_url = "http://127.0.0.1:port"', "not a valid URL"),
        ('rest_url = "http://[::1"', "not a valid URL"),
        ('rest_url = "127.0.0.1:8000"', "must start with http:// or https://"),
        ('rest_url = "htp:/bad"', "must start with http:// or https://"),
        ('rest_url = "ws://127.0.0.1:1"', "must start with http://"),
        ('rest_url = "http://"', "has no host"),
        ('rest_url = "http://127.0.0.1:0"', "port 0"),
        ('rest_url = "http://exa mple.com"', "spaces"),
        ('rest_url = "http://h\\u0000x"', "control"),
        ('rest_url = "http://h"\nws_url = "http://h"', r"ws_url .* must start with ws:// or wss://"),
        ('rest_url = "http://h"\nrequest_timeout = nan', "request_timeout"),
        ('rest_url = "http://h"\nrequest_timeout = inf', "request_timeout"),
        ('rest_url = "http://h"\nrequest_timeout = 1e9', "request_timeout"),
        ('rest_url = "http://h"\nrequest_timeout = -1', "request_timeout"),
    ],
)
def test_malformed_urls_and_timeouts_fail_at_load(line: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_config(VENUE + line + "\n", environ={})


def test_url_with_userinfo_is_refused_without_echo() -> None:
    with pytest.raises(ConfigError, match="must not carry credentials") as ei:
        parse_config(VENUE + f'rest_url = "https://user:{SECRET}@h"\n', environ={})
    assert SECRET not in str(ei.value)


def test_good_urls_load() -> None:
    cfg = parse_config(VENUE + 'rest_url = "https://api.example.com:443/v3"\n'
                       'ws_url = "wss://stream.example.com/ws"\n')
    assert cfg.venues["b"].ws_url == "wss://stream.example.com/ws"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o666, 0o710, 0o601])
def test_credentials_readable_by_others_are_refused_like_ssh(tmp_path: Path, mode: int) -> None:
    write_credentials(tmp_path / "creds.json", CREDS)
    (tmp_path / "creds.json").chmod(mode)
    cfg = write(tmp_path, VENUE + 'credentials_file = "creds.json"\ncredentials_entry = "binance"\n')
    with pytest.raises(ConfigError, match=f"mode {mode:04o}") as ei:
        load_config(cfg)
    assert f"chmod 600 {tmp_path / 'creds.json'}" in str(ei.value)
    assert SECRET not in str(ei.value)
    (tmp_path / "creds.json").chmod(0o400)  # owner-only, even read-only, is fine
    assert load_config(cfg).venues["b"].credentials.secret == SECRET


def test_credentials_path_that_is_a_directory_or_has_a_nul(tmp_path: Path) -> None:
    cfg = write(tmp_path, VENUE + 'credentials_file = "."\n')
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(cfg)
    cfg = write(tmp_path, VENUE + 'credentials_file = "a\\u0000b"\n')
    with pytest.raises(ConfigError, match="cannot read credentials file"):
        load_config(cfg)


@pytest.mark.parametrize("name", ['""', '" b"', '"a\\nb"'])
def test_odd_venue_names_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="venue name"):
        parse_config(f'journal = "sqlite:///j.db"\n[venues.{name}]\ndriver = "x"\nrest_url = "http://h"\n')


# -- issue 8: a closed schema; typed venue options ----------------------------------------
BINANCE = 'journal = "sqlite:///j.db"\n[venues.main]\ndriver = "binance"\nrest_url = "http://h"\n'


@pytest.mark.parametrize(
    ("driver", "option"),
    [("binance", "book_dpeth"), ("bybit", "recvwindow"), ("okx", "dmeo"),
     ("coinbase", "jwt_hots"), ("kraken", "teir"), ("binance", "exchange_id")],
)
def test_a_misspelled_venue_option_is_refused_naming_key_and_venue(driver: str, option: str) -> None:
    text = (f'journal = "sqlite:///j.db"\n[venues.main]\ndriver = "{driver}"\n'
            f'rest_url = "http://h"\noptions = {{ {option} = "1" }}\n')
    with pytest.raises(ConfigError) as ei:
        parse_config(text, source="g.toml")
    msg = str(ei.value)
    assert option in msg and "venues.main.options" in msg and driver in msg
    assert "unknown option" in msg


@pytest.mark.parametrize(
    ("driver", "options"),
    [("binance", {"recv_window": "60000", "book_depth": "100", "listen_key_keepalive_s": "900"}),
     ("bybit", {"recv_window": "1000", "book_depth": "200"}),
     ("okx", {"recv_window": "30000", "book_depth": "400", "demo": "true"}),
     ("coinbase", {"recv_window": "2500", "book_depth": "10", "list_limit": "100",
                   "jwt_host": "127.0.0.1:9000", "user_ws_url": "ws://127.0.0.1:9001"}),
     ("kraken", {"book_depth": "25", "recv_window": "5000", "nonce_window": "0", "tier": "pro",
                 "rest_counter_max": "20", "rest_counter_decay": "1", "trade_counter_max": "180",
                 "trade_counter_decay": "3.75"})],
)
def test_every_option_an_adapter_reads_is_accepted(driver: str, options: dict[str, str]) -> None:
    table = ", ".join(f'{k} = "{v}"' for k, v in options.items())
    cfg = parse_config(f'journal = "sqlite:///j.db"\n[venues.main]\ndriver = "{driver}"\n'
                       f'rest_url = "http://h"\noptions = {{ {table} }}\n')
    assert cfg.venues["main"].options == options


@pytest.mark.parametrize(
    ("options", "needle"),
    [('{ recv_window = "60001" }', "recv_window"), ('{ book_depth = "x" }', "book_depth"),
     ('{ listen_key_keepalive_s = "nan" }', "listen_key_keepalive_s")],
)
def test_bad_option_values_fail_at_load_naming_the_option(options: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_config(BINANCE + f"options = {options}\n")


def test_exchange_is_only_for_the_ccxt_driver() -> None:
    with pytest.raises(ConfigError, match="exchange"):
        parse_config(BINANCE + 'exchange = "binance"\n')


CCXT = 'journal = "sqlite:///j.db"\n[venues.c]\ndriver = "ccxt"\nexchange = "okx"\nrest_url = "http://h"\n'


def test_ccxt_bridge_options_are_typed_at_load() -> None:
    cfg = parse_config(CCXT + 'options = { poll_interval_s = "0.5", header_limits = "off" }\n')
    assert cfg.venues["c"].options == {"poll_interval_s": "0.5", "header_limits": "off",
                                       "exchange": "okx"}


@pytest.mark.parametrize(("options", "needle"), [
    ('{ pol_interval_s = "0.5" }', "pol_interval_s"),  # a typo is named, with the known ones
    ('{ poll_interval_s = "soon" }', "poll_interval_s"),
    ('{ book_depth = "-3" }', "book_depth"),
    ('{ header_limits = "maybe" }', "header_limits"),
    ('{ rate_limit_ms = "1e3" }', "rate_limit_ms"),
])
def test_bad_ccxt_bridge_options_fail_at_load_naming_the_option(options: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_config(CCXT + f"options = {options}\n")


def test_engine_table_carries_the_engine_knobs() -> None:
    cfg = parse_config('journal = "sqlite:///j.db"\n[engine]\nunknown_query_attempts = 3\n'
                       "skew_margin = 0.5\nreconcile_interval = 1\n")
    assert cfg.engine.engine_kwargs() == {"unknown_query_attempts": 3, "skew_margin": 0.5,
                                          "reconcile_interval": 1.0}
    assert parse_config('journal = "sqlite:///j.db"\n').engine.engine_kwargs() == {}
    assert parse_config('journal = "sqlite:///j.db"\n[risk]\n[service]\n[cluster]\n').risk is not None


@pytest.mark.parametrize(
    ("table", "needle"),
    [("[engine]\nskew_margn = 1\n", "skew_margn"), ("[engine]\nskew_margin = -1\n", "skew_margin"),
     ("[engine]\nreconcile_interval = 0\n", "reconcile_interval"),
     ("[engine]\nunknown_query_attempts = true\n", "unknown_query_attempts"),
     ("[engine]\nunknown_query_attempts = 0\n", "unknown_query_attempts"),
     ("[risk]\nmax_notional = 5\n", "max_notional"), ("[service]\nport = 1\n", "port"),
     ("[cluster]\nnodes = 3\n", "nodes"), ("engine = 5\n", "engine"),
     ("[engnie]\n", "engnie"), ("[routing]\n", "routing")],
)
def test_unknown_or_bad_top_level_tables_are_refused_naming_the_key(table: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_config(table + 'journal = "sqlite:///j.db"\n' if table.startswith("engine =")
                     else 'journal = "sqlite:///j.db"\n' + table)


def _cli(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "g.toml").write_text(text)
    return subprocess.run([sys.executable, "-m", "gapless", "order", "list", "--config", "g.toml"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=90)


@pytest.mark.parametrize(
    ("text", "needle"),
    [(BINANCE + 'options = { recv_windw = "5000" }\n', "recv_windw"),
     ('journal = "sqlite:///j.db"\n[enigne]\nskew_margin = 1\n', "enigne")],
)
def test_cli_exits_2_naming_the_offending_key_without_a_traceback(
    tmp_path: Path, text: str, needle: str
) -> None:
    proc = _cli(tmp_path, text)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr and "ConfigError" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert not (tmp_path / "j.db").exists()  # refused before anything was opened
