"""The Model pane with the lesson-size language model: how long each step takes, and how much the
screen stalls meanwhile.

    python bench/model_pane.py [--preset lesson|small] [--rounds 3]

Runs the app headless (120x40) and, on the AWD-LSTM language model with fresh weights at the
lesson's sizes (vocab 60,000, emb 400, hidden 1,152: 44 million parameters), times from the key
press to the result shown:

- build: Enter on `lm` in the model list, until the layer table is filled (the model is built,
  an example batch goes through it, the activations of the default sentence are captured);
- activations: Enter on a sentence, until every layer's output is listed with the next-word top 8;
- gradients: `g`, until every layer's gradient norm is listed;
- generate: 20 words from a prompt, until the steps are listed.

Meanwhile a task asks to wake every 20 ms and records how late it wakes: a late wake-up is a frame
the screen could not draw, a key it could not answer. Prints figures; asserts nothing.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# bench/ holds a tokenize.py that would shadow the standard library's: off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

STARTUP_S = 8.0  # the app warms the Code pane's jedi first; a user gets here later than that


async def timed(pilot, start, done, lateness: list[float], timeout: float = 300.0) -> float:
    """Call start(), then wait for done(); a task beside them measures the event loop's lateness
    all the while (Pilot's press waits for the app to settle, workers included)."""
    finished = False

    async def sample():
        while not finished:
            asked = time.perf_counter()
            await asyncio.sleep(0.02)
            lateness.append((time.perf_counter() - asked - 0.02) * 1000)

    sampler = asyncio.create_task(sample())
    began = time.perf_counter()
    await start()
    while not done():
        if time.perf_counter() - began > timeout:
            raise TimeoutError("the step did not end")
        await asyncio.sleep(0.01)
    seconds = time.perf_counter() - began
    finished = True
    await sampler
    return seconds


async def one_round(preset: str) -> dict:
    from textual.widgets import OptionList, TabbedContent

    from l4tui.ui.app import L4App
    from l4tui.ui.model_pane import ModelPane

    results, lateness = {}, {}
    with tempfile.TemporaryDirectory() as runs:
        app = L4App(runs_dir=Path(runs), workspace=REPO)
        async with app.run_test(size=(120, 40)) as pilot:
            await asyncio.sleep(STARTUP_S)
            await pilot.press("3")
            pane = app.query_one(ModelPane)
            while pane.subject is None:
                await asyncio.sleep(0.05)
            if preset == "small":
                await pilot.press("p")
            tabs = app.query_one("#model-tabs", TabbedContent)
            models = app.query_one("#model-list", OptionList)

            async def build():
                models.focus()
                models.highlighted = 0
                await pilot.press("enter")

            acts = app.query_one("#act-table")
            output = app.query_one("#act-output")
            for step in ("build", "activations", "gradients", "generate"):
                lateness[step] = []
            results["build"] = await timed(pilot, build, lambda: pane.subject is not None and pane.subject.name == "lm"
                                           and acts.row_count > 0 and "next word" in str(output.render()),
                                           lateness["build"])

            async def activations():
                tabs.active = "tab-acts"
                box = app.query_one("#act-input")
                box.value = "I loved this movie , the acting was great and the story"
                acts.clear()
                box.focus()
                await pilot.press("enter")

            results["activations"] = await timed(pilot, activations, lambda: acts.row_count > 0, lateness["activations"])
            grads = app.query_one("#grads-table")

            async def gradients():
                grads.clear()
                acts.focus()  # out of the text box, where g is a letter
                await pilot.press("g")

            results["gradients"] = await timed(pilot, gradients, lambda: grads.row_count > 0, lateness["gradients"])
            steps = app.query_one("#gen-steps")

            async def generate():
                tabs.active = "tab-generate"
                await pilot.pause()
                app.query_one("#gen-prompt").focus()
                await pilot.press("enter")

            results["generate"] = await timed(pilot, generate, lambda: steps.row_count >= 20, lateness["generate"])
    return {step: (results[step], lateness[step]) for step in results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="lesson", choices=("lesson", "small"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    by_step: dict[str, list] = {}
    for _ in range(args.rounds):
        for step, (seconds, lateness) in asyncio.run(one_round(args.preset)).items():
            by_step.setdefault(step, []).append((seconds, lateness))
    print(f"the language model, fresh weights, {args.preset} sizes; {args.rounds} rounds in fresh apps")
    print(f"{'step':<12} {'time (median)':>14} {'stall p50':>10} {'p95':>8} {'worst':>8} {'>100 ms':>9}")
    for step, rounds in by_step.items():
        lateness = sorted(ms for _, late in rounds for ms in late)
        seconds = statistics.median(s for s, _ in rounds)
        p95 = lateness[int(len(lateness) * 0.95)] if lateness else 0.0
        print(f"{step:<12} {seconds:>13.2f}s {statistics.median(lateness) if lateness else 0:>8.1f}ms {p95:>6.1f}ms "
              f"{max(lateness, default=0):>6.0f}ms {sum(1 for ms in lateness if ms > 100):>4}/{len(lateness)}")


if __name__ == "__main__":
    main()
