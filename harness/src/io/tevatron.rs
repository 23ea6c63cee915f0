//! Training groups in Tevatron's JSONL layout: one query per line with its positive and (hard) negative
//! passages — `{"query_id", "query", "positive_passages": [{"docid","title","text"}], "negative_passages": [...]}`.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::atomic::write_atomic;
use super::lines::{LineReader, open_maybe_gz};
use crate::error::{Error, Result};

/// One passage of a training group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainPassage {
    /// Document id.
    pub docid: String,
    /// Title (may be empty).
    #[serde(default)]
    pub title: String,
    /// Body text.
    pub text: String,
}

impl TrainPassage {
    /// `title + " " + text`, as BEIR passages are encoded everywhere else in drbench.
    pub fn flat_text(&self) -> String {
        format!("{} {}", self.title, self.text)
    }
}

/// One query with its positives and negatives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainGroup {
    /// Query id.
    pub query_id: String,
    /// Query text.
    pub query: String,
    /// Judged relevant passages (at least one).
    pub positive_passages: Vec<TrainPassage>,
    /// Negatives (hard negatives from retrievers, judged positives excluded).
    #[serde(default)]
    pub negative_passages: Vec<TrainPassage>,
}

/// One line of a Tevatron file as a group; every group needs a positive.
fn parse_group(line: &[u8]) -> std::result::Result<TrainGroup, String> {
    let group: TrainGroup = serde_json::from_slice(line).map_err(|e| format!("not a Tevatron training group: {e}"))?;
    if group.positive_passages.is_empty() {
        return Err(format!("query {:?} has no positive_passages", group.query_id));
    }
    Ok(group)
}

/// Reads a Tevatron JSONL file (gzip when named `.gz`, as Tevatron's `train.jsonl.gz`) into memory; every group
/// needs a positive. Errors name the file and line. For files of any size, [`TrainGroupFile`].
pub fn read_train_groups(path: &Path) -> Result<Vec<TrainGroup>> {
    let mut reader = LineReader::open_maybe_gz(path)?;
    let mut groups = Vec::new();
    while let Some(line) = reader.next_str()? {
        if line.trim().is_empty() {
            continue;
        }
        groups.push(parse_group(line.as_bytes()).map_err(|m| reader.error(m))?);
    }
    if groups.is_empty() {
        return Err(Error::file(path, "no training groups"));
    }
    Ok(groups)
}

/// Where training groups come from, one at a time by index: a list in memory, or a [`TrainGroupFile`] on disk.
pub trait TrainGroupSource: Send + Sync {
    /// How many groups.
    fn count(&self) -> usize;
    /// Group `i` (0-based, `i < count()`).
    fn group(&self, i: usize) -> Result<TrainGroup>;
    /// The query id of the first group without negatives, if any.
    fn first_without_negatives(&self) -> Option<String>;
}

impl TrainGroupSource for Vec<TrainGroup> {
    fn count(&self) -> usize {
        self.len()
    }
    fn group(&self, i: usize) -> Result<TrainGroup> {
        self.get(i).cloned().ok_or_else(|| Error::Invalid(format!("no training group {i} of {}", self.len())))
    }
    fn first_without_negatives(&self) -> Option<String> {
        self.iter().find(|g| g.negative_passages.is_empty()).map(|g| g.query_id.clone())
    }
}

/// A Tevatron file of any size (Tevatron's MS MARCO `train.jsonl.gz` is 2.1 GB compressed), read once as a
/// stream — every group checked as [`read_train_groups`] checks it — and then served by index from disk: memory
/// holds each group's byte span (12 bytes a group), not its text. A plain JSONL file is read in place; a gzip one
/// is decompressed on the way into `spool` (through the atomic writer), which the spans point into.
#[derive(Debug)]
pub struct TrainGroupFile {
    /// The file the spans point into (the source, or its decompressed spool).
    data: PathBuf,
    /// Byte offset and length of each group's line in `data`.
    spans: Vec<(u64, u32)>,
    first_without_negatives: Option<String>,
    file: std::sync::Mutex<std::fs::File>,
}

impl TrainGroupFile {
    /// Reads `path` once (gzip when named `.gz`, decompressed into `spool`); errors name the file and line.
    pub fn open(path: &Path, spool: &Path) -> Result<TrainGroupFile> {
        let gz = path.extension().is_some_and(|e| e == "gz");
        let scan = if gz {
            let mut scanned = None;
            write_atomic(spool, |w| {
                let r = scan_groups(path, Some(w));
                let failed = r.is_err();
                scanned = Some(r);
                if failed { Err(std::io::Error::other("the training file did not read")) } else { Ok(()) }
            })
            .or_else(|e| match &scanned {
                Some(Err(_)) => Ok(()),
                _ => Err(e),
            })?;
            scanned.expect("the writer ran")?
        } else {
            scan_groups(path, None)?
        };
        let data = if gz { spool.to_path_buf() } else { path.to_path_buf() };
        let file = std::fs::File::open(&data).map_err(|e| Error::io(&data, e))?;
        Ok(TrainGroupFile {
            data,
            spans: scan.spans,
            first_without_negatives: scan.first_without_negatives,
            file: std::sync::Mutex::new(file),
        })
    }
}

struct Scan {
    spans: Vec<(u64, u32)>,
    first_without_negatives: Option<String>,
}

/// One pass over `path`: each non-empty line parsed and checked, its span recorded; every byte copied to `copy`.
fn scan_groups(path: &Path, mut copy: Option<&mut dyn Write>) -> Result<Scan> {
    use std::io::BufRead;
    let mut reader = open_maybe_gz(path)?;
    let mut scan = Scan { spans: Vec::new(), first_without_negatives: None };
    let (mut offset, mut line_no) = (0u64, 0u64);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if let Some(w) = copy.as_mut() {
            w.write_all(&line).map_err(|e| Error::io(path, e))?;
        }
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if !body.iter().all(u8::is_ascii_whitespace) {
            let len = u32::try_from(body.len()).map_err(|_| Error::parse(path, line_no, "a line over 4 GiB"))?;
            let group = parse_group(body).map_err(|m| Error::parse(path, line_no, m))?;
            if group.negative_passages.is_empty() && scan.first_without_negatives.is_none() {
                scan.first_without_negatives = Some(group.query_id);
            }
            scan.spans.push((offset, len));
        }
        offset += n as u64;
    }
    if scan.spans.is_empty() {
        return Err(Error::file(path, "no training groups"));
    }
    Ok(scan)
}

impl TrainGroupSource for TrainGroupFile {
    fn count(&self) -> usize {
        self.spans.len()
    }

    fn group(&self, i: usize) -> Result<TrainGroup> {
        use std::io::{Read, Seek, SeekFrom};
        let &(offset, len) = self.spans.get(i).ok_or_else(|| {
            Error::Invalid(format!("no training group {i} of {} in {}", self.spans.len(), self.data.display()))
        })?;
        let mut buf = vec![0u8; len as usize];
        {
            let mut f = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f.seek(SeekFrom::Start(offset)).map_err(|e| Error::io(&self.data, e))?;
            f.read_exact(&mut buf).map_err(|e| Error::io(&self.data, e))?;
        }
        parse_group(&buf).map_err(|m| {
            Error::file(&self.data, format!("group {i} at byte {offset}: {m} (changed since it was read?)"))
        })
    }

    fn first_without_negatives(&self) -> Option<String> {
        self.first_without_negatives.clone()
    }
}

/// Writes groups as Tevatron JSONL, atomically.
pub fn write_train_groups(path: &Path, groups: &[TrainGroup]) -> Result<()> {
    write_atomic(path, |w| {
        for g in groups {
            serde_json::to_writer(&mut *w, g).map_err(std::io::Error::other)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(id: &str) -> TrainPassage {
        TrainPassage { docid: id.into(), title: format!("T{id}"), text: format!("text of {id}") }
    }

    #[test]
    fn round_trip_and_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.jsonl");
        let groups = vec![TrainGroup {
            query_id: "1".into(),
            query: "q \"one\"".into(),
            positive_passages: vec![passage("a")],
            negative_passages: vec![passage("b"), passage("c")],
        }];
        write_train_groups(&path, &groups).unwrap();
        assert_eq!(read_train_groups(&path).unwrap(), groups);
        let gz = dir.path().join("train.jsonl.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, &std::fs::read(&path).unwrap()).unwrap();
        let bytes = enc.finish().unwrap();
        std::fs::write(&gz, &bytes).unwrap();
        assert_eq!(read_train_groups(&gz).unwrap(), groups);
        std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_train_groups(&gz).unwrap_err().to_string();
        assert!(err.contains("train.jsonl.gz"), "a truncated gzip names the file: {err}");

        // Tevatron's own files may omit titles; a group without positives is an error on its line.
        std::fs::write(
            &path,
            "{\"query_id\":\"1\",\"query\":\"q\",\"positive_passages\":[{\"docid\":\"a\",\"text\":\"t\"}],\"negative_passages\":[]}\n\
             {\"query_id\":\"2\",\"query\":\"q\",\"positive_passages\":[],\"negative_passages\":[]}\n",
        )
        .unwrap();
        let err = read_train_groups(&path).unwrap_err().to_string();
        assert!(err.ends_with("train.jsonl:2: query \"2\" has no positive_passages"), "{err}");
        std::fs::write(&path, "{\"query_id\": 1}\n").unwrap();
        let err = read_train_groups(&path).unwrap_err().to_string();
        assert!(err.contains("train.jsonl:1: not a Tevatron training group"), "{err}");
    }

    /// The file the sampler reads from disk gives the groups the in-memory reader gives, from a plain file in
    /// place and from a gzip one through its decompressed spool; the same checks, on the same lines.
    #[test]
    fn group_file_serves_by_index_what_the_reader_reads() {
        let dir = tempfile::tempdir().unwrap();
        let groups: Vec<TrainGroup> = (0..50)
            .map(|i| TrainGroup {
                query_id: format!("q{i}"),
                query: format!("query \u{e9} {i}"),
                positive_passages: vec![passage(&format!("p{i}"))],
                negative_passages: (0..i % 4).map(|k| passage(&format!("n{i}-{k}"))).collect(),
            })
            .collect();
        let plain = dir.path().join("train.jsonl");
        write_train_groups(&plain, &groups).unwrap();
        // A blank line and CRLF endings change nothing.
        let text = std::fs::read_to_string(&plain).unwrap().replacen('\n', "\r\n\n", 3);
        std::fs::write(&plain, &text).unwrap();
        let gz = dir.path().join("train.jsonl.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, text.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        for (path, spool) in [(&plain, dir.path().join("unused.jsonl")), (&gz, dir.path().join("spool.jsonl"))] {
            let file = TrainGroupFile::open(path, &spool).unwrap();
            assert_eq!(file.count(), groups.len());
            assert_eq!(read_train_groups(path).unwrap(), groups);
            for i in [49, 0, 17, 3] {
                assert_eq!(file.group(i).unwrap(), groups[i], "{}", path.display());
            }
            assert!(file.group(50).is_err());
            assert_eq!(file.first_without_negatives().as_deref(), Some("q0"));
            assert_eq!(spool.is_file(), path == &gz, "only a gzip file is spooled");
        }
        assert_eq!(std::fs::read_to_string(dir.path().join("spool.jsonl")).unwrap(), text);

        // A bad group inside the gzip names its line; no spool is left behind.
        let bad = text.replacen("\"positive_passages\":[{", "\"positive_passages\":[], \"x\":[{", 1);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, bad.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let spool = dir.path().join("bad-spool.jsonl");
        let err = TrainGroupFile::open(&gz, &spool).unwrap_err().to_string();
        assert!(err.contains("train.jsonl.gz:1: query \"q0\" has no positive_passages"), "{err}");
        assert!(!spool.exists());
        std::fs::write(&plain, "\n\n").unwrap();
        assert!(TrainGroupFile::open(&plain, &spool).unwrap_err().to_string().contains("no training groups"));
    }
}
