"""The ``gapless`` command line: simulators, one-shot order commands, demo and bench."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from gapless.cli.outcome import (
    EXIT_CODES_HELP,
    Exit,
    cancelled_code,
    describe,
    error_code,
    fail,
    note,
    placed_code,
    state_code,
)
from gapless.cli.venues import register as _register_venues
from gapless.model import Order
from gapless.model.errors import ConfigError, GaplessError, InvalidIntent
from gapless.model.schema import parse_intent
from gapless.venues.registry import NATIVE_VENUES

T = TypeVar("T")

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__,
                  epilog=EXIT_CODES_HELP, pretty_exceptions_enable=False)
order_app = typer.Typer(no_args_is_help=True, help="Place, cancel and inspect orders.",
                        epilog=EXIT_CODES_HELP)
app.add_typer(order_app, name="order")
_register_venues(app)  # `gapless venues` (src/gapless/cli/venues.py)
ALL_NATIVE = ",".join(NATIVE_VENUES)
console = Console(width=None if sys.stdout.isatty() else 120)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)


def _fail(exc: Exception) -> None:
    """Non-order commands: bad input/config is 2, anything else 1, never a traceback."""
    fail(exc, Exit.BAD_INPUT if error_code(exc, sent=False) is Exit.BAD_INPUT else Exit.FAILED)


@app.command()
def sim(
    venues: str = typer.Option(ALL_NATIVE, help="Comma-separated venues to simulate."),
    host: str = typer.Option("127.0.0.1"),
    port_base: int = typer.Option(0, min=0, max=65535,
                                  help="First port (each venue takes the next); 0 = ephemeral."),
    seed: int = typer.Option(1),
    credentials_out: Path | None = typer.Option(None, help="Write credentials JSON (mode 0600)."),
    config_out: Path | None = typer.Option(None, help="Write a gapless TOML config for these sims."),
    journal: str = typer.Option("", help="Journal URL for --config-out (default: beside it)."),
) -> None:
    """Run venue simulators until SIGINT/SIGTERM."""
    from gapless.cli.simcmd import run_sim

    names = [v.strip() for v in venues.split(",") if v.strip()]
    unknown = sorted(set(names) - set(NATIVE_VENUES))
    if unknown or not names:
        raise typer.BadParameter(f"simulated venues are {ALL_NATIVE}; got {venues!r}",
                                 param_hint="--venues")
    if port_base and port_base + len(names) - 1 > 65535:
        raise typer.BadParameter(f"{len(names)} venues from port {port_base} pass 65535",
                                 param_hint="--port-base")
    try:
        _run(run_sim(names, host, port_base, seed, credentials_out, config_out, journal))
    except OSError as exc:  # address in use, unknown host: a plain message, no traceback
        where = f"{host}:{port_base or 'ephemeral ports'}"
        fail(ConfigError(f"cannot serve on {where}: {exc.strerror or exc}"), Exit.BAD_INPUT)
    except Exception as exc:
        _fail(exc)


@order_app.command("place", epilog=EXIT_CODES_HELP)
def order_place(
    config: Path = typer.Option(..., exists=False),
    venue: str = typer.Option(...),
    symbol: str = typer.Option(...),
    side: str = typer.Option(..., help="buy or sell"),
    type: str = typer.Option("limit", help="limit or market"),
    qty: str = typer.Option(..., help="Plain decimal, e.g. 0.01 (no exponent or underscores)."),
    price: str | None = typer.Option(None, help="Plain decimal; limit orders only."),
    tif: str = typer.Option("gtc", help="gtc, ioc, fok or post_only"),
    client_id: str | None = typer.Option(None, help="Intent id, 1..64 printable characters "
                                         "(default: a new UUID). Re-using one is idempotent."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Place one order through the engine (journaled first).

    Exit 0 accepted (or filled / IOC-FOK expired as asked), 2 bad input or config,
    3 rejected by the venue or denied by gapless, 4 outcome still unknown (journaled).
    """
    from gapless.cli.common import dumps, order_dict
    from gapless.runtime import open_engine

    try:
        intent = parse_intent(
            intent_id=uuid.uuid4().hex if client_id is None else client_id,
            venue=venue, symbol=symbol, side=side, order_type=type, qty=qty, price=price,
            tif=tif,
        )
    except InvalidIntent as exc:
        message = str(exc)
        if message.startswith("intent_id "):
            message = "--client-id " + message[len("intent_id "):]
        fail(InvalidIntent(message), Exit.BAD_INPUT)

    sent = False

    async def go() -> tuple[Order | None, Exception | None]:
        nonlocal sent
        async with open_engine(config, venues=[venue], streams=False) as engine:
            sent = True  # from here on the request may leave the process
            try:
                return await engine.submit(intent), None
            except Exception as exc:
                # write-ahead: an intent not in the journal was never sent
                try:
                    known = await engine.journal.get(intent.intent_id)
                except Exception:
                    return None, exc
                sent = known is not None
                return known, exc

    try:
        order, error = _run(go())
    except Exception as exc:
        fail(exc, error_code(exc, sent=sent), _status_hint(config, intent.intent_id) if sent else "")
    if error is not None and order is None:
        fail(error, error_code(error, sent=sent),
             _status_hint(config, intent.intent_id) if sent else "")
    assert order is not None
    code = placed_code(order)
    if error is not None:
        note(f"{describe(error)}; the journal holds the order as {order.state.value}")
        code = code if order.state.is_terminal or code is not Exit.OK else Exit.UNKNOWN
    _show([order_dict(order)], json_out, dumps)
    _explain(order, code, config)
    raise typer.Exit(code=int(code))


def _status_hint(config: Path, intent_id: str) -> str:
    return (f"the order may have reached the venue; it is journaled: run "
            f"`gapless order status --config {config} --client-id {intent_id}`")


def _explain(order: Order, code: Exit, config: Path) -> None:
    """One stderr line when the code is not 0, so a human reads what the number means."""
    if code is Exit.NOT_DONE:
        note(f"order {order.intent_id} {order.state.value}: "
             f"{order.reject_reason or 'the venue did not keep it'}")
    elif code is Exit.UNKNOWN:
        note(f"order {order.intent_id} outcome not known yet ({order.state.value}); "
             + _status_hint(config, order.intent_id))


def _show(rows: list[dict[str, Any]], json_out: bool, dumps: Any) -> None:
    if json_out:
        print(dumps(rows[0] if len(rows) == 1 else rows))
    else:
        _print_orders(rows)


def _one(config: Path, intent_id: str, action: str, json_out: bool) -> None:
    from gapless.cli.common import dumps, order_dict
    from gapless.runtime import open_engine, open_journal_of, resolve_config

    async def go() -> tuple[Order, Exception | None]:
        cfg = resolve_config(config)
        async with open_journal_of(cfg) as journal:
            known = await journal.get(intent_id)
        if known is None:
            raise InvalidIntent(f"no order with intent id {intent_id!r} in the journal")
        async with open_engine(cfg, venues=[known.venue], streams=False,
                               load_balances=False) as engine:
            try:
                if action == "cancel":
                    return await engine.cancel(intent_id), None
                return await engine.status(intent_id), None
            except GaplessError as exc:
                return await engine.status(intent_id, refresh=False), exc

    try:
        order, error = _run(go())
    except Exception as exc:
        # a cancel that failed before it was sent did nothing; one that may have been
        # sent, or a status that could not be read, leaves the order's outcome open
        fail(exc, error_code(exc, sent=action == "cancel"))
    if action == "cancel":
        code = cancelled_code(order)
        if error is not None and not order.state.is_terminal:
            code = error_code(error, sent=True)  # 3: the cancel did not happen; 4: may have
    else:
        code = state_code(order)
        if error is not None and not order.state.is_terminal:
            code = Exit.UNKNOWN  # the venue could not confirm the journal's state
    _show([order_dict(order)], json_out, dumps)
    state = order.state.value
    if error is not None and action == "cancel" and code is Exit.NOT_DONE:
        note(f"cancel not done: {describe(error)}; the order is still {state}")
    elif error is not None:
        note(f"{describe(error)}; order {intent_id} is {state} in the journal, not confirmed "
             "at the venue now")
    elif action == "cancel" and code is Exit.UNKNOWN:
        note(f"order {intent_id} is {state}: the cancel is not confirmed; "
             + _status_hint(config, intent_id))
    elif action == "status":
        _explain(order, code, config)
    raise typer.Exit(code=int(code))


@order_app.command("cancel", epilog=EXIT_CODES_HELP)
def order_cancel(
    config: Path = typer.Option(...),
    intent_id: str = typer.Option(..., "--client-id", "--intent-id", help="The order's intent id."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Cancel an order by its intent id.

    Exit 0 the order can no longer execute (cancelled, or already final), 2 bad input or
    config, 3 the cancel was refused or not sent (the order stays as it was), 4 not known
    whether the order is still live.
    """
    _one(config, intent_id, "cancel", json_out)


@order_app.command("status", epilog=EXIT_CODES_HELP)
def order_status(
    config: Path = typer.Option(...),
    intent_id: str = typer.Option(..., "--client-id", "--intent-id", help="The order's intent id."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Query an order's state at the venue and update the journal.

    Exit 0 accepted, filled or cancelled, 2 bad input or config (or no such intent id),
    3 rejected or denied, 4 outcome still unknown or not confirmable at the venue now.
    """
    _one(config, intent_id, "status", json_out)


@order_app.command("list")
def order_list(
    config: Path = typer.Option(...),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """The journal's view of every order, after recovery of every reachable venue.

    A venue that cannot be reached does not stop the listing: its orders are shown as
    journaled and it is named on stderr and under "not_reconciled" in --json output.
    Exit 0 listed, 2 bad config, 1 the journal could not be read.
    """
    from gapless.cli.common import dumps, order_dict
    from gapless.runtime import open_engine

    async def go() -> tuple[list[dict[str, Any]], dict[str, str]]:
        async with open_engine(config, streams=False, load_balances=False) as engine:
            orders = await engine.journal.all_orders()
            return [order_dict(o) for o in orders], dict(sorted(engine.unreachable.items()))

    try:
        rows, unreachable = _run(go())
    except Exception as exc:
        _fail(exc)
        return
    for name, reason in unreachable.items():
        note(f"venue {name} not reconciled (unreachable: {reason}); its orders are shown "
             "as journaled")
    if json_out:
        print(dumps({"orders": rows, "not_reconciled": unreachable}))
    else:
        _print_orders(rows)


@app.command()
def balances(
    config: Path = typer.Option(...),
    venue: str = typer.Option(...),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Show a venue's balances."""
    from gapless.cli.common import dumps
    from gapless.runtime import open_engine

    async def go() -> dict[str, dict[str, str]]:
        async with open_engine(config, venues=[venue], streams=False,
                               load_balances=False) as engine:
            bals = await engine.refresh_balances(venue)
            return {a: {"free": f"{b.free:f}", "locked": f"{b.locked:f}"} for a, b in sorted(bals.items())}

    try:
        result = _run(go())
    except Exception as exc:
        _fail(exc)
        return
    if json_out:
        print(dumps(result))
        return
    table = Table("asset", "free", "locked", title=f"{venue} balances")
    for asset, b in result.items():
        table.add_row(asset, b["free"], b["locked"])
    console.print(table)


@app.command()
def demo(
    venues: str = typer.Option(ALL_NATIVE, help="Comma-separated simulated venues."),
    journal: Path | None = typer.Option(None, help="SQLite file (default: a temp dir)."),
) -> None:
    """Start simulators in-process and drive a few orders through the engine."""
    from gapless.cli.demo import run_demo

    try:
        _run(run_demo([v.strip() for v in venues.split(",") if v.strip()], journal, console))
    except Exception as exc:
        _fail(exc)


@app.command()
def bench(
    orders: int = typer.Option(2000, help="Orders per measured path."),
    concurrency: int = typer.Option(1, help="Orders in flight."),
    json_file: Path | None = typer.Option(None, "--json", help="Write the figures as JSON."),
    venues: str = typer.Option(ALL_NATIVE, help="Venues whose adapter path to measure."),
) -> None:
    """Raw aiohttp baseline vs our adapter path vs ccxt, same simulator, same run."""
    from gapless.cli.bench import run_bench

    try:
        run_bench(orders, concurrency, json_file,
                  [v.strip() for v in venues.split(",") if v.strip()], console)
    except Exception as exc:
        _fail(exc)


def _print_orders(rows: list[dict[str, Any]]) -> None:
    table = Table("intent", "venue", "symbol", "side", "qty", "price", "state", "filled", "avg", "venue id")
    for r in rows:
        table.add_row(
            r["intent_id"][:16], r["venue"], r["symbol"], r["side"], r["qty"], r["price"] or "-",
            r["state"], r["filled_qty"], r["avg_price"] or "-", r["venue_order_id"] or "-",
        )
    console.print(table)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
