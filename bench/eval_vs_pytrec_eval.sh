#!/usr/bin/env bash
# `drbench eval` vs pytrec_eval on the same 6,980-query x 1,000-doc run, in one go: wall time (median of N runs,
# file parsing included), peak RSS (/usr/bin/time), and a value-by-value equality check.
# Needs: a release build (cargo build --release -p drbench), python3 with pytrec-eval-terrier, /usr/bin/time.
# Usage: bench/eval_vs_pytrec_eval.sh [QRELS] [RUNS]   (QRELS default: the mirror's MS MARCO dev-small qrels)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
qrels=${1:-${DRBENCH_MIRROR:-$root/../shared/mirror}/datasets/_partial/msmarco-dev-small/qrels/dev.tsv}
runs=${2:-5}
out=$here/out
mkdir -p "$out"
run=$out/msmarco-like.run
[ -s "$run" ] || python3 "$here/make_msmarco_like_run.py" "$qrels" "$run"
# pytrec_eval wants a TREC qrels dict; convert the BEIR tsv once (not timed for either tool).
trec_qrels=$out/dev.qrels
awk 'NR>1 {print $1, 0, $2, $3}' "$qrels" > "$trec_qrels"
drbench=$root/target/release/drbench
measures="nDCG@10,RR,R@100,R@1000,AP,P@10"
echo "run: $(wc -l < "$run") lines, $(du -h "$run" | cut -f1); qrels: $(wc -l < "$trec_qrels") judgments"

cat > "$out/pytrec.py" <<'PY'
import json, sys, pytrec_eval
qrels_path, run_path = sys.argv[1], sys.argv[2]
with open(qrels_path) as f:
    qrels = pytrec_eval.parse_qrel(f)
with open(run_path) as f:
    run = pytrec_eval.parse_run(f)
ev = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recip_rank", "recall.100,1000", "map", "P.10"})
res = ev.evaluate(run)
names = {"ndcg_cut_10": "nDCG@10", "recip_rank": "RR", "recall_100": "R@100", "recall_1000": "R@1000", "map": "AP", "P_10": "P@10"}
mean = {v: sum(r[k] for r in res.values()) / len(res) for k, v in names.items()}
json.dump({"mean": mean, "per_query": {q: {v: r[k] for k, v in names.items()} for q, r in res.items()}}, sys.stdout)
PY

time_one() { # prints "seconds peak_kb"
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" > "$out/last.json"
  cat "$out/time.txt"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -a dr_t py_t
dr_mem=0; py_mem=0
for i in $(seq "$runs"); do
  read -r t m < <(time_one "$drbench" eval --qrels "$trec_qrels" --run "$run" -m "$measures" --per-query --json)
  cp "$out/last.json" "$out/drbench.json"; dr_t+=("$t"); [ "$m" -gt "$dr_mem" ] && dr_mem=$m
  read -r t m < <(time_one python3 "$out/pytrec.py" "$trec_qrels" "$run")
  cp "$out/last.json" "$out/pytrec.json"; py_t+=("$t"); [ "$m" -gt "$py_mem" ] && py_mem=$m
done
dr=$(printf '%s\n' "${dr_t[@]}" | median)
py=$(printf '%s\n' "${py_t[@]}" | median)
python3 - "$out/drbench.json" "$out/pytrec.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert set(a["per_query"]) == set(b["per_query"]), "different query sets"
worst = max(abs(a["per_query"][q][m] - b["per_query"][q][m]) for q in b["per_query"] for m in b["per_query"][q])
worst_mean = max(abs(a["mean"][m] - b["mean"][m]) for m in b["mean"])
print(f"values: {len(b['per_query'])} queries x {len(b['mean'])} measures; max |diff| per query {worst:.2e}, means {worst_mean:.2e}")
print("means:", {m: round(v, 6) for m, v in a["mean"].items()})
assert worst <= 1e-9, "values differ"
PY
echo "drbench eval : median ${dr}s over $runs runs, peak RSS $((dr_mem / 1024)) MB"
echo "pytrec_eval  : median ${py}s over $runs runs, peak RSS $((py_mem / 1024)) MB"
python3 -c "print(f'speed-up {float($py)/float($dr):.1f}x, memory {($py_mem)/max($dr_mem,1):.1f}x less')"
