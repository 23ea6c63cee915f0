//! BM25 equal to Pyserini/Anserini (Lucene): English analysis, an inverted index with Lucene's one-byte
//! length norms, Lucene's BM25 scoring in its float arithmetic, and top-k search.

pub mod analyzer;
mod index;
mod index_file;
pub mod lucene;
pub mod porter;
mod search;

pub use analyzer::{AnalyzerConfig, EnglishAnalyzer};
pub use index::{Bm25Index, FieldIndex, FieldMode, corpus_fingerprint};
pub use lucene::Bm25Params;
pub use porter::PorterStemmer;
pub use search::{Bm25Searcher, Hit, ScoreOutput, SearchOptions};
