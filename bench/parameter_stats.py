"""How long the statistics of a model's tensors take: what K on a parameter and the Parameters tab
wait for.

    python bench/parameter_stats.py [--preset lesson|small] [--rounds 5]

Builds the AWD-LSTM language model with fresh weights (the lesson's sizes by default: vocab
60,000, emb 400, hidden 1,152, 44 million parameters) and prints the median of `--rounds` runs of:

- every tensor of the model (`module_parameters(model, "", recurse=True)`: the whole model's
  tensors, as the Parameters tab opens on them);
- the embedding alone (`tensor_stats` of 24 million numbers, the biggest tensor).

Prints figures; asserts nothing.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# bench/ holds a tokenize.py that would shadow the standard library's: off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402


def median_seconds(work, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="lesson", choices=["lesson", "small"])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import torch

    from l4tui.inspect.parameters import module_parameters, tensor_stats
    from l4tui.modelfiles import load_model_file
    from l4tui.presets import awd_lstm_sizes

    torch.manual_seed(0)
    awd = load_model_file("awd_lstm", None)
    model = awd.get_language_model(60000, **awd_lstm_sizes(args.preset))
    count = sum(p.numel() for p in model.parameters())
    embedding = model[0].encoder.weight
    print(f"AWD-LSTM LM, preset {args.preset}: {count / 1e6:.1f} M parameters, torch threads {torch.get_num_threads()}")
    tensors = len(module_parameters(model, "", 20, True))
    every = median_seconds(lambda: module_parameters(model, "", 20, True), args.rounds)
    alone = median_seconds(lambda: tensor_stats(embedding), args.rounds)
    print(f"every tensor ({tensors}):            {every:.3f} s  (median of {args.rounds})")
    print(f"the embedding ({embedding.numel() / 1e6:.0f} M numbers): {alone:.3f} s")


if __name__ == "__main__":
    main()
