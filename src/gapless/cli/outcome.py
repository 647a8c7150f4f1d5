"""Exit codes: what happened to the order, in one number a script can branch on.

A strategy that reads "failed" where the truth is "unknown" re-submits and trades twice,
so an order that may have been sent is never reported with the code for "not done".
"""

from __future__ import annotations

import enum
import os
import traceback
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from gapless.model import Order, OrderState, OrderType, TimeInForce
from gapless.model.errors import (
    ConfigError,
    GaplessError,
    InvalidIntent,
    LocalDenial,
    OutcomeUnknown,
    Rejected,
    Retryable,
)
from gapless.model.redact import scrub

err_console = Console(stderr=True, soft_wrap=True)  # one message, one line: greppable


class Exit(enum.IntEnum):
    OK = 0  # done as asked (accepted, filled, IOC/FOK expired; cancelled; state known)
    FAILED = 1  # a command other than an order command failed, or a bug (nothing was sent)
    BAD_INPUT = 2  # bad arguments or config: nothing was sent
    NOT_DONE = 3  # rejected by the venue or denied by gapless: it provably did not happen
    UNKNOWN = 4  # outcome still unknown: journaled, to be resolved by status/reconciliation


EXIT_CODES_HELP = (
    "Exit codes: 0 the order was accepted (or filled, or an IOC/FOK expired as asked); "
    "2 bad input or config, nothing sent; 3 rejected by the venue or denied by gapless "
    "(it provably did not execute); 4 outcome still unknown (journaled; `gapless order "
    "status` or the next start resolves it); 1 any other failure."
)

_UNKNOWN_STATES = frozenset({OrderState.CREATED, OrderState.SUBMITTED, OrderState.UNKNOWN})
_NOT_DONE_STATES = frozenset({OrderState.REJECTED, OrderState.DENIED})


def placed_code(order: Order) -> Exit:
    """``order place``: 0 only if the venue took the order the way it was asked."""
    if order.state is OrderState.CANCELED:
        # an IOC/FOK or market remainder expiring is what was asked; a resting order the
        # venue cancelled at once (post-only that would cross, self-trade) was not taken
        asked_to_expire = order.type is OrderType.MARKET or order.tif in (
            TimeInForce.IOC, TimeInForce.FOK
        )
        return Exit.OK if asked_to_expire or order.filled_qty > 0 else Exit.NOT_DONE
    return state_code(order)


def state_code(order: Order) -> Exit:
    """``order status``: the code of the order's state."""
    if order.state in _UNKNOWN_STATES:
        return Exit.UNKNOWN
    if order.state in _NOT_DONE_STATES:
        return Exit.NOT_DONE
    return Exit.OK


def cancelled_code(order: Order) -> Exit:
    """``order cancel``: 0 once the order can no longer execute, 4 while it may."""
    return Exit.OK if order.state.is_terminal else Exit.UNKNOWN


def error_code(exc: BaseException, *, sent: bool) -> Exit:
    """The code for an error; ``sent`` = the request may already have left the process."""
    if isinstance(exc, ConfigError | InvalidIntent):
        return Exit.BAD_INPUT
    if isinstance(exc, OutcomeUnknown):
        return Exit.UNKNOWN
    if isinstance(exc, Rejected | LocalDenial | Retryable):
        return Exit.NOT_DONE  # each proves the request did not execute
    return Exit.UNKNOWN if sent else Exit.FAILED


def describe(exc: BaseException) -> str:
    """One line for the user: kind, outcome and message, secrets scrubbed, never a traceback
    (set GAPLESS_TRACEBACK=1 to also get one for an unexpected error)."""
    if isinstance(exc, GaplessError):
        return f"{type(exc).__name__} ({exc.outcome.value}): {scrub(str(exc))}"
    if os.environ.get("GAPLESS_TRACEBACK"):
        err_console.print(escape(scrub("".join(traceback.format_exception(exc)))))
    return (f"internal error {type(exc).__name__}: {scrub(str(exc))} "
            "(a bug: please report it; GAPLESS_TRACEBACK=1 shows the traceback)")


def fail(exc: BaseException, code: Exit, hint: str = "") -> NoReturn:
    err_console.print(f"[red]error[/red] {escape(describe(exc))}")
    if hint:
        err_console.print(escape(hint))
    raise typer.Exit(code=int(code))


def note(message: str) -> None:
    err_console.print(f"[yellow]note[/yellow] {escape(scrub(message))}")
