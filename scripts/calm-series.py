#!/usr/bin/env python3
"""Writes calm series, with no anomaly in them, for counting the alerts they raise.

    scripts/calm-series.py DIR [DAYS]

Writes DIR/<step>/<family>-<seed>.csv (`timestamp,value`) for steps of 60 and 300 seconds,
three seeds of each family, DAYS days each (default 7), and prints the families, one a line.
Every alert on these series is a false one: scripts/quality.sh counts them per series and
week. Deterministic for a given
Python 3 (random.Random with fixed seeds). Standard library only.
"""

import datetime
import math
import os
import random
import sys

STEPS = (60, 300)
SEEDS = (1, 2, 3)
START = datetime.datetime(2026, 11, 2)


def poisson(rng, mean):
    """Knuth's method; fine for small means."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def value(family, rng, state, minutes):
    """The family's next value; `state` carries what a family keeps between points."""
    if family == "normal":
        return 100 + rng.gauss(0, 1)
    if family == "autocorrelated":
        # AR(1) with unit variance, like a rate over overlapping windows.
        state["x"] = 0.8 * state.get("x", 0.0) + rng.gauss(0, 0.6)
        return 100 + state["x"]
    if family == "heavy-tailed":
        # Student's t with 3 degrees of freedom.
        chi = sum(rng.gauss(0, 1) ** 2 for _ in range(3)) / 3
        return 100 + rng.gauss(0, 1) / math.sqrt(chi)
    if family == "low-counts":
        return poisson(rng, 5.0)
    if family == "spiky":
        # Spikes in 0.5 % of points are this series' normal.
        spike = rng.expovariate(1 / 8) if rng.random() < 0.005 else 0.0
        return 100 + rng.gauss(0, 1) + spike
    if family == "daily-wave":
        day = minutes / 1440 * 2 * math.pi
        return 200 * (1 + 0.4 * math.sin(day)) + rng.gauss(0, 5)
    raise ValueError(family)


FAMILIES = ("normal", "autocorrelated", "heavy-tailed", "low-counts", "spiky", "daily-wave")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip())
    out = sys.argv[1]
    days = int(sys.argv[2]) if len(sys.argv) == 3 else 7
    print("\n".join(FAMILIES))
    for step in STEPS:
        os.makedirs(os.path.join(out, str(step)), exist_ok=True)
        for family in FAMILIES:
            for seed in SEEDS:
                rng = random.Random(f"{family}-{seed}")
                state = {}
                path = os.path.join(out, str(step), f"{family}-{seed}.csv")
                with open(path, "w", encoding="ascii") as csv:
                    csv.write("timestamp,value\n")
                    for index in range(days * 86_400 // step):
                        minutes = index * step / 60
                        time = START + datetime.timedelta(minutes=minutes)
                        point = value(family, rng, state, minutes)
                        csv.write(f"{time:%Y-%m-%d %H:%M:%S},{point!r}\n")


if __name__ == "__main__":
    main()
