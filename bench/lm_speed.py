"""Training speed of the language model: our loop, a plain PyTorch loop and fastai 2.8, side by side.

    python bench/lm_speed.py [--batches 4] [--rounds 6] [--device cpu] [--threads N]
                             [--loops ours,plain,fastai] [--bf16]

The model is the lesson-size AWD-LSTM (`--preset lesson` of l4tui/presets.py: emb 400, hidden
1152, 3 LSTMs), bs 32, bptt 72, on the bundled IMDB sample with the vocab the lm recipe builds
(`prepare_lm` of l4tui/train/text.py makes the model, the vocab and the batches). The first
`--batches` training batches of epoch 0 are trained on, from the same initial weights, by:

  ours    l4tui's real path: `fit` of l4tui/train/loop.py on the lm recipe's Task (AR/TAR,
          one-cycle over those batches, AdamW, the five layer groups), events to a null writer;
  plain   the same model in a plain PyTorch loop: forward, cross-entropy + AR/TAR, backward,
          AdamW step with the same one-cycle lr and momentum per batch; nothing else;
  fastai  fastai 2.8's `language_model_learner(dls, AWD_LSTM, pretrained=False, drop_mult=0.3)`
          and `fit_one_cycle(1, 2e-2)`, fed the very same batches (a fastai DataLoader over
          them) and our initial weights (the attribute names are fastai's). Only when fastai
          imports in the running Python (see below); otherwise the line says how to get it.

The loops take turns, round after round (ours, plain, fastai; plain, fastai, ours; ...: each
round starts one loop further), each from the same initial weights and the round's seed, so a
change in the machine's speed favours none of them. A batch's time is from the start of one batch to the start of the next
(so the loop's own work is in it); the first batch of each run is left out (warm-up). The
figure is the median over the rounds' batches of tokens / time. The machine this was written on
has 2 cores shared with other work: read medians, and rerun when the spread is wide.

The "loss after" column is the validation loss (eval mode, no dropout) on the first
validation batches once a loop has trained its batches: the same figure means the same weights,
so a speed-up was not bought with a different computation. ours and plain must agree (to float
rounding); fastai's dropout masks come from the same generator in the same order, so it lands
close, but its Adam is its own code and leaves the biases out of the weight decay
(wd_bn_bias=False): its figure is shown, not checked.

`--bf16` adds "ours bf16": our loop with the `cpu_bf16` option (bfloat16 autocast of the
matrix work on the CPU; l4tui/train/options.py), with its own loss after, which differs.

fastai beside it, without touching the project's venv (torch 2.13.0 is on this machine's disk,
so pin it in the same command or pip pulls a CUDA build of several GB):

    python3 -m venv /work/fastai-venv
    /work/fastai-venv/bin/pip install torch==2.13.0
    /work/fastai-venv/bin/pip install --no-deps fastai==2.8.4
    /work/fastai-venv/bin/pip install torch==2.13.0 'fastcore>=1.8,<1.9' fasttransform fastprogress \\
        'fastdownload<2' plum-dispatch 'spacy<4' scikit-learn scipy pandas matplotlib pillow pyyaml \\
        requests packaging cloudpickle
    /work/fastai-venv/bin/pip install --no-deps -e .      # l4tui itself (its core needs torch, numpy)
    /work/fastai-venv/bin/python bench/lm_speed.py

(fastcore 2.x breaks fastai 2.8.4's optimizer: 'list' object has no attribute 'starmap'. pip warns
that fastai 2.8.4 asks for torch<2.9 and that fasttransform 0.0.5 asks for fastcore 2; fastai.text
imports and trains with these all the same, and needs no torchvision.) All three loops then run
in that one process, so the ratio is side by side.
"""

import argparse
import copy
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `python bench/lm_speed.py` puts bench/ first on sys.path, where bench/tokenize.py would shadow
# the standard library's tokenize (which torch's import reaches through linecache).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

# How torch's threads wait for each other (GNU OpenMP reads it when torch is imported): PASSIVE,
# as l4tui's run process sets it (l4tui/train/worker.py: wait_passively), unless --omp-wait says.
_early = argparse.ArgumentParser(add_help=False)
_early.add_argument("--omp-wait", choices=("passive", "active", "unset"), default="passive")
OMP_WAIT = _early.parse_known_args()[0].omp_wait
if OMP_WAIT != "unset":
    os.environ["OMP_WAIT_POLICY"] = OMP_WAIT.upper()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from l4tui.train.loop import Stage, fit, make_optimizer, param_groups  # noqa: E402
from l4tui.train.schedule import one_cycle  # noqa: E402
from l4tui.train.text import LMConfig, prepare_lm  # noqa: E402

N_VALID_BATCHES = 2


class NullEvents:
    def write(self, *args, **kwargs) -> None:
        pass


class TimedBatches:
    """The fixed batches, as a batch source for `fit`; notes when each batch is handed out."""

    def __init__(self, batches):
        self.batches, self.starts = batches, []

    def n_batches(self, epoch: int = 0) -> int:
        return len(self.batches)

    def epoch_batches(self, epoch: int):
        for batch in self.batches:
            self.starts.append(time.perf_counter())
            yield batch
        self.starts.append(time.perf_counter())


def rates(starts, batches) -> list[float]:
    """Tokens a second of each batch but the first, from the batches' start times."""
    tokens = [target.numel() for _, target in batches]
    return [tokens[i] / (starts[i + 1] - starts[i]) for i in range(1, len(batches))]


@torch.no_grad()
def valid_loss(model, valid) -> float:
    model.eval()
    model.reset()
    total, count = 0.0, 0
    for (x,), y in valid:
        preds = model(x)
        total += F.cross_entropy(preds.reshape(-1, preds.size(-1)), y.reshape(-1)).item() * y.numel()
        count += y.numel()
    model.reset()
    return total / count


def run_ours(task, batches, initial, seed, lr, cpu_bf16=False):
    task.model.load_state_dict(initial)
    source = TimedBatches(batches)
    task.train, task.stages, task.cpu_bf16 = source, [Stage(1, lr, freeze_to=0)], cpu_bf16
    task.valid = TimedBatches([])  # fit's validation pass is not what is measured: valid_loss below is
    torch.manual_seed(seed)
    fit(task, NullEvents())
    return rates(source.starts, batches)


def run_plain(task, batches, initial, seed, lr, alpha, beta):
    """Forward, cross-entropy + AR/TAR, backward, AdamW: the lm recipe's step, written out."""
    model = task.model
    encoder, head = model[0], model[1]
    model.load_state_dict(initial)
    torch.manual_seed(seed)
    groups = param_groups(model, task.groups)
    optimizer = torch.optim.AdamW([{"params": p} for p in groups], lr=lr, betas=(task.moms[0], 0.99), eps=1e-5,
                                  weight_decay=task.wd)
    model.train()
    model.reset()
    starts = []
    for i, ((x,), y) in enumerate(batches):
        starts.append(time.perf_counter())
        lr_now, mom = one_cycle(i / len(batches), lr, div=task.div, pct_start=task.pct_start, moms=task.moms)
        for group in optimizer.param_groups:
            group["lr"], group["betas"] = lr_now, (mom, 0.99)
        raw = encoder(x)  # (bs, seq_len, emb_sz): the last LSTM's outputs
        dropped = head.output_dp(raw)
        preds = head.decoder(dropped)
        loss = F.cross_entropy(preds.reshape(-1, preds.size(-1)), y.reshape(-1))
        loss = loss + alpha * dropped.pow(2).mean() + beta * (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()
    starts.append(time.perf_counter())
    return rates(starts, batches)


def fastai_runner(batches, valid, vocab, config):
    """A function that trains fastai's learner on the batches from given weights; None without fastai."""
    try:
        import fastai.callback.schedule  # noqa: F401 - adds Learner.fit_one_cycle
        from fastai.callback.core import Callback
        from fastai.data.core import DataLoaders
        from fastai.data.load import DataLoader
        from fastai.text.learner import language_model_learner
        from fastai.text.models.awdlstm import AWD_LSTM
    except ImportError:
        return None

    class Starts(Callback):
        order = -100

        def before_fit(self):
            self.times = []

        def before_batch(self):
            if self.training:
                self.times.append(time.perf_counter())

        def after_train(self):
            self.times.append(time.perf_counter())

    pairs = [(x, y) for (x,), y in batches]
    train_dl = DataLoader(pairs, bs=None, shuffle=False, num_workers=0)
    valid_dl = DataLoader([(x, y) for (x,), y in valid[:1]], bs=None, shuffle=False, num_workers=0)
    dls = DataLoaders(train_dl, valid_dl, device=torch.device(config.device))
    dls.vocab = vocab
    learn = language_model_learner(dls, AWD_LSTM, pretrained=False, drop_mult=config.drop_mult, wd=config.wd)
    timer = Starts()
    learn.add_cb(timer)

    def run(initial, seed):
        learn.model.load_state_dict(initial)
        learn.opt = None  # a fresh optimizer, as our fit's stage
        torch.manual_seed(seed)
        with learn.no_logging(), learn.no_bar():
            learn.fit_one_cycle(1, config.lr)
        return rates(timer.times, batches), learn.model.state_dict()

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=4, help="training batches per run (default 4)")
    parser.add_argument("--rounds", type=int, default=6, help="runs of each loop, taking turns (default 6)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda ...")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument("--loops", default="ours,plain,fastai", help="which loops, comma-separated")
    parser.add_argument("--bf16", action="store_true", help="also ours with cpu_bf16 (bfloat16 autocast on the CPU)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--omp-wait", choices=("passive", "active", "unset"), default="passive",
                        help="OMP_WAIT_POLICY for all the loops: passive (default, as l4tui's runs), active "
                             "(threads spin), unset (the environment's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    loops = [name for name in args.loops.split(",") if name]
    if args.bf16:
        loops.append("ours bf16")

    config = LMConfig(preset="lesson", bs=32, bptt=72, seed=args.seed, device=args.device)
    torch.manual_seed(args.seed)
    task = prepare_lm(config, args.device)
    initial = copy.deepcopy(task.model.state_dict())
    batches = list(task.train.epoch_batches(0))[:args.batches]
    valid = list(task.valid.epoch_batches(0))[:N_VALID_BATCHES]
    if len(batches) < 2:
        print(f"--batches must be at least 2 (the first batch of a run is not timed)")
        return 2
    alpha, beta = task.regularizer.alpha, task.regularizer.beta
    fastai_run = None
    if "fastai" in loops:
        fastai_run = fastai_runner(batches, valid, task.extras["vocab"], config)
        if fastai_run is None:
            loops.remove("fastai")
    model = task.model
    figures = {name: [] for name in loops}
    losses = {name: [] for name in loops}
    started = time.time()
    for round_ in range(args.rounds):
        for name in loops[round_ % len(loops):] + loops[:round_ % len(loops)]:  # each round starts one further
            if name == "ours":
                figures[name] += run_ours(task, batches, initial, args.seed + round_, config.lr)
            elif name == "ours bf16":
                figures[name] += run_ours(task, batches, initial, args.seed + round_, config.lr, cpu_bf16=True)
            elif name == "plain":
                figures[name] += run_plain(task, batches, initial, args.seed + round_, config.lr, alpha, beta)
            elif name == "fastai":
                found, weights = fastai_run(initial, args.seed + round_)
                figures[name] += found
                model.load_state_dict(weights)
            losses[name].append(valid_loss(model, valid))
        print(f"round {round_ + 1}/{args.rounds}: " + ", ".join(
            f"{name} {statistics.median(figures[name][-(len(batches) - 1):]):.0f} tokens/s" for name in loops),
            file=sys.stderr, flush=True)

    n_tokens = sum(target.numel() for _, target in batches)
    print(f"lm_speed: lesson AWD-LSTM (emb 400, hidden 1152, 3 LSTMs), vocab {task.start['vocab_size']}, "
          f"bs 32, bptt 72; {len(batches)} batches ({n_tokens} tokens) x {args.rounds} rounds, taking turns; "
          f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} CPUs, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}; "
          f"{time.time() - started:.0f} s")
    model.load_state_dict(initial)
    print(f"valid loss of the initial weights: {valid_loss(model, valid):.5f}")
    base = statistics.median(figures["fastai"]) if "fastai" in figures else None
    print(f"{'loop':<10} {'tokens/s':>9} {'(min-max)':>13} {'x fastai':>9}   loss after {len(batches)} batches, each round")
    for name in loops:
        med = statistics.median(figures[name])
        ratio = f"{med / base:.2f}" if base else "-"
        spread = f"{min(figures[name]):.0f}-{max(figures[name]):.0f}"
        print(f"{name:<10} {med:>9.0f} {spread:>13} {ratio:>9}   " + " ".join(f"{v:.5f}" for v in losses[name]))
    for name in ("plain", "ours bf16", "fastai"):
        if "ours" in losses and name in losses:
            gap = max(abs(a - b) for a, b in zip(losses["ours"], losses[name]))
            print(f"loss after, ours vs {name}: largest difference {gap:.2g} ({gap / min(losses['ours']):.2%})")
    if "fastai" not in figures:
        print("fastai: not importable here; see this file's docstring for a venv that has it beside l4tui")
    return 0


if __name__ == "__main__":
    sys.exit(main())
