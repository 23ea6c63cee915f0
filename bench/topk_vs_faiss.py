#!/usr/bin/env python3
"""Exact top-k: drbench (harness::dense::exact_top_k) vs faiss IndexFlatIP and torch.topk on the same vectors.

Shapes from issue 4: 5,183 x 384 docs (SciFact x MiniLM) with 300 queries and k=1000, and 100,000 x 896 docs
(Qwen2.5-0.5B width) with 1,000 queries and k=100. Vectors are random unit vectors (seeded). Every tool gets
the same threads; the median of REPEATS runs is reported, and drbench's top-k ids are checked against faiss's
(rows must agree except where scores tie within 1e-6).

usage: python bench/topk_vs_faiss.py [--threads 2] [--repeats 5]   (needs numpy, faiss-cpu, torch; run from the
       repository root after `cargo build --release -p drbench-harness --example topk_speed`)
"""
import argparse, json, os, subprocess, tempfile, time

import numpy as np


def median_time(f, repeats):
    ts = []
    out = None
    for _ in range(repeats):
        t = time.perf_counter()
        out = f()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts)), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--bin", default="target/release/examples/topk_speed")
    a = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    import faiss
    import torch

    faiss.omp_set_num_threads(a.threads)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(12345)
    results = []
    for n_docs, dim, n_q, k in [(5183, 384, 300, 1000), (100_000, 896, 1000, 100)]:
        d = rng.standard_normal((n_docs, dim), dtype=np.float32)
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        q = rng.standard_normal((n_q, dim), dtype=np.float32)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        row = {"docs": n_docs, "dim": dim, "queries": n_q, "k": k, "threads": a.threads}

        index = faiss.IndexFlatIP(dim)
        index.add(d)
        row["faiss_s"], (fs, fi) = median_time(lambda: index.search(q, k), a.repeats)

        td, tq = torch.from_numpy(d), torch.from_numpy(q)

        def torch_topk():
            out_v, out_i = [], []
            for s in range(0, n_q, 256):  # chunked so the score matrix stays bounded, as a user would
                v, i = torch.topk(tq[s:s + 256] @ td.T, k, dim=1)
                out_v.append(v)
                out_i.append(i)
            return torch.cat(out_v), torch.cat(out_i)

        with torch.inference_mode():
            row["torch_s"], _ = median_time(torch_topk, a.repeats)

        with tempfile.TemporaryDirectory() as tmp:
            dp, qp, ip = (os.path.join(tmp, n) for n in ("d.f32", "q.f32", "ids.u32"))
            d.astype("<f4").tofile(dp)
            q.astype("<f4").tofile(qp)
            env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads))
            out = subprocess.run([a.bin, dp, qp, str(dim), str(k), str(a.repeats), ip], env=env, check=True,
                                 capture_output=True, text=True).stdout
            ours = json.loads(out)
            row["drbench_s"] = ours["median_s"]
            ids = np.fromfile(ip, dtype="<u4").reshape(n_q, k)
        # Agreement: same id at each rank, or the faiss score of our id equals faiss's score at that rank.
        scores_ours = np.take_along_axis(q @ d.T, ids.astype(np.int64), axis=1)
        mismatch = np.abs(scores_ours - fs) > 1e-5
        row["rank_mismatches_beyond_1e-5"] = int(mismatch.sum())
        row["same_ids_fraction"] = float((ids == fi).mean())
        best_peer = min(row["faiss_s"], row["torch_s"])
        row["speedup_vs_best_peer"] = best_peer / row["drbench_s"]
        results.append(row)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
