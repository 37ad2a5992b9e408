#!/usr/bin/env python3
"""Writes a jittered copy of NAB-format data, to tell a change's gain from noise.

    scripts/jitter-nab.py NAB_DIR OUT_DIR SEED

Copies NAB_DIR/labels.json and every NAB_DIR/data/<category>/<file>.csv to OUT_DIR with each
value multiplied by (1 + 0.001 · N(0, 1)), timestamps unchanged: score the copies with
`make quality NAB=OUT_DIR NAB_SCORER=../shared/bench/nab_score.py` to see how far a setting's
score moves on data that differs only by noise. Deterministic for a given Python 3 (one random.Random per file, seeded with SEED and the file's path). Standard
library only.
"""

import csv
import os
import random
import shutil
import sys

SCALE = 0.001


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: scripts/jitter-nab.py NAB_DIR OUT_DIR SEED")
    source, target, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if os.path.realpath(source) == os.path.realpath(target):
        sys.exit("jitter-nab: OUT_DIR must not be NAB_DIR")
    for root, _, files in os.walk(os.path.join(source, "data")):
        for name in (f for f in files if f.endswith(".csv")):
            relative = os.path.relpath(os.path.join(root, name), source)
            rng = random.Random(f"{seed}:{relative}")
            out = os.path.join(target, relative)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(os.path.join(root, name), newline="") as src, open(
                out, "w", newline=""
            ) as dst:
                rows = csv.reader(src)
                writer = csv.writer(dst)
                writer.writerow(next(rows))
                for timestamp, value in rows:
                    jittered = float(value) * (1 + SCALE * rng.gauss(0, 1))
                    writer.writerow([timestamp, repr(jittered)])
    shutil.copy(os.path.join(source, "labels.json"), os.path.join(target, "labels.json"))


if __name__ == "__main__":
    main()
