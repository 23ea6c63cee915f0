#!/usr/bin/env python3
"""BM25 speed and quality, in one go on this machine: drbench (harness example `bm25_speed`, and `drbench bm25`
for nDCG@10) vs bm25s (method "lucene", same k1/b, numba backend) vs rank_bm25 (BM25Okapi), on SciFact and
NFCorpus test queries, k=1000, single-threaded and all threads.

Needs: `cargo build --release -p drbench -p drbench-harness --example bm25_speed`,
`pip install bm25s numba PyStemmer rank-bm25`. Usage: bench/bm25_vs_bm25s.py [MIRROR] [--repeats 5]
Index time = tokenization + indexing for every tool; queries/s = query tokenization + retrieval of the top k.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
ap = argparse.ArgumentParser()
ap.add_argument("mirror", nargs="?", default=os.environ.get("DRBENCH_MIRROR", os.path.join(root, "..", "shared", "mirror")))
ap.add_argument("--repeats", type=int, default=5)
ap.add_argument("--k", type=int, default=1000)
a = ap.parse_args()

import numpy as np
import bm25s, Stemmer
from rank_bm25 import BM25Okapi

drbench = os.path.join(root, "target", "release", "drbench")
speed = os.path.join(root, "target", "release", "examples", "bm25_speed")


def load(name):
    d = os.path.join(a.mirror, "datasets", name)
    docs = [json.loads(l) for l in open(os.path.join(d, "corpus.jsonl"))]
    qrels = {}
    with open(os.path.join(d, "qrels", "test.tsv")) as f:
        next(f)
        for line in f:
            q, doc, s = line.rstrip("\n").split("\t")
            qrels.setdefault(q, {})[doc] = int(s)
    queries = [json.loads(l) for l in open(os.path.join(d, "queries.jsonl"))]
    queries = [q for q in queries if q["_id"] in qrels]
    return d, docs, queries


def med(f, n):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def ndcg10(run_path, qrels_path):
    out = subprocess.run([drbench, "eval", "--qrels", qrels_path, "--run", run_path, "-c", "-m", "nDCG@10", "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["nDCG@10"]


rows = []
for name in ["scifact", "nfcorpus"]:
    d, docs, queries = load(name)
    texts = [x.get("title", "") + " " + x["text"] for x in docs]
    qtexts = [q["text"] for q in queries]
    qrels_path = os.path.join(d, "qrels", "test.tsv")

    # drbench
    r = json.loads(subprocess.run([speed, d, "test", str(a.k), str(a.repeats)], check=True, capture_output=True, text=True).stdout)
    with tempfile.NamedTemporaryFile(suffix=".trec") as f:
        subprocess.run([drbench, "bm25", "--dataset", d, "--k", str(a.k), "--out", f.name], check=True, capture_output=True)
        nd = ndcg10(f.name, qrels_path)
    rows.append((name, "drbench", r["index_s_1t"], r["index_s_nt"], r["qps_1t"], r["qps_nt"], nd))

    # bm25s (numba), lucene variant
    stemmer = Stemmer.Stemmer("english")
    def bm25s_index():
        toks = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
        ret = bm25s.BM25(method="lucene", k1=0.9, b=0.4, backend="numba")
        ret.index(toks, show_progress=False)
        return ret
    ret = bm25s_index()
    def bm25s_search(threads):
        qt = bm25s.tokenize(qtexts, stopwords="en", stemmer=stemmer, show_progress=False)
        return ret.retrieve(qt, k=min(a.k, len(texts)), n_threads=threads, backend_selection="numba", show_progress=False)
    bm25s_search(1)  # JIT warm-up
    t_idx = med(bm25s_index, a.repeats)
    t1 = med(lambda: bm25s_search(1), a.repeats)
    tn = med(lambda: bm25s_search(os.cpu_count()), a.repeats)
    res, sc = bm25s_search(1)
    with tempfile.NamedTemporaryFile("w", suffix=".trec", delete=False) as f:
        for qi, q in enumerate(queries):
            for rank, (di, s) in enumerate(zip(res[qi], sc[qi])):
                f.write(f"{q['_id']} Q0 {docs[di]['_id']} {rank + 1} {s:.6f} bm25s\n")
    nd = ndcg10(f.name, qrels_path)
    os.unlink(f.name)
    rows.append((name, "bm25s-numba", t_idx, None, len(qtexts) / t1, len(qtexts) / tn, nd))

    # rank_bm25 (pure Python; single-threaded; timed on the first 30 queries)
    def rb_index():
        return BM25Okapi([t.lower().split() for t in texts], k1=0.9, b=0.4)
    t_rb_idx = med(rb_index, 1)
    rb = rb_index()
    sub = qtexts[:30]
    t_rb = med(lambda: [np.argsort(-rb.get_scores(q.lower().split()))[: a.k] for q in sub], 1)
    rows.append((name, "rank_bm25", t_rb_idx, None, len(sub) / t_rb, None, None))

print(f"{'dataset':<9} {'tool':<12} {'index 1t s':>10} {'index all s':>11} {'q/s 1t':>9} {'q/s all':>9} {'nDCG@10':>8}")
fmt = lambda v, p: "-" if v is None else f"{v:.{p}f}"
for name, tool, i1, inn, q1, qn, nd in rows:
    print(f"{name:<9} {tool:<12} {fmt(i1, 3):>10} {fmt(inn, 3):>11} {fmt(q1, 0):>9} {fmt(qn, 0):>9} {fmt(nd, 4):>8}")
for name in ["scifact", "nfcorpus"]:
    dr = next(r for r in rows if r[0] == name and r[1] == "drbench")
    bs = next(r for r in rows if r[0] == name and r[1] == "bm25s-numba")
    print(f"{name}: drbench vs bm25s-numba: {dr[4] / bs[4]:.1f}x q/s single-threaded, index time {dr[2] / bs[2]:.2f}x (1 thread), {dr[3] / bs[2]:.2f}x (all threads)")
