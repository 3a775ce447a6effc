#!/usr/bin/env python3
"""Evaluate orb1 on the benchmark corpus (see scripts/orb_eval.sh, which runs this).

  orb_eval.py manifest CORPUS OUT   which photo each corpus file shows, and how it was edited
  orb_eval.py summarize OUT         recall, wrong matches, inlier gap, timings, scan figures

The corpus generator (../shared/bench/make_corpus.py, or $MAKE_CORPUS) is imported read-only
for its photo lists, and its per-file random choices are replayed up to the ones that matter
here (crop, mirror), so nothing is guessed from file names except the index they end in.
"""
import importlib.util
import json
import os
import random
import re
import statistics
import sys

from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_CORPUS = os.environ.get(
    "MAKE_CORPUS", os.path.join(HERE, "..", "..", "shared", "bench", "make_corpus.py"))


def generator():
    spec = importlib.util.spec_from_file_location("make_corpus", MAKE_CORPUS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sources(mc):
    """(source path, variants per photo) in the order make_corpus.main numbers them."""
    out = [(p, 36) for p in mc.PHOTOS]
    out += [(os.path.join(mc.skimage_dir(), n), 6) for n in mc.SKIMAGE_PHOTOS]
    return out


def replay(mc, idx, size):
    """make_variant's random choices for file `idx` up to the mirror: (cropped, mirrored)."""
    rng = random.Random(f"corpus-v1-{idx}")
    rng.randrange(mc.N_DIRS)
    rng.choice(["", "", "", "photos", "photos", "files", "media/2023", "media/2024"])
    rng.randrange(5), rng.randrange(12), rng.randrange(28)
    w, h = size
    cropped = rng.random() < 0.45
    if cropped:
        cw, ch = int(w * rng.uniform(0.6, 0.95)), int(h * rng.uniform(0.6, 0.95))
        rng.randrange(w - cw + 1), rng.randrange(h - ch + 1)
    return cropped, rng.random() < 0.05


def manifest(corpus, out):
    mc = generator()
    tasks = []  # idx -> (photo, k)
    for photo, (src, n) in enumerate(sources(mc)):
        size = ImageOps.exif_transpose(Image.open(src)).size
        tasks += [(photo, k, size) for k in range(n)]
    by_idx = {}
    for root, _, files in os.walk(corpus):
        for f in files:
            m = re.search(r"_(\d{5})\.[A-Za-z]+$", f)
            if m:
                by_idx[int(m.group(1))] = os.path.join(root, f)
    assert len(by_idx) == len(tasks), (len(by_idx), len(tasks))
    rows = []
    for idx, (photo, k, size) in enumerate(tasks):
        cropped, mirrored = replay(mc, idx, size) if k else (False, False)
        rows.append((by_idx[idx], idx, photo, k, int(cropped), int(mirrored)))
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "variants.tsv"), "w") as fh:
        fh.write("path\tidx\tphoto\tk\tcropped\tmirrored\n")
        fh.writelines("\t".join(map(str, r)) + "\n" for r in rows)
    listed = sorted((r for r in rows if r[3] == 0), key=lambda r: r[2])
    with open(os.path.join(out, "listed.txt"), "w") as fh:
        fh.writelines(r[0] + "\n" for r in listed)
    with open(os.path.join(out, "queries.txt"), "w") as fh:
        fh.writelines(r[0] + "\n" for r in rows if r[3] != 0)
    print(f"{len(listed)} listed originals, {len(rows) - len(listed)} variants "
          f"({sum(r[4] for r in rows)} cropped, {sum(r[5] for r in rows)} mirrored)")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def summarize(out):
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(out, "variants.tsv"))][1:]
    queries = [r for r in rows if r[3] != "0"]
    photo_of_path = {r[0]: int(r[2]) for r in rows}
    listed = [l.strip() for l in open(os.path.join(out, "listed.txt"))]
    true_pairs, unrelated = [], []
    matched, wrong = set(), []
    for line in open(os.path.join(out, "pairs.tsv")):
        q, l, good, inliers, mirrored, is_match = map(int, line.split())
        if photo_of_path[listed[l]] == int(queries[q][2]):
            true_pairs.append((q, good, inliers, is_match))
            if is_match:
                matched.add(q)
        else:
            unrelated.append((good, inliers))
            if is_match:
                wrong.append((queries[q][0], listed[l], good, inliers))
    cropped = [q for q, r in enumerate(queries) if r[4] == "1"]
    whole = [q for q, r in enumerate(queries) if r[4] == "0"]
    got = lambda qs: sum(q in matched for q in qs)
    print(f"pairs compared: {len(true_pairs)} true, {len(unrelated)} unrelated")
    print(f"recall cropped:   {got(cropped)}/{len(cropped)} = {100 * got(cropped) / len(cropped):.1f} %")
    print(f"recall uncropped: {got(whole)}/{len(whole)} = {100 * got(whole) / len(whole):.1f} %")
    for q in sorted(set(range(len(queries))) - matched):
        t = next(t for t in true_pairs if t[0] == q)
        print(f"  missed: {queries[q][0]} (cropped {queries[q][4]}) good {t[1]} inliers {t[2]}")
    print(f"matches to the wrong photo (= leave-one-out false matches, {len(unrelated)} "
          f"(variant, other photo) pairs): {len(wrong)}")
    for w in wrong:
        print("  wrong:", *w)
    ui = [u[1] for u in unrelated]
    ug = [u[0] for u in unrelated]
    print(f"unrelated pairs: inliers max {max(ui)}, 99.99th pct {pct(ui, 99.99)}, 99.9th {pct(ui, 99.9)};"
          f" good matches max {max(ug)}")
    for name, qs in (("cropped", set(cropped)), ("all", set(range(len(queries))))):
        ti = [t[2] for t in true_pairs if t[0] in qs]
        print(f"true pairs ({name}): inliers min {min(ti)}, 1st pct {pct(ti, 1)}, 5th pct {pct(ti, 5)},"
              f" median {statistics.median(ti)}")
    for line in open(os.path.join(out, "timings.tsv")):
        print("timing:", line.strip())
    scan_json = os.path.join(out, "scan.json")
    if os.path.exists(scan_json):
        report = json.load(open(scan_json))
        flagged = {f["path"]: f for f in report["flagged"]}
        by_variant = {r[0]: r for r in rows}
        hits, bad = {"0": [0, 0], "1": [0, 0]}, 0
        for path, r in by_variant.items():
            if r[3] == "0":
                continue
            hits[r[4]][1] += 1
            f = flagged.get(path)
            ids = {m["id"] for m in f["matches"]} if f else set()
            photos = {photo_of_path[i] for i in ids}
            hits[r[4]][0] += int(r[2]) in photos
            bad += len(photos - {int(r[2])})
        s = report["summary"]
        print(f"scan: {s['files']} files, {s['bytes'] / 1e6:.0f} MB in {report['elapsed_ms'] / 1e3:.1f} s "
              f"({s['files'] / report['elapsed_ms'] * 1e3:.1f} files/s); flagged {s['flagged']}, errors {s['errors']}")
        print(f"scan recall: cropped {hits['1'][0]}/{hits['1'][1]}, uncropped {hits['0'][0]}/{hits['0'][1]},"
              f" wrong-photo matches {bad}, few_keypoints {len(report.get('few_keypoints', []))}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["manifest"]:
        manifest(*sys.argv[2:4])
    elif sys.argv[1:2] == ["summarize"]:
        summarize(sys.argv[2])
    else:
        sys.exit(__doc__)
