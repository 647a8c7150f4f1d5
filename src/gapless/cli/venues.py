"""``gapless venues``: every venue gapless can drive (native drivers and every ccxt id)."""

from __future__ import annotations

from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table


def _yes(v: Any) -> str:
    return "yes" if v else "-"


def venues_command(
    json_out: bool = typer.Option(False, "--json", help="Print JSON rows instead of a table."),
) -> None:
    """List venues with capabilities (WS book, WS orders, client ids, cancel-all, order types)."""
    from gapless.venues.ccxt_bridge.catalog import venue_catalog

    rows = venue_catalog()
    if not any(r["driver"] == "ccxt" for r in rows):
        typer.echo("ccxt is not installed: native venues only "
                   "(pip install 'gapless[ccxt]' for 100+ more)", err=True)
    if json_out:
        print(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table("venue", "driver", "ws book", "ws orders", "client ids", "cancel all",
                  "order types", title=f"{len(rows)} venues")
    for r in rows:
        cid = r.get("client_id_param") or ("native" if r["client_ids"] else "-")
        table.add_row(r["venue"], r["driver"], _yes(r["ws_book"]), _yes(r["ws_orders"]), cid,
                      _yes(r["cancel_all"]), ",".join(r["order_types"]))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("venues")(venues_command)
