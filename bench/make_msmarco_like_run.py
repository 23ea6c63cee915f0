#!/usr/bin/env python3
"""Writes a synthetic MS MARCO-dev-sized TREC run: every dev-small query (6,980) x 1,000 docs, seeded.

Relevant passages are planted at random ranks for ~60% of queries so that every measure is non-trivial;
scores descend with ties every few rows, docids are MS MARCO-like integers. Usage:
    make_msmarco_like_run.py QRELS_TSV OUT_RUN [--depth 1000] [--seed 7]
"""
import argparse, random

ap = argparse.ArgumentParser()
ap.add_argument("qrels")
ap.add_argument("out")
ap.add_argument("--depth", type=int, default=1000)
ap.add_argument("--seed", type=int, default=7)
a = ap.parse_args()
rng = random.Random(a.seed)
rel = {}
with open(a.qrels) as f:
    first = f.readline()
    if not first.startswith("query-id"):
        f.seek(0)
    for line in f:
        c = line.split()
        q, d = (c[0], c[2]) if len(c) == 4 else (c[0], c[1])
        rel.setdefault(q, []).append(d)
with open(a.out, "w") as out:
    for q in sorted(rel, key=int):
        docs = set()
        while len(docs) < a.depth:
            docs.add(str(rng.randrange(8_841_823)))
        docs = list(docs)
        for d in rel[q]:
            if rng.random() < 0.6:
                docs[rng.randrange(a.depth)] = d
        docs = list(dict.fromkeys(docs))
        score = 30.0
        lines = []
        for i, d in enumerate(docs):
            if rng.random() < 0.7:
                score -= rng.random() * 0.02
            lines.append(f"{q} Q0 {d} {i + 1} {score:.4f} synth\n")
        out.writelines(lines)
