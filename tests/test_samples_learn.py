"""Each bundled sample is learnable: a small model trained on it for seconds beats the majority class.

These run the whole data path of each family (loader, tokenizer, vocab, batches or tabular
processing) into the lesson's models, with a plain training loop.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import REPO
from l4tui.data.tables import ADULT_CAT_NAMES, ADULT_CONT_NAMES, load_adult_csv
from l4tui.data.tabular_procs import TabularProcessor
from l4tui.data.text_batches import ClassifierBatches
from l4tui.data.texts import load_texts_csv
from l4tui.data.tokenizer import tokenize_many
from l4tui.data.vocab import Vocab
from l4tui.modelfiles import load_model_file

pytestmark = pytest.mark.slow


def test_imdb_sample_teaches_a_small_ulmfit_classifier():
    torch.manual_seed(0)
    data = load_texts_csv(REPO / "datasets" / "imdb-sample" / "texts.csv")
    tokens = tokenize_many(data.texts)
    valid = np.array(data.is_valid)
    vocab = Vocab.build([t for t, v in zip(tokens, valid) if not v], min_freq=2)
    ids = [np.array(vocab.numericalize(t)) for t in tokens]
    labels = np.array([int(label == "positive") for label in data.labels])
    awd = load_model_file("awd_lstm")
    model = awd.get_text_classifier(len(vocab), 2, emb_sz=32, n_hid=64, drop_mult=0.5)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    train = ClassifierBatches([ids[i] for i in np.flatnonzero(~valid)], labels[~valid], bs=32, seed=0)
    x_valid, y_valid = next(iter(ClassifierBatches([ids[i] for i in np.flatnonzero(valid)], labels[valid],
                                                   bs=len(labels), shuffle=False)))
    for _ in range(6):
        model.train()
        for x, y in train:
            loss = F.cross_entropy(model(torch.as_tensor(x)), torch.as_tensor(y))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(torch.as_tensor(x_valid)).argmax(1).numpy() == y_valid).mean()
    majority = max(y_valid.mean(), 1 - y_valid.mean())
    print(f"text: accuracy {accuracy:.3f}, majority {majority:.3f}")
    assert accuracy > majority + 0.1, f"accuracy {accuracy:.3f}, majority {majority:.3f}"


def test_adult_sample_teaches_the_tabular_model():
    torch.manual_seed(0)
    frame = load_adult_csv(REPO / "datasets" / "adult-sample" / "adult.csv").frame
    valid = np.random.default_rng(0).random(len(frame)) < 0.2
    processor = TabularProcessor(ADULT_CAT_NAMES, ADULT_CONT_NAMES, "salary").fit([frame[~valid]])
    x_cat, x_cont, y = (torch.as_tensor(a) for a in processor.transform(frame[~valid]))
    v_cat, v_cont, v_y = processor.transform(frame[valid])
    tabular = load_model_file("tabular")
    model = tabular.TabularModel(tabular.get_emb_szs(processor.cardinalities), len(ADULT_CONT_NAMES), 2,
                                 layers=[200, 100])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(5):
        model.train()
        order = torch.randperm(len(y))
        for start in range(0, len(y), 64):
            batch = order[start:start + 64]
            loss = F.cross_entropy(model(x_cat[batch], x_cont[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(torch.as_tensor(v_cat), torch.as_tensor(v_cont)).argmax(1).numpy() == v_y).mean()
    majority = max(v_y.mean(), 1 - v_y.mean())
    print(f"tabular: accuracy {accuracy:.3f}, majority {majority:.3f}")
    assert accuracy > majority + 0.04, f"accuracy {accuracy:.3f}, majority {majority:.3f}"
