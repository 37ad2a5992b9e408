#!/usr/bin/env python3
"""Leave-one-category-out cross-validation of the anomaly check on NAB-format data.

    scripts/quality-cv.py NAB_DIR SCORER BINARY [--calm DIR] [--jitter SEEDS]

Every tunable setting of the decision is in the declared GRID: the check's threshold and the
seven settings of `score-csv --set` (docs/alerts.md). The candidates are the defaults and each
setting moved alone to each of its declared values (the others at their defaults). For each
category the candidate is chosen on the other categories' files and the category is scored
with it; the headline scores all files together, each with the candidate chosen without its
category. Two ways, as `make quality`:

- shipped: `score-csv`'s `alert` column at threshold 1, the candidate with the best standard
  score on the other categories (on a tie, the defaults);
- optimised: `anomaly_score`, the candidate and NAB's standard-profile threshold chosen together
  on the other categories, then applied unchanged to the held-out category.

With `--calm DIR` (scripts/calm-series.py's output) only candidates whose false alerts on the
calm series evaluated every minute (DIR/60) stay within CALM_LIMIT per series-week are
eligible: the constraint the defaults are held to, so what is chosen could be shipped.

With `--jitter SEEDS` the shipped cross-validation is repeated on SEEDS copies of the data with
a little deterministic noise added (a tenth of each file's typical step), and the spread of
the headline across them is printed: a setting whose gain is smaller than that spread, or than
the spread of the score across categories, is noise.

BINARY is `anomaly-check`; SCORER is NAB's scorer (nab_score.py's command line). Standard
library only.
"""

import argparse
import concurrent.futures
import json
import os
import pathlib
import random
import shutil
import statistics
import subprocess
import sys
import tempfile

DEFAULTS = {
    "threshold": "0.6",
    "rarity": "0.0015",
    "floor": "0.8",
    "week_factor": "1.4",
    "memory_half_life": "10080",
    "min_evaluations": "250",
    "sustained_points": "6",
    "daily_share": "0.05",
}
# The declared grid: the values each setting is tried at, the others at their defaults.
GRID = {
    "threshold": ["0.5", "0.55", "0.6", "0.65", "0.7"],
    "rarity": ["0.0007", "0.001", "0.0015", "0.002", "0.003"],
    "floor": ["0.6", "0.7", "0.8", "0.9"],
    "week_factor": ["1", "1.2", "1.4", "1.7", "2"],
    "memory_half_life": ["2016", "10080", "40320"],
    "min_evaluations": ["100", "250", "500"],
    "sustained_points": ["3", "6", "12"],
    "daily_share": ["0.02", "0.05", "0.1"],
}
# False alerts per series-week allowed on calm series evaluated every minute.
CALM_LIMIT = 1.5
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
DEFAULT = "defaults"


def candidates():
    """Name → score-csv flags: the defaults, and each setting alone at each other value."""
    found = {DEFAULT: []}
    for name, values in GRID.items():
        for value in values:
            if value == DEFAULTS[name]:
                continue
            flag = ["--threshold", value] if name == "threshold" else ["--set", f"{name}={value}"]
            found[f"{name}={value}"] = flag
    return found


def run_detector(binary, flags, source, alert_out, score_out):
    with open(source, "rb") as stdin:
        output = subprocess.run(
            [binary, "score-csv", *flags], stdin=stdin, capture_output=True, check=True
        ).stdout.decode()
    lines = output.splitlines()
    header = lines[0].split(",")
    time_at, value_at = header.index("timestamp"), header.index("value")
    score_at, alert_at = header.index("anomaly_score"), header.index("alert")
    with open(alert_out, "w") as alerts, open(score_out, "w") as scores:
        alerts.write("timestamp,value,anomaly_score\n")
        scores.write("timestamp,value,anomaly_score\n")
        for line in lines[1:]:
            cells = line.split(",")
            row = f"{cells[time_at]},{cells[value_at]}"
            alerts.write(f"{row},{cells[alert_at]}\n")
            scores.write(f"{row},{cells[score_at]}\n")


def score(scorer, data, results, files, work, threshold=None, per_category=False,
          per_file=False):
    listing = pathlib.Path(tempfile.mkstemp(dir=work, suffix=".txt")[1])
    listing.write_text("\n".join(files) + "\n")
    command = [
        sys.executable, scorer, "--data", f"{data}/data", "--labels", f"{data}/labels.json",
        "--results", results, "--files", str(listing), "--json",
    ]
    if threshold is not None:
        command += ["--threshold", str(threshold)]
    if per_category:
        command.append("--per-category")
    if per_file:
        command.append("--per-file")
    report = json.loads(subprocess.run(command, capture_output=True, check=True,
                                       text=True).stdout)
    listing.unlink()
    return report


def jitter(source, target, seed):
    """A copy of `source` with deterministic noise: a tenth of each file's median step."""
    for path in sorted(pathlib.Path(source, "data").glob("*/*.csv")):
        rows = path.read_text().splitlines()
        values = [float(row.split(",")[1]) for row in rows[1:]]
        steps = sorted(abs(b - a) for a, b in zip(values, values[1:]))
        sigma = 0.1 * 1.4826 * steps[len(steps) // 2] if steps else 0.0
        rng = random.Random(f"{seed}/{path.parent.name}/{path.name}")
        out = pathlib.Path(target, "data", path.parent.name, path.name)
        out.parent.mkdir(parents=True, exist_ok=True)
        lines = ["timestamp,value"]
        for row, value in zip(rows[1:], values):
            lines.append(f"{row.split(',')[0]},{value + rng.gauss(0, sigma):.6g}")
        out.write_text("\n".join(lines) + "\n")
    shutil.copy(pathlib.Path(source, "labels.json"), pathlib.Path(target, "labels.json"))


def produce(binary, data, files, work, names):
    jobs = []
    for name in names:
        flags = candidates()[name]
        for f in files:
            for way in ("alert", "score"):
                os.makedirs(f"{work}/{name}/{way}/{f.split('/')[0]}", exist_ok=True)
            jobs.append((flags, f"{data}/data/{f}", f"{work}/{name}/alert/{f}",
                         f"{work}/{name}/score/{f}"))
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for done in [pool.submit(run_detector, binary, *job) for job in jobs]:
            done.result()


def calm_alerts(binary, calm, names):
    """Candidate → false alerts per series-week on the calm series a minute apart."""
    series = sorted(pathlib.Path(calm, "60").glob("*.csv"))

    def alerts(flags, path):
        with open(path, "rb") as stdin:
            output = subprocess.run([binary, "score-csv", *flags], stdin=stdin,
                                    capture_output=True, check=True).stdout.decode()
        return sum(1 for line in output.splitlines()[1:] if line.endswith(",1"))

    found = {}
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for name in names:
            flags = candidates()[name]
            counts = pool.map(lambda path, flags=flags: alerts(flags, path), series)
            found[name] = sum(counts) / len(series)
    return found


def choose_shipped(per_file, files, categories):
    """Category → candidate with the best standard raw score on the other categories."""
    chosen = {}
    for held_out in categories:
        others = [f for f in files if not f.startswith(held_out + "/")]
        totals = {name: sum(rows[f]["standard"]["raw"] for f in others)
                  for name, rows in per_file.items()}
        top = max(totals.values())
        chosen[held_out] = DEFAULT if totals[DEFAULT] >= top - 1e-9 else next(
            name for name, total in totals.items() if total >= top - 1e-9)
    return chosen


def assemble(work, files, chosen, way, target):
    for f in files:
        category = f.split("/")[0]
        os.makedirs(f"{target}/{category}", exist_ok=True)
        shutil.copy(f"{work}/{chosen[category]}/{way}/{f}", f"{target}/{f}")


def shipped_cv(scorer, binary, data, work, names, eligible):
    labels = json.loads(pathlib.Path(f"{data}/labels.json").read_text())
    files = sorted(labels)
    categories = sorted({f.split("/")[0] for f in files})
    produce(binary, data, files, work, names)
    per_file = {}
    for name in names:
        report = score(scorer, data, f"{work}/{name}/alert", files, work, threshold=1,
                       per_file=True)
        per_file[name] = {row["file"]: row for row in report["per_file"]}
    chosen = choose_shipped({name: per_file[name] for name in eligible}, files, categories)
    assemble(work, files, chosen, "alert", f"{work}/cv-shipped")
    report = score(scorer, data, f"{work}/cv-shipped", files, work, threshold=1,
                   per_category=True)
    report["per_candidate"] = {name: sum(rows[f]["standard"]["raw"] for f in files)
                               for name, rows in per_file.items()}
    return files, categories, names, chosen, report


def cells(report):
    return " | ".join(f"{report['profiles'][p]['normalized']:.2f}" for p in PROFILES)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("nab")
    parser.add_argument("scorer")
    parser.add_argument("binary")
    parser.add_argument("--calm", metavar="DIR")
    parser.add_argument("--jitter", type=int, default=0, metavar="SEEDS")
    args = parser.parse_args(argv[1:])
    work = tempfile.mkdtemp(prefix="vigil-cv-")
    try:
        calm = calm_alerts(args.binary, args.calm, candidates()) if args.calm else {}
        eligible = [name for name in candidates() if calm.get(name, 0.0) <= CALM_LIMIT]
        if DEFAULT not in eligible:
            print(f"the defaults raise {calm[DEFAULT]:.2f} false alerts per calm series-week "
                  f"at one minute, over the limit of {CALM_LIMIT}", file=sys.stderr)
            return 1
        files, categories, names, chosen_shipped, shipped = shipped_cv(
            args.scorer, args.binary, args.nab, f"{work}/dev", list(candidates()), eligible)

        chosen_optimised = {}
        for held_out in categories:
            others = [f for f in files if not f.startswith(held_out + "/")]
            best = None
            for name in eligible:
                report = score(args.scorer, args.nab, f"{work}/dev/{name}/score", others, work)
                standard = report["profiles"]["standard"]
                key = (round(standard["normalized"], 9), name == DEFAULT)
                if best is None or key > best[0]:
                    best = (key, name, standard["threshold"])
            chosen_optimised[held_out] = best[1:]
        for f in files:
            category = f.split("/")[0]
            os.makedirs(f"{work}/cv-optimised/{category}", exist_ok=True)
            name, threshold = chosen_optimised[category]
            with open(f"{work}/dev/{name}/score/{f}") as source, \
                    open(f"{work}/cv-optimised/{f}", "w") as target:
                target.write(next(source))
                for line in source:
                    time, value, value_score = line.rstrip("\n").split(",")
                    detected = 1 if float(value_score) >= threshold else 0
                    target.write(f"{time},{value},{detected}\n")
        optimised = score(args.scorer, args.nab, f"{work}/cv-optimised", files, work,
                          threshold=1)
        in_sample = score(args.scorer, args.nab, f"{work}/dev/{DEFAULT}/alert", files, work,
                          threshold=1)

        print("defaults: " + ", ".join(f"{k}={v}" for k, v in DEFAULTS.items()))
        print(f"grid: each setting alone at its declared values, {len(candidates())} candidates:")
        for name, values in GRID.items():
            print(f"  {name}: {', '.join(values)}")
        if calm:
            excluded = [f"{name} ({calm[name]:.2f})" for name in candidates()
                        if name not in eligible]
            print(f"calm series at one minute: the defaults raise {calm[DEFAULT]:.2f} false "
                  f"alerts per series-week; over the limit of {CALM_LIMIT}, not eligible: "
                  f"{', '.join(excluded) or 'none'}")
        print()
        print("| held-out category | shipped: chosen on the others | optimised: chosen on the others |")
        print("|---|---|---|")
        for category in categories:
            name, threshold = chosen_optimised[category]
            print(f"| {category} | {chosen_shipped[category]} | {name}, score ≥ {threshold:.4f} |")
        print()
        print("| decision | standard | low FP | low FN | windows | false rows |")
        print("|---|---:|---:|---:|---:|---:|")
        for way, report in (("shipped, cross-validated", shipped),
                            ("optimised, cross-validated", optimised),
                            ("shipped, defaults (in-sample)", in_sample)):
            standard = report["profiles"]["standard"]
            print(f"| {way} | {cells(report)} | {standard['windows_hit']}/{report['windows']} "
                  f"| {standard['fp_rows']} |")
        print()
        print("| category, shipped cross-validated | windows | false rows | standard | low FP | low FN |")
        print("|---|---:|---:|---:|---:|---:|")
        spread = []
        for row in shipped["per_category"]:
            scored = []
            for p in PROFILES:
                cell = row[p]
                scored.append(f"{cell['normalized']:.2f}" if cell["normalized"] is not None
                              else f"raw {cell['raw']:.2f}")
            if row["standard"]["normalized"] is not None:
                spread.append(row["standard"]["normalized"])
            print(f"| {row['category']} | {row['standard']['windows_hit']}/{row['windows']} "
                  f"| {row['standard']['fp_rows']} | {' | '.join(scored)} |")
        print()
        # How far the in-sample score moves when one setting moves: a decision whose score
        # falls off a cliff one grid step away from its defaults is tuned to this data.
        standard = shipped["profiles"]["standard"]
        base = shipped["per_candidate"][DEFAULT]
        scale = 100 / (standard["perfect"] - standard["null"])
        print("| candidate (in-sample, all categories) | standard | change | calm false alerts / series-week |")
        print("|---|---:|---:|---:|")
        for name in candidates():
            if name not in shipped["per_candidate"]:
                continue
            raw = shipped["per_candidate"][name]
            normalized = (raw - standard["null"]) * scale
            print(f"| {name} | {normalized:.2f} | {(raw - base) * scale:+.2f} "
                  f"| {calm[name]:.2f} |" if calm else
                  f"| {name} | {normalized:.2f} | {(raw - base) * scale:+.2f} | |")
        print()
        print(f"spread of the shipped standard score across categories: "
              f"{statistics.stdev(spread):.2f} (standard deviation)")
        if args.jitter:
            headlines = []
            for seed in range(1, args.jitter + 1):
                copy = f"{work}/jitter-{seed}"
                jitter(args.nab, copy, seed)
                report = shipped_cv(args.scorer, args.binary, copy, f"{work}/jittered-{seed}",
                                    eligible, eligible)[-1]
                headlines.append(report["profiles"]["standard"]["normalized"])
                shutil.rmtree(f"{work}/jittered-{seed}", ignore_errors=True)
            print(f"shipped cross-validated standard on {args.jitter} jittered copies: "
                  f"{', '.join(f'{h:.2f}' for h in headlines)}; spread "
                  f"{statistics.stdev(headlines) if len(headlines) > 1 else 0.0:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
