"""A run's events in the formats other tools read: CSV always, TensorBoard when it is installed."""

import csv
from pathlib import Path

from l4tui.runs.events import EventReader, one_history


def read_events(run_dir: Path) -> list[dict]:
    """The run's sound events as one history (what a resume rewound left out); ValueError, one
    line, when its log is not sound."""
    reader = EventReader(run_dir)
    events = reader.read_new()
    if reader.problem:
        raise ValueError(f"run {Path(run_dir).name} is invalid: {reader.problem}")
    return one_history(events)


def export_csv(run_dir: Path, out_dir: Path | None = None) -> list[Path]:
    """epochs.csv (one row per epoch, every figure) and batches.csv (the throttled batch losses)."""
    out_dir = Path(out_dir or Path(run_dir) / "export")
    out_dir.mkdir(parents=True, exist_ok=True)
    events = read_events(run_dir)
    written = []
    for kind, name in (("epoch", "epochs.csv"), ("batch", "batches.csv")):
        rows = [{k: v for k, v in e.items() if k != "type"} for e in events if e.get("type") == kind]
        columns = list(dict.fromkeys(k for row in rows for k in row))
        with open(out_dir / name, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        written.append(out_dir / name)
    return written


def export_tensorboard(run_dir: Path, out_dir: Path | None = None) -> Path:
    """TensorBoard event files (needs the `tensorboard` package: pip install 'l4tui[tensorboard]')."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ValueError("TensorBoard export needs the tensorboard package: pip install tensorboard") from None
    out_dir = Path(out_dir or Path(run_dir) / "export" / "tensorboard")
    writer = SummaryWriter(log_dir=str(out_dir))
    try:
        for event in read_events(run_dir):
            if event.get("type") == "batch":
                writer.add_scalar("train/smooth_loss", event["loss"], event["iter"], walltime=event.get("t"))
                writer.add_scalar("train/lr", event["lr"], event["iter"], walltime=event.get("t"))
                if "mom" in event:
                    writer.add_scalar("train/mom", event["mom"], event["iter"], walltime=event.get("t"))
            elif event.get("type") == "epoch":
                for key, value in event.items():
                    if isinstance(value, (int, float)) and key not in ("t", "epoch", "epochs", "iter", "stage",
                                                                        "total_iters"):
                        writer.add_scalar(f"epoch/{key}", value, event["epoch"] + 1, walltime=event.get("t"))
    finally:
        writer.close()
    return out_dir
