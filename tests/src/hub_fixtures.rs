//! Hub repositories made from a real task (e.g. NFCorpus from ../shared/mirror), re-laid in each layout the
//! store reads: MTEB's parquet configs, BEIR files in a repository, the older `NAME` + `NAME-qrels` pair (with
//! `query_id`/`corpus_id` columns), CoIR's per-language configs. Parquet is written with the `parquet` crate's
//! own writer (snappy, several row groups), as `datasets`/pyarrow write it.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::Arc;

use drbench_harness::data::{Collection, Qrels};
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use crate::hub_standin::StandinRepo;

/// One column of a parquet file.
#[derive(Debug, Clone)]
pub enum Column {
    /// UTF-8 text.
    Text(Vec<String>),
    /// 64-bit integers.
    Int(Vec<i64>),
    /// 64-bit floats.
    Double(Vec<f64>),
}

/// A parquet file of `columns`, `rows_per_group` rows per row group.
pub fn parquet(columns: &[(&str, Column)], rows_per_group: usize) -> Vec<u8> {
    let fields: String = columns
        .iter()
        .map(|(n, c)| match c {
            Column::Text(_) => format!("REQUIRED BINARY {n} (UTF8); "),
            Column::Int(_) => format!("REQUIRED INT64 {n}; "),
            Column::Double(_) => format!("REQUIRED DOUBLE {n}; "),
        })
        .collect();
    let schema = Arc::new(parse_message_type(&format!("message schema {{ {fields} }}")).unwrap());
    let props = Arc::new(WriterProperties::builder().set_compression(Compression::SNAPPY).build());
    let mut out = Vec::new();
    let mut w = SerializedFileWriter::new(&mut out, schema, props).unwrap();
    let rows = match &columns[0].1 {
        Column::Text(v) => v.len(),
        Column::Int(v) => v.len(),
        Column::Double(v) => v.len(),
    };
    let mut start = 0;
    while start < rows {
        let end = (start + rows_per_group).min(rows);
        let mut g = w.next_row_group().unwrap();
        for (_, c) in columns {
            let mut col = g.next_column().unwrap().unwrap();
            match c {
                Column::Text(v) => {
                    let vals: Vec<ByteArray> = v[start..end].iter().map(|s| ByteArray::from(s.as_str())).collect();
                    col.typed::<ByteArrayType>().write_batch(&vals, None, None).unwrap();
                }
                Column::Int(v) => {
                    col.typed::<Int64Type>().write_batch(&v[start..end], None, None).unwrap();
                }
                Column::Double(v) => {
                    col.typed::<DoubleType>().write_batch(&v[start..end], None, None).unwrap();
                }
            }
            col.close().unwrap();
        }
        g.close().unwrap();
        start = end;
    }
    w.close().unwrap();
    out
}

/// `coll` as parquet rows `_id`, (`title`,) `text`.
pub fn parquet_collection(coll: &Collection, with_title: bool, rows_per_group: usize) -> Vec<u8> {
    let ids = Column::Text(coll.iter().map(|r| r.id.to_string()).collect());
    let titles = Column::Text(coll.iter().map(|r| r.title.to_string()).collect());
    let texts = Column::Text(coll.iter().map(|r| r.text.to_string()).collect());
    if with_title {
        parquet(&[("_id", ids), ("title", titles), ("text", texts)], rows_per_group)
    } else {
        parquet(&[("_id", ids), ("text", texts)], rows_per_group)
    }
}

/// `qrels` as parquet rows with the id columns named `names` and an integer `score`.
pub fn parquet_qrels(qrels: &Qrels, names: (&str, &str)) -> Vec<u8> {
    let (mut q, mut d, mut s) = (Vec::new(), Vec::new(), Vec::new());
    for (qid, judged) in qrels.to_sorted() {
        for (doc, g) in judged {
            q.push(qid.to_string());
            d.push(doc.to_string());
            s.push(i64::from(g));
        }
    }
    parquet(&[(names.0, Column::Text(q)), (names.1, Column::Text(d)), ("score", Column::Int(s))], 1000)
}

fn jsonl_gz(coll: &Collection) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for r in coll.iter() {
        writeln!(gz, "{}", serde_json::json!({"_id": r.id, "title": r.title, "text": r.text})).unwrap();
    }
    gz.finish().unwrap()
}

fn qrels_tsv(qrels: &Qrels) -> Vec<u8> {
    let mut s = String::from("query-id\tcorpus-id\tscore\n");
    for (q, judged) in qrels.to_sorted() {
        for (d, g) in judged {
            s.push_str(&format!("{q}\t{d}\t{g}\n"));
        }
    }
    s.into_bytes()
}

fn config(name: &str, split: &str, path: &str) -> String {
    format!("- config_name: {name}\n  data_files:\n  - split: {split}\n    path: {path}\n")
}

/// MTEB's current layout: configs `corpus`, `queries`, `default`; the corpus in two parquet files.
pub fn mteb_repo(id: &str, corpus: &Collection, queries: &Collection, qrels: &Qrels) -> StandinRepo {
    let half = corpus.len() / 2;
    let (a, b) = split_collection(corpus, half);
    let card = format!(
        "---\nlanguage:\n- en\nconfigs:\n{}{}{}---\n# {id}\n",
        config("corpus", "corpus", "corpus/corpus-*"),
        config("default", "test", "data/test-*"),
        config("queries", "queries", "queries/queries-*"),
    );
    let files: BTreeMap<String, Vec<u8>> = [
        ("README.md", card.into_bytes()),
        (".gitattributes", b"*.parquet filter=lfs diff=lfs merge=lfs -text\n".to_vec()),
        ("corpus/corpus-00000-of-00002.parquet", parquet_collection(&a, true, 700)),
        ("corpus/corpus-00001-of-00002.parquet", parquet_collection(&b, true, 700)),
        ("queries/queries-00000-of-00001.parquet", parquet_collection(queries, false, 500)),
        ("data/test-00000-of-00001.parquet", parquet_qrels(qrels, ("query-id", "corpus-id"))),
    ]
    .into_iter()
    .map(|(p, b)| (p.to_string(), b))
    .collect();
    StandinRepo::new(&format!("datasets/{id}"), files)
}

/// BEIR's files in a repository, no card: `corpus.jsonl.gz`, `queries.jsonl.gz`, `qrels/test.tsv`.
pub fn beir_files_repo(id: &str, corpus: &Collection, queries: &Collection, qrels: &Qrels) -> StandinRepo {
    let files = [
        ("corpus.jsonl.gz", jsonl_gz(corpus)),
        ("queries.jsonl.gz", jsonl_gz(queries)),
        ("qrels/test.tsv", qrels_tsv(qrels)),
    ]
    .into_iter()
    .map(|(p, b)| (p.to_string(), b))
    .collect();
    StandinRepo::new(&format!("datasets/{id}"), files)
}

/// The older pair: `id` (configs `corpus`, `queries` over JSONL.gz) and `id-qrels` (parquet with `query_id`,
/// `corpus_id`, no card).
pub fn older_pair(id: &str, corpus: &Collection, queries: &Collection, qrels: &Qrels) -> [StandinRepo; 2] {
    let card = format!(
        "---\nconfigs:\n{}{}---\n",
        config("corpus", "corpus", "corpus.jsonl.gz"),
        config("queries", "queries", "queries.jsonl.gz")
    );
    let main = [
        ("README.md", card.into_bytes()),
        ("corpus.jsonl.gz", jsonl_gz(corpus)),
        ("queries.jsonl.gz", jsonl_gz(queries)),
    ]
    .into_iter()
    .map(|(p, b)| (p.to_string(), b))
    .collect();
    let q = [("data/test-00000-of-00001.parquet".to_string(), parquet_qrels(qrels, ("query_id", "corpus_id")))].into();
    [StandinRepo::new(&format!("datasets/{id}"), main), StandinRepo::new(&format!("datasets/{id}-qrels"), q)]
}

/// CoIR's per-language layout: configs `{lang}-corpus`, `{lang}-queries`, `{lang}-qrels` per language.
pub fn coir_repo(id: &str, langs: &[(&str, &Collection, &Collection, &Qrels)]) -> StandinRepo {
    let mut card = String::from("---\nconfigs:\n");
    let mut files = BTreeMap::new();
    for (lang, corpus, queries, qrels) in langs {
        card += &config(&format!("{lang}-corpus"), "corpus", &format!("{lang}-corpus/*"));
        card += &config(&format!("{lang}-queries"), "queries", &format!("{lang}-queries/*"));
        card += &config(&format!("{lang}-qrels"), "test", &format!("{lang}-qrels/test-*"));
        files.insert(format!("{lang}-corpus/corpus-00000-of-00001.parquet"), parquet_collection(corpus, true, 1000));
        files
            .insert(format!("{lang}-queries/queries-00000-of-00001.parquet"), parquet_collection(queries, false, 1000));
        files.insert(
            format!("{lang}-qrels/test-00000-of-00001.parquet"),
            parquet_qrels(qrels, ("query-id", "corpus-id")),
        );
    }
    card += "---\n";
    files.insert("README.md".into(), card.into_bytes());
    StandinRepo::new(&format!("datasets/{id}"), files)
}

fn split_collection(c: &Collection, at: usize) -> (Collection, Collection) {
    let (mut a, mut b) = (Collection::new(), Collection::new());
    for (i, r) in c.iter().enumerate() {
        if i < at { a.push(r.id, r.title, r.text) } else { b.push(r.id, r.title, r.text) }
    }
    a.finish().unwrap();
    b.finish().unwrap();
    (a, b)
}
