//! Parquet data files as the Hugging Face hub holds datasets (MTEB, CoIR): corpus and query rows (`_id`/`id`,
//! `title`, `text`) and qrels rows (`query-id`/`query_id`, `corpus-id`/`corpus_id`, `score`), read one row group
//! at a time through the `parquet` crate's row API with only the needed columns decoded. Every error names the
//! file and the 1-based row.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row};
use parquet::schema::types::{Type, TypePtr};

use crate::data::{Collection, Qrels};
use crate::error::{Error, Result};

/// The accepted spellings of each column, first match wins.
const ID: &[&str] = &["_id", "id"];
const TITLE: &[&str] = &["title"];
const TEXT: &[&str] = &["text"];
const QUERY_ID: &[&str] = &["query-id", "query_id", "qid"];
const CORPUS_ID: &[&str] = &["corpus-id", "corpus_id", "doc_id", "docid"];
const SCORE: &[&str] = &["score", "relevance"];

/// Appends the rows of a corpus or queries file to `coll`; returns the number of rows read. `origin` receives
/// the 1-based row number of each record pushed (for duplicate-id messages).
pub fn read_parquet_collection_into(path: &Path, coll: &mut Collection, origin: &mut Vec<u64>) -> Result<u64> {
    let reader = open(path)?;
    let columns = Columns::find(path, &reader, &[ID, TITLE, TEXT], &[true, false, true])?;
    let mut row_no = 0u64;
    for_each_row(path, &reader, &columns, |row| {
        row_no += 1;
        let bad = |m: String| Error::parse(path, row_no, m);
        let id = id_value(row, 0).map_err(bad)?;
        let title = text_value(row, columns.position(1), "title", true).map_err(bad)?;
        let text = text_value(row, columns.position(2), "text", false).map_err(bad)?;
        if id.is_empty() {
            return Err(bad("empty id".into()));
        }
        coll.push(&id, &title, &text);
        origin.push(row_no);
        Ok(())
    })?;
    Ok(row_no)
}

/// Adds the rows of a qrels file to `qrels`; a repeated (query, document) pair is an error naming the row.
pub fn read_parquet_qrels_into(path: &Path, qrels: &mut Qrels) -> Result<u64> {
    let reader = open(path)?;
    let columns = Columns::find(path, &reader, &[QUERY_ID, CORPUS_ID, SCORE], &[true, true, true])?;
    let mut row_no = 0u64;
    for_each_row(path, &reader, &columns, |row| {
        row_no += 1;
        let parsed = (|| {
            let q = id_value(row, 0)?;
            let d = id_value(row, 1)?;
            let g = grade_value(row.get_column_iter().nth(2).ok_or_else(|| "no score column".to_string())?.1)?;
            Ok((q, d, g))
        })();
        let parsed_ref = parsed.as_ref().map(|(q, d, g)| (q.as_str(), d.as_str(), *g)).map_err(Clone::clone);
        match qrels.add_judgment(parsed_ref) {
            Some(msg) => Err(Error::parse(path, row_no, msg)),
            None => Ok(()),
        }
    })?;
    Ok(row_no)
}

fn open(path: &Path) -> Result<SerializedFileReader<File>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    SerializedFileReader::new(file).map_err(|e| Error::file(path, format!("not a readable parquet file: {e}")))
}

/// The projected columns: for each wanted column, its name in the file (None: optional and absent).
struct Columns {
    projection: Type,
    /// Position of each wanted column in the projected row (None when absent).
    positions: Vec<Option<usize>>,
}

impl Columns {
    fn find(
        path: &Path,
        reader: &SerializedFileReader<File>,
        wanted: &[&[&str]],
        required: &[bool],
    ) -> Result<Columns> {
        let schema = reader.metadata().file_metadata().schema();
        let fields = schema.get_fields();
        let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
        let mut picked: Vec<TypePtr> = Vec::new();
        let mut positions = Vec::new();
        for (spellings, &req) in wanted.iter().zip(required) {
            let found = spellings.iter().find_map(|s| fields.iter().find(|f| f.name() == *s));
            match found {
                Some(f) => {
                    positions.push(Some(picked.len()));
                    picked.push(Arc::clone(f));
                }
                None if req => {
                    return Err(Error::file(
                        path,
                        format!("no column {} (columns: {})", spellings.join(" or "), names.join(", ")),
                    ));
                }
                None => positions.push(None),
            }
        }
        let projection = Type::group_type_builder(schema.name())
            .with_fields(picked)
            .build()
            .map_err(|e| Error::file(path, format!("cannot project columns: {e}")))?;
        Ok(Columns { projection, positions })
    }

    fn position(&self, wanted: usize) -> Option<usize> {
        self.positions[wanted]
    }
}

/// Calls `f` on each row, one row group at a time (only that group's pages are held).
fn for_each_row(
    path: &Path,
    reader: &SerializedFileReader<File>,
    columns: &Columns,
    mut f: impl FnMut(&Row) -> Result<()>,
) -> Result<()> {
    for g in 0..reader.num_row_groups() {
        let group = reader.get_row_group(g).map_err(|e| Error::file(path, format!("row group {g}: {e}")))?;
        let rows = group
            .get_row_iter(Some(columns.projection.clone()))
            .map_err(|e| Error::file(path, format!("row group {g}: {e}")))?;
        for row in rows {
            let row = row.map_err(|e| Error::file(path, format!("row group {g}: {e}")))?;
            f(&row)?;
        }
    }
    Ok(())
}

/// The id in projected column `i`: a string, or an integer written as text (some datasets store numeric ids).
fn id_value(row: &Row, i: usize) -> Result<String, String> {
    match row.get_column_iter().nth(i).map(|(_, v)| v) {
        Some(Field::Str(s)) => Ok(s.clone()),
        Some(Field::Int(v)) => Ok(v.to_string()),
        Some(Field::Long(v)) => Ok(v.to_string()),
        Some(Field::UInt(v)) => Ok(v.to_string()),
        Some(Field::ULong(v)) => Ok(v.to_string()),
        Some(Field::Null) | None => Err("the id is null".into()),
        Some(other) => Err(format!("the id {other} is neither text nor an integer")),
    }
}

/// A text column's value; a null or absent optional column reads as "".
fn text_value(row: &Row, i: Option<usize>, what: &str, optional: bool) -> Result<String, String> {
    let Some(i) = i else { return Ok(String::new()) };
    match row.get_column_iter().nth(i).map(|(_, v)| v) {
        Some(Field::Str(s)) => Ok(s.clone()),
        Some(Field::Null) | None if optional => Ok(String::new()),
        Some(Field::Null) | None => Err(format!("the {what} is null")),
        Some(other) => Err(format!("the {what} {other} is not text")),
    }
}

/// A relevance grade: an integer (any width), an integral float, or integer text.
fn grade_value(v: &Field) -> Result<i32, String> {
    let out_of_range = |x: String| format!("relevance {x} is outside the 32-bit integer range");
    match v {
        Field::Byte(x) => Ok(i32::from(*x)),
        Field::Short(x) => Ok(i32::from(*x)),
        Field::Int(x) => Ok(*x),
        Field::Long(x) => i32::try_from(*x).map_err(|_| out_of_range(x.to_string())),
        Field::UInt(x) => i32::try_from(*x).map_err(|_| out_of_range(x.to_string())),
        Field::ULong(x) => i32::try_from(*x).map_err(|_| out_of_range(x.to_string())),
        Field::Float(x) => integral(f64::from(*x)),
        Field::Double(x) => integral(*x),
        Field::Str(s) => super::fields::parse_grade(s.as_bytes()),
        Field::Null => Err("the relevance is null".into()),
        other => Err(format!("relevance {other} is not a number")),
    }
}

fn integral(x: f64) -> Result<i32, String> {
    if x.fract() == 0.0 && x >= f64::from(i32::MIN) && x <= f64::from(i32::MAX) {
        Ok(x as i32)
    } else {
        Err(format!("relevance {x} is not an integer"))
    }
}
