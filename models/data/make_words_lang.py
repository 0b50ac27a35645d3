#!/usr/bin/env python3
"""Builds models/data/words_lang.npz: word-language identification from Debian word lists.

Five languages whose word lists may be redistributed under a permissive license (see
models/data/README.md for each list's license and the one chosen):

  0 english     /usr/share/dict/american-english  (wamerican, SCOWL)
  1 spanish     /usr/share/dict/spanish           (wspanish, public domain)
  2 dutch       /usr/share/dict/dutch             (wdutch, OpenTaal, BSD or CC-BY 3.0)
  3 portuguese  /usr/share/dict/portuguese        (wportuguese, GPL-2+ or LGPL-2.1+ or MPL-1.1)
  4 polish      /usr/share/dict/polish            (wpolish, sjp.pl, ... or Apache-2.0 or CC-BY-4.0)

Install: apt-get install wamerican wspanish wdutch wportuguese wpolish
Run:     python3 models/data/make_words_lang.py   (numpy only; deterministic)

Each list is read as UTF-8; a word is kept when it is all lowercase letters (so proper nouns,
abbreviations, hyphenated forms and English possessives are dropped) and 2 to 16 letters long.
Words found in more than one of the five lists are dropped (they name no single language).
From each language 5,000 training and 1,000 test words are drawn with a fixed seed.

Tokens: one per character, ids 1..V in the order of ALPHABET below (0 is padding); a word is its
ids followed by zeros up to 16 steps. Arrays (int16 x, uint8 y):
  x [25000, 16], y [25000]            training words, the languages shuffled together
  x_test [5000, 16], y_test [5000]    test words
"""
import os
import random
import sys
import unicodedata

import numpy as np

LANGUAGES = [
    ("english", "/usr/share/dict/american-english"),
    ("spanish", "/usr/share/dict/spanish"),
    ("dutch", "/usr/share/dict/dutch"),
    ("portuguese", "/usr/share/dict/portuguese"),
    ("polish", "/usr/share/dict/polish"),
]
STEPS = 16
TRAIN, TEST = 5000, 1000
SEED = 17


def read_words(path):
    words = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            w = unicodedata.normalize("NFC", line.strip())
            if 2 <= len(w) <= STEPS and w.isalpha() and w == w.lower():
                words.add(w)
    return words


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "words_lang.npz")
    lists = [read_words(p) for _, p in LANGUAGES]
    seen = {}
    for ws in lists:
        for w in ws:
            seen[w] = seen.get(w, 0) + 1
    rng = random.Random(SEED)
    train, test = [], []
    for label, ws in enumerate(lists):
        unique = sorted(w for w in ws if seen[w] == 1)
        chosen = rng.sample(unique, TRAIN + TEST)
        train += [(w, label) for w in chosen[:TRAIN]]
        test += [(w, label) for w in chosen[TRAIN:]]
        print(f"{LANGUAGES[label][0]:<11} {len(ws):>9,} words kept, {len(unique):>9,} in no other list")
    rng.shuffle(train)
    rng.shuffle(test)
    alphabet = sorted({c for w, _ in train + test for c in w})
    ids = {c: i + 1 for i, c in enumerate(alphabet)}

    def encode(pairs):
        x = np.zeros((len(pairs), STEPS), dtype=np.int16)
        for n, (w, _) in enumerate(pairs):
            x[n, :len(w)] = [ids[c] for c in w]
        return x, np.array([l for _, l in pairs], dtype=np.uint8)

    x, y = encode(train)
    x_test, y_test = encode(test)
    np.savez_compressed(out, x=x, y=y, x_test=x_test, y_test=y_test)
    print(f"alphabet ({len(alphabet)} letters, ids 1..{len(alphabet)}, vocabulary {len(alphabet) + 1}): {''.join(alphabet)}")
    print(f"wrote {out}: x {x.shape}, x_test {x_test.shape}, {os.path.getsize(out):,} bytes")


if __name__ == "__main__":
    sys.exit(main())
