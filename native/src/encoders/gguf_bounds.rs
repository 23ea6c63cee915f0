//! What candle's GGUF reader leaves to its callers, checked before it runs or before a tensor is read: a
//! `general.alignment` of 0 (candle divides by it), and tensors whose element count overflows or whose bytes lie
//! beyond the end of the file (a huge shape must be refused, not allocated).

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use candle_core::quantized::gguf_file::{Content, TensorInfo};

use super::error::{ModelError, Result};

/// Nested arrays deeper than this are left to candle's reader (which refuses them).
const MAX_DEPTH: usize = 64;

/// The `general.alignment` value of a GGUF file's metadata, when the header can be walked to it and holds it as
/// an integer: `Some(0)` is what must be refused before candle's reader divides by it. Anything malformed ends
/// the walk with `None` (candle's reader then says what is wrong).
pub fn declared_alignment(path: &Path) -> Result<Option<i128>> {
    let file = std::fs::File::open(path).map_err(|e| ModelError::file(path, e.to_string()))?;
    let size = file.metadata().map_err(|e| ModelError::file(path, e.to_string()))?.len();
    let mut r = Walker { r: BufReader::new(file), size, wide: true };
    Ok(r.alignment())
}

/// Refuses `general.alignment` 0 (see [`declared_alignment`]).
pub fn check_alignment(path: &Path) -> Result<()> {
    match declared_alignment(path)? {
        Some(a) if a <= 0 => Err(ModelError::file(path, format!("GGUF general.alignment is {a}; it must be ≥ 1"))),
        _ => Ok(()),
    }
}

/// Refuses a tensor whose bytes (element count × type size, by checked arithmetic) do not lie inside the file.
pub fn check_tensor_bytes(path: &Path, content: &Content, name: &str, info: &TensorInfo, file_len: u64) -> Result<()> {
    let dims = info.shape.dims();
    let elems = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
    let (block, type_size) = (info.ggml_dtype.block_size() as u64, info.ggml_dtype.type_size() as u64);
    let bytes = elems.filter(|e| e % block == 0).and_then(|e| (e / block).checked_mul(type_size));
    let start = content.tensor_data_offset.checked_add(info.offset);
    match (bytes, start) {
        (Some(bytes), Some(start)) if start.checked_add(bytes).is_some_and(|end| end <= file_len) => Ok(()),
        _ => Err(ModelError::file(
            path,
            format!(
                "GGUF tensor {name} of shape {dims:?} ({:?}) at offset {} does not fit in the file's {file_len} bytes",
                info.ggml_dtype, info.offset
            ),
        )),
    }
}

/// A bounded walk over the header: every length is checked against the bytes left before anything is skipped.
struct Walker<R> {
    r: R,
    size: u64,
    /// Lengths and counts are u64 (GGUF v2, v3) rather than u32 (v1).
    wide: bool,
}

impl<R: Read + Seek> Walker<R> {
    fn alignment(&mut self) -> Option<i128> {
        if self.u32()? != 0x4655_4747 {
            return None;
        }
        self.wide = match self.u32()? {
            1 => false,
            2 | 3 => true,
            _ => return None,
        };
        let _tensors = self.len()?;
        let kvs = self.len()?;
        for _ in 0..kvs {
            const KEY: &[u8] = b"general.alignment";
            let key_len = self.len()?;
            let is_alignment = if key_len == KEY.len() as u64 {
                let mut k = [0u8; KEY.len()];
                self.r.read_exact(&mut k).ok()?;
                k == KEY
            } else {
                self.skip(key_len)?;
                false
            };
            let ty = self.u32()?;
            if is_alignment {
                return self.integer(ty);
            }
            self.skip_value(ty, 0)?;
        }
        None
    }

    fn left(&mut self) -> Option<u64> {
        Some(self.size.saturating_sub(self.r.stream_position().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        let mut b = [0u8; 4];
        self.r.read_exact(&mut b).ok()?;
        Some(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Option<u64> {
        let mut b = [0u8; 8];
        self.r.read_exact(&mut b).ok()?;
        Some(u64::from_le_bytes(b))
    }

    fn len(&mut self) -> Option<u64> {
        if self.wide { self.u64() } else { self.u32().map(u64::from) }
    }

    fn skip(&mut self, n: u64) -> Option<()> {
        if n > self.left()? {
            return None;
        }
        self.r.seek(SeekFrom::Current(i64::try_from(n).ok()?)).ok()?;
        Some(())
    }

    /// The size of a fixed-size value type; `None` for strings and arrays.
    fn fixed_size(ty: u32) -> Option<u64> {
        match ty {
            0 | 1 | 7 => Some(1),
            2 | 3 => Some(2),
            4..=6 => Some(4),
            10..=12 => Some(8),
            _ => None,
        }
    }

    fn integer(&mut self, ty: u32) -> Option<i128> {
        let size = Self::fixed_size(ty).filter(|_| !matches!(ty, 6 | 7 | 12))?;
        let mut b = [0u8; 8];
        self.r.read_exact(&mut b[..size as usize]).ok()?;
        let raw = u64::from_le_bytes(b);
        let signed = matches!(ty, 1 | 3 | 5 | 11);
        Some(if signed {
            let shift = 64 - 8 * size;
            i128::from(((raw << shift) as i64) >> shift)
        } else {
            i128::from(raw)
        })
    }

    fn skip_value(&mut self, ty: u32, depth: usize) -> Option<()> {
        if let Some(size) = Self::fixed_size(ty) {
            return self.skip(size);
        }
        match ty {
            8 => {
                let n = self.len()?;
                self.skip(n)
            }
            9 if depth < MAX_DEPTH => {
                let elem = self.u32()?;
                let n = self.len()?;
                if let Some(size) = Self::fixed_size(elem) {
                    return self.skip(n.checked_mul(size)?);
                }
                // Each string or array element takes at least a length prefix: bound the count by the bytes left.
                if n > self.left()? {
                    return None;
                }
                for _ in 0..n {
                    self.skip_value(elem, depth + 1)?;
                }
                Some(())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GGUF v3 header with one u32 metadata entry, after a string entry and a string array.
    fn header(alignment: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(0x4655_4747u32.to_le_bytes());
        v.extend(3u32.to_le_bytes());
        v.extend(0u64.to_le_bytes());
        v.extend(3u64.to_le_bytes());
        let key = |v: &mut Vec<u8>, k: &str| {
            v.extend((k.len() as u64).to_le_bytes());
            v.extend(k.as_bytes());
        };
        key(&mut v, "general.architecture");
        v.extend(8u32.to_le_bytes());
        key(&mut v, "qwen2");
        key(&mut v, "tokenizer.ggml.tokens");
        v.extend(9u32.to_le_bytes());
        v.extend(8u32.to_le_bytes());
        v.extend(2u64.to_le_bytes());
        key(&mut v, "a");
        key(&mut v, "bc");
        key(&mut v, "general.alignment");
        v.extend(4u32.to_le_bytes());
        v.extend(alignment.to_le_bytes());
        v
    }

    #[test]
    fn the_alignment_is_found_past_strings_and_arrays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gguf");
        for (alignment, refused) in [(32, false), (0, true)] {
            std::fs::write(&path, header(alignment)).unwrap();
            assert_eq!(declared_alignment(&path).unwrap(), Some(i128::from(alignment)));
            assert_eq!(check_alignment(&path).is_err(), refused, "alignment {alignment}");
        }
        // Cut anywhere, the walk ends without an answer (candle's reader then says what is wrong).
        let full = header(0);
        for cut in 0..full.len() {
            std::fs::write(&path, &full[..cut]).unwrap();
            assert_eq!(declared_alignment(&path).unwrap(), None, "cut at {cut}");
        }
    }
}
