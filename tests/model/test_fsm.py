"""Order state machine: the table's real-world transitions and property tests."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gapless.model import Fill, Order, OrderState, OrderType, Side, TimeInForce
from gapless.model.errors import InvalidTransition, OverfillDetected
from gapless.model.fsm import (
    TRANSITIONS,
    apply_fill,
    apply_report_state,
    can_transition,
    transition,
)

S = OrderState


def make_order(qty: str = "1", state: OrderState = S.CREATED) -> Order:
    return Order(
        intent_id="i1",
        venue="sim",
        symbol="BTC/USDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal(qty),
        price=Decimal("100"),
        tif=TimeInForce.GTC,
        client_order_id="c1",
        state=state,
    )


def fill(tid: str, qty: str, price: str = "100") -> Fill:
    return Fill(venue="sim", trade_id=tid, symbol="BTC/USDT", side=Side.BUY, qty=Decimal(qty), price=Decimal(price))


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        (S.SUBMITTED, S.CANCELED),  # IOC expired without an ack
        (S.SUBMITTED, S.FILLED),  # fill without an ack
        (S.CANCELED, S.FILLED),  # fill after the cancel ack
        (S.PENDING_CANCEL, S.ACCEPTED),  # failed cancel
        (S.UNKNOWN, S.ACCEPTED),  # unknown resolved by query
    ],
)
def test_real_world_transitions_allowed(src: OrderState, dst: OrderState) -> None:
    o = make_order(state=src)
    assert transition(o, dst)
    assert o.state is dst


@pytest.mark.parametrize(
    ("src", "dst"),
    [(S.FILLED, S.ACCEPTED), (S.REJECTED, S.ACCEPTED), (S.DENIED, S.SUBMITTED), (S.ACCEPTED, S.SUBMITTED)],
)
def test_invalid_transitions_raise(src: OrderState, dst: OrderState) -> None:
    o = make_order(state=src)
    with pytest.raises(InvalidTransition):
        transition(o, dst)
    assert o.state is src


def test_terminal_states_have_no_exits_except_late_fill() -> None:
    for s in (S.FILLED, S.REJECTED, S.DENIED):
        assert TRANSITIONS[s] == frozenset()
    assert TRANSITIONS[S.CANCELED] == frozenset({S.FILLED})


def test_fill_is_idempotent_on_trade_id() -> None:
    o = make_order("1", S.ACCEPTED)
    assert apply_fill(o, fill("t1", "0.4"))
    assert not apply_fill(o, fill("t1", "0.4"))
    assert o.filled_qty == Decimal("0.4")
    assert o.state is S.PARTIALLY_FILLED


def test_overfill_is_reported_not_applied() -> None:
    o = make_order("1", S.ACCEPTED)
    apply_fill(o, fill("t1", "0.7"))
    with pytest.raises(OverfillDetected):
        apply_fill(o, fill("t2", "0.4"))
    assert o.filled_qty == Decimal("0.7")
    assert o.fill_ids == ["t1"]


def test_late_fill_after_cancel_completes_order() -> None:
    o = make_order("1", S.PARTIALLY_FILLED)
    apply_fill(o, fill("t1", "0.5"))
    transition(o, S.CANCELED)
    apply_fill(o, fill("t2", "0.5"))
    assert o.state is S.FILLED
    assert o.avg_price == Decimal("100")


def test_stale_reports_do_not_go_backwards() -> None:
    o = make_order("1", S.PARTIALLY_FILLED)
    assert not apply_report_state(o, S.ACCEPTED)
    assert o.state is S.PARTIALLY_FILLED
    o2 = make_order("1", S.FILLED)
    assert not apply_report_state(o2, S.CANCELED)
    assert o2.state is S.FILLED


states = st.sampled_from(list(OrderState))


@given(st.lists(states, max_size=12))
def test_random_walks_only_follow_the_table(steps: list[OrderState]) -> None:
    o = make_order()
    for dst in steps:
        before = o.state
        if can_transition(before, dst):
            transition(o, dst)
            assert o.state is dst
        else:
            with pytest.raises(InvalidTransition):
                transition(o, dst)
            assert o.state is before


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=60)),
        max_size=30,
    )
)
def test_fills_never_exceed_qty_and_dedupe(events: list[tuple[int, int]]) -> None:
    """Whatever order and duplication fills arrive in, filled = sum of distinct applied fills <= qty."""
    o = make_order("100", S.ACCEPTED)
    applied: dict[str, Decimal] = {}
    for tid, q in events:
        f = fill(f"t{tid}", str(q))
        try:
            if apply_fill(o, f):
                applied[f.trade_id] = f.qty
        except (OverfillDetected, InvalidTransition):
            pass
        assert o.filled_qty == sum(applied.values(), Decimal(0))
        assert o.filled_qty <= o.qty
        assert len(set(o.fill_ids)) == len(o.fill_ids)
    if o.filled_qty == o.qty:
        assert o.state is S.FILLED


def test_queried_open_state_ends_a_stale_pending_cancel() -> None:
    o = make_order("1", S.PENDING_CANCEL)
    assert not apply_report_state(o, S.ACCEPTED)  # a stream echo while our cancel is in flight
    assert o.state is S.PENDING_CANCEL
    assert apply_report_state(o, S.ACCEPTED, queried=True)  # our own query: the cancel failed
    assert o.state is S.ACCEPTED
