"""Make `imdb-sample/texts.csv`: labelled movie reviews in the layout of fastai's IMDB_SAMPLE.

Run from anywhere:  python datasets/make_imdb_sample.py
The seed is fixed, so the file comes out byte for byte the same every time.

Columns, as fastai's `texts.csv`: label (negative/positive), text, is_valid (True/False).
Each review is put together from sentences we wrote, more of them leaning the review's way than
the other way (so a model can learn the label, but not from any one sentence), with the things real reviews have and the tokenizer must handle: names and
titles in capitals, contractions, HTML line breaks, ALL CAPS, repeated letters and words, numbers.
"""

import csv
from pathlib import Path

import numpy as np

SEED = 4
N_REVIEWS, VALID_SHARE = 1000, 0.2

TITLES = ["The Silent River", "Midnight Harbor", "Iron Kingdom", "Paper Empire", "The Last Summer",
          "Golden Orchard", "Crimson Signal", "The Lost Detective", "Frozen Horizon", "Electric Circus",
          "Velvet Storm", "The Hidden Garden", "Burning Highway", "Distant Island", "Wild Frontier"]
ACTORS = ["Tom Hanks", "Meryl Streep", "Denzel Washington", "Cate Blanchett", "Harrison Ford",
          "Emma Thompson", "Jack Nicholson", "Jodie Foster", "Robert Duvall", "Sigourney Weaver"]
GENRES = ["thriller", "comedy", "drama", "western", "horror movie", "romance", "war film", "musical",
          "science fiction film", "mystery"]
OPENERS = [
    "I watched {title} last night.", "I saw {title} at the cinema with my {relative}.",
    "{title} is a {genre} from {year}.", "My {relative} told me to watch {title}.",
    "I rented {title} because {actor} is in it.", "I've waited years to see {title} on DVD.",
    "{title} was on TV yesterday, so I gave it a try.",
]
POSITIVE = [
    "The acting is {good}, especially {actor}.", "It's one of the best {genre}s I've seen.",
    "The story kept me hooked from start to finish.", "{actor} gives a really {good} performance.",
    "The music is {good} and the photography is beautiful.", "I laughed, I cried, I loved it.",
    "The script is smart and the dialogue is sharp.", "What a {good} film!",
    "It's a masterpiece of the {genre}.", "The ending is perfect.", "I'd watch it again tomorrow.",
    "The characters feel real and you care about them.", "This is {actor} at their very best.",
    "Sooo good.", "The direction is confident and the pacing never drags.",
    "It deserves every award it won.", "A {good}, {good} movie.",
]
NEGATIVE = [
    "The acting is {bad}, even {actor} can't save it.", "It's one of the worst {genre}s I've seen.",
    "The story makes no sense at all.", "{actor} gives a really {bad} performance.",
    "The music is annoying and the photography is ugly.", "I was bored after ten minutes.",
    "The script is lazy and the dialogue is painful.", "What a {bad} film!",
    "It's a waste of time and money.", "The ending is ridiculous.", "I want those two hours back.",
    "The characters are flat and I didn't care about any of them.", "Don't bother with this one.",
    "It was sooooo slow.", "The direction is clumsy and the pacing drags.",
    "I can't believe this got made.", "A {bad}, {bad} movie.",
]
NEUTRAL = [
    "It runs about {minutes} minutes.", "The film was shot in {year}.", "It's based on a novel.",
    "The soundtrack is by a famous composer.", "It was remade a few years later.",
    "The plot follows a {job} in a small town.", "There's a long scene on a train.",
]
GOOD = ["great", "wonderful", "brilliant", "superb", "excellent", "moving", "fantastic", "terrific"]
BAD = ["awful", "terrible", "boring", "dreadful", "horrible", "dull", "poor", "laughable"]
RELATIVES = ["brother", "sister", "wife", "husband", "father", "mother", "friend"]
JOBS = ["teacher", "doctor", "detective", "farmer", "pilot", "writer"]
CLOSERS_POSITIVE = ["{score}/10.", "Highly recommended!", "Go see it.", "LOVED IT!", "10/10, no doubt."]
CLOSERS_NEGATIVE = ["{score}/10.", "Avoid it.", "Skip it.", "AWFUL!", "Not recommended, not at all."]


def fill(rng, template):
    pick = lambda options: options[int(rng.integers(len(options)))]  # noqa: E731
    return template.format(
        title=pick(TITLES), actor=pick(ACTORS), genre=pick(GENRES), year=int(rng.integers(1950, 2011)),
        relative=pick(RELATIVES), good=pick(GOOD), bad=pick(BAD), minutes=int(rng.integers(85, 181)),
        job=pick(JOBS), score=0,
    )


def make_review(rng, positive):
    own, other = (POSITIVE, NEGATIVE) if positive else (NEGATIVE, POSITIVE)
    sentences = [fill(rng, OPENERS[int(rng.integers(len(OPENERS)))])]
    for _ in range(int(rng.integers(3, 9))):
        roll = rng.random()
        pool = own if roll < 0.55 else other if roll < 0.8 else NEUTRAL
        sentences.append(fill(rng, pool[int(rng.integers(len(pool)))]))
    if rng.random() < 0.4:  # a verdict at the end, sometimes with a score that could go either way
        closers = CLOSERS_POSITIVE if positive else CLOSERS_NEGATIVE
        score = int(rng.integers(6, 11)) if positive else int(rng.integers(1, 7))
        sentences.append(closers[int(rng.integers(len(closers)))].replace("{score}", str(score)))
    text = " ".join(sentences)
    if rng.random() < 0.3:  # IMDB reviews are full of HTML line breaks
        cut = text.find(". ", len(text) // 2)
        if cut > 0:
            text = text[:cut + 1] + "<br /><br />" + text[cut + 2:]
    if rng.random() < 0.05:
        text = text.replace(" very ", " very very very very ")
    return text


def main(out_dir=Path(__file__).parent / "imdb-sample"):
    rng = np.random.default_rng(SEED)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "texts.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["label", "text", "is_valid"])
        for i in range(N_REVIEWS):
            positive = bool(rng.random() < 0.5)
            writer.writerow(["positive" if positive else "negative", make_review(rng, positive),
                             i >= N_REVIEWS * (1 - VALID_SHARE)])
    print(f"wrote {N_REVIEWS} reviews to {out_dir / 'texts.csv'}")


if __name__ == "__main__":
    main()
