"""The decoded-pixel budget image work shares: a task waits for its share, one larger than
the whole budget runs alone, and nothing is ever refused for its size."""

import threading

from pixtag.imaging import MemoryBudget
from tests.support.processes import wait_until


def until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    wait_until(condition, within=10, what=what)


def held(budget: MemoryBudget, nbytes: int, entered: threading.Event, leave: threading.Event):  # type: ignore[no-untyped-def]
    def run() -> None:
        with budget.hold(nbytes):
            entered.set()
            assert leave.wait(10)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_task_waits_until_its_share_is_free():
    budget = MemoryBudget(100)
    first_in, first_out = threading.Event(), threading.Event()
    second_in, second_out = threading.Event(), threading.Event()
    first = held(budget, 60, first_in, first_out)
    assert first_in.wait(10)
    second = held(budget, 60, second_in, second_out)
    until(lambda: budget.waiting == 1, "the second task to wait")
    assert not second_in.is_set()
    assert budget.used == 60
    first_out.set()
    assert second_in.wait(10)
    second_out.set()
    for thread in (first, second):
        thread.join(10)
    assert (budget.used, budget.waiting) == (0, 0)


def test_small_tasks_share_and_one_larger_than_all_runs_alone():
    budget = MemoryBudget(100)
    events = [(threading.Event(), threading.Event()) for _ in range(3)]
    small = [held(budget, 40, *events[n]) for n in range(2)]
    for entered, _ in events[:2]:
        assert entered.wait(10)  # 40 + 40 fit at once
    huge = held(budget, 500, *events[2])
    until(lambda: budget.waiting == 1, "the huge task to wait")
    events[0][1].set()
    small[0].join(10)
    assert not events[2][0].is_set()  # still one task running
    events[1][1].set()
    assert events[2][0].wait(10)  # alone now, though over the budget
    assert budget.used == 500
    events[2][1].set()
    for thread in (*small, huge):
        thread.join(10)
    assert budget.used == 0
