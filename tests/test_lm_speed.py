"""The language model's training speed-ups keep the computation (bench/lm_speed.py measures them):
our loop and a plain PyTorch loop end with the same weights from the same seed, AR/TAR still
count, WeightDropout still drops in training only, and the precision is picked as documented."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from l4tui.data.text_batches import LMBatches
from l4tui.modelfiles import load_model_file
from l4tui.train.batches import NumpyBatches
from l4tui.train.loop import Stage, Task, fit, param_groups, precision
from l4tui.train.schedule import one_cycle
from l4tui.train.text import RNNRegularizer

awd = load_model_file("awd_lstm")
N_BATCHES = 5


class NoEvents:
    def write(self, *args, **kwargs):
        pass


def lm_loss(preds, target):
    return F.cross_entropy(preds.reshape(-1, preds.size(-1)), target.reshape(-1))


def small_lm_task(alpha=2.0, beta=1.0, cpu_bf16=False):
    """A small AWD-LSTM language model (every dropout on) as the lm recipe builds its Task."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    docs = [rng.integers(2, 40, int(n)) for n in rng.integers(20, 60, 30)]
    model = awd.get_language_model(40, 16, 24, 3, drop_mult=1.0)
    batches = LMBatches(docs, bs=4, seq_len=12, shuffle=True, seed=0)
    train = [b for i, b in enumerate(NumpyBatches(batches, "cpu").epoch_batches(0)) if i < N_BATCHES]
    valid = list(NumpyBatches(LMBatches(docs[:8], bs=4, seq_len=12, shuffle=False), "cpu").epoch_batches(0))
    task = Task(model=model, loss_func=lm_loss, train=FixedBatches(train), valid=FixedBatches(valid),
                stages=[Stage(1, 1e-2, freeze_to=0)], groups=model.layer_groups(), moms=(0.8, 0.7, 0.8),
                regularizer=RNNRegularizer(model[1].output_dp, alpha, beta), cpu_bf16=cpu_bf16)
    return task, train, valid


class FixedBatches:
    def __init__(self, batches):
        self.batches = batches

    def n_batches(self, epoch=0):
        return len(self.batches)

    def epoch_batches(self, epoch):
        return iter(self.batches)


@torch.no_grad()
def eval_loss(model, batches):
    model.eval()
    model.reset()
    return sum(lm_loss(model(x), y).item() for (x,), y in batches) / len(batches)


def plain_loop(task, batches, alpha, beta, lr=1e-2):
    """Forward, cross-entropy + AR/TAR, backward, AdamW with the one-cycle lr: nothing of l4tui's loop."""
    model = task.model
    optimizer = torch.optim.AdamW([{"params": p} for p in param_groups(model, task.groups)], lr=lr,
                                  betas=(0.8, 0.99), eps=1e-5, weight_decay=task.wd)
    model.train()
    model.reset()
    for i, ((x,), y) in enumerate(batches):
        step_lr, mom = one_cycle(i / len(batches), lr, moms=task.moms)
        for group in optimizer.param_groups:
            group["lr"], group["betas"] = step_lr, (mom, 0.99)
        raw = model[0](x)
        dropped = model[1].output_dp(raw)
        loss = lm_loss(model[1].decoder(dropped), y)
        loss = loss + alpha * dropped.pow(2).mean() + beta * (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def test_our_loop_and_a_plain_loop_end_with_the_same_loss():
    task, train, valid = small_lm_task()
    initial = {k: v.clone() for k, v in task.model.state_dict().items()}
    before = eval_loss(task.model, valid)
    torch.manual_seed(1)
    fit(task, NoEvents())
    ours = eval_loss(task.model, valid)
    task.model.load_state_dict(initial)
    torch.manual_seed(1)
    plain_loop(task, train, alpha=2.0, beta=1.0)
    plain = eval_loss(task.model, valid)
    assert ours != before  # it trained
    assert ours == pytest.approx(plain, abs=1e-6)


def test_ar_and_tar_still_count():
    def trained(alpha, beta):
        task, _, valid = small_lm_task(alpha, beta)
        torch.manual_seed(1)
        fit(task, NoEvents())
        return eval_loss(task.model, valid)

    with_both = trained(2.0, 1.0)
    assert trained(0.0, 1.0) != with_both and trained(2.0, 0.0) != with_both


def test_weight_dropout_drops_in_training_only():
    lstm = awd.WeightDropout(torch.nn.LSTM(8, 16, batch_first=True), weight_p=0.5)
    raw = lstm.weight_hh_l0_raw
    x = torch.randn(2, 5, 8)
    lstm.train()
    lstm(x)
    dropped = lstm.module.weight_hh_l0
    zeros = (dropped == 0).float().mean().item()
    assert 0.35 < zeros < 0.65  # about half the weights dropped ...
    kept = dropped != 0
    assert torch.allclose(dropped[kept], raw[kept] * 2)  # ... and the others scaled by 1 / (1 - p)
    lstm.eval()
    lstm(x)
    assert torch.equal(lstm.module.weight_hh_l0, raw)
    # the gradient reaches the raw weight through the dropped copy
    lstm.train()
    lstm(x)[0].sum().backward()
    assert raw.grad is not None and raw.grad.abs().sum() > 0


def test_cuda_trains_text_models_in_float16_by_default_and_the_cpu_in_float32():
    from l4tui.train.recipes import RECIPES

    for family in ("lm", "classifier"):
        config = RECIPES[family][0]()
        task = Task(model=None, loss_func=None, train=None, valid=None, stages=[], fp16=config.fp16,
                    cpu_bf16=config.cpu_bf16)
        assert precision(task, "cuda") == ("cuda", torch.float16)  # the lesson's .to_fp16()
        assert precision(task, "cpu") is None  # float32 unless asked for
    for family in ("collab", "tabular"):
        task = Task(model=None, loss_func=None, train=None, valid=None, stages=[], fp16=RECIPES[family][0]().fp16)
        assert precision(task, "cuda") is None
    bf16 = Task(model=None, loss_func=None, train=None, valid=None, stages=[], fp16=False, cpu_bf16=True)
    assert precision(bf16, "cpu") == ("cpu", torch.bfloat16)
    assert precision(bf16, "cuda") is None  # cpu_bf16 is for the CPU only


def test_the_worker_passes_both_precision_options_to_the_task():
    import inspect

    from l4tui.train import worker

    source = inspect.getsource(worker.run)
    assert 'task.fp16 = bool(getattr(config, "fp16"' in source
    assert 'task.cpu_bf16 = bool(getattr(config, "cpu_bf16"' in source


def test_cpu_bf16_trains_close_to_float32():
    task, _, valid = small_lm_task()
    initial = {k: v.clone() for k, v in task.model.state_dict().items()}
    torch.manual_seed(1)
    fit(task, NoEvents())
    float32 = eval_loss(task.model, valid)
    task.model.load_state_dict(initial)
    task.cpu_bf16 = True
    torch.manual_seed(1)
    results = fit(task, NoEvents())
    bf16 = eval_loss(task.model, valid)
    assert bf16 != float32  # it did run in bfloat16 ...
    assert bf16 == pytest.approx(float32, rel=0.02)  # ... and learnt the same
    assert np.isfinite(results["valid_loss"])


def test_cpu_bf16_is_checked_like_any_flag():
    from l4tui.train.text import LMConfig

    config = LMConfig.from_dict({"cpu_bf16": "yes"})
    with pytest.raises(ValueError, match="cpu_bf16 must be true or false"):
        config.validate()
    LMConfig.from_dict({"cpu_bf16": True}).validate()


def test_the_run_process_makes_torchs_threads_wait_passively(monkeypatch):
    import inspect

    from l4tui.train import worker

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    worker.wait_passively()
    assert worker.os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    worker.wait_passively()
    assert worker.os.environ["OMP_WAIT_POLICY"] == "ACTIVE"  # the user's own setting wins
    # set first thing in the run process, before anything imports torch
    body = inspect.getsource(worker.main).split('"""')[-1].strip().splitlines()
    assert body[1].strip() == "wait_passively()"


def test_the_optimizer_is_fused_on_the_cpu():
    from l4tui.train.loop import make_optimizer

    task, _, _ = small_lm_task()
    assert make_optimizer(task).defaults["fused"] is True
