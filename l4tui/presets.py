"""The model sizes by preset: the one table the text recipes, the Model pane's builds and
`l4tui summary` read, so "small" means the same model wherever it is named.

    lesson  fastai's sizes: AWD_LSTM's emb_sz=400, n_hid=1152, n_layers=3; tabular_learner's
            layers=[200, 100]; collab_learner's n_factors=50 (EmbeddingNN's layers [100, 50])
    small   the same models, small enough to train in seconds on a CPU

The text recipes take the AWD-LSTM's sizes (`awd_lstm_sizes`); the other recipes take their
sizes from their own options (n_factors, layers: l4tui/train/options.py), whatever the preset.
"""

PRESETS = {
    "small": dict(emb_sz=64, n_hid=128, n_layers=3, tabular_layers=(64, 32), n_factors=16,
                  collab_nn_layers=(32, 16)),
    "lesson": dict(emb_sz=400, n_hid=1152, n_layers=3, tabular_layers=(200, 100), n_factors=50,
                   collab_nn_layers=(100, 50)),
}

AWD_LSTM_SIZES = ("emb_sz", "n_hid", "n_layers")  # what get_language_model and get_text_classifier take


def awd_lstm_sizes(preset: str) -> dict:
    """The AWD-LSTM's keyword arguments for `preset`: emb_sz, n_hid, n_layers."""
    return {name: PRESETS[preset][name] for name in AWD_LSTM_SIZES}


def describe(preset: str) -> str:
    """One line for a choice list: "small: emb 64, hidden 128, 3 LSTMs"."""
    sizes = PRESETS[preset]
    return f"{preset}: emb {sizes['emb_sz']}, hidden {sizes['n_hid']}, {sizes['n_layers']} LSTMs"
