#!/usr/bin/env bash
# `drbench trec_eval -m all_trec -q` vs the C trec_eval 10.0 built from source (-O2) and pytrec_eval, on the same
# 6,980-query x 1,000-doc run, in one go: median wall time over N runs (parsing included), peak RSS, and a byte
# comparison of drbench's output with the C binary's.
# Needs: a release build (cargo build --release -p drbench), trec_eval's source (TREC_EVAL_SRC, e.g. a clone of
# usnistgov/trec_eval at v10.0), gcc, python3 with pytrec-eval-terrier, /usr/bin/time.
# Usage: TREC_EVAL_SRC=path bench/trec_eval_vs_c.sh [QRELS] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
src=${TREC_EVAL_SRC:?set TREC_EVAL_SRC to a trec_eval 10.0 source folder}
qrels=${1:-${DRBENCH_MIRROR:-$root/../shared/mirror}/datasets/_partial/msmarco-dev-small/qrels/dev.tsv}
runs=${2:-5}
out=$here/out
mkdir -p "$out"
run=$out/msmarco-like.run
[ -s "$run" ] || python3 "$here/make_msmarco_like_run.py" "$qrels" "$run"
trec_qrels=$out/dev.qrels
awk 'NR>1 {print $1, 0, $2, $3}' "$qrels" > "$trec_qrels"
# Two builds of the C code: the Makefile's own flags (-g, no optimisation: what `make quicktest` checks) for the
# byte comparison, and -O2 for speed. m_rbp.c reads `min`/`max` uninitialised, so rbp under -O2 can differ.
c_ref=$out/trec_eval-c-make
c_bin=$out/trec_eval-c-O2
c_srcs=$(cd "$src" && ls ./*.c)
(cd "$src" && gcc -g -I. -DVERSIONID=\"10.0\" -o "$c_ref" $c_srcs -lm 2>/dev/null)
(cd "$src" && gcc -O2 -I. -DVERSIONID=\"10.0\" -o "$c_bin" $c_srcs -lm 2>/dev/null)
drbench=$root/target/release/drbench
echo "run: $(wc -l < "$run") lines; qrels: $(wc -l < "$trec_qrels") judgments; $(nproc) cores"

cat > "$out/pytrec_all.py" <<'PY'
import sys, pytrec_eval
with open(sys.argv[1]) as f:
    qrels = pytrec_eval.parse_qrel(f)
with open(sys.argv[2]) as f:
    run = pytrec_eval.parse_run(f)
ev = pytrec_eval.RelevanceEvaluator(qrels, pytrec_eval.supported_measures)
res = ev.evaluate(run)
print(len(res), len(next(iter(res.values()))))
PY

time_one() { /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" > "$out/last.txt"; cat "$out/time.txt"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -a dr_t c_t g_t py_t
dr_mem=0; c_mem=0; g_mem=0; py_mem=0
for i in $(seq "$runs"); do
  read -r t m < <(time_one "$drbench" trec_eval -m all_trec -q "$trec_qrels" "$run")
  cp "$out/last.txt" "$out/drbench.all_trec"; dr_t+=("$t"); [ "$m" -gt "$dr_mem" ] && dr_mem=$m
  read -r t m < <(time_one "$c_bin" -m all_trec -q "$trec_qrels" "$run")
  cp "$out/last.txt" "$out/c.all_trec"; c_t+=("$t"); [ "$m" -gt "$c_mem" ] && c_mem=$m
  read -r t m < <(time_one "$c_ref" -m all_trec -q "$trec_qrels" "$run")
  cp "$out/last.txt" "$out/c-make.all_trec"; g_t+=("$t"); [ "$m" -gt "$g_mem" ] && g_mem=$m
  read -r t m < <(time_one python3 "$out/pytrec_all.py" "$trec_qrels" "$run")
  py_t+=("$t"); [ "$m" -gt "$py_mem" ] && py_mem=$m
done
if cmp -s "$out/drbench.all_trec" "$out/c-make.all_trec"; then
  echo "output: byte-identical to the C trec_eval built as its Makefile builds it ($(wc -l < "$out/c-make.all_trec") lines)"
else
  echo "output: DIFFERS from the C trec_eval"; diff "$out/drbench.all_trec" "$out/c-make.all_trec" | head -5; exit 1
fi
echo "the -O2 build differs from it on $(diff "$out/c-make.all_trec" "$out/c.all_trec" | grep -c '^<') lines:" \
  "$(diff "$out/c-make.all_trec" "$out/c.all_trec" | grep '^<' | awk '{print $2}' | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
dr=$(printf '%s\n' "${dr_t[@]}" | median); c=$(printf '%s\n' "${c_t[@]}" | median); py=$(printf '%s\n' "${py_t[@]}" | median)
g=$(printf '%s\n' "${g_t[@]}" | median)
echo "drbench trec_eval -m all_trec -q : median ${dr}s over $runs runs, peak RSS $((dr_mem / 1024)) MB"
echo "C trec_eval 10.0 (-O2)           : median ${c}s, peak RSS $((c_mem / 1024)) MB"
echo "C trec_eval 10.0 (Makefile, -g)  : median ${g}s, peak RSS $((g_mem / 1024)) MB"
echo "pytrec_eval (supported_measures) : median ${py}s, peak RSS $((py_mem / 1024)) MB"
python3 -c "print(f'speed-up: {float($c)/float($dr):.1f}x the C binary (-O2), {float($g)/float($dr):.1f}x as its Makefile builds it, {float($py)/float($dr):.1f}x pytrec_eval')"
