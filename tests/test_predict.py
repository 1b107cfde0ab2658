"""`l4tui predict` and its core (l4tui/inspect/predict.py) on runs made from the recipes' own
prepare (tests/made_runs.py): a review, a row, a user and movie, a text to continue; --csv."""

import csv
import io

import pytest
import torch

from conftest import REPO, l4tui
from made_runs import make_run
from l4tui.inspect.predict import load_predictor, parse_row, predict, read_inputs_csv
from l4tui.inspect.subject import InputError, encode_input


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict") / "runs"
    for family in ("classifier", "tabular", "collab", "lm"):
        make_run(folder, family, name=f"20261206-000000-{family}-test", steps=3)
    return folder


def subject_of(runs, family):
    return load_predictor(f"20261206-000000-{family}-test", runs)


def test_a_review_gets_the_label_and_each_class_probability(runs):
    subject = subject_of(runs, "classifier")
    prediction = predict(subject, "A wonderful film, the acting was great")
    assert set(prediction.probabilities) == set(subject.classes)
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0)
    assert prediction.label == max(prediction.probabilities, key=prediction.probabilities.get)
    with torch.no_grad():
        subject.model.reset()
        logits = subject.model(*encode_input(subject, "A wonderful film, the acting was great"))
    expected = torch.softmax(logits[0], -1).tolist()
    assert [prediction.probabilities[c] for c in subject.classes] == pytest.approx(expected, abs=1e-6)
    assert prediction.lines()[0].startswith(prediction.label)
    with pytest.raises(InputError, match="type a sentence"):
        predict(subject, "   ")


def test_a_row_with_a_category_never_seen_is_read_as_na_with_a_note(runs):
    subject = subject_of(runs, "tabular")
    row = parse_row("age=49, workclass=Astronaut,education=Masters", subject)
    assert row == {"age": "49", "workclass": "Astronaut", "education": "Masters"}
    prediction = predict(subject, row)
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0)
    assert any("workclass=Astronaut" in note and "#na#" in note for note in prediction.notes)
    assert any("filled as in training" in note and "occupation" in note for note in prediction.notes)
    # #na# is what the model sees: the same as leaving the column out
    same = predict(subject, "age=49,education=Masters")
    assert same.probabilities == pytest.approx(prediction.probabilities)
    with pytest.raises(InputError, match="no column 'colour'.*its columns are workclass"):
        predict(subject, "age=49,colour=red")
    with pytest.raises(InputError, match="age is a continuous column"):
        predict(subject, "age=old")


def test_a_user_and_a_movie_by_id_or_by_title_in_any_case(runs):
    from l4tui.inspect.collab_interpret import explain_prediction, rows_for

    subject = subject_of(runs, "collab")
    user, item = subject.users[3], subject.items[5]
    title = subject.titles[item]
    by_id = predict(subject, f"{user},{item}")
    by_title = predict(subject, f"{user}, {title.upper()}")
    assert by_id.rating == by_title.rating
    terms = explain_prediction(subject.model, *rows_for(user, item, subject.users, subject.items))
    assert by_id.rating == pytest.approx(terms["prediction"])
    assert 0.0 <= by_id.rating <= 5.5
    assert title in by_id.lines()[0]
    ambiguous = title.split()[0]  # "The": many titles start with it
    with pytest.raises(InputError, match=r"movies match 'The'.*Give the full title"):
        predict(subject, f"{user},{ambiguous}")
    with pytest.raises(InputError, match="cold-start"):
        predict(subject, "99999999,1")
    with pytest.raises(InputError, match="separated by a comma"):
        predict(subject, str(user))


def test_a_language_model_continues_the_text(runs):
    subject = subject_of(runs, "lm")
    first = predict(subject, "I liked this movie because", n_words=6, seed=3)
    again = predict(subject, "I liked this movie because", n_words=6, seed=3)
    assert first.text == again.text and first.text.startswith("I liked this movie because")
    assert first.continuation and first.text.endswith(first.continuation)


def test_a_run_is_read_from_its_best_checkpoint_else_last(runs, tmp_path):
    from l4tui.inspect.predict import resolve_weights

    run = runs / "20261206-000000-collab-test"
    assert resolve_weights("20261206-000000-collab", runs) == run / "checkpoints" / "best.pt"
    with pytest.raises(ValueError, match="no run 'nosuch'"):
        resolve_weights("nosuch", runs)
    assert resolve_weights(str(run / "checkpoints" / "last.pt"), runs).name == "last.pt"


def test_predict_command_one_input_and_a_csv_in_and_out(runs, tmp_path):
    result = l4tui("--runs", str(runs), "predict", "20261206-000000-tabular-test", "age=30,workclass=Astronaut")
    assert result.returncode == 0, result.stderr
    assert "#na#" in result.stderr and "workclass=Astronaut" in result.stderr
    label, probability = result.stdout.splitlines()[0].split(" (")
    assert label in ("<50k", ">=50k")

    subject = subject_of(runs, "tabular")
    path = tmp_path / "rows.csv"
    path.write_text("age,workclass,salary\n49,Private,>=50k\n25,,<50k\nold,Private,<50k\n")
    assert read_inputs_csv(path, subject)[0] == {"age": "49", "workclass": "Private"}
    result = l4tui("--runs", str(runs), "predict", "20261206-000000-tabular-test", "--csv", str(path))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 3
    assert float(rows[0]["p_<50k"]) + float(rows[0]["p_>=50k"]) == pytest.approx(1.0, abs=1e-5)
    expected = predict(subject, {"age": "49", "workclass": "Private"})
    assert rows[0]["prediction"] == expected.label
    assert float(rows[0]["p_>=50k"]) == pytest.approx(expected.probabilities[">=50k"], abs=1e-5)
    assert rows[2]["prediction"] == "" and "not a number" in rows[2]["error"]
    assert "1 of 3 inputs could not be predicted" in result.stderr

    # the data file's own rows: the columns the model does not read are left out, with a note
    notes = []
    adult = REPO / "datasets" / "adult-sample" / "adult.csv"
    assert read_inputs_csv(adult, subject, notes)[0]["workclass"].strip() == "Private"
    assert "sex" in notes[0] and "salary" not in notes[0]
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("colour,size\nred,4\n")
    result = l4tui("--runs", str(runs), "predict", "20261206-000000-tabular-test", "--csv", str(wrong))
    assert result.returncode == 2 and "none of this run's columns" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_csv_of_reviews_and_of_pairs(runs, tmp_path):
    reviews = tmp_path / "reviews.csv"
    reviews.write_text('text\n"Great, great film"\nAwful\n')
    assert read_inputs_csv(reviews, subject_of(runs, "classifier")) == ["Great, great film", "Awful"]
    collab = subject_of(runs, "collab")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"user,title\n{collab.users[0]},{collab.titles[collab.items[0]]}\n")
    assert read_inputs_csv(pairs, collab) == [f"{collab.users[0]},{collab.titles[collab.items[0]]}"]
    with pytest.raises(ValueError, match="needs a `user` column"):
        read_inputs_csv(reviews, collab)
    result = l4tui("--runs", str(runs), "predict", "20261206-000000-classifier-test", "--csv", str(reviews))
    assert result.returncode == 0, result.stderr
    header, *lines = list(csv.reader(io.StringIO(result.stdout)))
    assert header[:2] == ["text", "prediction"] and header[2].startswith("p_") and len(lines) == 2
    assert lines[0][0] == "Great, great film"
