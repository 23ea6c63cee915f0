//! Encoding a corpus through an on-disk cache of embedding shards. Each shard (a fixed range of documents in
//! corpus order) is one file written atomically, holding a hash of every input text: a killed run resumes at the
//! first missing shard, a re-run re-encodes nothing, and a changed text or model never reuses a stale vector.
//! Shard files are named by position and content, so several corpora share one model's folder.
//! Shards can be split across processes (`i/n`) that share the cache folder.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::encoder::{EncodeError, Encoder, Role};
use crate::error::Error;
use crate::io::atomic::write_atomic;

const MAGIC: &[u8; 8] = b"DRBEMB1\0";

/// FNV-1a 64 of a text (cache validation, not security).
pub fn text_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
}

/// Which shards this process encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSelection {
    /// This process's index (0-based).
    pub index: usize,
    /// Number of processes.
    pub count: usize,
}

impl ShardSelection {
    /// Every shard.
    pub const ALL: ShardSelection = ShardSelection { index: 0, count: 1 };

    /// Parses `i/n` (0 ≤ i < n).
    pub fn parse(s: &str) -> Result<ShardSelection, Error> {
        let bad = || Error::Invalid(format!("shard {s:?}: expected i/n with 0 <= i < n"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(ShardSelection { index, count })
    }

    /// Whether shard `s` belongs to this process.
    pub fn owns(&self, s: usize) -> bool {
        s % self.count == self.index
    }
}

/// The embedding cache of one (encoder signature, role) pair.
#[derive(Debug, Clone)]
pub struct EmbeddingCache {
    dir: PathBuf,
    shard_size: usize,
}

/// What [`EmbeddingCache::encode`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheReport {
    /// Shards read from disk.
    pub shards_reused: usize,
    /// Shards encoded now.
    pub shards_encoded: usize,
    /// Shards left to other processes (`--shard`).
    pub shards_skipped: usize,
}

impl EmbeddingCache {
    /// The cache for `signature` and `role` under `root` (folder name = a hash of both).
    pub fn new(root: &Path, signature: &str, role: Role, shard_size: usize) -> EmbeddingCache {
        let key = format!("{:016x}", text_hash(&format!("{signature}\u{0}{role}\u{0}{shard_size}")));
        EmbeddingCache { dir: root.join(key), shard_size: shard_size.max(1) }
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Shard `s` of a text list is named by its position and a hash of its texts' hashes, so different corpora
    /// (or subsets) encoded with one model share the folder without overwriting each other's shards.
    fn shard_path(&self, s: usize, hashes: &[u64]) -> PathBuf {
        let key = hashes.iter().fold(0xcbf29ce484222325u64, |h, x| (h ^ x).wrapping_mul(0x100000001b3));
        self.dir.join(format!("shard-{s:06}-{key:016x}.bin"))
    }

    /// Embeddings of `texts` (row-major, `texts.len() × dim`), reading valid shards and encoding the others owned
    /// by `selection`. Rows of shards owned by other processes (and not cached yet) are left as zeros and
    /// reported in `shards_skipped`. `progress(n)` is called with each shard's size once it is available.
    pub fn encode(
        &self,
        encoder: &mut dyn Encoder,
        texts: &[&str],
        role: Role,
        selection: ShardSelection,
        progress: &mut dyn FnMut(usize),
    ) -> Result<(Vec<f32>, CacheReport), CacheError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| CacheError::Io(Error::io(&self.dir, e)))?;
        let sig_path = self.dir.join("SIGNATURE");
        if !sig_path.exists() {
            let _ = std::fs::write(&sig_path, format!("{}\nrole: {role}\n", encoder.signature()));
        }
        let dim = encoder.dim();
        let mut out = vec![0f32; texts.len() * dim];
        let mut report = CacheReport::default();
        for (s, chunk) in texts.chunks(self.shard_size).enumerate() {
            let hashes: Vec<u64> = chunk.iter().map(|t| text_hash(t)).collect();
            let rows = &mut out[s * self.shard_size * dim..(s * self.shard_size + chunk.len()) * dim];
            if self.read_shard(s, &hashes, dim, rows) {
                report.shards_reused += 1;
                progress(chunk.len());
                continue;
            }
            if !selection.owns(s) {
                report.shards_skipped += 1;
                continue;
            }
            let emb = encoder.encode(chunk, role).map_err(CacheError::Encode)?;
            rows.copy_from_slice(&emb);
            self.write_shard(s, &hashes, dim, &emb).map_err(CacheError::Io)?;
            report.shards_encoded += 1;
            progress(chunk.len());
        }
        Ok((out, report))
    }

    /// Fills `rows` from shard `s` when it exists and matches `hashes` and `dim`.
    fn read_shard(&self, s: usize, hashes: &[u64], dim: usize, rows: &mut [f32]) -> bool {
        let Ok(bytes) = std::fs::read(self.shard_path(s, hashes)) else { return false };
        let n = hashes.len();
        let expected = 8 + 8 + 8 + n * 8 + n * dim * 4 + 4;
        if bytes.len() != expected || &bytes[..8] != MAGIC {
            return false;
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
            return false;
        }
        let u64_at = |o: usize| u64::from_le_bytes(body[o..o + 8].try_into().expect("8 bytes"));
        if u64_at(8) != dim as u64 || u64_at(16) != n as u64 {
            return false;
        }
        if (0..n).any(|i| u64_at(24 + i * 8) != hashes[i]) {
            return false;
        }
        let data = &body[24 + n * 8..];
        for (dst, src) in rows.iter_mut().zip(data.chunks_exact(4)) {
            *dst = f32::from_le_bytes(src.try_into().expect("4 bytes"));
        }
        true
    }

    fn write_shard(&self, s: usize, hashes: &[u64], dim: usize, emb: &[f32]) -> Result<(), Error> {
        let mut buf = Vec::with_capacity(24 + hashes.len() * 8 + emb.len() * 4 + 4);
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&(dim as u64).to_le_bytes());
        buf.extend_from_slice(&(hashes.len() as u64).to_le_bytes());
        hashes.iter().for_each(|h| buf.extend_from_slice(&h.to_le_bytes()));
        emb.iter().for_each(|x| buf.extend_from_slice(&x.to_le_bytes()));
        let crc = crc32fast::hash(&buf);
        buf.extend_from_slice(&crc.to_le_bytes());
        write_atomic(&self.shard_path(s, hashes), |w| w.write_all(&buf))
    }
}

/// Errors of the cache: the encoder's, or the disk's.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The encoder failed.
    #[error("encoder: {0}")]
    Encode(EncodeError),
    /// Reading or writing the cache failed.
    #[error(transparent)]
    Io(Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic fake encoder that counts the texts it was asked to encode.
    struct Counting {
        calls: usize,
    }

    impl Encoder for Counting {
        fn signature(&self) -> String {
            "counting-v1".into()
        }
        fn dim(&self) -> usize {
            3
        }
        fn encode(&mut self, texts: &[&str], _role: Role) -> Result<Vec<f32>, EncodeError> {
            self.calls += texts.len();
            Ok(texts.iter().flat_map(|t| [t.len() as f32, 1.0, text_hash(t) as f32]).collect())
        }
    }

    #[test]
    fn resumes_reuses_and_detects_changed_texts() {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<String> = (0..10).map(|i| format!("text {i}")).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let cache = EmbeddingCache::new(dir.path(), "counting-v1", Role::Passage, 4);
        let mut enc = Counting { calls: 0 };
        // Process 0 of 2 encodes shards 0 and 2; process 1 then finds those and encodes shard 1.
        let (_, r) =
            cache.encode(&mut enc, &refs, Role::Passage, ShardSelection::parse("0/2").unwrap(), &mut |_| {}).unwrap();
        assert_eq!((r.shards_encoded, r.shards_skipped), (2, 1));
        let (_, r) =
            cache.encode(&mut enc, &refs, Role::Passage, ShardSelection::parse("1/2").unwrap(), &mut |_| {}).unwrap();
        assert_eq!((r.shards_reused, r.shards_encoded), (2, 1));
        assert_eq!(enc.calls, 10);
        // Everything cached now: identical vectors, no encoding.
        let (all, r) = cache.encode(&mut enc, &refs, Role::Passage, ShardSelection::ALL, &mut |_| {}).unwrap();
        assert_eq!((r.shards_reused, enc.calls), (3, 10));
        assert_eq!(all, Counting { calls: 0 }.encode(&refs, Role::Passage).unwrap());
        // A changed text invalidates only its shard.
        let mut changed = refs.clone();
        changed[5] = "something else";
        let (_, r) = cache.encode(&mut enc, &changed, Role::Passage, ShardSelection::ALL, &mut |_| {}).unwrap();
        assert_eq!((r.shards_reused, r.shards_encoded, enc.calls), (2, 1, 14));
        // Another text list (another corpus) shares the folder without evicting this one's shards.
        let other: Vec<&str> = vec!["another corpus", "entirely"];
        let (_, r) = cache.encode(&mut enc, &other, Role::Passage, ShardSelection::ALL, &mut |_| {}).unwrap();
        assert_eq!((r.shards_encoded, enc.calls), (1, 16));
        let (_, r) = cache.encode(&mut enc, &changed, Role::Passage, ShardSelection::ALL, &mut |_| {}).unwrap();
        assert_eq!((r.shards_reused, enc.calls), (3, 16));
        // A corrupt shard is re-encoded, not trusted.
        let shard0 = std::fs::read_dir(cache.dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                name.starts_with("shard-000000-") && std::fs::read(p).unwrap().len() > 100
            })
            .unwrap();
        let mut bytes = std::fs::read(&shard0).unwrap();
        bytes[40] ^= 1;
        std::fs::write(&shard0, bytes).unwrap();
        let (_, r) = cache.encode(&mut enc, &changed, Role::Passage, ShardSelection::ALL, &mut |_| {}).unwrap();
        assert_eq!(r.shards_encoded, 1);
        assert!(ShardSelection::parse("2/2").is_err() && ShardSelection::parse("x").is_err());
    }
}
