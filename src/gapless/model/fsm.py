"""The order state machine: ONE transition table, plus idempotent fill application.

Real venues skip and reorder events, so the table allows what actually happens:
an IOC going SUBMITTED→CANCELED, SUBMITTED→FILLED with no ack in between, a fill that
arrives after the cancel ack (CANCELED→FILLED), and a failed cancel falling back from
PENDING_CANCEL to ACCEPTED. Everything not listed raises ``InvalidTransition``.
"""

from __future__ import annotations

from gapless.model.errors import InvalidTransition, OverfillDetected
from gapless.model.schema import Fill, Order, OrderState

S = OrderState

_LANDED = {S.ACCEPTED, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED}

TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    # CREATED may jump to any venue state during crash recovery (found at the venue)
    S.CREATED: frozenset({S.SUBMITTED, S.DENIED, S.UNKNOWN, S.REJECTED, *_LANDED}),
    # DENIED from SUBMITTED: refused at dispatch (e.g. circuit open), nothing hit a socket
    S.SUBMITTED: frozenset({S.UNKNOWN, S.REJECTED, S.DENIED, S.PENDING_CANCEL, *_LANDED}),
    # UNKNOWN resolves to whatever the venue proves, REJECTED only after bounded queries
    S.UNKNOWN: frozenset({S.REJECTED, S.PENDING_CANCEL, *_LANDED}),
    S.ACCEPTED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.PENDING_CANCEL, S.CANCELED}),
    S.PARTIALLY_FILLED: frozenset({S.FILLED, S.PENDING_CANCEL, S.CANCELED}),
    # a failed cancel returns to where the order was; fills may land meanwhile
    S.PENDING_CANCEL: frozenset({S.ACCEPTED, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED}),
    # a late fill may complete an order whose cancel was already acknowledged
    S.CANCELED: frozenset({S.FILLED}),
    S.FILLED: frozenset(),
    S.REJECTED: frozenset(),
    S.DENIED: frozenset(),
}


def can_transition(src: OrderState, dst: OrderState) -> bool:
    return src == dst or dst in TRANSITIONS[src]


def transition(order: Order, dst: OrderState) -> bool:
    """Move ``order`` to ``dst``; returns False for a no-op (same state)."""
    src = order.state
    if src == dst:
        return False
    if dst not in TRANSITIONS[src]:
        raise InvalidTransition(
            f"order {order.client_order_id}: {src.value} -> {dst.value} is not allowed",
            venue=order.venue,
        )
    order.state = dst
    return True


def apply_fill(order: Order, fill: Fill) -> bool:
    """Apply a fill once. Returns False if this (venue, trade id) was already applied.

    Raises ``OverfillDetected`` (and changes nothing) if the fill would exceed the order
    quantity.
    """
    if fill.trade_id in order.fill_ids:
        return False
    new_filled = order.filled_qty + fill.qty
    if new_filled > order.qty:
        raise OverfillDetected(
            f"order {order.client_order_id}: fill {fill.trade_id} of {fill.qty} would fill "
            f"{new_filled} > {order.qty}",
            venue=order.venue,
        )
    if order.state in (S.FILLED, S.REJECTED, S.DENIED):
        raise InvalidTransition(
            f"order {order.client_order_id}: fill {fill.trade_id} on a {order.state.value} order",
            venue=order.venue,
        )
    order.fill_ids.append(fill.trade_id)
    order.filled_qty = new_filled
    order.quote_filled += fill.qty * fill.price
    if fill.fee:
        order.fees[fill.fee_asset] = order.fees.get(fill.fee_asset, 0) + fill.fee
    if new_filled == order.qty:
        transition(order, S.FILLED)
    elif order.state in (S.CREATED, S.SUBMITTED, S.UNKNOWN, S.ACCEPTED):
        transition(order, S.PARTIALLY_FILLED)
    # PENDING_CANCEL and CANCELED keep their state on a partial fill
    return True


def apply_report_state(order: Order, reported: OrderState, *, queried: bool = False) -> bool:
    """Adopt the state a venue reports, ignoring stale reports that would go backwards.

    A venue report is authoritative for terminal states; for open states we keep the
    more advanced local state (e.g. a late NEW report after we saw a partial fill).
    ``queried`` marks the answer to our own status query, sent while no cancel of ours
    is in flight: an open state then proves a PENDING_CANCEL order's cancel failed or never
    arrived (e.g. the process died mid-cancel), so the order returns to that state.
    """
    if reported == order.state:
        return False
    if order.state.is_terminal and not can_transition(order.state, reported):
        return False  # stale report about an already finished order
    if order.state is S.PENDING_CANCEL and reported in (S.ACCEPTED, S.PARTIALLY_FILLED):
        return transition(order, reported) if queried else False
    if reported is S.ACCEPTED and order.state is S.PARTIALLY_FILLED:
        return False
    return transition(order, reported)


def restore_after_failed_cancel(order: Order, previous: OrderState) -> None:
    """A cancel that failed (or whose outcome is unknown) leaves the order as it was
    before PENDING_CANCEL; a status query settles the rest."""
    if order.state is S.PENDING_CANCEL and previous in (S.ACCEPTED, S.PARTIALLY_FILLED):
        transition(order, previous)
