#!/usr/bin/env python3
"""Leave-one-category-out cross-validation of the anomaly check on NAB-format data.

    scripts/quality-cv.py NAB_DIR SCORER BINARY

For each category, every setting of the declared GRID is chosen on the other categories'
files and the category is scored with the setting chosen without it; the headline scores all
files together, each with the setting chosen without its category. Two ways, as `make quality`:

- shipped: `score-csv`'s `alert` column at threshold 1, the setting chosen by the standard
  score of the other categories;
- optimised: `anomaly_score`, the setting and NAB's standard-profile threshold chosen together
  on the other categories, then applied unchanged to the held-out category (each file's rows
  at or above its category's threshold count as detections).

BINARY is `anomaly-check`; SCORER is NAB's scorer (nab_score.py's command line). Standard
library only. Prints the chosen settings, the headline for the three profiles both ways, and
the shipped way per category.
"""

import concurrent.futures
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

# The declared grid: the check's score threshold (`score-csv --threshold`), of which the
# default, 0.6, is the `medium` sensitivity. A setting is a list of score-csv flags.
GRID = {f"threshold={t}": ["--threshold", str(t)] for t in ("0.5", "0.55", "0.6", "0.65", "0.7")}
DEFAULT = "threshold=0.6"
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


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


def score(scorer, nab, results, files, work, threshold=None, per_category=False):
    listing = pathlib.Path(work) / "files.txt"
    listing.write_text("\n".join(files) + "\n")
    command = [
        sys.executable, scorer, "--data", f"{nab}/data", "--labels", f"{nab}/labels.json",
        "--results", results, "--files", str(listing), "--json",
    ]
    if threshold is not None:
        command += ["--threshold", str(threshold)]
    if per_category:
        command.append("--per-category")
    return json.loads(subprocess.run(command, capture_output=True, check=True, text=True).stdout)


def best(candidates):
    """The candidate with the highest standard score; on a tie the default setting."""
    top = max(c[0] for c in candidates)
    tied = [c for c in candidates if c[0] == top]
    return next((c for c in tied if c[1] == DEFAULT), tied[0])


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    nab, scorer, binary = argv[1:]
    labels = json.loads(pathlib.Path(f"{nab}/labels.json").read_text())
    files = sorted(labels)
    categories = sorted({f.split("/")[0] for f in files})
    work = tempfile.mkdtemp(prefix="vigil-cv-")
    try:
        jobs = []
        for name, flags in GRID.items():
            for f in files:
                for way in ("alert", "score"):
                    os.makedirs(f"{work}/{name}/{way}/{f.split('/')[0]}", exist_ok=True)
                jobs.append((flags, f"{nab}/data/{f}", f"{work}/{name}/alert/{f}",
                             f"{work}/{name}/score/{f}"))
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            for done in [pool.submit(run_detector, binary, *job) for job in jobs]:
                done.result()

        chosen_shipped, chosen_optimised = {}, {}
        for held_out in categories:
            others = [f for f in files if not f.startswith(held_out + "/")]
            shipped, optimised = [], []
            for name in GRID:
                report = score(scorer, nab, f"{work}/{name}/alert", others, work, threshold=1)
                shipped.append((report["profiles"]["standard"]["normalized"], name))
                report = score(scorer, nab, f"{work}/{name}/score", others, work)
                standard = report["profiles"]["standard"]
                optimised.append((standard["normalized"], name, standard["threshold"]))
            chosen_shipped[held_out] = best(shipped)[1]
            chosen_optimised[held_out] = best(optimised)[1:]

        # Every file scored with what was chosen without its category.
        for f in files:
            category = f.split("/")[0]
            os.makedirs(f"{work}/cv-shipped/{category}", exist_ok=True)
            os.makedirs(f"{work}/cv-optimised/{category}", exist_ok=True)
            shutil.copy(f"{work}/{chosen_shipped[category]}/alert/{f}", f"{work}/cv-shipped/{f}")
            name, threshold = chosen_optimised[category]
            with open(f"{work}/{name}/score/{f}") as source, \
                    open(f"{work}/cv-optimised/{f}", "w") as target:
                target.write(next(source))
                for line in source:
                    time, value, value_score = line.rstrip("\n").split(",")
                    detected = 1 if float(value_score) >= threshold else 0
                    target.write(f"{time},{value},{detected}\n")
        shipped = score(scorer, nab, f"{work}/cv-shipped", files, work, threshold=1,
                        per_category=True)
        optimised = score(scorer, nab, f"{work}/cv-optimised", files, work, threshold=1)

        print(f"grid: {', '.join(GRID)} (default {DEFAULT})")
        print("| held-out category | shipped: chosen on the others | optimised: chosen on the others |")
        print("|---|---|---|")
        for category in categories:
            name, threshold = chosen_optimised[category]
            print(f"| {category} | {chosen_shipped[category]} | {name}, score ≥ {threshold:.4f} |")
        print()
        print("| cross-validated | standard | low FP | low FN | windows | false rows |")
        print("|---|---:|---:|---:|---:|---:|")
        for way, report in (("shipped", shipped), ("optimised", optimised)):
            cells = " | ".join(f"{report['profiles'][p]['normalized']:.2f}" for p in PROFILES)
            standard = report["profiles"]["standard"]
            print(f"| {way} | {cells} | {standard['windows_hit']}/{report['windows']} "
                  f"| {standard['fp_rows']} |")
        print()
        print("| category, shipped cross-validated | windows | false rows | standard | low FP | low FN |")
        print("|---|---:|---:|---:|---:|---:|")
        for row in shipped["per_category"]:
            cells = []
            for p in PROFILES:
                cell = row[p]
                cells.append(f"{cell['normalized']:.2f}" if cell["normalized"] is not None
                             else f"raw {cell['raw']:.2f}")
            print(f"| {row['category']} | {row['standard']['windows_hit']}/{row['windows']} "
                  f"| {row['standard']['fp_rows']} | {' | '.join(cells)} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
