"""The ``gapless`` command line: simulators, one-shot order commands, demo and bench."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from collections.abc import Coroutine
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gapless.cli.venues import register as _register_venues
from gapless.model.errors import GaplessError
from gapless.venues.registry import NATIVE_VENUES

T = TypeVar("T")

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
order_app = typer.Typer(no_args_is_help=True, help="Place, cancel and inspect orders.")
app.add_typer(order_app, name="order")
_register_venues(app)  # `gapless venues` (src/gapless/cli/venues.py)
ALL_NATIVE = ",".join(NATIVE_VENUES)
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)


def _fail(exc: Exception) -> None:
    kind = type(exc).__name__
    outcome = getattr(getattr(exc, "outcome", None), "value", "error")
    err_console.print(f"[red]error[/red] {kind} ({outcome}): {escape(str(exc))}")
    raise typer.Exit(code=2)


def _decimal(value: str | None, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"{name} must be a decimal number, got {value!r}") from None
    if not d.is_finite():
        raise typer.BadParameter(f"{name} must be finite")
    return d


@app.command()
def sim(
    venues: str = typer.Option(ALL_NATIVE, help="Comma-separated venues to simulate."),
    host: str = typer.Option("127.0.0.1"),
    port_base: int = typer.Option(0, help="First port (each venue takes the next); 0 = ephemeral."),
    seed: int = typer.Option(1),
    credentials_out: Path | None = typer.Option(None, help="Write credentials JSON (mode 0600)."),
    config_out: Path | None = typer.Option(None, help="Write a gapless TOML config for these sims."),
    journal: str = typer.Option("", help="Journal URL for --config-out (default: beside it)."),
) -> None:
    """Run venue simulators until SIGINT/SIGTERM."""
    from gapless.cli.simcmd import run_sim

    try:
        _run(run_sim([v.strip() for v in venues.split(",") if v.strip()], host, port_base, seed,
                     credentials_out, config_out, journal))
    except GaplessError as exc:
        _fail(exc)


@order_app.command("place")
def order_place(
    config: Path = typer.Option(..., exists=False),
    venue: str = typer.Option(...),
    symbol: str = typer.Option(...),
    side: str = typer.Option(..., help="buy or sell"),
    type: str = typer.Option("limit", help="limit or market"),
    qty: str = typer.Option(...),
    price: str | None = typer.Option(None),
    tif: str = typer.Option("gtc", help="gtc, ioc, fok or post_only"),
    client_id: str | None = typer.Option(None, help="Intent id (default: a new UUID)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Place one order through the engine (journaled first)."""
    from gapless.cli.common import dumps, engine_from_config, order_dict
    from gapless.model import OrderIntent, OrderType, Side, TimeInForce

    try:
        intent = OrderIntent(
            intent_id=client_id or uuid.uuid4().hex,
            venue=venue,
            symbol=symbol.upper(),
            side=Side(side.lower()),
            type=OrderType(type.lower()),
            qty=_decimal(qty, "qty") or Decimal(0),
            price=_decimal(price, "price"),
            tif=TimeInForce(tif.lower()),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None

    async def go() -> dict[str, Any]:
        async with engine_from_config(config, [venue]) as engine:
            order = await engine.submit(intent)
            return order_dict(order)

    try:
        result = _run(go())
    except GaplessError as exc:
        _fail(exc)
        return
    if json_out:
        print(dumps(result))
    else:
        _print_orders([result])


def _one(config: Path, intent_id: str, action: str, json_out: bool) -> None:
    from gapless.cli.common import dumps, engine_from_config, order_dict
    from gapless.config import load_config
    from gapless.store import open_journal

    async def go() -> dict[str, Any]:
        cfg = load_config(config)
        journal = open_journal(cfg.journal)
        await journal.open()
        try:
            known = await journal.get(intent_id)
        finally:
            await journal.close()
        if known is None:
            from gapless.model.errors import InvalidIntent

            raise InvalidIntent(f"no order with intent id {intent_id!r} in the journal")
        async with engine_from_config(config, [known.venue], load_balances=False) as engine:
            if action == "cancel":
                order = await engine.cancel(intent_id)
            else:
                order = await engine.status(intent_id)
            return order_dict(order)

    try:
        result = _run(go())
    except GaplessError as exc:
        _fail(exc)
        return
    if json_out:
        print(dumps(result))
    else:
        _print_orders([result])


@order_app.command("cancel")
def order_cancel(
    config: Path = typer.Option(...),
    intent_id: str = typer.Option(..., "--client-id", "--intent-id", help="The order's intent id."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Cancel an order by its intent id."""
    _one(config, intent_id, "cancel", json_out)


@order_app.command("status")
def order_status(
    config: Path = typer.Option(...),
    intent_id: str = typer.Option(..., "--client-id", "--intent-id", help="The order's intent id."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Query an order's state at the venue and update the journal."""
    _one(config, intent_id, "status", json_out)


@order_app.command("list")
def order_list(
    config: Path = typer.Option(...),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """The journal's view of every order (after recovery)."""
    from gapless.cli.common import dumps, engine_from_config, order_dict

    async def go() -> list[dict[str, Any]]:
        async with engine_from_config(config, load_balances=False) as engine:
            orders = await engine.journal.all_orders()
            return [order_dict(o) for o in orders]

    try:
        result = _run(go())
    except GaplessError as exc:
        _fail(exc)
        return
    if json_out:
        print(dumps(result))
    else:
        _print_orders(result)


@app.command()
def balances(
    config: Path = typer.Option(...),
    venue: str = typer.Option(...),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Show a venue's balances."""
    from gapless.cli.common import dumps, engine_from_config

    async def go() -> dict[str, dict[str, str]]:
        async with engine_from_config(config, [venue], load_balances=False) as engine:
            bals = await engine.refresh_balances(venue)
            return {a: {"free": f"{b.free:f}", "locked": f"{b.locked:f}"} for a, b in sorted(bals.items())}

    try:
        result = _run(go())
    except GaplessError as exc:
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
    except GaplessError as exc:
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

    run_bench(orders, concurrency, json_file, [v.strip() for v in venues.split(",") if v.strip()], console)


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


def install_signal_stop(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
