//! A line reader over a file that reuses one buffer, counts lines and names the file in every error.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The UTF-8 byte-order mark some editors put before the first line; readers drop it (with a note on stderr).
pub const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Reads a file line by line (`\n` or `\r\n`), without allocating per line.
#[derive(Debug)]
pub struct LineReader<R = BufReader<File>> {
    reader: R,
    buf: Vec<u8>,
    line: u64,
    path: PathBuf,
}

impl LineReader {
    /// Opens `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(Self::new(BufReader::with_capacity(1 << 20, file), path))
    }
}

/// `path` as buffered bytes, decompressed on the fly when its name ends in `.gz` (gzip; concatenated members too):
/// how every reader of possibly-compressed data opens its file.
pub fn open_maybe_gz(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::with_capacity(1 << 20, flate2::read::MultiGzDecoder::new(BufReader::new(file))))
    } else {
        Box::new(BufReader::with_capacity(1 << 20, file))
    })
}

impl LineReader<Box<dyn BufRead + Send>> {
    /// Opens `path`, decompressing it on the fly when its name ends in `.gz` ([`open_maybe_gz`]).
    pub fn open_maybe_gz(path: &Path) -> Result<Self> {
        Ok(Self::new(open_maybe_gz(path)?, path))
    }
}

impl<R: BufRead> LineReader<R> {
    /// Reads lines from `reader`, reporting errors against `path`.
    pub fn new(reader: R, path: &Path) -> Self {
        LineReader { reader, buf: Vec::with_capacity(4096), line: 0, path: path.to_path_buf() }
    }

    /// The file name used in errors.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The 1-based number of the line last returned.
    pub fn line_no(&self) -> u64 {
        self.line
    }

    /// An error about the line last returned.
    pub fn error(&self, message: impl Into<String>) -> Error {
        Error::parse(&self.path, self.line, message)
    }

    /// The next line as bytes, without its line terminator; `None` at end of file.
    pub fn next_bytes(&mut self) -> Result<Option<&[u8]>> {
        self.buf.clear();
        let n = self.reader.read_until(b'\n', &mut self.buf).map_err(|e| Error::io(&self.path, e))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut end = self.buf.len();
        if end > 0 && self.buf[end - 1] == b'\n' {
            end -= 1;
        }
        if end > 0 && self.buf[end - 1] == b'\r' {
            end -= 1;
        }
        let start = if self.line == 1 && self.buf[..end].starts_with(UTF8_BOM) {
            eprintln!("drbench: note: {}: the UTF-8 byte-order mark at its start is ignored", self.path.display());
            UTF8_BOM.len()
        } else {
            0
        };
        Ok(Some(&self.buf[start..end]))
    }

    /// The next line as UTF-8 text; invalid UTF-8 is an error naming the line.
    pub fn next_str(&mut self) -> Result<Option<&str>> {
        let (path, line) = (self.path.clone(), self.line + 1);
        match self.next_bytes()? {
            None => Ok(None),
            Some(b) => match std::str::from_utf8(b) {
                Ok(s) => Ok(Some(s)),
                Err(e) => Err(Error::parse(path, line, format!("invalid UTF-8 at byte {}", e.valid_up_to()))),
            },
        }
    }
}

/// Reads all of a small file into memory, naming the file on error.
pub fn read_to_string(path: &Path) -> Result<String> {
    let mut s = String::new();
    File::open(path).and_then(|mut f| f.read_to_string(&mut s)).map_err(|e| Error::io(path, e))?;
    Ok(s)
}

/// How malformed lines are handled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Strictness {
    /// The first malformed line is an error (the default).
    #[default]
    Strict,
    /// Malformed lines are skipped and counted.
    Lenient,
}

/// What a reader loaded, with the lines it skipped in lenient mode.
#[derive(Debug)]
pub struct Loaded<T> {
    /// The data.
    pub value: T,
    /// Number of malformed lines skipped (always 0 in strict mode).
    pub skipped: u64,
    /// The first skipped line's error, for the warning message.
    pub first_skipped: Option<Error>,
}

/// Collects skipped-line errors in lenient mode, or returns them in strict mode.
#[derive(Debug, Default)]
pub(crate) struct SkipLog {
    strictness: Strictness,
    skipped: u64,
    first: Option<Error>,
}

impl SkipLog {
    pub(crate) fn new(strictness: Strictness) -> Self {
        SkipLog { strictness, skipped: 0, first: None }
    }

    /// Strict: returns the error. Lenient: records it and returns Ok (the caller skips the line).
    pub(crate) fn skip(&mut self, err: Error) -> Result<()> {
        match self.strictness {
            Strictness::Strict => Err(err),
            Strictness::Lenient => {
                self.skipped += 1;
                self.first.get_or_insert(err);
                Ok(())
            }
        }
    }

    pub(crate) fn finish<T>(self, value: T) -> Loaded<T> {
        Loaded { value, skipped: self.skipped, first_skipped: self.first }
    }
}
