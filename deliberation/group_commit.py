"""Group commit: messages posted at the same moment share one transaction, then go out in seq order.

One commit per message costs a WAL flush and a round of room-row locking each; under load those
serialise everything behind them. Here the first handler thread to arrive becomes the *leader*:
it takes every pending draft (of all rooms, up to ``max_batch``) and stores them with one
transaction (:func:`deliberation.messages.store_each`). Right after the commit it hands the lead
to the oldest waiting thread — whose batch (the drafts that arrived meanwhile) is stored while
this one is being broadcast — then broadcasts its batch in ``seq`` order, after the previous
batch's broadcast (a turnstile keeps batches in commit order), and finally wakes the threads of
its batch, which answer their acks. Nothing is broadcast before its commit, and an error
(database down) reaches exactly the drafts of the failed batch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

D = TypeVar("D")
R = TypeVar("R")

MAX_BATCH = 256


class _Ticket(Generic[D, R]):
    __slots__ = ("draft", "result", "error", "done", "lead", "wake")

    def __init__(self, draft: D) -> None:
        self.draft = draft
        self.result: R | None = None
        self.error: BaseException | None = None
        self.done = False
        self.lead = False
        self.wake = threading.Event()


class GroupCommit(Generic[D, R]):
    """Batch drafts submitted by concurrent threads; ``store`` and ``publish`` run in a leader thread."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Ticket[D, R]] = []
        self._busy = False
        self._turns = threading.Condition()
        self._next_turn = 0  # batches numbered in commit order...
        self._published = 0  # ...and broadcast in that order
        self.batches = 0  # for tests and benchmarks: how many transactions served how many drafts
        self.drafts = 0

    def submit(self, draft: D, store: Callable[[Sequence[D]], list[R]],
               publish: Callable[[list[tuple[D, R]]], list[BaseException | None]]) -> R:
        """Store ``draft`` (with whatever else is pending), publish, return its outcome or raise.

        ``store`` gets the batch and returns one outcome per draft (or raises for all of them);
        ``publish`` gets the (draft, outcome) pairs after the commit and returns, per pair, the
        error that kept it from being broadcast, if any. Both run in whichever thread leads.
        """
        ticket: _Ticket[D, R] = _Ticket(draft)
        with self._lock:
            self._queue.append(ticket)
            lead = not self._busy
            self._busy = True
        if not lead:
            ticket.wake.wait()
            lead = ticket.lead and not ticket.done
        if lead:
            self._lead(store, publish)
        if ticket.error is not None:
            raise ticket.error
        return ticket.result  # type: ignore[return-value]

    def _lead(self, store: Callable[[Sequence[D]], list[R]],
              publish: Callable[[list[tuple[D, R]]], list[BaseException | None]]) -> None:
        # The leader's own ticket is first in the queue: a leader is made only when the queue
        # was empty, or promoted as its oldest entry, and only leaders take from the queue.
        with self._lock:
            batch = self._queue[:self.max_batch]
            del self._queue[:self.max_batch]
            turn = self._next_turn
            self._next_turn += 1
        self.batches += 1
        self.drafts += len(batch)
        results: list[R] | None = None
        try:
            results = store([t.draft for t in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"store returned {len(results)} outcomes for {len(batch)} drafts")
        except BaseException as e:  # noqa: BLE001 - every draft of the batch learns why
            results = None
            for t in batch:
                t.error = e
        finally:
            with self._lock:  # committed (or failed): the next batch may be stored meanwhile
                if self._queue:
                    nxt = self._queue[0]
                    nxt.lead = True
                    nxt.wake.set()
                else:
                    self._busy = False
        with self._turns:
            while self._published != turn:
                self._turns.wait()
        try:
            if results is not None:
                for t, r in zip(batch, results, strict=True):
                    t.result = r
                try:
                    failed = publish([(t.draft, r) for t, r in zip(batch, results, strict=True)])
                except BaseException as e:  # noqa: BLE001 - committed but not broadcast: the client resends
                    failed = [e] * len(batch)
                for t, err in zip(batch, failed, strict=True):
                    if err is not None:
                        t.error = err
        finally:
            with self._turns:
                self._published += 1
                self._turns.notify_all()
            for t in batch:
                t.done = True
                t.wake.set()
