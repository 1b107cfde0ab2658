"""TabularModel: fastai's model for tables (lesson 4, the adult census income data).

A table has two kinds of columns:
  * categorical (workclass, education, ...): each value becomes an index (Categorify; 0 is kept
    for `#na#`, missing or never seen), and each column gets its own embedding, a learned vector
    per category, exactly as words get vectors in the language model;
  * continuous (age, fnlwgt, ...): filled where missing (FillMissing) and normalized (Normalize).
The embeddings and the continuous values are concatenated and go through a few fully connected
layers (`layers=[200, 100]` in the lesson), each with ReLU, BatchNorm and dropout.
"""

import torch
from torch import nn


def emb_sz_rule(n_cat):
    """fastai's rule of thumb for the size of an embedding of `n_cat` categories."""
    return min(600, round(1.6 * n_cat ** 0.56))


def get_emb_szs(cardinalities, sizes=None):
    """(n_categories, embedding size) per column: by the rule, unless `sizes` gives one."""
    sizes = sizes or [None] * len(cardinalities)
    return [(n, size or emb_sz_rule(n)) for n, size in zip(cardinalities, sizes)]


class Embedding(nn.Embedding):
    """An nn.Embedding started as fastai starts it: a truncated normal with std 0.01.

    (batch,) category indices -> (batch, n_factors)
    """

    def __init__(self, n_categories, n_factors):
        super().__init__(n_categories, n_factors)
        nn.init.trunc_normal_(self.weight, std=0.01)


class SigmoidRange(nn.Module):
    """Squeeze any number into (low, high) with a scaled sigmoid. Keeps the input's shape."""

    def __init__(self, low, high):
        super().__init__()
        self.low, self.high = low, high

    def forward(self, x):
        return torch.sigmoid(x) * (self.high - self.low) + self.low

    def extra_repr(self):
        return f"low={self.low}, high={self.high}"


class LinBnDrop(nn.Sequential):
    """A fully connected block, fastai's LinBnDrop (lin_first): Linear, ReLU, BatchNorm, Dropout.

    (batch, n_in) -> (batch, n_out). The Linear has no bias when a BatchNorm follows: the
    BatchNorm's own bias does that job.
    """

    def __init__(self, n_in, n_out, bn=True, p=0.0, act=True):
        layers = [nn.Linear(n_in, n_out, bias=not bn)]
        if act:
            layers.append(nn.ReLU(inplace=True))
        if bn:
            layers.append(nn.BatchNorm1d(n_out))
        if p:
            layers.append(nn.Dropout(p))
        super().__init__(*layers)


# Up to this many categories over all the columns, TabularModel looks the embeddings up with one
# matrix product (see `embed_all`); above, the (bs, n_categories) product would cost more than the
# lookups it replaces.
MATMUL_LOOKUP_MAX = 512


class TabularModel(nn.Module):
    """Embeddings for the categorical columns + the continuous columns -> fully connected layers.

    Input:  x_cat (batch, n_cat) category indices, one column per categorical variable;
            x_cont (batch, n_cont) normalized continuous values.
    Output: (batch, out_sz): class scores (classification) or predictions (regression, with
            `y_range` squeezing them into a range).
    emb_szs: (n_categories, size) per categorical column, `#na#` included in n_categories.
    """

    def __init__(self, emb_szs, n_cont, out_sz, layers=(200, 100), ps=None, embed_p=0.0,
                 y_range=None, use_bn=True, bn_final=False, bn_cont=True):
        super().__init__()
        ps = [0.0] * len(layers) if ps is None else ps
        ps = [ps] * len(layers) if isinstance(ps, (int, float)) else list(ps)
        self.embeds = nn.ModuleList([Embedding(n, size) for n, size in emb_szs])
        self.emb_drop = nn.Dropout(embed_p)
        self.bn_cont = nn.BatchNorm1d(n_cont) if bn_cont and n_cont else None
        self.n_emb = sum(size for _, size in emb_szs)
        self.n_cont = n_cont
        sizes = [self.n_emb + n_cont, *layers, out_sz]
        blocks = []
        for i, p in enumerate([*ps, 0.0]):
            last = i == len(sizes) - 2
            blocks.append(LinBnDrop(sizes[i], sizes[i + 1], bn=use_bn and (not last or bn_final),
                                    p=p, act=not last))
        if y_range is not None:
            blocks.append(SigmoidRange(*y_range))
        self.layers = nn.Sequential(*blocks)
        # Where each column's categories start when all the columns' categories are numbered in a
        # row (for `embed_all`'s speed trick; not saved: the weights are the embeddings' own).
        cardinalities = torch.tensor([n for n, _ in emb_szs], dtype=torch.long)
        self.register_buffer("cat_offsets", cardinalities.cumsum(0) - cardinalities, persistent=False)
        self.n_categories = int(cardinalities.sum())

    def embed_all(self, x_cat):
        """(bs, n_cat) category indices -> (bs, n_emb): each column's embedding, side by side."""
        watched = any(embed._forward_hooks or embed._forward_pre_hooks for embed in self.embeds)
        if self.n_categories > MATMUL_LOOKUP_MAX or watched:  # watched: the Model pane's activations
            # one (bs, size) tensor per categorical column
            return torch.cat([embed(x_cat[:, i]) for i, embed in enumerate(self.embeds)], 1)
        # Speed trick, the same numbers: with few categories in all (adult: 67), one matrix product
        # does every column's lookup at once. Each row gets a 1 in each column's block of category
        # slots ("multi-hot"); times the embeddings' weights laid out block-diagonally, that picks
        # each column's vector and puts them side by side, as the lookups and torch.cat above do.
        # One product (and one in the backward pass) instead of seven lookups and their gradients:
        # on a CPU half the embeddings' time (docs/training.md, "Speed of the tabular model").
        weights = torch.block_diag(*[embed.weight for embed in self.embeds])  # (n_categories, n_emb)
        hot = torch.zeros(len(x_cat), self.n_categories, dtype=weights.dtype, device=x_cat.device)
        hot.scatter_(1, x_cat + self.cat_offsets, 1.0)  # (bs, n_categories)
        return hot @ weights

    def forward(self, x_cat, x_cont=None):
        parts = []
        if self.n_emb:
            parts.append(self.emb_drop(self.embed_all(x_cat)))  # (bs, n_emb)
        if self.n_cont:
            if self.bn_cont is not None:
                x_cont = self.bn_cont(x_cont)
            parts.append(x_cont)  # (bs, n_cont)
        return self.layers(torch.cat(parts, 1))  # (bs, out_sz)


# The lesson's adult census model: 7 categorical columns (6 + education-num_na from FillMissing)
# with these cardinalities, #na# included; 3 continuous (age, fnlwgt, education-num); 2 classes.
ADULT_CARDINALITIES = [10, 17, 8, 16, 7, 6, 3]
