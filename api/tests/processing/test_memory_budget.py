"""The decoded-pixel budget image work shares: a task waits for its share, one larger than
the whole budget runs alone, and nothing is ever refused for its size."""

import threading

from PIL import Image

from pixtag import keys
from pixtag.imaging import MemoryBudget
from pixtag.processing.context import PROCESSOR
from pixtag.renditions.context import RENDITIONS
from pixtag.renditions.presets import parse
from pixtag.renditions.render import Rendered, cost, render
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


def test_tasks_enter_in_the_order_they_asked():
    """A small task asking after a large one that waits for room waits behind it: a stream
    of thumbnails cannot starve a large task."""
    budget = MemoryBudget(100)
    events = [(threading.Event(), threading.Event()) for _ in range(3)]
    first = held(budget, 40, *events[0])
    assert events[0][0].wait(10)
    large = held(budget, 90, *events[1])
    until(lambda: budget.waiting == 1, "the large task to wait")
    late = held(budget, 40, *events[2])  # 40 + 40 would fit, but the large one was first
    until(lambda: budget.waiting == 2, "the small task to queue behind it")
    assert not events[2][0].is_set()
    events[0][1].set()
    assert events[1][0].wait(10)
    assert not events[2][0].is_set()  # 90 + 40 does not fit
    events[1][1].set()
    assert events[2][0].wait(10)
    events[2][1].set()
    for thread in (first, large, late):
        thread.join(10)
    assert (budget.used, budget.waiting) == (0, 0)


def test_a_rendition_waits_for_its_share_of_the_budget(tmp_path):
    """Renditions decode within the budget processing tasks share: a huge GIF's thumbnail
    (its whole frame decoded) waits while another task holds the budget."""
    path = tmp_path / "huge.gif"
    Image.new("P", (4000, 4000), 3).save(path, format="GIF")
    preset = parse(("thumb:320:webp",))[0]
    assert cost(path, preset, "image/gif") == 4000 * 4000 * 4
    jpeg = tmp_path / "big.jpg"
    Image.new("RGB", (4000, 4000), "red").save(jpeg, format="JPEG")
    assert cost(jpeg, preset, "image/jpeg") < 4000 * 4000 * 4 // 4  # decoded a part at a time

    budget = MemoryBudget(10 * 1024 * 1024)
    entered, leave = threading.Event(), threading.Event()
    holder = held(budget, 1, entered, leave)
    assert entered.wait(10)
    rendered: list[Rendered] = []
    renderer = threading.Thread(
        target=lambda: rendered.append(render(path, preset, "image/gif", budget))
    )
    renderer.start()
    until(lambda: budget.waiting == 1, "the rendition to wait for the budget")
    assert rendered == []
    leave.set()
    renderer.join(30)
    holder.join(10)
    assert (rendered[0].width, rendered[0].height) == (320, 320)
    assert (budget.used, budget.waiting) == (0, 0)


async def test_renditions_and_processing_share_one_budget(client):  # type: ignore[no-untyped-def]
    app = client.app
    assert app[RENDITIONS].budget is app[PROCESSOR].budget is app[keys.IMAGE_MEMORY]
