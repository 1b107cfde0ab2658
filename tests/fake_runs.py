"""Runs written straight into a runs folder, as a real run would write them, without training:
for tests and benchmarks of the readers (the app's monitor, the runs list)."""

import math
import time
from pathlib import Path

from l4tui.runs.events import EventWriter, encode_event
from l4tui.runs.store import write_run_file


def write_fake_run(runs_dir: Path, name: str, family: str = "collab", epochs: int = 3, steps: int = 300,
                   state: str | None = "finished", pid: int = 0, metric: str = "valid_rmse", scale: float = 1.0,
                   mode: str = "train", error: str | None = None, stderr: str = "", t0: float | None = None,
                   written: int | None = None) -> Path:
    """A run folder with `steps` batch events over `epochs` epochs, an epoch event each, and an end
    event in `state` (None: no end event, as a run still going or one that died).
    t0: when the run started (default: `steps` hundredths of a second ago), 0.01 s a step; the
    snapshot tests fix it so that the pictures keep their times. written: only the first steps of
    `steps` (a run part of the way through)."""
    run_dir = Path(runs_dir) / name
    run_dir.mkdir(parents=True)
    write_run_file(run_dir, family, {"epochs": epochs}, ["python", "-m", "l4tui.train.worker", str(run_dir)],
                   pid=pid, mode=mode)
    (run_dir / "stderr.log").write_text(stderr)
    writer = EventWriter(run_dir)
    # Written through the writer's file directly: encode_event per event, as EventWriter.write does,
    # but without a flush per line (a 100,000-step run is written in a second).
    t0 = time.time() - steps * 0.01 if t0 is None else t0
    lines = [encode_event({"t": t0, "type": "start", "epochs": epochs, "mode": mode})]
    per_epoch = max(1, steps // epochs)
    for i in range(1, (steps if written is None else written) + 1):
        loss = scale * (0.5 + 2.0 * math.exp(-i / (steps / 3)))
        epoch = min((i - 1) // per_epoch, epochs - 1)
        lines.append(encode_event({"t": t0 + i * 0.01, "type": "batch", "epoch": epoch, "iter": i,
                                 "total_iters": steps, "loss": loss, "raw": loss * (1.1 if i % 2 else 0.9),
                                 "lr": 1e-2 * math.sin(math.pi * i / steps) + 1e-5, "mom": 0.9,
                                 "items_per_s": 50_000.0}))
        if i % per_epoch == 0 and i // per_epoch <= epochs:
            lines.append(encode_event({"t": t0 + i * 0.01, "type": "epoch", "epoch": epoch, "epochs": epochs,
                                     "iter": i, "total_iters": steps, "train_loss": loss, "valid_loss": loss * 1.2,
                                     metric: math.sqrt(loss * 1.2)}))
    if state is not None:
        end = {"t": t0 + (steps if written is None else written) * 0.01, "type": "end", "state": state}
        if error:
            end["error"] = error
        lines.append(encode_event(end))
    writer._file.write("\n".join(lines) + "\n")
    writer.close()
    return run_dir
