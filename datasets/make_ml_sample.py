"""Make `ml-sample/`: a small ratings dataset in MovieLens 100k's layout, from a latent-factor model.

Run from anywhere:  python datasets/make_ml_sample.py
The seed is fixed, so the files come out byte for byte the same every time.

Why latent factors: it is exactly the structure EmbeddingDotBias assumes (each user and movie is a
short vector of tastes plus a bias), so a model trained on this sample visibly learns, and beats
predicting the mean rating by a clear margin, in seconds on a CPU.
"""

from pathlib import Path

import numpy as np

SEED = 42
N_USERS, N_ITEMS, N_TASTES = 600, 900, 4
GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
          "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
          "Romance", "Sci-Fi", "Thriller", "War", "Western"]
ADJECTIVES = ["Silent", "Last", "Crimson", "Lost", "Hidden", "Broken", "Golden", "Midnight", "Wild",
              "Frozen", "Secret", "Distant", "Burning", "Quiet", "Electric", "Forgotten", "Velvet",
              "Iron", "Paper", "Endless", "Little", "Strange", "Dark", "Bright", "Rêve"]
NOUNS = ["River", "Summer", "Kingdom", "Stranger", "Harbor", "Garden", "Machine", "Empire", "Letter",
         "Mountain", "Dance", "Island", "Witness", "Highway", "Orchard", "Signal", "Café", "Detective",
         "Horizon", "Circus", "Storm", "Mirror", "Voyage", "Frontier", "Lantern", "Promise"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def make_titles(rng):
    names = [f"The {a} {n}{sequel}" for sequel in ("", " II") for a in ADJECTIVES for n in NOUNS]
    assert len(names) >= N_ITEMS, "add words: every movie needs a title of its own"
    titles = []
    for k in rng.permutation(len(names))[:N_ITEMS]:
        year = int(rng.integers(1930, 1999))
        titles.append((f"{names[k]} ({year})", year))
    return titles


def main(out_dir=Path(__file__).parent / "ml-sample"):
    rng = np.random.default_rng(SEED)
    user_tastes = rng.normal(0, 0.7, (N_USERS, N_TASTES))
    item_tastes = rng.normal(0, 0.7, (N_ITEMS, N_TASTES))
    user_bias = rng.normal(0, 0.4, N_USERS)
    item_bias = rng.normal(0, 0.5, N_ITEMS)
    popularity = rng.zipf(1.6, N_ITEMS).clip(1, 60).astype(float)
    popularity /= popularity.sum()

    rows = []
    for user in range(N_USERS):
        n_rated = int(rng.integers(20, 121))
        items = rng.choice(N_ITEMS, size=n_rated, replace=False, p=popularity)
        score = 3.4 + user_bias[user] + item_bias[items] + item_tastes[items] @ user_tastes[user]
        score += rng.normal(0, 0.5, n_rated)
        ratings = np.clip(np.rint(score), 1, 5).astype(int)
        stamps = 874_724_710 + rng.integers(0, 18_000_000, n_rated)
        # MovieLens ids start at 1.
        rows += [(user + 1, int(i) + 1, int(r), int(t)) for i, r, t in zip(items, ratings, stamps)]
    rows.sort(key=lambda row: row[3])

    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "u.data", "w", encoding="ascii", newline="\n") as f:
        f.writelines(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in rows)
    with open(out_dir / "u.item", "w", encoding="latin-1", newline="\n") as f:
        for item, (title, year) in enumerate(make_titles(rng)):
            genre = int(np.argmax(item_tastes[item])) * 4 + 1 + int(rng.integers(0, 4))
            flags = "|".join("1" if g == genre else "0" for g in range(len(GENRES)))
            date = f"01-{MONTHS[int(rng.integers(0, 12))]}-{year}"
            f.write(f"{item + 1}|{title}|{date}|||{flags}\n")
    print(f"wrote {len(rows)} ratings by {N_USERS} users of {N_ITEMS} movies to {out_dir}")


if __name__ == "__main__":
    main()
