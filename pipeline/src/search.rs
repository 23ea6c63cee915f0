//! `drbench search`: exact top-k over embedding matrices made anywhere — `.npy` files of f32 or f16 rows (a corpus
//! may come in several, read in order), ids one per line — streamed under a memory budget
//! (`harness::dense_stream`) and written as a TREC run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use drbench_harness::data::ScoredDoc;
use drbench_harness::dense::hits_to_run;
use drbench_harness::dense_stream::{BlockPlan, DocRows, stream_top_k};
use drbench_harness::io::fields::is_trec_field;
use drbench_harness::io::npy::{NpyMatrix, NpyShards, RowType};
use drbench_harness::io::{LineReader, write_trec_run};
use rustc_hash::FxHashMap;

use crate::error::{PipelineError, Result};
use crate::progress::Progress;

/// What to search and where the run goes.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// The corpus embeddings: one `.npy` matrix, or several (shards) whose rows follow each other.
    pub corpus: Vec<PathBuf>,
    /// The corpus ids, one per line, one per row of `corpus` in order.
    pub corpus_ids: PathBuf,
    /// The query embeddings (`.npy`).
    pub queries: PathBuf,
    /// The query ids, one per line.
    pub query_ids: PathBuf,
    /// Hits per query.
    pub k: usize,
    /// Bytes the search may hold at most (the ids and the run built before writing included); `None`:
    /// [`default_memory_budget`].
    pub memory_budget: Option<usize>,
    /// The TREC run to write.
    pub out: PathBuf,
    /// The run's tag (its last column).
    pub tag: String,
}

/// What a search did.
#[derive(Debug, Clone)]
pub struct SearchSummary {
    /// Corpus rows searched.
    pub docs: usize,
    /// Queries.
    pub queries: usize,
    /// Values per row.
    pub dim: usize,
    /// How the corpus was stored (f16 if any shard was).
    pub corpus_type: RowType,
    /// The blocks chosen for the budget.
    pub plan: BlockPlan,
    /// The budget the blocks were chosen for.
    pub memory_budget: usize,
    /// Rows written to the run.
    pub rows_written: usize,
    /// Seconds reading and checking the ids files.
    pub ids_s: f64,
    /// Seconds searching: the corpus read block by block, scored, the top k kept (the queries read first).
    pub search_s: f64,
    /// Seconds writing the run.
    pub write_s: f64,
}

/// A quarter of the machine's memory (`MemTotal` of `/proc/meminfo`); 1 GiB where that cannot be read.
pub fn default_memory_budget() -> usize {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let line = m.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib.saturating_mul(1024) / 4)
        })
        .unwrap_or(1 << 30)
}

/// Searches every query of `o.queries` over the corpus and writes the top `o.k` of each to `o.out` (score
/// descending, ties by corpus row); nothing is written when any input is refused.
pub fn search_embeddings(o: &SearchOptions, progress: &dyn Progress) -> Result<SearchSummary> {
    if o.k == 0 {
        return Err(PipelineError::Invalid("--k must be at least 1".into()));
    }
    let mut corpus = NpyShards::open(&o.corpus)?;
    let mut queries = NpyMatrix::open(&o.queries)?;
    if queries.dim() != corpus.dim() {
        return Err(PipelineError::Invalid(format!(
            "{}: its rows have {} values, but the corpus's have {}; both must come from the same encoder",
            o.queries.display(),
            queries.dim(),
            corpus.dim()
        )));
    }
    for (rows, path, what) in [(corpus.rows(), o.corpus.first(), "corpus"), (queries.rows(), Some(&o.queries), "query")]
    {
        if rows == 0 {
            let path = path.map_or(String::new(), |p| format!("{}: ", p.display()));
            return Err(PipelineError::Invalid(format!("{path}no {what} rows to search")));
        }
    }
    if u32::try_from(corpus.rows()).is_err() || u32::try_from(queries.rows()).is_err() {
        return Err(PipelineError::Invalid(format!(
            "{} corpus rows and {} queries: at most {} of each can be searched at once",
            corpus.rows(),
            queries.rows(),
            u32::MAX
        )));
    }
    let t = Instant::now();
    let corpus_ids = IdList::read(&o.corpus_ids, corpus.rows(), "corpus")?;
    let query_ids = IdList::read(&o.query_ids, queries.rows(), "queries")?;
    let ids_s = t.elapsed().as_secs_f64();
    let memory_budget = o.memory_budget.unwrap_or_else(default_memory_budget);
    // Held beside the search: the ids, and the run built from the hits before it is written.
    let run_bytes = queries
        .rows()
        .saturating_mul(o.k.min(corpus.rows()))
        .saturating_mul(std::mem::size_of::<ScoredDoc>() + corpus_ids.mean_len().next_multiple_of(8).max(16));
    let ids_bytes = corpus_ids.bytes() + query_ids.bytes();
    let plan = BlockPlan::for_budget(
        corpus.rows(),
        queries.rows(),
        corpus.dim(),
        o.k,
        corpus.scratch_bytes_per_value(),
        memory_budget,
        ids_bytes.saturating_add(run_bytes),
    )?;
    let t = Instant::now();
    let query_rows = queries.read_all()?;
    progress.start("searching", (corpus.rows() * plan.passes(queries.rows())) as u64);
    let hits = stream_top_k(&mut corpus, &query_rows, o.k, plan, &|rows| progress.advance(rows as u64));
    progress.finish();
    let hits = hits?;
    let search_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let qids: Vec<&str> = (0..query_ids.len()).map(|i| query_ids.get(i)).collect();
    let run = hits_to_run(&hits, &qids, |row| corpus_ids.get(row as usize), o.k, false);
    write_trec_run(&o.out, &run, &o.tag)?;
    let write_s = t.elapsed().as_secs_f64();
    let corpus_type = if corpus.files().any(|(_, _, t)| t == RowType::F16) { RowType::F16 } else { RowType::F32 };
    Ok(SearchSummary {
        docs: corpus.rows(),
        queries: queries.rows(),
        dim: corpus.dim(),
        corpus_type,
        plan,
        memory_budget,
        rows_written: run.num_rows(),
        ids_s,
        search_s,
        write_s,
    })
}

/// Ids one per line in one text arena (8.8M MS MARCO ids take ~100 MB, not a `String` each).
#[derive(Debug)]
struct IdList {
    text: String,
    ends: Vec<usize>,
}

impl IdList {
    /// The ids of `path`, which must be exactly `rows` non-empty lines without whitespace, none repeated.
    fn read(path: &Path, rows: usize, what: &str) -> Result<IdList> {
        let mut lines = LineReader::open(path)?;
        // The file's size bounds the text (and is known before reading it); the rows count the ids.
        let file_len = std::fs::metadata(path).map(|m| m.len() as usize).unwrap_or(0);
        let mut list = IdList { text: String::with_capacity(file_len), ends: Vec::with_capacity(rows) };
        while let Some(id) = lines.next_str()? {
            if !is_trec_field(id) {
                let message = format!("{id:?} is not an id (one id per line, without spaces or tabs)");
                return Err(lines.error(message).into());
            }
            if list.ends.len() == rows {
                return Err(lines.error(format!("more ids than the {rows} rows of the {what} embeddings")).into());
            }
            list.text.push_str(id);
            list.ends.push(list.text.len());
        }
        if list.ends.len() != rows {
            return Err(drbench_harness::Error::file(
                path,
                format!("{} ids for the {rows} rows of the {what} embeddings", list.ends.len()),
            )
            .into());
        }
        list.text.shrink_to_fit();
        list.ends.shrink_to_fit();
        let mut seen: FxHashMap<&str, u32> = FxHashMap::default();
        seen.reserve(rows);
        for i in 0..rows {
            if let Some(first) = seen.insert(list.get(i), i as u32) {
                return Err(drbench_harness::Error::parse(
                    path,
                    i as u64 + 1,
                    format!("id {:?} is also on line {}", list.get(i), first + 1),
                )
                .into());
            }
        }
        Ok(list)
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// The mean id length in bytes.
    fn mean_len(&self) -> usize {
        self.text.len() / self.ends.len().max(1)
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// What the list holds in memory.
    fn bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * std::mem::size_of::<usize>()
    }
}
