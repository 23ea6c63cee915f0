//! The BM25 inverted index: per field, a vocabulary, postings (doc, tf) in doc order, one-byte Lucene norms and
//! the collection statistics Lucene's BM25 uses. Built in parallel (rayon) with a per-chunk cache of analysed
//! surface forms, so each distinct word is stemmed once per chunk.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::data::Collection;

use super::analyzer::{AnalyzerConfig, EnglishAnalyzer, java_lowercase, standard_tokens, strip_possessive};
use super::lucene::{Bm25Params, length_to_norm};

/// Which document text is indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldMode {
    /// One field: title + " " + text (Pyserini's BEIR "flat" index).
    Flat,
    /// Two fields, title and text, scored separately and summed (Pyserini's BEIR "multifield" index).
    Multifield,
}

/// One indexed field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldIndex {
    pub(crate) terms: FxHashMap<Box<str>, u32>,
    /// Postings of term t are `docs[offsets[t]..offsets[t+1]]` with frequencies `tfs[..]`.
    pub(crate) offsets: Vec<u64>,
    pub(crate) docs: Vec<u32>,
    pub(crate) tfs: Vec<u32>,
    pub(crate) norms: Vec<u8>,
    /// Documents with at least one term (Lucene's `docCount`).
    pub(crate) doc_count: u64,
    /// Total number of terms in the field (Lucene's `sumTotalTermFreq`).
    pub(crate) sum_ttf: u64,
}

impl FieldIndex {
    /// Lucene's average field length, `(float) (sumTotalTermFreq / (double) docCount)`.
    pub fn avgdl(&self) -> f32 {
        if self.doc_count == 0 { 1.0 } else { (self.sum_ttf as f64 / self.doc_count as f64) as f32 }
    }

    /// Number of distinct terms.
    pub fn num_terms(&self) -> usize {
        self.terms.len()
    }

    /// Number of postings.
    pub fn num_postings(&self) -> usize {
        self.docs.len()
    }

    /// The postings of `term`: (docs, tfs).
    pub fn postings(&self, term: &str) -> Option<(&[u32], &[u32])> {
        let t = *self.terms.get(term)? as usize;
        let (a, b) = (self.offsets[t] as usize, self.offsets[t + 1] as usize);
        Some((&self.docs[a..b], &self.tfs[a..b]))
    }
}

/// A BM25 index over a corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct Bm25Index {
    pub(crate) doc_ids: Vec<String>,
    pub(crate) fields: Vec<FieldIndex>,
    pub(crate) mode: FieldMode,
    pub(crate) analyzer: AnalyzerConfig,
    pub(crate) params: Bm25Params,
    pub(crate) fingerprint: u64,
    /// Each document's position in docid (byte) order: ties in score are broken by docid ascending
    /// (Anserini's order) with an integer compare.
    pub(crate) docid_rank: Vec<u32>,
    /// The inverse of `docid_rank`: documents in docid order.
    pub(crate) doc_by_rank: Vec<u32>,
}

/// Positions of the documents in ascending byte order of their ids, and the documents in that order.
pub(crate) fn docid_ranks(doc_ids: &[String]) -> (Vec<u32>, Vec<u32>) {
    let mut order: Vec<u32> = (0..doc_ids.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| doc_ids[a as usize].cmp(&doc_ids[b as usize]));
    let mut rank = vec![0u32; doc_ids.len()];
    for (r, &d) in order.iter().enumerate() {
        rank[d as usize] = r as u32;
    }
    (rank, order)
}

/// A cheap fingerprint of a corpus (count + CRC-32 of every id, title and text), stored in saved indexes so a
/// stale index is never used with a changed corpus.
pub fn corpus_fingerprint(corpus: &Collection) -> u64 {
    let mut h = crc32fast::Hasher::new();
    for r in corpus.iter() {
        for part in [r.id, r.title, r.text] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
    }
    ((corpus.len() as u64) << 32) | u64::from(h.finalize())
}

/// What one parallel chunk produced for one field.
struct ChunkField {
    vocab: Vec<String>,
    /// Per doc: (local term, tf) pairs, flattened, with `doc_ends`.
    pairs: Vec<(u32, u32)>,
    doc_ends: Vec<usize>,
    lengths: Vec<u32>,
}

const CHUNK_DOCS: usize = 512;

impl Bm25Index {
    /// Indexes `corpus`; `progress(n)` is called as chunks of `n` documents finish (from worker threads).
    pub fn build(
        corpus: &Collection,
        mode: FieldMode,
        analyzer: AnalyzerConfig,
        params: Bm25Params,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Bm25Index {
        let n = corpus.len();
        let field_count = match mode {
            FieldMode::Flat => 1,
            FieldMode::Multifield => 2,
        };
        let chunks: Vec<Vec<ChunkField>> = (0..n.div_ceil(CHUNK_DOCS))
            .into_par_iter()
            .map(|c| {
                let range = c * CHUNK_DOCS..((c + 1) * CHUNK_DOCS).min(n);
                let len = range.len();
                let out = (0..field_count)
                    .map(|f| {
                        analyze_chunk(
                            range.clone().map(|i| corpus.get(i)).map(|r| match (mode, f) {
                                (FieldMode::Flat, _) => FieldText::Flat(r.title, r.text),
                                (FieldMode::Multifield, 0) => FieldText::One(r.title),
                                (FieldMode::Multifield, _) => FieldText::One(r.text),
                            }),
                            analyzer,
                        )
                    })
                    .collect();
                progress(len);
                out
            })
            .collect();
        let mut per_field: Vec<Vec<ChunkField>> = (0..field_count).map(|_| Vec::with_capacity(chunks.len())).collect();
        for chunk in chunks {
            for (f, cf) in chunk.into_iter().enumerate() {
                per_field[f].push(cf);
            }
        }
        let fields = per_field.into_iter().map(|chunks| merge_chunks(chunks, n)).collect();
        let doc_ids: Vec<String> = corpus.iter().map(|r| r.id.to_string()).collect();
        let (docid_rank, doc_by_rank) = docid_ranks(&doc_ids);
        let fingerprint = corpus_fingerprint(corpus);
        Bm25Index { doc_ids, fields, mode, analyzer, params, fingerprint, docid_rank, doc_by_rank }
    }

    /// Number of documents.
    pub fn num_docs(&self) -> usize {
        self.doc_ids.len()
    }

    /// External id of document `i`.
    pub fn doc_id(&self, i: u32) -> &str {
        &self.doc_ids[i as usize]
    }

    /// The indexed fields (one for flat, title + text for multifield).
    pub fn fields(&self) -> &[FieldIndex] {
        &self.fields
    }

    /// Field mode.
    pub fn mode(&self) -> FieldMode {
        self.mode
    }

    /// BM25 parameters used for searching (can be changed without re-indexing).
    pub fn params(&self) -> Bm25Params {
        self.params
    }

    /// Sets k1 and b.
    pub fn set_params(&mut self, params: Bm25Params) {
        self.params = params;
    }

    /// The fingerprint of the corpus it was built from (see [`corpus_fingerprint`]).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Analyzer configuration the index was built with.
    pub fn analyzer_config(&self) -> AnalyzerConfig {
        self.analyzer
    }
}

enum FieldText<'a> {
    Flat(&'a str, &'a str),
    One(&'a str),
}

/// Analyses the documents of one chunk for one field, caching each distinct surface form's term.
fn analyze_chunk<'a>(texts: impl Iterator<Item = FieldText<'a>>, config: AnalyzerConfig) -> ChunkField {
    let mut analyzer = EnglishAnalyzer::new(config);
    let mut surface: FxHashMap<String, Option<u32>> = FxHashMap::default();
    let mut vocab_ids: FxHashMap<String, u32> = FxHashMap::default();
    let mut vocab: Vec<String> = Vec::new();
    let mut out = ChunkField { vocab: Vec::new(), pairs: Vec::new(), doc_ends: Vec::new(), lengths: Vec::new() };
    let mut doc_terms: Vec<u32> = Vec::new();
    let mut lower = String::new();
    let mut flat = String::new();
    for text in texts {
        let text: &str = match text {
            FieldText::Flat(title, body) => {
                flat.clear();
                flat.push_str(title);
                flat.push(' ');
                flat.push_str(body);
                &flat
            }
            FieldText::One(t) => t,
        };
        doc_terms.clear();
        standard_tokens(text, |tok| {
            java_lowercase(strip_possessive(tok), &mut lower);
            let id = match surface.get(lower.as_str()) {
                Some(id) => *id,
                None => {
                    let id = analyzer.finish_token(&lower).map(|term| match vocab_ids.get(&term) {
                        Some(&id) => id,
                        None => {
                            let id = vocab.len() as u32;
                            vocab_ids.insert(term.clone(), id);
                            vocab.push(term);
                            id
                        }
                    });
                    surface.insert(lower.clone(), id);
                    id
                }
            };
            if let Some(id) = id {
                doc_terms.push(id);
            }
        });
        out.lengths.push(doc_terms.len() as u32);
        doc_terms.sort_unstable();
        let mut i = 0;
        while i < doc_terms.len() {
            let mut j = i + 1;
            while j < doc_terms.len() && doc_terms[j] == doc_terms[i] {
                j += 1;
            }
            out.pairs.push((doc_terms[i], (j - i) as u32));
            i = j;
        }
        out.doc_ends.push(out.pairs.len());
    }
    out.vocab = vocab;
    out
}

/// Merges chunk vocabularies into one and lays the postings out term by term, docs ascending.
fn merge_chunks(chunks: Vec<ChunkField>, num_docs: usize) -> FieldIndex {
    let mut terms: FxHashMap<Box<str>, u32> = FxHashMap::default();
    let mut maps: Vec<Vec<u32>> = Vec::with_capacity(chunks.len());
    for c in &chunks {
        maps.push(
            c.vocab
                .iter()
                .map(|t| match terms.get(t.as_str()) {
                    Some(&id) => id,
                    None => {
                        let id = terms.len() as u32;
                        terms.insert(t.as_str().into(), id);
                        id
                    }
                })
                .collect(),
        );
    }
    let mut df = vec![0u64; terms.len() + 1];
    for (c, map) in chunks.iter().zip(&maps) {
        for &(t, _) in &c.pairs {
            df[map[t as usize] as usize + 1] += 1;
        }
    }
    for t in 1..df.len() {
        df[t] += df[t - 1];
    }
    let offsets = df;
    let total = *offsets.last().unwrap() as usize;
    let mut cursor: Vec<u64> = offsets[..offsets.len() - 1].to_vec();
    let mut docs = vec![0u32; total];
    let mut tfs = vec![0u32; total];
    let mut norms = Vec::with_capacity(num_docs);
    let (mut doc_count, mut sum_ttf) = (0u64, 0u64);
    let mut doc = 0u32;
    for (c, map) in chunks.iter().zip(&maps) {
        let mut start = 0;
        for (d, &end) in c.doc_ends.iter().enumerate() {
            for &(t, tf) in &c.pairs[start..end] {
                let g = map[t as usize] as usize;
                let at = cursor[g] as usize;
                docs[at] = doc;
                tfs[at] = tf;
                cursor[g] += 1;
            }
            let len = c.lengths[d];
            norms.push(length_to_norm(len));
            if len > 0 {
                doc_count += 1;
                sum_ttf += u64::from(len);
            }
            start = end;
            doc += 1;
        }
    }
    FieldIndex { terms, offsets, docs, tfs, norms, doc_count, sum_ttf }
}
