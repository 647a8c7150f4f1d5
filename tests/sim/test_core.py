from __future__ import annotations

from decimal import Decimal as D

import pytest

from gapless.sim.core import Exchange, Liquidity, OrderEvent, Rejection
from gapless.sim.core.models import MM_ACCOUNT


def ex_empty() -> Exchange:
    return Exchange()


def test_price_time_priority_and_partial_fill() -> None:
    ex = ex_empty()
    a = ex.place_order(symbol="BTC/USDT", side="SELL", type="LIMIT", qty=D("1"), price=D("100"))
    b = ex.place_order(symbol="BTC/USDT", side="SELL", type="LIMIT", qty=D("1"), price=D("100"))
    c = ex.place_order(symbol="BTC/USDT", side="SELL", type="LIMIT", qty=D("1"), price=D("99"))
    t = ex.place_order(symbol="BTC/USDT", side="BUY", type="LIMIT", qty=D("1.5"), price=D("100"))
    assert t.status == "FILLED"
    assert [f.price for f in t.fills] == [D("99"), D("100")]
    assert c.status == "FILLED" and a.status == "PARTIALLY_FILLED" and b.status == "NEW"
    assert a.filled == D("0.5")
    # unique trade ids, one per match, shared by both sides
    assert t.fills[0].trade_id == c.fills[0].trade_id
    assert t.fills[1].trade_id == a.fills[0].trade_id
    assert t.fills[0].trade_id != t.fills[1].trade_id


def test_locked_funds_and_fees() -> None:
    ex = ex_empty()
    acc = ex.account()
    usdt0, btc0 = acc.free["USDT"], acc.free["BTC"]
    o = ex.place_order(symbol="BTC/USDT", side="BUY", type="LIMIT", qty=D("2"), price=D("100"))
    assert acc.locked["USDT"] == D("200") and acc.free["USDT"] == usdt0 - 200
    ex.synthetic_take("BTC/USDT", "SELL", D("0.5"))
    assert o.filled == D("0.5") and o.fills[0].is_maker
    assert o.fills[0].fee == D("0.0005") and o.fills[0].fee_asset == "BTC"
    assert acc.free["BTC"] == btc0 + D("0.4995")
    assert acc.locked["USDT"] == D("150")
    ex.cancel_order("test", "BTC/USDT", o.order_id)
    assert acc.locked["USDT"] == 0 and acc.free["USDT"] == usdt0 - 50


def test_buy_at_better_price_refunds_lock() -> None:
    ex = ex_empty()
    acc = ex.account()
    usdt0 = acc.free["USDT"]
    ex.place_order(account=MM_ACCOUNT, symbol="BTC/USDT", side="SELL", type="LIMIT", qty=D("1"),
                   price=D("90"), validate=False)
    o = ex.place_order(symbol="BTC/USDT", side="BUY", type="LIMIT", qty=D("1"), price=D("100"))
    assert o.status == "FILLED" and o.cum_quote == D("90") and not o.fills[0].is_maker
    assert acc.locked["USDT"] == 0 and acc.free["USDT"] == usdt0 - 90


def test_ioc_fok_post_only() -> None:
    ex = ex_empty()
    ex.place_order(account=MM_ACCOUNT, symbol="BTC/USDT", side="SELL", type="LIMIT", qty=D("1"),
                   price=D("100"), validate=False)
    fok = ex.place_order(symbol="BTC/USDT", side="BUY", type="LIMIT", tif="FOK", qty=D("2"),
                         price=D("100"))
    assert fok.status == "EXPIRED" and fok.filled == 0
    ioc = ex.place_order(symbol="BTC/USDT", side="BUY", type="LIMIT", tif="IOC", qty=D("2"),
                         price=D("100"))
    assert ioc.status == "EXPIRED" and ioc.filled == D("1")
    assert ex.account().locked["USDT"] == 0
    ex.place_order(account=MM_ACCOUNT, symbol="BTC/USDT", side="SELL", type="LIMIT", qty=D("1"),
                   price=D("100"), validate=False)
    with pytest.raises(Rejection) as e:
        ex.place_order(symbol="BTC/USDT", side="BUY", type="LIMIT_MAKER", qty=D("1"), price=D("100"))
    assert e.value.reason == "would_take"
    pm = ex.place_order(symbol="BTC/USDT", side="BUY", type="LIMIT_MAKER", qty=D("1"), price=D("99.99"))
    assert pm.status == "NEW"


def test_filters_and_balance_and_duplicates() -> None:
    ex = ex_empty()
    for kw, detail in [({"price": D("100.001"), "qty": D("1")}, "PRICE_FILTER"),
                       ({"price": D("100"), "qty": D("0.000001")}, "LOT_SIZE"),
                       ({"price": D("100"), "qty": D("0.01")}, "NOTIONAL")]:
        with pytest.raises(Rejection) as e:
            ex.place_order(symbol="BTC/USDT", side="BUY", type="LIMIT", **kw)
        assert e.value.detail == detail
    with pytest.raises(Rejection) as e:
        ex.place_order(symbol="BTC/USDT", side="SELL", type="LIMIT", qty=D("101"), price=D("100"))
    assert e.value.reason == "insufficient_balance"
    ex.place_order(symbol="BTC/USDT", side="BUY", type="LIMIT", qty=D("1"), price=D("100"), client_id="x")
    with pytest.raises(Rejection) as e:
        ex.place_order(symbol="BTC/USDT", side="BUY", type="LIMIT", qty=D("1"), price=D("100"),
                       client_id="x")
    assert e.value.reason == "duplicate_client_id"


def test_market_orders_walk_book_and_quote_qty() -> None:
    ex = Exchange()
    liq = Liquidity(ex, seed=3)
    liq.reset()
    m = ex.place_order(symbol="BTC/USDT", side="BUY", type="MARKET", qty=D("3"))
    assert m.status == "FILLED" and m.filled == D("3") and len(m.fills) >= 2
    q = ex.place_order(symbol="ETH/USDT", side="BUY", type="MARKET", quote_qty=D("1000"))
    assert q.status == "FILLED" and D("999") < q.cum_quote <= D("1000")


def test_events_and_book_ids() -> None:
    ex = ex_empty()
    events: list[object] = []
    kinds: list[tuple[str, str]] = []

    def on(e: object) -> None:  # subscribers run synchronously and copy what they need
        events.append(e)
        if isinstance(e, OrderEvent):
            kinds.append((e.exec_type, e.order.status))

    ex.subscribe(on)
    o = ex.place_order(symbol="BTC/USDT", side="BUY", type="LIMIT", qty=D("1"), price=D("100"))
    ex.synthetic_take("BTC/USDT", "SELL", D("1"))
    assert kinds == [("NEW", "NEW"), ("TRADE", "FILLED")]
    assert o.status == "FILLED"
    ids = [e.last_id for e in events if type(e).__name__ == "BookDelta"]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_set_mid_crosses_user_orders_and_deterministic() -> None:
    ex1, ex2 = Exchange(), Exchange()
    l1, l2 = Liquidity(ex1, seed=7), Liquidity(ex2, seed=7)
    l1.reset()
    l2.reset()
    for _ in range(5):
        l1.step()
        l2.step()
    assert l1.mids == l2.mids and ex1.depth("BTC/USDT", 5) == ex2.depth("BTC/USDT", 5)
    o = ex1.place_order(symbol="BTC/USDT", side="SELL", type="LIMIT", qty=D("0.1"),
                        price=l1.mids["BTC/USDT"] + 500)
    l1.set_mid("BTC/USDT", l1.mids["BTC/USDT"] + 1000)
    assert o.status == "FILLED" and o.fills[0].is_maker


def test_partial_fill_fault() -> None:
    ex = Exchange()
    Liquidity(ex, seed=1).reset()
    ex.faults.partial_fill_next = 1
    ex.faults.partial_fill_fraction = D("0.25")
    m = ex.place_order(symbol="BTC/USDT", side="BUY", type="MARKET", qty=D("0.1"))
    assert m.status == "EXPIRED" and m.filled == D("0.025")
    m2 = ex.place_order(symbol="BTC/USDT", side="BUY", type="MARKET", qty=D("0.1"))
    assert m2.status == "FILLED"
