#!/usr/bin/env bash
# What f16 storage of the corpus embeddings does to nDCG@10: all-MiniLM-L6-v2 embeddings of SciFact and NFCorpus
# from `drbench embed` as f32 and as f16 `.npy`, searched by `drbench search`, scored by `drbench eval` on the
# test qrels; and `drbench run` on the same model and task for reference (the npy path must equal it).
# Needs: a release build (cargo build --release -p drbench), DRBENCH_MIRROR (../shared/mirror by default).
# Usage: bench/search_f16_effect.sh [OUT_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
mirror=${DRBENCH_MIRROR:-$root/../shared/mirror}
export DRBENCH_MIRROR=$mirror
out=${1:-$here/out/f16}
mkdir -p "$out"
drbench=$root/target/release/drbench
model=(--model "$mirror/models/all-MiniLM-L6-v2" --mode mean)
for ds in scifact nfcorpus; do
  d=$mirror/datasets/$ds
  # The test queries only, as `drbench run` searches them.
  python3 - "$d" "$out/$ds-test-queries.jsonl" <<'PY'
import json, sys
d, out = sys.argv[1], sys.argv[2]
test = {l.split("\t")[0] for l in open(f"{d}/qrels/test.tsv").read().splitlines()[1:]}
with open(out, "w") as f:
    for line in open(f"{d}/queries.jsonl"):
        if json.loads(line)["_id"] in test:
            f.write(line)
PY
  "$drbench" embed "${model[@]}" --role passage --input "$d/corpus.jsonl" --out "$out/$ds-corpus.npy" 2>/dev/null
  "$drbench" embed "${model[@]}" --role passage --input "$d/corpus.jsonl" --out "$out/$ds-corpus-f16.npy" \
    --ids-out "$out/$ds-corpus-f16.ids" --npy-dtype f16 2>/dev/null
  "$drbench" embed "${model[@]}" --role query --input "$out/$ds-test-queries.jsonl" --out "$out/$ds-queries.npy" 2>/dev/null
  for t in "" -f16; do
    "$drbench" search --corpus "$out/$ds-corpus$t.npy" --corpus-ids "$out/$ds-corpus$t.ids" \
      --queries "$out/$ds-queries.npy" --query-ids "$out/$ds-queries.ids" --k 1000 --out "$out/$ds$t.trec" 2>/dev/null
    printf '%s %s npy search: ' "$ds" "${t:--f32}"
    "$drbench" eval --qrels "$d/qrels/test.tsv" --run "$out/$ds$t.trec" -m nDCG@10,R@100 | tr '\n' ' '; echo
  done
  "$drbench" run "${model[@]}" --task "beir/$ds" --out "$out/$ds-run" --force 2>/dev/null >/dev/null
  printf '%s drbench run: ' "$ds"
  "$drbench" eval --qrels "$d/qrels/test.tsv" --run "$out/$ds-run/run.trec" -m nDCG@10,R@100 | tr '\n' ' '; echo
  cmp <(cut -d' ' -f1,3,4 "$out/$ds.trec") <(cut -d' ' -f1,3,4 "$out/$ds-run/run.trec") \
    && echo "$ds: the f32 npy run ranks every query as drbench run does" \
    || echo "$ds: the f32 npy run differs from drbench run's"
done
