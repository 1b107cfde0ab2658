"""Activation statistics while training: fastai's ActivationStats(with_hist=True), the "colorful
dimension" of its course.

`ActivationStats(model, every=N)` picks the layers worth watching; every N training batches it
hooks them for that batch's forward pass and records, per layer, the mean, the std, the share
of outputs near zero and a histogram of the outputs. `remove()` takes any hook left off (the
run's worker does it in a `finally`, whatever stopped the run).

The layers watched
    Leaf modules that have parameters of their own (Linear, Embedding, LSTM, BatchNorm ...) or
    that are activation functions (the classes of torch.nn.modules.activation: ReLU, Tanh ...);
    never a dropout. A module that returns a tuple (an LSTM's `(output, (h, c))`, attention's
    `(output, weights)`) is watched through its first element. An Embedding held by a wrapper
    that looks rows up itself (the AWD-LSTM's EmbeddingDropout calls F.embedding with the
    embedding's weight, so the Embedding module itself is never called) is watched through that
    wrapper, under the Embedding's own name. Names are the qualified names of `named_modules()`,
    the same as the state dict's keys (`layers.0.0`, `0.rnns.0.module`).

The figures
    mean, std   over every output element of the batch (std is the population one, ddof 0).
    hist        41 counts over fixed signed log bins, the same for every layer and every
                record: a middle bin for |x| <= 1e-3, then 4 bins a decade on either side,
                edges at |x| = 1e-3 * 10**(k/4) for k = 0..19 (up to 56; a bin holds its outer
                edge), and an open bin at each end for anything beyond (infinities too; NaN
                counts in the top one), so a histogram sums to the layer's element count.
                Fixed bins make a layer's histograms over time a heat map, and layers compare.
                Why log bins: our layers live on every scale (collab's embeddings start at std
                0.01, BatchNorm's outputs at 1, the LM's logits reach 10+): a fixed linear
                -10..10 would put all of collab's embeddings in its two middle bins, and a range
                fixed at the first record would lose a layer that grows out of it.
                `l4tui.inspect.activation_history.bin_edges` gives the edges.
    near_zero   the share of elements in the middle bin, |x| <= 1e-3 (fastai: the share in its
                lowest bins). It catches ReLU's dead outputs (exact zeros) and layers that
                collapsed. fastai's cut is 0.5 (two of its 40 bins over 0..10), a scale that
                suits BatchNorm'd conv nets; ours start at std 0.01, so the cut is an absolute
                one far below any layer's working scale: it says "zero" and nothing else.

Cost: the hooks are put on only for a recording batch and taken off after it, so the other
batches run the model exactly as without them (a hook that is merely idle still costs each
module call PyTorch's slower hook path: about 3% of a small tabular batch). On a recording
batch each layer call costs two reductions (the moments), a few elementwise steps that give
each element its bin, and a count, on the device where the model is (no wait for it), kept as
two small tensors; they come to the CPU in one transfer per recording, right after the loop's
own `loss.item()` (which waits for the forward pass anyway). On the CPU, where every torch
operation costs microseconds whatever its size, small outputs (up to 32k elements: all of
tabular's and collab's) are copied to numpy and done all together at that point, a dozen
operations in all instead of a dozen per layer. Measured (bench/train.py --activation-stats):
a recording costs about 0.6 ms for collab's 4 layers and 1-2 ms for tabular's 15 on 2 CPU
cores: 1-3% of an epoch when recording every 50 batches, 3-5% every 25. A layer
called several times in one batch (the classifier's encoder runs over a text in bptt chunks)
is merged exactly: counts add, means and variances combine.
"""

import math

import numpy as np
import torch
from torch import nn

SMALLEST = 1e-3  # the middle bin: |x| <= SMALLEST; its share is `near_zero`
PER_DECADE = 4
N_EDGES = 20  # edges on each side: SMALLEST * 10**(k / PER_DECADE), k = 0 .. N_EDGES - 1
BIN_SPEC = {"kind": "signed-log", "n": 2 * N_EDGES + 1, "smallest": SMALLEST, "per_decade": PER_DECADE}
CHUNK = 1 << 24  # elements counted at a time
SMALL = 1 << 15  # CPU outputs of at most this many elements are done together (see _summarise)
_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


def _bin_indices(values: torch.Tensor) -> torch.Tensor:
    """Each element's bin (0 .. n-1, as floats): middle + sign(x) * ceil(PER_DECADE * log10(|x| /
    SMALLEST)), clamped. Computed, not searched for: torch.bucketize and torch.histc split even a
    few thousand elements over the CPU's threads, which stalls for milliseconds on a busy machine;
    these elementwise steps don't. |x| is raised to SMALLEST first (the middle bin either way):
    the log of zeros and of denormals is many times slower than of other numbers."""
    # log2 is several times quicker than log10 on the CPU: log10(y) = log10(2) * log2(y)
    bins = values.abs().float().clamp_min_(SMALLEST).log2_().sub_(math.log2(SMALLEST))
    bins.mul_(PER_DECADE * math.log10(2)).ceil_().clamp_max_(N_EDGES).copysign_(values).add_(N_EDGES)
    return bins.nan_to_num_(nan=BIN_SPEC["n"] - 1)


def _small_rows(outputs: list[np.ndarray]) -> list[list[float]]:
    """The rows (shift 0, sum(x), sum(x*x), counts ...) of small CPU outputs, all at once: a
    dozen numpy operations in all (each costs about a microsecond where a torch one costs several),
    the same bins as `_bin_indices`."""
    n_bins = BIN_SPEC["n"]
    lengths = np.array([values.size for values in outputs])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    data = np.concatenate(outputs)
    with np.errstate(all="ignore"):  # infinities and NaN: NaN figures, and the end bins below
        exact = data.astype(np.float64)  # sums of x and x*x in float64: no shift needed
        sums, squares = np.add.reduceat(exact, starts), np.add.reduceat(exact * exact, starts)
        bins = np.maximum(np.abs(data), np.float32(SMALLEST))
        np.log2(bins, out=bins)
        bins -= np.float32(math.log2(SMALLEST))
        bins *= np.float32(PER_DECADE * math.log10(2))
        np.ceil(bins, out=bins)
        np.minimum(bins, np.float32(N_EDGES), out=bins)
        np.copysign(bins, data, out=bins)
        bins += np.float32(N_EDGES)
        np.nan_to_num(bins, copy=False, nan=n_bins - 1)
    index = bins.astype(np.int64) + np.repeat(np.arange(len(outputs)) * n_bins, lengths)  # each output's own bins
    counts = np.bincount(index, minlength=len(outputs) * n_bins).reshape(len(outputs), n_bins)
    return np.concatenate([np.zeros((len(outputs), 1)), sums[:, None], squares[:, None], counts], 1).tolist()


def round4(value: float) -> float:
    """4 significant digits (plenty for a chart; keeps an event small). NaN and inf stay as they are."""
    return float(f"{value:.4g}") if math.isfinite(value) else value


def _is_dropout(module) -> bool:
    return isinstance(module, nn.modules.dropout._DropoutNd) or "Dropout" in type(module).__name__


def watched_layers(model: nn.Module) -> list[tuple[str, nn.Module, str]]:
    """(name, module to hook, kind) of each layer worth watching, in the model's order."""
    wrapped = {}  # id(embedding) -> the wrapper module that looks its rows up itself
    for module in model.modules():
        children = list(module.children())
        if (len(children) == 1 and isinstance(children[0], nn.Embedding) and not isinstance(module, _CONTAINERS)
                and not any(True for _ in module.parameters(recurse=False))):
            wrapped[id(children[0])] = module
    layers = []
    for name, module in model.named_modules():
        if next(module.children(), None) is not None or _is_dropout(module):
            continue
        has_params = any(True for _ in module.parameters(recurse=False))
        is_activation = type(module).__module__ == "torch.nn.modules.activation"
        if not (has_params or is_activation):
            continue
        layers.append((name or type(module).__name__, wrapped.get(id(module), module), type(module).__name__))
    return layers


class ActivationStats:
    """Records activation statistics every `every` training batches. The loop calls
    `start_batch(step)` before the forward pass (True: this batch records) and, on a recording
    batch, `write(events, ...)` (or `collect()`) after it.
    """

    def __init__(self, model: nn.Module, every: int):
        if every < 1:
            raise ValueError("every must be at least 1")
        self.every = every
        self.recording = False
        self.layers = watched_layers(model)
        self._handles = []
        self._clear()

    def _clear(self) -> None:
        self._stats, self._counts = [], []  # float64 rows: (shift, sum(x - shift), sum((x - shift)**2)); counts
        self._calls = []  # (layer index, element count) of each row, in order
        self._small = []  # (layer index, a float32 numpy copy of a small CPU output), done together in collect()

    def _hook(self, index: int):
        def hook(module, args, output):
            if self.recording:
                self._summarise(index, output)
        return hook

    def _summarise(self, index: int, output) -> None:
        if isinstance(output, (tuple, list)):
            output = output[0] if output else None
        if not isinstance(output, torch.Tensor) or not output.is_floating_point() or output.numel() == 0:
            return
        flat = output.detach().reshape(-1)
        if flat.device.type == "cpu" and flat.numel() <= SMALL:
            # On the CPU each tensor operation costs a few microseconds whatever its size, so the
            # small outputs of a small model are summed up together once, in collect(). A copy:
            # a later in-place step (ReLU(inplace=True) after a Linear) would change the output.
            self._small.append((index, flat.to(torch.float32, copy=True).numpy()))
            return
        with torch.no_grad():
            # The moments about the first element (shifting keeps sum(d*d) from cancelling when
            # the mean is far from 0): two plain reductions, far quicker than std_mean's one pass.
            shift = flat[0].float()
            n_bins, sums, counts = BIN_SPEC["n"], None, None
            # Big outputs (an LM's logits) are done a slice at a time: the temporaries stay small.
            for part in flat.split(CHUNK):
                d = part.float() - shift
                part_sums = torch.stack([d.sum(), torch.dot(d, d)])
                sums = part_sums if sums is None else sums + part_sums
                bins = _bin_indices(part)
                if part.is_cuda:  # bincount would wait for the device (it reads the largest index first)
                    # bin i counts the index i; float counts are exact up to 2**24, the slice's size at most
                    part_counts = torch.histc(bins, bins=n_bins, min=0, max=n_bins - 1).double()
                else:
                    part_counts = torch.bincount(bins.long(), minlength=n_bins)
                counts = part_counts if counts is None else counts + part_counts
            self._stats.append(torch.cat([shift.reshape(1), sums]).double().reshape(1, 3))
            self._counts.append(counts.double().reshape(1, n_bins))
            self._calls.append((index, flat.numel()))

    def start_batch(self, step: int) -> bool:
        """Training batch number `step` (0-based, counted over the whole run) is about to run
        forward: hook the layers when `step` is a multiple of `every`. Returns whether it records."""
        self.recording = step % self.every == 0
        self._clear()
        if self.recording and not self._handles:
            self._handles = [module.register_forward_hook(self._hook(index))
                             for index, (_, module, _) in enumerate(self.layers)]
        elif not self.recording and self._handles:
            self._unhook()
        return self.recording

    def collect(self) -> list[dict]:
        """The recording batch's figures, one dict per layer that ran (name, kind, n, mean, std,
        near_zero, hist), brought to the CPU in one transfer; the hooks come off until the next
        recording batch."""
        self.recording = False
        self._unhook()
        stats, counts, calls, small = self._stats, self._counts, self._calls, self._small
        self._clear()
        rows = torch.cat([torch.cat(stats), torch.cat(counts)], 1).cpu().tolist() if calls else []  # the one wait
        if small:
            rows += _small_rows([values for _, values in small])
            calls += [(index, values.size) for index, values in small]
        if not calls:
            return []
        merged = {}  # layer index -> [count, mean, M2 (sum of squared deviations), hist]
        for (index, n), (shift, d_sum, d_sq, *hist) in zip(calls, rows):
            d_mean = d_sum / n
            mean, m2 = shift + d_mean, max(d_sq - d_sum * d_mean, 0.0)  # NaN stays NaN
            if index not in merged:
                merged[index] = [n, mean, m2, hist]
                continue
            total = merged[index]
            count = total[0] + n
            delta = mean - total[1]
            total[2] += m2 + delta * delta * total[0] * n / count  # Chan et al.'s merge
            total[1] += delta * n / count
            total[0] = count
            total[3] = [a + b for a, b in zip(total[3], hist)]
        records = []
        for index in sorted(merged):
            count, mean, m2, hist = merged[index]
            name, _, kind = self.layers[index]
            hist = [int(c) for c in hist]
            records.append({"name": name, "kind": kind, "n": count, "mean": round4(mean),
                            "std": round4(math.sqrt(m2 / count)),
                            "near_zero": round4(hist[N_EDGES] / count), "hist": hist})
        return records

    def write(self, events, **where) -> None:
        """Collect the recording batch and write it as one "activations" event (`where`: epoch,
        batch, iter ...)."""
        layers = self.collect()
        if layers:
            events.write("activations", **where, bins=BIN_SPEC, layers=layers)

    def _unhook(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def remove(self) -> None:
        """Take every hook off and drop what a recording batch left; nothing is recorded after this
        until the next `start_batch`."""
        self._unhook()
        self._clear()
        self.recording = False
