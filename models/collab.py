"""Collaborative filtering: EmbeddingDotBias, the model behind fastai's `collab_learner`.

Lesson 4 builds it in a spreadsheet first: give every user and every movie a short vector of
numbers (its *latent factors*), predict a rating as the dot product of the two vectors, and let
gradient descent find factors that make the predictions match the ratings we know.

Two additions make it work much better:
  * a bias per user (some people rate everything high) and per item (some movies are just good);
  * `y_range`: squeeze the output through a sigmoid scaled to the rating range, so the model never
    has to learn that ratings stop at 5. The lesson uses y_range=(0, 5.5), a little above the
    top rating, because a sigmoid only reaches its ends at infinity.
"""

import torch
from torch import nn


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
        users, items = x[:, 0], x[:, 1]                            # (batch,), (batch,)
        dot = self.u_weight(users) * self.i_weight(items)          # (batch, n_factors)
        res = dot.sum(1) + self.u_bias(users).squeeze(1) + self.i_bias(items).squeeze(1)  # (batch,)
        if self.y_range is None:
            return res
        return sigmoid_range(res, *self.y_range)

    def extra_repr(self):
        return f"y_range={self.y_range}"
