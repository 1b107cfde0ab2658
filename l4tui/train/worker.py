"""The run process: `python -m l4tui.train.worker RUN_DIR`.

It is started detached (its own session, no terminal) so it outlives the TUI or the shell that
started it and the SSH link they came through. It reads its config from run.json, trains, and
reports everything through the run folder: events, checkpoints, stdout/stderr.
"""

import json
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from l4tui.train.events import EventWriter
from l4tui.train.recipes import RECIPES
from l4tui.train.runs import RUN_FILE


def save_checkpoint_atomic(path: Path, payload: dict) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def run(run_dir: Path) -> int:
    from l4tui.train.loop import StopTraining

    meta = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    events = EventWriter(run_dir)
    stop_requested = threading.Event()
    # SIGTERM (from `l4tui runs stop` or the app) asks for a clean stop at the next batch.
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
    signal.signal(signal.SIGINT, lambda *_: stop_requested.set())
    # A dropped SSH link must not end the run.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        config_class, train = RECIPES[meta["family"]]
        config = config_class.from_dict(meta.get("config") or {})
        model, metrics, extras = train(config, events, should_stop=stop_requested.is_set)
        save_checkpoint_atomic(run_dir / "checkpoints" / "final.pt", {
            "model": model.state_dict(), "family": meta["family"],
            "config": config.to_dict(), **extras,
        })
        events.write("end", state="finished", metrics=metrics)
        return 0
    except StopTraining:
        events.write("end", state="stopped")
        return 0
    except BaseException as error:  # everything the run dies of is reported in its folder
        trace = traceback.format_exc()
        print(trace, file=sys.stderr, flush=True)
        events.write("end", state="failed", error=f"{type(error).__name__}: {error}",
                     traceback=trace)
        return 1
    finally:
        events.close()


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
