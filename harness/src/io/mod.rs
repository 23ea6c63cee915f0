//! Readers and writers for the file formats drbench speaks: BEIR, TREC qrels and runs, MS MARCO TSV,
//! Tevatron training groups, parquet data files (feature `parquet`), `.npy` embedding matrices (feature `npy`), and the files that make one dataset.

pub mod atomic;
mod beir;
mod data_files;
pub mod fields;
mod lines;
mod msmarco;
#[cfg(feature = "npy")]
pub mod npy;
#[cfg(feature = "parquet")]
pub mod parquet;
mod qrels;
mod tevatron;
mod trec;

pub use beir::{BeirFolder, is_beir_qrels_header, read_beir_qrels, read_jsonl_collection};
pub use data_files::{DataFile, DataFormat, DatasetFiles};
pub use lines::{LineReader, Loaded, Strictness, UTF8_BOM, read_to_string};
pub use msmarco::read_tsv_collection;
pub use qrels::{QrelsFormat, detect_qrels_format, read_qrels};
pub use tevatron::{TrainGroup, TrainGroupFile, TrainGroupSource, TrainPassage, read_train_groups, write_train_groups};
pub use trec::{
    RunLine, parse_run_line, read_trec_qrels, read_trec_qrels_from, read_trec_run, read_trec_run_from,
    write_trec_qrels, write_trec_run,
};
