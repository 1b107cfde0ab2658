"""Collaborative filtering: EmbeddingDotBias, the model behind fastai's `collab_learner`.

Lesson 4 builds it in a spreadsheet first: give every user and every movie a short vector of
numbers (its *latent factors*), predict a rating as the dot product of the two vectors, and let
gradient descent find factors that make the predictions match the ratings we know.

Two additions make it work much better:
  * a bias per user (some people rate everything high) and per item (some movies are just good);
  * `y_range`: squeeze the output through a sigmoid scaled to the rating range, so the model never
    has to learn that ratings stop at 5. The lesson uses y_range=(0, 5.5), a little above the
    top rating, because a sigmoid only reaches its ends at infinity.

The lesson then tries a neural network instead of the dot product: EmbeddingNN concatenates
the user's and the item's embeddings and feeds them to fully connected layers. It is fastai's
TabularModel with two categorical columns (user, item) and no continuous ones.
"""

import torch
from torch import nn

from .tabular import TabularModel, get_emb_szs


def sigmoid_range(x, low, high):
    """Sigmoid scaled to (low, high): fastai's `sigmoid_range`."""
    return torch.sigmoid(x) * (high - low) + low


class EmbeddingDotBias(nn.Module):
    """Dot product of user and item factors, plus a bias for each.

    Input:  x, a LongTensor of shape (batch, 2): column 0 the user index, column 1 the item index.
    Output: a FloatTensor of shape (batch,): the predicted rating.
    """

    def __init__(self, n_factors, n_users, n_items, y_range=None):
        super().__init__()
        self.y_range = y_range
        # One row of n_factors numbers per user and per item: the latent factors.
        self.u_weight = nn.Embedding(n_users, n_factors)
        self.i_weight = nn.Embedding(n_items, n_factors)
        # One number per user and per item: the biases.
        self.u_bias = nn.Embedding(n_users, 1)
        self.i_bias = nn.Embedding(n_items, 1)
        # fastai starts embeddings small (a truncated normal with std 0.01); so do we.
        for embedding in (self.u_weight, self.i_weight, self.u_bias, self.i_bias):
            nn.init.trunc_normal_(embedding.weight, std=0.01)

    def forward(self, x):
        users, items = x[:, 0], x[:, 1]                                       # (batch,) each
        dot = self.u_weight(users) * self.i_weight(items)                     # (batch, n_factors)
        bias = self.u_bias(users).squeeze(1) + self.i_bias(items).squeeze(1)  # (batch,)
        res = dot.sum(1) + bias                                               # (batch,)
        if self.y_range is None:
            return res
        return sigmoid_range(res, *self.y_range)

    def extra_repr(self):
        return f"y_range={self.y_range}"


class EmbeddingNN(TabularModel):
    """Concatenated user and item embeddings -> fully connected layers -> a rating.

    Input:  x, a LongTensor of shape (batch, 2): column 0 the user index, column 1 the item index.
    Output: a FloatTensor of shape (batch, 1): the predicted rating.
    emb_szs: [(n_users, size), (n_items, size)]; by default sized with fastai's rule of thumb.
    The lesson: collab_learner(dls, use_nn=True, y_range=(0, 5.5), layers=[100, 50]).
    """

    def __init__(self, n_users, n_items, layers=(100, 50), emb_szs=None, y_range=None, ps=None,
                 embed_p=0.0):
        emb_szs = emb_szs or get_emb_szs([n_users, n_items])
        super().__init__(emb_szs=emb_szs, n_cont=0, out_sz=1, layers=layers, ps=ps,
                         embed_p=embed_p, y_range=y_range)

    def forward(self, x):
        return super().forward(x, None)
