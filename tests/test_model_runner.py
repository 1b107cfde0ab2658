"""The Model pane's runner: one pass on the model at a time, and a clear word when one hangs."""

import asyncio
import threading

import pytest

from l4tui.ui.model_runner import ModelBusy, ModelRunner


async def test_passes_take_turns_and_return_their_results():
    runner = ModelRunner()
    inside, most = 0, 0
    guard = threading.Lock()

    def one_pass(n):
        nonlocal inside, most
        with guard:
            inside += 1
            most = max(most, inside)
        threading.Event().wait(0.02)
        with guard:
            inside -= 1
        return n * n

    results = await asyncio.gather(*(runner.run(one_pass, n, what=f"pass {n}") for n in range(6)))
    assert results == [n * n for n in range(6)] and most == 1


async def test_a_pass_that_hangs_makes_the_next_one_say_what_holds_the_model():
    runner = ModelRunner(busy_wait_s=0.2)
    release = threading.Event()
    hanging = asyncio.ensure_future(runner.run(release.wait, 10, what="building lm from models/lm.py"))
    await asyncio.sleep(0.05)
    with pytest.raises(ModelBusy, match="still busy with building lm from models/lm.py"):
        await runner.run(lambda: 1)
    release.set()
    await hanging
    assert await runner.run(lambda: 2) == 2  # free again once it ended


async def test_an_error_in_a_pass_frees_the_model():
    runner = ModelRunner(busy_wait_s=0.2)
    with pytest.raises(ZeroDivisionError):
        await runner.run(lambda: 1 / 0)
    assert await runner.run(lambda: "next") == "next"


async def test_a_pass_whose_model_calls_sys_exit_fails_as_a_pass_and_frees_the_model():
    """A user's forward() calling sys.exit(): SystemExit would end the app; it is the pass's error."""
    import sys

    from l4tui.ui.model_runner import ModelExited

    runner = ModelRunner(busy_wait_s=0.2)
    with pytest.raises(ModelExited, match=r"the model's code called sys.exit\(4\)"):
        await runner.run(lambda: sys.exit(4))
    assert await runner.run(lambda: "next") == "next"
