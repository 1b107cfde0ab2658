"""Run folders with real checkpoints, made in-process from a recipe's own `prepare` (its data, its
split, its vocab or procs, its model) without training: for tests of what reads a trained run
(`l4tui predict`, the Model pane's Results tab). The weights are the recipe's fresh ones, seeded,
unless `steps` training batches are taken first."""

from pathlib import Path

from l4tui.runs.checkpoints import BEST, FOLDER, LAST, save_checkpoint_atomic
from l4tui.runs.store import write_run_file


def make_run(runs_dir: Path, family: str, name: str | None = None, steps: int = 0, **settings):
    """runs_dir/NAME with run.json and checkpoints/best.pt and last.pt as a run of `family` with
    these config settings would save them. Returns (run_dir, task)."""
    import torch

    from l4tui.train.recipes import RECIPES

    config_class, prepare = RECIPES[family]
    config = config_class.from_dict({"preset": "small", **settings})
    torch.manual_seed(config.seed)
    task = prepare(config, "cpu")
    if steps:
        optimizer = torch.optim.Adam(task.model.parameters(), lr=1e-2)
        task.model.train()
        done = 0
        while done < steps:
            for inputs, target in task.train.epoch_batches(0):
                output = task.model(*inputs)
                loss = task.loss_func(output[0] if isinstance(output, tuple) else output, target)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                done += 1
                if done >= steps:
                    break
    task.model.eval()
    run_dir = Path(runs_dir) / (name or f"20261206-000000-{family}-test")
    run_dir.mkdir(parents=True)
    write_run_file(run_dir, family, config.to_dict(), ["python", "-m", "l4tui.train.worker", str(run_dir)], pid=0)
    payload = {"model": task.model.state_dict(), "stage": 0, "epoch": 0, "family": family,
               "config": config.to_dict(), "epoch_number": 1, **task.extras}
    save_checkpoint_atomic(run_dir / FOLDER / BEST, payload)
    save_checkpoint_atomic(run_dir / FOLDER / LAST, payload)
    return run_dir, task
