#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 300) with seeds from the golden cases and fixtures.
# Needs cargo-fuzz; stable Rust works with RUSTC_BOOTSTRAP=1. Usage: [TARGETS="a b"] fuzz/run-all.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-300}
shared=${DRBENCH_SHARED:-../../shared}
seed() { mkdir -p "corpus/$1"; shift; for f in "$@"; do [ -f "$f" ] && head -c 4096 "$f" > "corpus/$(basename "$(dirname "$f")")-$(basename "$f")" 2>/dev/null || true; done; }
mkdir -p corpus
for t in trec_qrels trec_run run_stream beir_files analyzer bm25_index_file trec_eval; do mkdir -p "corpus/$t"; done
for c in "$shared"/golden/metrics/case*; do
  n=$(basename "$c")
  head -c 4096 "$c/qrels.txt" > "corpus/trec_qrels/$n" || true
  head -c 4096 "$c/run.txt" > "corpus/trec_run/$n" || true
  head -c 4096 "$c/run.txt" > "corpus/run_stream/$n" || true
done
for f in ../datasets/fixtures/tiny-beir/corpus.jsonl ../datasets/fixtures/tiny-beir/queries.jsonl ../datasets/fixtures/tiny-beir/qrels/test.tsv; do
  cp "$f" "corpus/beir_files/$(echo "$f" | tr '/' '_')"
  cp "$f" "corpus/analyzer/$(echo "$f" | tr '/' '_')"
done
# trec_eval: its own test files, cut small, as `measures\0qrels\0run`.
te=../datasets/fixtures/trec_eval
printf 'all_trec\0%s\0%s' "$(head -c 3000 $te/qrels.test)" "$(head -c 3000 $te/results.test)" > corpus/trec_eval/quicktest
printf 'P.5,7 ndcg.1=3,2=9 relstring.3\0%s\0%s' "$(head -c 3000 $te/qrels.rel_level)" "$(head -c 3000 $te/results.trunc)" > corpus/trec_eval/params
printf 'all_prefs\0%s\0%s' "$(cat $te/prefs.test)" "$(cat $te/prefs.results.test)" > corpus/trec_eval/prefs
# The model loaders: a tiny random Qwen2 as a Hugging Face pair and as a GGUF file.
python3 make-model-seeds.py corpus
targets=${TARGETS:-trec_qrels trec_run run_stream beir_files analyzer bm25_index_file trec_eval qwen2_hf_files gguf_metadata}
status=0
for t in $targets; do
  echo "== $t ($secs s)"
  if ! RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 > "corpus/$t.log" 2>&1; then
    status=1
  fi
  grep -E "Done [0-9]+ runs|ERROR|panicked|SUMMARY" "corpus/$t.log" | tail -3
done
exit $status
