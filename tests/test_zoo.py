"""The model zoo and transfer into the language model: fastai's wt103 archive (a stand-in the
tests make, tests/zoo_standin.py, at the small preset's sizes), served from 127.0.0.1
(tests/http_server.py), checked by its structure, read safely, and matched to a new vocab."""

import io
import os
import pickle
import tarfile
from dataclasses import replace

import pytest
import torch
from http_server import serving
from zoo_standin import archive_bytes, random_lm_state, standin_itos, tgz, write_standin

from l4tui.data.download import ArchiveError, DownloadError, get_dataset
from l4tui.data.registry import find_dataset
from l4tui.data.zoo import PretrainedError, lm_shapes, read_itos, read_pretrained, to_our_keys, zoo_files
from l4tui.train.transfer import load_pretrained_lm, match_embeds, settle_preset, vocab_coverage


@pytest.fixture
def server(monkeypatch):
    with serving(monkeypatch) as state:
        yield state


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv("L4TUI_DATA", str(folder))
    return folder


def served(server, data: bytes, name="wt103-fwd"):
    """The registry's entry, pointing at the local server instead of fastai's."""
    server.files[f"/fast-ai-modelzoo/{name}.tgz"] = data
    return replace(find_dataset(name), url=f"{server.base}/fast-ai-modelzoo/{name}.tgz")


def ours(state: dict) -> dict:
    return {key: value for key, value in state.items()}


# ---- the registry -----------------------------------------------------------------------------

def test_registry_has_the_zoo_with_wt103_as_an_alias():
    forward, backward = find_dataset("wt103-fwd"), find_dataset("wt103-bwd")
    assert find_dataset("wt103") is forward
    assert forward.url == "https://s3.amazonaws.com/fast-ai-modelzoo/wt103-fwd.tgz"
    assert backward.url == "https://s3.amazonaws.com/fast-ai-modelzoo/wt103-bwd.tgz"
    assert forward.kind == backward.kind == "pretrained"
    assert forward.size is None and forward.checksum is None  # none is published: checked by structure
    assert forward.archive_name == "wt103-fwd.tgz" and forward.folder == "wt103-fwd"


def test_data_list_shows_the_pretrained_models(data_dir):
    from conftest import l4tui

    write_standin(data_dir)
    get_dataset("wt103")  # the hand-placed archive: unpacked without the network
    listing = l4tui("data", "list", env={**os.environ, "L4TUI_DATA": str(data_dir)}).stdout
    assert "pretrained models" in listing
    # No size is published for the zoo's models: a downloaded one shows what it takes on disk.
    on_disk = sum(path.stat().st_size for path in (data_dir / "wt103-fwd").rglob("*") if path.is_file())
    assert f"wt103-fwd      lm       {on_disk / 2**20:>6,.1f} MiB  {data_dir / 'wt103-fwd'}" in listing
    assert "wt103-bwd      lm       size unknown  not downloaded" in listing


# ---- downloading: what arrives is checked by its structure -------------------------------------

@pytest.mark.parametrize("layout", ["fastai1", "fastai2"])
@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "model-opt"])
def test_download_unpacks_and_reads_both_layouts(server, data_dir, layout, wrapped):
    itos, state = standin_itos(), random_lm_state(len(standin_itos()))
    entry = served(server, archive_bytes(itos, state, layout=layout, wrapped=wrapped))
    folder = get_dataset(entry)
    assert folder == data_dir / "wt103-fwd"
    assert sorted(p.name for p in folder.iterdir()) == ["itos_wt103.pkl", "lstm_fwd.pth"]
    model = load_pretrained_lm("wt103")
    assert model.itos == itos and model.sizes() == {"emb_sz": 64, "n_hid": 128, "n_layers": 3}
    assert set(model.weights) == set(lm_shapes(len(itos), 64, 128, 3))  # our names, no .module copy
    for key, value in state.items():
        assert torch.equal(model.weights[key], value), key


def test_the_backward_model_has_its_own_names(server, data_dir):
    entry = served(server, archive_bytes(standin_itos(), random_lm_state(len(standin_itos())), direction="bwd"),
                   name="wt103-bwd")
    folder = get_dataset(entry)
    assert sorted(p.name for p in folder.iterdir()) == ["itos_wt103.pkl", "lstm_bwd.pth"]
    assert load_pretrained_lm("wt103-bwd").n_layers == 3


def test_a_download_cut_short_is_kept_and_resumed(server, data_dir):
    data = archive_bytes(standin_itos(), random_lm_state(len(standin_itos())))
    entry = served(server, data)
    server.drop_after = len(data) // 3
    with pytest.raises(DownloadError, match="run again to resume"):
        get_dataset(entry)
    part = data_dir / ".wt103-fwd.part"
    assert part.stat().st_size == len(data) // 3 and not (data_dir / "wt103-fwd").exists()
    server.drop_after = None
    assert get_dataset(entry).is_dir()
    assert server.requests[-1][1] == f"bytes={len(data) // 3}-"  # only the missing bytes
    assert load_pretrained_lm("wt103").itos == standin_itos()


def weights_bytes(state) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def wrong_archives():
    itos = standin_itos()
    state = random_lm_state(len(itos))
    two_layers = random_lm_state(len(itos), n_layers=2)
    del two_layers["0.rnns.1.module.bias_hh_l0"]
    mismatched = dict(state)
    mismatched["0.rnns.1.module.weight_ih_l0"] = torch.zeros(4 * 128, 100)
    plain_tar = io.BytesIO()
    with tarfile.open(fileobj=plain_tar, mode="w") as tar:
        for name, data in {"wt103-fwd/lstm_fwd.pth": weights_bytes(state),
                           "wt103-fwd/itos_wt103.pkl": pickle.dumps(itos)}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return {
        "no-pkl": (tgz({"wt103-fwd/lstm_fwd.pth": weights_bytes(state)}), "one .pkl file; wt103-fwd holds none"),
        "two-pth": (archive_bytes(itos, state, extra={"wt103-fwd/other.pth": b"x"}), "holds 2"),
        "vocab-size": (archive_bytes(itos[:-1], state), f"{len(itos) - 1} words but lstm_fwd.pth has {len(itos)}"),
        "missing-key": (archive_bytes(itos, two_layers), "lacks 0.rnns.1.module.bias_hh_l0"),
        "sizes-disagree": (archive_bytes(itos, mismatched), "0.rnns.1.module.weight_ih_l0 is (512, 100)"),
        "not-weights": (tgz({"wt103-fwd/lstm_fwd.pth": b"<html>", "wt103-fwd/itos_wt103.pkl": pickle.dumps(itos)}),
                        "not a torch file"),
        "not-gzip": (plain_tar.getvalue(), "not a gzip-compressed tar"),
    }


@pytest.mark.parametrize("case", list(wrong_archives()))
def test_a_wrong_structure_is_one_line_and_not_kept(server, data_dir, case):
    data, expected = wrong_archives()[case]
    with pytest.raises(ArchiveError) as caught:
        get_dataset(served(server, data))
    message = str(caught.value)
    assert "\n" not in message and "is not a pretrained AWD-LSTM language model" in message
    assert expected in message, message
    assert "deleted" in message
    assert list(data_dir.iterdir()) == []  # no archive, no folder, no scratch left


def test_a_hand_placed_archive_is_used_without_the_network(data_dir):
    write_standin(data_dir)  # as a user without internet would put it there
    model = load_pretrained_lm("wt103")  # unpacked now, checked, no URL fetched (it would fail: s3)
    assert model.itos == standin_itos() and (data_dir / "wt103-fwd").is_dir()


def test_a_missing_model_says_how_to_get_it(data_dir):
    with pytest.raises(PretrainedError) as caught:
        load_pretrained_lm("wt103")
    assert str(caught.value) == (f"wt103 is not downloaded: run `l4tui data get wt103`, or put wt103-fwd.tgz "
                                 f"in {data_dir}")


# ---- the vocab is read without running anything -------------------------------------------------

class RunsCode:
    """A pickle that calls os.system when loaded: what a hostile vocab file would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "it-ran"
    path = tmp_path / "itos_wt103.pkl"
    path.write_bytes(pickle.dumps([RunsCode(marker), "the"]))
    with pytest.raises(PretrainedError, match=r"itos_wt103.pkl was refused: it names (posix|os)\.system"):
        read_itos(path)
    assert not marker.exists()


def test_an_archive_with_a_hostile_vocab_is_refused_and_nothing_runs(server, data_dir, tmp_path):
    marker = tmp_path / "it-ran"
    itos = standin_itos()
    data = archive_bytes(itos, random_lm_state(len(itos)), itos_pickle=pickle.dumps(RunsCode(marker)))
    with pytest.raises(ArchiveError, match="was refused"):
        get_dataset(served(server, data))
    assert not marker.exists() and list(data_dir.iterdir()) == []


@pytest.mark.parametrize("value,expected", [({"the": 0}, "holds a dict"), (["the", 3], "holds a list"),
                                            ([], "empty vocab")])
def test_a_vocab_must_be_a_list_of_str(tmp_path, value, expected):
    path = tmp_path / "itos.pkl"
    path.write_bytes(pickle.dumps(value))
    with pytest.raises(PretrainedError, match=expected):
        read_itos(path)


def test_damaged_pickle_is_one_line(tmp_path):
    path = tmp_path / "itos.pkl"
    path.write_bytes(pickle.dumps(standin_itos())[:-20])
    with pytest.raises(PretrainedError, match="is not a vocab pickle"):
        read_itos(path)


# ---- the sources load_pretrained_lm reads -------------------------------------------------------

def fastai_files(tmp_path, itos=None, **options):
    archive = write_standin(tmp_path / "zoo", itos=itos, **options)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "zoo", filter="data")
    return zoo_files(tmp_path / "zoo" / "wt103-fwd")


def test_a_pth_with_its_pkl_beside_it_or_a_pair(tmp_path):
    pth, pkl = fastai_files(tmp_path)
    assert load_pretrained_lm(str(pth)).itos == standin_itos()
    moved = tmp_path / "vocab.pkl"
    pkl.rename(moved)
    with pytest.raises(PretrainedError, match=r"needs its vocab: one \.pkl beside it \(0 there\)"):
        load_pretrained_lm(str(pth))
    assert load_pretrained_lm(f"{pth},{moved}").itos == standin_itos()
    with pytest.raises(PretrainedError, match="no such file"):
        load_pretrained_lm(f"{pth},{tmp_path / 'nope.pkl'}")


def test_an_unknown_name_says_what_is_taken(tmp_path, monkeypatch):
    monkeypatch.setenv("L4TUI_RUNS", str(tmp_path / "runs"))
    with pytest.raises(ValueError, match="or name a pretrained model: wt103, PATH.pth, PTH,PKL"):
        load_pretrained_lm("20990101-lm-nope")


def test_to_our_keys_drops_fastai1s_copies_and_fills_the_tied_weights():
    state = random_lm_state(len(standin_itos()))
    bare = {k: v for k, v in state.items() if k not in ("0.encoder_dp.emb.weight", "1.decoder.weight")}
    bare["0.rnns.0.module.weight_hh_l0"] = torch.zeros(1)
    weights = to_our_keys(bare)
    assert "0.rnns.0.module.weight_hh_l0" not in weights
    assert weights["1.decoder.weight"] is weights["0.encoder.weight"] is weights["0.encoder_dp.emb.weight"]


# ---- match_embeds ---------------------------------------------------------------------------------

def test_match_embeds_row_by_row():
    old_itos = ["xxunk", "xxpad", "the", "movie", "river"]
    rows = torch.arange(5 * 3, dtype=torch.float32).reshape(5, 3)
    bias = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0])
    lstm = torch.randn(8, 2)
    weights = {"0.encoder.weight": rows, "0.encoder_dp.emb.weight": rows, "1.decoder.weight": rows,
               "1.decoder.bias": bias, "0.rnns.0.weight_hh_l0_raw": lstm}
    new_itos = ["xxunk", "xxpad", "movie", "tarantino", "the"]
    matched = match_embeds(weights, old_itos, new_itos)
    embedding = matched["0.encoder.weight"]
    assert embedding.shape == (5, 3)
    assert torch.equal(embedding[2], rows[3])  # movie: its pretrained row
    assert torch.equal(embedding[4], rows[2])  # the
    assert torch.equal(embedding[0], rows[0]) and torch.equal(embedding[1], rows[1])
    assert torch.allclose(embedding[3], rows.mean(0))  # tarantino: new, the mean row
    assert matched["1.decoder.bias"].tolist() == [0.0, 1.0, 3.0, 2.0, 2.0]  # found, found, found, mean, found
    for key in ("0.encoder_dp.emb.weight", "1.decoder.weight"):  # tied: the same rows
        assert torch.equal(matched[key], embedding)
    assert matched["0.rnns.0.weight_hh_l0_raw"] is lstm  # the LSTMs know no vocab
    assert weights["0.encoder.weight"] is rows and weights["1.decoder.bias"] is bias  # not changed


def test_vocab_coverage_counts_words_and_training_tokens():
    import numpy as np

    coverage = vocab_coverage(["xxunk", "xxpad", "movie", "tarantino"], ["xxunk", "xxpad", "movie", "river"],
                              np.bincount(np.concatenate([np.array([2, 2, 3, 0]), np.array([3])]), minlength=4))
    assert coverage == dict(pretrained_vocab_found=3, pretrained_vocab_size=4, pretrained_token_share=0.6)


# ---- the preset follows the weights --------------------------------------------------------------

def test_the_preset_follows_the_pretrained_sizes(data_dir):
    write_standin(data_dir)
    assert settle_preset({"pretrained": "wt103"})["preset"] == "small"
    assert settle_preset({"pretrained": "wt103", "preset": "small"})["preset"] == "small"
    with pytest.raises(ValueError) as caught:
        settle_preset({"pretrained": "wt103", "preset": "lesson"})
    assert str(caught.value) == ("--preset lesson (emb 400, hidden 1152) disagrees with wt103's sizes "
                                 "(emb 64, hidden 128, 3 layers): give --preset small, or leave it out")


def test_the_classifier_preset_follows_its_encoder(tmp_path):
    """A classifier on a lesson-size LM run needs no --preset lesson: its sizes are the encoder's
    (a preset given that disagrees is refused before the run starts, naming both)."""
    itos = standin_itos()
    encoder = tmp_path / "lm-last.pt"
    torch.save({"model": random_lm_state(len(itos), emb_sz=400, n_hid=1152), "vocab": itos}, encoder)
    assert settle_preset({"encoder": str(encoder)})["preset"] == "lesson"
    with pytest.raises(ValueError, match=r"--preset small .* disagrees with .*lm-last.pt's sizes \(emb 400"):
        settle_preset({"encoder": str(encoder), "preset": "small"})


def test_sizes_of_no_preset_are_refused(data_dir):
    itos = standin_itos()
    write_standin(data_dir, itos=itos, state=random_lm_state(len(itos), emb_sz=8, n_hid=16))
    with pytest.raises(ValueError, match=r"wt103's sizes \(emb 8, hidden 16, 3 layers\) are no preset's"):
        settle_preset({"pretrained": "wt103"})


def test_the_cli_names_both_sizes_in_one_line(data_dir, runs_dir):
    from conftest import l4tui

    write_standin(data_dir)
    result = l4tui("train", "lm", "--pretrained", "wt103", "--preset", "lesson",
                   env={**os.environ, "L4TUI_DATA": str(data_dir)})
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "--preset lesson (emb 400, hidden 1152) disagrees with wt103's sizes" in result.stderr
    assert not runs_dir.exists() or not list(runs_dir.iterdir())


# ---- the recipe: the start event and the weights it starts from ---------------------------------

def test_prepare_lm_matches_the_pretrained_rows_and_reports_them(data_dir, tmp_path, monkeypatch):
    from l4tui.runs.fields import check_event
    from l4tui.runs.progress import pretrained_line
    from l4tui.train.text import LMConfig, prepare_lm

    itos = standin_itos()
    state = random_lm_state(len(itos), seed=3)
    write_standin(data_dir, itos=itos, state=state)
    lines = [f"the movie was good and {word} tarantino river i like it a lot ." for word in itos[9:60]] * 3
    texts = tmp_path / "texts.csv"
    texts.write_text("label,text,is_valid\n" + "".join(f"pos,{line},False\n" for line in lines))
    config = LMConfig(data=str(texts), pretrained="wt103", bs=4, bptt=8, min_freq=1)
    task = prepare_lm(config, "cpu")
    start = task.start
    vocab = task.extras["vocab"]
    assert start["pretrained"] == "wt103" and start["pretrained_vocab_size"] == len(itos)
    found = [word for word in vocab if word in itos]
    assert start["pretrained_vocab_found"] == len(found) and 0 < len(found) < len(vocab)
    assert 0.5 < start["pretrained_token_share"] < 1.0  # "tarantino" is new
    assert check_event({"type": "start", "t": 1.0, **start, "epochs": 2, "mode": "train", "stages": ["a"],
                        "processes": 1, "device": "cpu"}) is None
    assert pretrained_line({**start}).startswith(f"pretrained wt103: {len(found):,} of {len(vocab):,} words found")
    weights = task.model.state_dict()
    movie = vocab.index("movie")
    assert torch.equal(weights["0.encoder.weight"][movie], state["0.encoder.weight"][itos.index("movie")])
    assert torch.equal(weights["1.decoder.bias"][movie], state["1.decoder.bias"][itos.index("movie")])
    new = vocab.index("tarantino")
    assert torch.allclose(weights["0.encoder.weight"][new], state["0.encoder.weight"].mean(0))
    assert torch.equal(weights["0.rnns.1.weight_hh_l0_raw"], state["0.rnns.1.weight_hh_l0_raw"])
    assert [stage.name for stage in task.stages] == ["frozen", "unfrozen"]
    assert task.stages[0].freeze_to == -1 and task.stages[0].epochs == 1


# ---- the launch form ------------------------------------------------------------------------------

def test_the_launch_form_offers_wt103_once_downloaded(data_dir, tmp_path):
    from l4tui.train.launch_form import pretrained_choices, validate_form

    runs = tmp_path / "runs"
    assert pretrained_choices(runs) == [("", "none: random weights")]
    _, errors = validate_form("lm", {"pretrained": "wt103", "preset": "lesson"}, runs_dir=runs)
    assert errors["pretrained"] == "not downloaded: l4tui data get wt103"
    write_standin(data_dir)
    get_dataset("wt103")
    assert [value for value, _ in pretrained_choices(runs)] == ["wt103", ""]
    _, errors = validate_form("lm", {"pretrained": "wt103", "preset": "small"}, runs_dir=runs)
    assert errors["preset"] == "must match the pretrained model's (lesson)"  # fastai's wt103 is lesson-sized


# ---- the whole path on the bundled sample ---------------------------------------------------------

@pytest.mark.slow
def test_wt103_standin_to_fine_tuned_lm_to_classifier_to_predict(data_dir, runs_dir):
    """l4tui data get wt103 -> l4tui train lm --pretrained wt103 -> l4tui train classifier --encoder RUN
    -> l4tui predict: the lesson's whole ULMFiT path, on the bundled sample."""
    from conftest import l4tui
    from l4tui.runs.store import list_runs

    env = {**os.environ, "L4TUI_DATA": str(data_dir)}
    write_standin(data_dir)
    got = l4tui("data", "get", "wt103", env=env)
    assert got.returncode == 0, got.stderr
    lm = l4tui("train", "lm", "--pretrained", "wt103", "--preset", "small", "--epochs", "1", env=env, timeout=600)
    assert lm.returncode == 0, lm.stderr
    assert "pretrained wt103: " in lm.stdout and "of training tokens" in lm.stdout
    [run] = list_runs(runs_dir)
    assert run.state == "finished" and run.config["preset"] == "small" and run.config["pretrained"] == "wt103"
    shown = l4tui("runs", "show", run.id, env=env).stdout
    assert "transfer    pretrained wt103: " in shown
    classifier = l4tui("train", "classifier", "--encoder", run.id, "--epochs", "1", env=env, timeout=600)
    assert classifier.returncode == 0, classifier.stderr
    finished = {r.family: r for r in list_runs(runs_dir)}
    assert finished["classifier"].state == "finished"
    assert finished["classifier"].metrics.get("accuracy") is not None
    # ... and the lesson's last step: the classifier's prediction for a review, then the fine-tuned
    # language model continuing a text in the sample's words.
    said = l4tui("predict", finished["classifier"].id, "A wonderful film, the acting was great", env=env)
    assert said.returncode == 0, said.stderr
    first, *ranked = said.stdout.splitlines()
    probabilities = {line.split()[0]: float(line.split()[1]) for line in ranked}
    assert len(probabilities) == 2 and sum(probabilities.values()) == pytest.approx(1, abs=1e-3)
    assert first.split()[0] == max(probabilities, key=probabilities.get)
    continued = l4tui("predict", run.id, "the acting was", "--words", "5", "--seed", "0", env=env)
    assert continued.returncode == 0, continued.stderr
    assert continued.stdout.lower().startswith("the acting was") and len(continued.stdout.split()) >= 6


# ---- the Model pane: the pretrained model before any fine-tuning ---------------------------------

def test_the_model_pane_builds_the_pretrained_model_as_downloaded(data_dir):
    from l4tui.inspect.generate import generate
    from l4tui.inspect.subject import pretrained_subject

    itos = standin_itos()
    state = random_lm_state(len(itos), seed=5)
    write_standin(data_dir, itos=itos, state=state)
    get_dataset("wt103")
    subject = pretrained_subject("wt103")
    assert subject.name == "lm" and subject.vocab.itos == itos and "pretrained, not fine-tuned" in subject.weights
    assert torch.equal(subject.model.state_dict()["0.rnns.2.module.weight_ih_l0"], state["0.rnns.2.module.weight_ih_l0"])
    assert generate(subject.model, subject.vocab, "my favourite actor is", n_words=3, seed=0)


def test_the_run_monitor_and_runs_show_read_the_transfer_from_the_start_event():
    from l4tui.runs.progress import Progress

    progress = Progress()
    progress.update([{"type": "start", "t": 1.0, "epochs": 2, "vocab_size": 5012, "pretrained": "wt103",
                      "pretrained_vocab_found": 4210, "pretrained_vocab_size": 60000,
                      "pretrained_token_share": 0.978}])
    assert progress.pretrained == ("pretrained wt103: 4,210 of 5,012 words found (its vocab 60,000) · "
                                   "97.8% of training tokens")
    plain = Progress()
    plain.update([{"type": "start", "t": 1.0, "epochs": 2, "vocab_size": 5012}])
    assert plain.pretrained is None
