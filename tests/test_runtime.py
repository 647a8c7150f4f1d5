"""``open_engine``, the one composition root, over real sockets against the simulators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from gapless import (
    ConfigError,
    Engine,
    OrderEvent,
    OrderIntent,
    OrderState,
    OrderType,
    Side,
    load_config,
    open_engine,
)
from gapless.config import write_config, write_credentials
from gapless.sim.cluster import SimCluster


@pytest.fixture
async def sims() -> AsyncIterator[SimCluster]:
    async with SimCluster(["binance", "okx"], host="127.0.0.1", port_base=0, seed=3,
                          tick_interval=0) as cluster:
        yield cluster


def write_sim_config(cluster: SimCluster, where: Path) -> Path:
    """The files ``gapless sim --config-out`` writes, for these simulators."""
    creds = cluster.credentials()
    write_credentials(where / "creds.json", creds)
    config = where / "gapless.toml"
    write_config(config, "sqlite:///journal.sqlite",
                 {v: (v, c["rest_url"], c["ws_url"]) for v, c in creds.items()},
                 where / "creds.json")
    return config


async def resting_intent(engine: Engine, intent_id: str) -> OrderIntent:
    venue = engine.venue("binance")
    book = await venue.order_book("BTC/USDT", depth=1)
    price = venue.instrument("BTC/USDT").round_price(book.bids[0].price * Decimal("0.95"), Side.BUY)
    return OrderIntent(intent_id=intent_id, venue="binance", symbol="BTC/USDT", side=Side.BUY,
                       type=OrderType.LIMIT, qty=Decimal("0.01"), price=price)


async def test_a_path_or_a_loaded_config_gives_a_started_engine_that_recovers(
    sims: SimCluster, tmp_path: Path
) -> None:
    config = write_sim_config(sims, tmp_path)
    async with open_engine(config, streams=False) as engine:
        assert sorted(engine.venues) == ["binance", "okx"] and engine.unreachable == {}
        placed = await engine.submit(await resting_intent(engine, "rt-1"))
        assert placed.state is OrderState.ACCEPTED
    # while no engine runs, a taker fills it at the venue; a second engine over the same
    # journal (from the loaded config) reconciles it during start, before the block runs
    sims["binance"].exchange.synthetic_take("BTC/USDT", "SELL", placed.qty, placed.price)
    async with open_engine(load_config(config), venues=["binance"], streams=False) as engine:
        assert list(engine.venues) == ["binance"]
        order = await engine.status("rt-1", refresh=False)  # no venue query: start's recovery
        assert order.state is OrderState.FILLED and order.filled_qty == placed.qty


async def test_everything_is_closed_however_the_block_ends(sims: SimCluster, tmp_path: Path) -> None:
    config = write_sim_config(sims, tmp_path)
    wal = tmp_path / "journal.sqlite-wal"

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with open_engine(config) as engine:
            assert wal.exists()  # the journal is open (WAL mode keeps its log beside it)
            venue = engine.venues["binance"]
            raise Boom
    # venues closed: a request is refused locally, nothing reaches the wire
    with pytest.raises(ConfigError, match="start"):
        await venue.order_book("BTC/USDT", depth=1)
    # journal closed: SQLite removes the WAL file when its last connection closes cleanly
    assert not wal.exists()


async def test_an_unreachable_venue_does_not_fail_the_start(sims: SimCluster, tmp_path: Path) -> None:
    config = write_sim_config(sims, tmp_path)
    sims["okx"].faults.outage = "refuse"
    async with open_engine(config, streams=False) as engine:
        assert list(engine.unreachable) == ["okx"]
        placed = await engine.submit(await resting_intent(engine, "rt-2"))
        assert placed.state is OrderState.ACCEPTED


async def test_a_venue_not_in_the_config_is_a_config_error_naming_it(
    sims: SimCluster, tmp_path: Path
) -> None:
    config = write_sim_config(sims, tmp_path)
    with pytest.raises(ConfigError, match=r"venue 'kraken' is not in .*gapless\.toml"):
        async with open_engine(config, venues=["binance", "kraken"]):
            pytest.fail("the block must not run")
    assert not (tmp_path / "journal.sqlite").exists()  # nothing was opened


async def test_events_of_a_partially_filled_order_then_cancelled(
    sims: SimCluster, tmp_path: Path
) -> None:
    """The private stream's fill reaches subscribers as an event carrying the fill."""
    config = write_sim_config(sims, tmp_path)
    async with open_engine(config) as engine:
        venue = engine.venue("binance")
        inst = venue.instrument("BTC/USDT")
        book = await venue.order_book("BTC/USDT", depth=1)
        price = book.asks[0].price - inst.tick_size
        seen: list[OrderEvent] = []
        async with engine.events() as events:
            order = await engine.submit(OrderIntent(
                intent_id="rt-partial", venue="binance", symbol="BTC/USDT", side=Side.SELL,
                type=OrderType.LIMIT, qty=Decimal("0.05"), price=price))
            assert order.state is OrderState.ACCEPTED
            sims["binance"].exchange.synthetic_take("BTC/USDT", "BUY", Decimal("0.02"), price)
            async for event in events:  # the fill arrives on the private stream
                assert isinstance(event, OrderEvent)
                seen.append(event)
                if event.state is OrderState.PARTIALLY_FILLED:
                    break
            await engine.cancel("rt-partial")
            async for event in events:
                assert isinstance(event, OrderEvent)
                seen.append(event)
                if event.state.is_terminal:
                    break
    assert [(e.previous, e.state) for e in seen] == [
        (None, OrderState.CREATED), (OrderState.CREATED, OrderState.SUBMITTED),
        (OrderState.SUBMITTED, OrderState.ACCEPTED),
        (OrderState.ACCEPTED, OrderState.PARTIALLY_FILLED),
        (OrderState.PARTIALLY_FILLED, OrderState.PENDING_CANCEL),
        (OrderState.PENDING_CANCEL, OrderState.CANCELED),
    ]
    fill = seen[3].fill
    assert fill is not None and fill.qty == Decimal("0.02") and fill.price == price
    assert [e.seq for e in seen] == sorted({e.seq for e in seen})  # journal order, no repeats


async def test_the_configs_engine_table_reaches_the_engine(sims: SimCluster, tmp_path: Path) -> None:
    config = write_sim_config(sims, tmp_path)
    with config.open("a", encoding="utf-8") as f:
        f.write("\n[engine]\nskew_margin = 2.5\nreconcile_interval = 0.5\n")
    async with open_engine(config, venues=["binance"], streams=False, reconcile_interval=0.25) as engine:
        assert engine.skew_margin == 2.5  # from the config
        assert engine.reconcile_interval == 0.25  # an argument wins over the config
