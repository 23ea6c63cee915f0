//! Saving and loading a [`Bm25Index`]: one binary file (magic, version, JSON header, little-endian arrays,
//! CRC-32 of everything), written atomically, so a large corpus is indexed once.

use std::io::Write;
use std::path::Path;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::io::atomic::write_atomic;

use super::analyzer::AnalyzerConfig;
use super::index::{Bm25Index, FieldIndex, FieldMode, docid_ranks};
use super::lucene::Bm25Params;

const MAGIC: &[u8; 8] = b"DRBM25\0\0";
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    mode: FieldMode,
    analyzer: AnalyzerConfig,
    params: Bm25Params,
    num_docs: u64,
    fingerprint: u64,
    fields: Vec<FieldHeader>,
}

#[derive(Serialize, Deserialize)]
struct FieldHeader {
    num_terms: u64,
    num_postings: u64,
    doc_count: u64,
    sum_ttf: u64,
}

impl Bm25Index {
    /// Writes the index to `path` (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        let header = Header {
            mode: self.mode,
            analyzer: self.analyzer,
            params: self.params,
            num_docs: self.doc_ids.len() as u64,
            fingerprint: self.fingerprint,
            fields: self
                .fields
                .iter()
                .map(|f| FieldHeader {
                    num_terms: f.terms.len() as u64,
                    num_postings: f.docs.len() as u64,
                    doc_count: f.doc_count,
                    sum_ttf: f.sum_ttf,
                })
                .collect(),
        };
        let mut buf: Vec<u8> = Vec::new();
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&VERSION.to_le_bytes());
        let json = serde_json::to_vec(&header).expect("serializable header");
        buf.extend_from_slice(&(json.len() as u32).to_le_bytes());
        buf.extend_from_slice(&json);
        for id in &self.doc_ids {
            put_str(&mut buf, id);
        }
        for f in &self.fields {
            let mut terms: Vec<(&str, u32)> = f.terms.iter().map(|(t, &i)| (&**t, i)).collect();
            terms.sort_unstable_by_key(|&(_, i)| i);
            for (t, _) in terms {
                put_str(&mut buf, t);
            }
            f.offsets.iter().for_each(|v| buf.extend_from_slice(&v.to_le_bytes()));
            f.docs.iter().for_each(|v| buf.extend_from_slice(&v.to_le_bytes()));
            f.tfs.iter().for_each(|v| buf.extend_from_slice(&v.to_le_bytes()));
            buf.extend_from_slice(&f.norms);
        }
        let crc = crc32fast::hash(&buf);
        buf.extend_from_slice(&crc.to_le_bytes());
        write_atomic(path, |w| w.write_all(&buf))
    }

    /// Reads an index written by [`Bm25Index::save`], checking its magic, version and checksum.
    pub fn load(path: &Path) -> Result<Bm25Index> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let bad = |m: &str| Error::file(path, m.to_string());
        if bytes.len() < 20 || &bytes[..8] != MAGIC {
            return Err(bad("not a drbench BM25 index"));
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
            return Err(bad("checksum mismatch: the index file is corrupt or truncated; rebuild it"));
        }
        let mut r = Reader { buf: body, pos: 8 };
        let version = r.u32().ok_or_else(|| bad("truncated"))?;
        if version != VERSION {
            return Err(bad(&format!("index format version {version}, this drbench reads {VERSION}; rebuild it")));
        }
        let hlen = r.u32().ok_or_else(|| bad("truncated"))? as usize;
        let header: Header = serde_json::from_slice(r.take(hlen).ok_or_else(|| bad("truncated"))?)
            .map_err(|e| bad(&format!("bad header: {e}")))?;
        let parse = |r: &mut Reader<'_>| -> Option<Bm25Index> {
            let n = header.num_docs as usize;
            let doc_ids = (0..n).map(|_| r.string()).collect::<Option<Vec<_>>>()?;
            let mut fields = Vec::new();
            for fh in &header.fields {
                let nt = fh.num_terms as usize;
                let np = fh.num_postings as usize;
                let mut terms = FxHashMap::default();
                for i in 0..nt {
                    terms.insert(r.string()?.into_boxed_str(), i as u32);
                }
                let offsets = r.array(nt + 1, 8, |b| u64::from_le_bytes(b.try_into().unwrap()))?;
                let docs = r.array(np, 4, |b| u32::from_le_bytes(b.try_into().unwrap()))?;
                let tfs = r.array(np, 4, |b| u32::from_le_bytes(b.try_into().unwrap()))?;
                let norms = r.take(n)?.to_vec();
                fields.push(FieldIndex {
                    terms,
                    offsets,
                    docs,
                    tfs,
                    norms,
                    doc_count: fh.doc_count,
                    sum_ttf: fh.sum_ttf,
                });
            }
            let (docid_rank, doc_by_rank) = docid_ranks(&doc_ids);
            Some(Bm25Index {
                docid_rank,
                doc_by_rank,
                doc_ids,
                fields,
                mode: header.mode,
                analyzer: header.analyzer,
                params: header.params,
                fingerprint: header.fingerprint,
            })
        };
        let index = parse(&mut r).ok_or_else(|| bad("truncated"))?;
        if r.pos != body.len() {
            return Err(bad("trailing bytes after the index"));
        }
        Ok(index)
    }
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.buf.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn string(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    fn array<T>(&mut self, n: usize, width: usize, f: impl Fn(&[u8]) -> T) -> Option<Vec<T>> {
        Some(self.take(n.checked_mul(width)?)?.chunks_exact(width).map(f).collect())
    }
}
