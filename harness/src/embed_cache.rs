//! Encoding a corpus through an on-disk cache of embedding shards. Each shard (a fixed range of documents in
//! corpus order) is one file written atomically, holding a hash of every input text: a killed run resumes at the
//! first missing shard, a re-run re-encodes nothing, and a changed text or model never reuses a stale vector.
//! Shard files are named by position and content, so several corpora share one model's folder.
//! Shards can be split across processes (`i/n`) that share the cache folder.
//!
//! A folder is keyed by the sha256 of (encoder signature, role, shard size) and holds `cache.json`
//! ([`CacheManifest`]) saying exactly that, written before the first shard: a folder whose manifest names anything
//! else, or a newer format, is refused with the reason, never read. A folder of drbench ≤ 0.1 (keyed by an FNV hash
//! of its legacy signature, with a `SIGNATURE` text file) is adopted when its signature equals the encoder's legacy
//! one: renamed to the new key and given a manifest; its shards are in the same format.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::encoder::{EncodeError, Encoder, Role};
use crate::error::Error;
use crate::io::atomic::write_atomic;

const MAGIC: &[u8; 8] = b"DRBEMB1\0";

/// The format of [`CacheManifest`] and the shard files this version writes.
pub const CACHE_FORMAT: u32 = 2;

const MANIFEST: &str = "cache.json";
const LEGACY_SIGNATURE: &str = "SIGNATURE";

/// What a cache folder holds: `cache.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheManifest {
    /// [`CACHE_FORMAT`] of the drbench that made it.
    pub format: u32,
    /// The encoder's signature.
    pub signature: String,
    /// Queries or passages.
    pub role: Role,
    /// Texts per shard.
    pub shard_size: usize,
    /// The drbench version that made it (for people reading the file).
    #[serde(default)]
    pub made_by: String,
}

/// How [`EmbeddingCache::open`] found its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOrigin {
    /// Made now.
    New,
    /// Made earlier by this format.
    Existing,
    /// A drbench ≤ 0.1 folder with the same settings, renamed from this path.
    Adopted(PathBuf),
}

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
    role: Role,
    shard_size: usize,
    origin: CacheOrigin,
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

/// The first 16 hex digits of the sha256 of `text`.
fn key_of(text: &str) -> String {
    hex16(&Sha256::digest(text.as_bytes()))
}

fn hex16(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

impl EmbeddingCache {
    /// Opens (or makes) the cache of `encoder` for `role` under `root`: the folder keyed by its signature, or an
    /// earlier drbench's folder for its legacy signature, adopted (see the module documentation).
    pub fn open(
        root: &Path,
        encoder: &dyn Encoder,
        role: Role,
        shard_size: usize,
    ) -> Result<EmbeddingCache, CacheError> {
        let shard_size = shard_size.max(1);
        let manifest = CacheManifest {
            format: CACHE_FORMAT,
            signature: encoder.signature(),
            role,
            shard_size,
            made_by: concat!("drbench ", env!("CARGO_PKG_VERSION")).into(),
        };
        let dir = root.join(key_of(&format!("{}\u{0}{role}\u{0}{shard_size}", manifest.signature)));
        let io = |p: &Path, e: std::io::Error| CacheError::Io(Error::io(p, e));
        let path = dir.join(MANIFEST);
        if path.is_file() {
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            let found: CacheManifest = serde_json::from_str(&text).map_err(|e| CacheError::Refused {
                dir: dir.clone(),
                reason: format!("{MANIFEST} is unreadable: {e}"),
            })?;
            check_manifest(&found, &manifest).map_err(|reason| CacheError::Refused { dir: dir.clone(), reason })?;
            return Ok(EmbeddingCache { dir, role, shard_size, origin: CacheOrigin::Existing });
        }
        let mut origin = CacheOrigin::New;
        if !dir.exists()
            && let Some(legacy) = encoder.legacy_signature()
        {
            let key = text_hash(&format!("{legacy}\u{0}{role}\u{0}{shard_size}"));
            let old = root.join(format!("{key:016x}"));
            let recorded = std::fs::read_to_string(old.join(LEGACY_SIGNATURE)).unwrap_or_default();
            if recorded.lines().next() == Some(legacy.as_str()) {
                // Another process (`--shard i/n`) may adopt it at the same moment: then the folder is there.
                match std::fs::rename(&old, &dir) {
                    Ok(()) => origin = CacheOrigin::Adopted(old),
                    Err(_) if dir.is_dir() => {}
                    Err(e) => return Err(io(&dir, e)),
                }
                let _ = std::fs::remove_file(dir.join(LEGACY_SIGNATURE));
            }
        }
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let text = serde_json::to_string_pretty(&manifest).expect("plain data serialises");
        write_atomic(&path, |w| w.write_all(text.as_bytes())).map_err(CacheError::Io)?;
        Ok(EmbeddingCache { dir, role, shard_size, origin })
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How the folder was found.
    pub fn origin(&self) -> &CacheOrigin {
        &self.origin
    }

    /// Shard `s` of a text list is named by its position and a hash of its texts' hashes, so different corpora
    /// (or subsets) encoded with one model share the folder without overwriting each other's shards.
    fn shard_path(&self, s: usize, hashes: &[u64]) -> PathBuf {
        let key = hashes.iter().fold(0xcbf29ce484222325u64, |h, x| (h ^ x).wrapping_mul(0x100000001b3));
        self.dir.join(format!("shard-{s:06}-{key:016x}.bin"))
    }

    /// Embeddings of the texts of the shards `selection` owns (row-major, in text order: all of `texts` with
    /// [`ShardSelection::ALL`]), by `encoder` (the one the cache was opened for), reading valid shards and encoding
    /// the others. Shards owned by other processes are neither read nor encoded, and no memory is allocated for
    /// them; they are counted in `shards_skipped`. `progress(n)` is called with each owned shard's size once it is
    /// available.
    pub fn encode(
        &self,
        encoder: &mut dyn Encoder,
        texts: &[&str],
        selection: ShardSelection,
        progress: &mut dyn FnMut(usize),
    ) -> Result<(Vec<f32>, CacheReport), CacheError> {
        let dim = encoder.dim();
        let owned_rows: usize =
            texts.chunks(self.shard_size).enumerate().filter(|(s, _)| selection.owns(*s)).map(|(_, c)| c.len()).sum();
        let mut out = vec![0f32; owned_rows * dim];
        let mut report = CacheReport::default();
        let mut row0 = 0;
        for (s, chunk) in texts.chunks(self.shard_size).enumerate() {
            if !selection.owns(s) {
                report.shards_skipped += 1;
                continue;
            }
            let hashes: Vec<u64> = chunk.iter().map(|t| text_hash(t)).collect();
            let rows = &mut out[row0 * dim..(row0 + chunk.len()) * dim];
            row0 += chunk.len();
            if self.read_shard(s, &hashes, dim, rows) {
                report.shards_reused += 1;
                progress(chunk.len());
                continue;
            }
            let emb = encoder.encode(chunk, self.role).map_err(CacheError::Encode)?;
            if let Some(i) = emb.iter().position(|x| !x.is_finite()) {
                return Err(CacheError::NonFinite {
                    row: s * self.shard_size + i / dim.max(1),
                    model: encoder.signature(),
                });
            }
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
        // A shard written before non-finite embeddings were refused is encoded again (and refused then).
        rows.iter().all(|x| x.is_finite())
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

/// Why a found manifest cannot be used: another format, or another encoder, role or shard size.
fn check_manifest(found: &CacheManifest, ours: &CacheManifest) -> Result<(), String> {
    if found.format != ours.format {
        return Err(format!(
            "made by {} in cache format {}; this drbench reads format {} only",
            if found.made_by.is_empty() { "another drbench" } else { &found.made_by },
            found.format,
            ours.format
        ));
    }
    let mut differ = Vec::new();
    if found.signature != ours.signature {
        differ.push("encoder signature");
    }
    if found.role != ours.role {
        differ.push("role");
    }
    if found.shard_size != ours.shard_size {
        differ.push("shard size");
    }
    if differ.is_empty() { Ok(()) } else { Err(format!("it holds another {}", differ.join(", "))) }
}

/// Errors of the cache: the encoder's, the disk's, or a folder that must not be read.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The encoder failed.
    #[error("encoder: {0}")]
    Encode(EncodeError),
    /// Reading or writing the cache failed.
    #[error(transparent)]
    Io(Error),
    /// The encoder gave a non-finite number (NaN or infinity) for a text: nothing of its shard is cached.
    #[error(
        "the embedding of text #{row} holds a non-finite number (NaN or inf) from the encoder {model}; nothing of it is cached"
    )]
    NonFinite {
        /// The text's position in the input.
        row: usize,
        /// The encoder's signature.
        model: String,
    },
    /// The folder for this encoder holds something else.
    #[error("embedding cache {dir}: {reason}; delete the folder to re-encode, or choose another cache folder")]
    Refused {
        /// The folder.
        dir: PathBuf,
        /// Why.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic fake encoder that counts the texts it was asked to encode.
    struct Counting {
        calls: usize,
        signature: &'static str,
        legacy: Option<&'static str>,
        /// A text whose embedding comes out NaN (a model with broken weights).
        poison: Option<&'static str>,
    }

    fn counting() -> Counting {
        Counting { calls: 0, signature: "counting-v2", legacy: Some("counting-v1"), poison: None }
    }

    impl Encoder for Counting {
        fn signature(&self) -> String {
            self.signature.into()
        }
        fn legacy_signature(&self) -> Option<String> {
            self.legacy.map(String::from)
        }
        fn dim(&self) -> usize {
            3
        }
        fn encode(&mut self, texts: &[&str], _role: Role) -> Result<Vec<f32>, EncodeError> {
            self.calls += texts.len();
            let nan = |t: &str| if Some(t) == self.poison { f32::NAN } else { 1.0 };
            Ok(texts.iter().flat_map(|t| [t.len() as f32, nan(t), text_hash(t) as f32]).collect())
        }
    }

    fn encode(root: &Path, enc: &mut Counting, texts: &[&str], sel: &str) -> (Vec<f32>, CacheReport) {
        let cache = EmbeddingCache::open(root, enc, Role::Passage, 4).unwrap();
        cache.encode(enc, texts, ShardSelection::parse(sel).unwrap(), &mut |_| {}).unwrap()
    }

    #[test]
    fn a_model_that_gives_nan_embeddings_is_refused_naming_the_text_and_nothing_is_cached() {
        let dir = tempfile::tempdir().unwrap();
        let texts = ["a", "b", "c", "d", "e", "poisoned", "g"];
        let mut enc = Counting { poison: Some("poisoned"), ..counting() };
        let cache = EmbeddingCache::open(dir.path(), &enc, Role::Passage, 4).unwrap();
        let err = cache.encode(&mut enc, &texts, ShardSelection::ALL, &mut |_| {}).unwrap_err();
        assert!(matches!(&err, CacheError::NonFinite { row: 5, model } if model == "counting-v2"), "{err}");
        // The first shard (clean) is cached; the poisoned one is not.
        let shards = std::fs::read_dir(cache.dir())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("shard-"));
        assert_eq!(shards.count(), 1);
    }

    #[test]
    fn resumes_reuses_and_detects_changed_texts() {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<String> = (0..10).map(|i| format!("text {i}")).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let mut enc = counting();
        // Process 0 of 2 encodes shards 0 and 2 (rows 0..4 and 8..10, and holds only those); process 1 then
        // encodes shard 1 without reading the others.
        let want = counting().encode(&refs, Role::Passage).unwrap();
        let dim = enc.dim();
        let (rows, r) = encode(dir.path(), &mut enc, &refs, "0/2");
        assert_eq!((r.shards_reused, r.shards_encoded, r.shards_skipped), (0, 2, 1));
        assert_eq!(rows, [&want[..4 * dim], &want[8 * dim..]].concat());
        let (rows, r) = encode(dir.path(), &mut enc, &refs, "1/2");
        assert_eq!((r.shards_reused, r.shards_encoded, r.shards_skipped), (0, 1, 2));
        assert_eq!(rows, want[4 * dim..8 * dim]);
        assert_eq!(enc.calls, 10);
        // Everything cached now: identical vectors, no encoding.
        let (all, r) = encode(dir.path(), &mut enc, &refs, "0/1");
        assert_eq!((r.shards_reused, enc.calls), (3, 10));
        assert_eq!(all, want);
        // A changed text invalidates only its shard.
        let mut changed = refs.clone();
        changed[5] = "something else";
        let (_, r) = encode(dir.path(), &mut enc, &changed, "0/1");
        assert_eq!((r.shards_reused, r.shards_encoded, enc.calls), (2, 1, 14));
        // Another text list (another corpus) shares the folder without evicting this one's shards.
        let other: Vec<&str> = vec!["another corpus", "entirely"];
        let (_, r) = encode(dir.path(), &mut enc, &other, "0/1");
        assert_eq!((r.shards_encoded, enc.calls), (1, 16));
        let (_, r) = encode(dir.path(), &mut enc, &changed, "0/1");
        assert_eq!((r.shards_reused, enc.calls), (3, 16));
        // A corrupt shard is re-encoded, not trusted.
        let cache = EmbeddingCache::open(dir.path(), &enc, Role::Passage, 4).unwrap();
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
        let (_, r) = encode(dir.path(), &mut enc, &changed, "0/1");
        assert_eq!(r.shards_encoded, 1);
        assert!(ShardSelection::parse("2/2").is_err() && ShardSelection::parse("x").is_err());
    }

    /// drbench ≤ 0.1 kept a folder named by the FNV hash of (legacy signature, role, shard size) with a
    /// `SIGNATURE` file: such a folder is adopted when the legacy signature matches, its shards reused.
    #[test]
    fn an_older_cache_with_equal_settings_is_adopted() {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<&str> = vec!["a", "b", "c", "d", "e"];
        let mut enc = counting();
        let (want, _) = encode(dir.path(), &mut enc, &texts, "0/1");
        // Turn the folder into what drbench 0.1 left behind.
        let now = EmbeddingCache::open(dir.path(), &enc, Role::Passage, 4).unwrap().dir().to_path_buf();
        let old = dir.path().join(format!("{:016x}", text_hash("counting-v1\u{0}passage\u{0}4")));
        std::fs::rename(&now, &old).unwrap();
        std::fs::remove_file(old.join(MANIFEST)).unwrap();
        std::fs::write(old.join(LEGACY_SIGNATURE), "counting-v1\nrole: passage\n").unwrap();

        // An encoder whose legacy signature differs does not touch it.
        let other = Counting { legacy: Some("counting-v0"), ..counting() };
        let cache = EmbeddingCache::open(dir.path(), &other, Role::Passage, 4).unwrap();
        assert_eq!(cache.origin(), &CacheOrigin::New);
        std::fs::remove_dir_all(cache.dir()).unwrap();
        assert!(old.is_dir());

        let cache = EmbeddingCache::open(dir.path(), &enc, Role::Passage, 4).unwrap();
        assert_eq!(cache.origin(), &CacheOrigin::Adopted(old.clone()));
        assert!(!old.exists() && cache.dir() == now);
        let calls = enc.calls;
        let (got, r) = cache.encode(&mut enc, &texts, ShardSelection::ALL, &mut |_| {}).unwrap();
        assert_eq!((got, r.shards_reused, enc.calls), (want, 2, calls));
        assert_eq!(EmbeddingCache::open(dir.path(), &enc, Role::Passage, 4).unwrap().origin(), &CacheOrigin::Existing);
    }

    /// A folder whose manifest is of another format or another encoder is refused with the reason.
    #[test]
    fn a_foreign_or_newer_cache_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let enc = counting();
        let cache = EmbeddingCache::open(dir.path(), &enc, Role::Query, 4).unwrap();
        let path = cache.dir().join(MANIFEST);
        let manifest: CacheManifest = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let cases = [
            (
                CacheManifest { format: 3, made_by: "drbench 0.3".into(), ..manifest.clone() },
                "made by drbench 0.3 in cache format 3",
            ),
            (CacheManifest { signature: "other".into(), ..manifest.clone() }, "another encoder signature"),
            (CacheManifest { shard_size: 8, role: Role::Passage, ..manifest.clone() }, "another role, shard size"),
        ];
        for (bad, want) in cases {
            std::fs::write(&path, serde_json::to_string(&bad).unwrap()).unwrap();
            let err = EmbeddingCache::open(dir.path(), &enc, Role::Query, 4).unwrap_err().to_string();
            assert!(err.contains(want) && err.contains("delete the folder"), "{err}");
        }
        std::fs::write(&path, "{").unwrap();
        let err = EmbeddingCache::open(dir.path(), &enc, Role::Query, 4).unwrap_err().to_string();
        assert!(err.contains("cache.json is unreadable"), "{err}");
    }
}
