"""Make `adult-sample/adult.csv`: a census-like table in the layout of fastai's ADULT_SAMPLE.

Run from anywhere:  python datasets/make_adult_sample.py
The seed is fixed, so the file comes out byte for byte the same every time.

The columns are the adult census data's, with its quirks: categories written with a leading
space (" Private"), some empty cells (missing values, in workclass, occupation and
education-num), and the label `salary` as `>=50k` or `<50k`. Each person is drawn at random;
whether they earn >=50k follows a logistic model of age, education, hours, marital status,
occupation and capital gain, so a model can learn it (and can't be perfect: there is noise).
"""

import csv
from pathlib import Path

import numpy as np

SEED = 7
N_ROWS = 5000

COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
           "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week",
           "native-country", "salary"]
WORKCLASS = ["Private", "Self-emp-not-inc", "Self-emp-inc", "Federal-gov", "Local-gov", "State-gov",
             "Without-pay", "Never-worked"]
WORKCLASS_P = [0.70, 0.08, 0.04, 0.03, 0.07, 0.05, 0.02, 0.01]
EDUCATION = [("Preschool", 1), ("1st-4th", 2), ("5th-6th", 3), ("7th-8th", 4), ("9th", 5), ("10th", 6),
             ("11th", 7), ("12th", 8), ("HS-grad", 9), ("Some-college", 10), ("Assoc-voc", 11),
             ("Assoc-acdm", 12), ("Bachelors", 13), ("Masters", 14), ("Prof-school", 15), ("Doctorate", 16)]
EDUCATION_P = [0.01, 0.01, 0.02, 0.02, 0.02, 0.03, 0.04, 0.01, 0.32, 0.22, 0.04, 0.03, 0.16, 0.05, 0.01, 0.01]
MARITAL = ["Married-civ-spouse", "Never-married", "Divorced", "Separated", "Widowed", "Married-spouse-absent",
           "Married-AF-spouse"]
MARITAL_P = [0.46, 0.33, 0.13, 0.03, 0.03, 0.015, 0.005]
OCCUPATION = ["Prof-specialty", "Craft-repair", "Exec-managerial", "Adm-clerical", "Sales", "Other-service",
              "Machine-op-inspct", "Transport-moving", "Handlers-cleaners", "Farming-fishing", "Tech-support",
              "Protective-serv", "Priv-house-serv", "Armed-Forces"]
OCCUPATION_P = [0.13, 0.13, 0.13, 0.12, 0.12, 0.10, 0.06, 0.05, 0.04, 0.03, 0.03, 0.02, 0.03, 0.01]
OCCUPATION_EFFECT = {"Exec-managerial": 0.9, "Prof-specialty": 0.8, "Tech-support": 0.4, "Sales": 0.2,
                     "Protective-serv": 0.3, "Other-service": -1.0, "Priv-house-serv": -1.5,
                     "Handlers-cleaners": -0.8, "Farming-fishing": -0.6}
RACE = ["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"]
RACE_P = [0.85, 0.10, 0.03, 0.01, 0.01]
COUNTRIES = ["United-States", "Mexico", "Philippines", "Germany", "Canada", "India", "England", "Cuba"]
COUNTRIES_P = [0.90, 0.03, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02]


def choose(rng, options, p):
    return options[int(rng.choice(len(options), p=np.array(p) / sum(p)))]


def relationship(rng, marital, sex):
    if marital.startswith("Married") and marital != "Married-spouse-absent":
        return "Husband" if sex == "Male" else "Wife"
    return choose(rng, ["Not-in-family", "Own-child", "Unmarried", "Other-relative"], [0.5, 0.3, 0.15, 0.05])


def make_row(rng):
    age = int(np.clip(rng.normal(39, 13), 17, 90))
    sex = "Male" if rng.random() < 0.67 else "Female"
    education, education_num = choose(rng, EDUCATION, EDUCATION_P)
    marital = choose(rng, MARITAL, MARITAL_P) if age > 20 else "Never-married"
    occupation = choose(rng, OCCUPATION, OCCUPATION_P)
    hours = int(np.clip(rng.normal(41, 11), 1, 99))
    capital_gain = int(rng.choice([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3103, 7688, 15024]))
    capital_loss = int(rng.choice([0] * 20 + [1902, 1977]))
    score = (-10.6 + 0.5 * education_num + 0.045 * min(age, 60) + 0.03 * hours
             + (1.6 if marital == "Married-civ-spouse" else 0.0) + OCCUPATION_EFFECT.get(occupation, 0.0)
             + (2.5 if capital_gain > 5000 else 0.0) + (0.3 if sex == "Male" else 0.0) + rng.normal(0, 0.7))
    rich = rng.random() < 1 / (1 + np.exp(-score))
    row = {
        "age": age, "workclass": choose(rng, WORKCLASS, WORKCLASS_P), "fnlwgt": int(rng.integers(12_000, 1_500_000)),
        "education": education, "education-num": education_num, "marital-status": marital,
        "occupation": occupation, "relationship": relationship(rng, marital, sex),
        "race": choose(rng, RACE, RACE_P), "sex": sex, "capital-gain": capital_gain,
        "capital-loss": capital_loss, "hours-per-week": hours,
        "native-country": choose(rng, COUNTRIES, COUNTRIES_P), "salary": ">=50k" if rich else "<50k",
    }
    for column, share in (("workclass", 0.05), ("occupation", 0.05), ("education-num", 0.02)):
        if rng.random() < share:
            row[column] = ""  # missing, as empty cells in fastai's adult.csv
    for column in ("workclass", "education", "marital-status", "occupation", "relationship", "race",
                   "sex", "native-country"):
        if row[column] != "":
            row[column] = " " + row[column]  # the adult data's leading space
    return row


def main(out_dir=Path(__file__).parent / "adult-sample"):
    rng = np.random.default_rng(SEED)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "adult.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for _ in range(N_ROWS):
            writer.writerow(make_row(rng))
    print(f"wrote {N_ROWS} rows to {out_dir / 'adult.csv'}")


if __name__ == "__main__":
    main()
