//! NumPy `.npy` matrices of embeddings (feature `npy`): `(rows, dim)` arrays of little-endian f32 (`<f4`) or f16
//! (`<f2`) in C order, the header parsed by npyz after its length and the data size are checked here, the rows
//! read a block at a time ([`NpyMatrix`], a [`DocRows`] source for the streaming search) and written through the
//! one atomic writer ([`write_npy`]).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use npyz::{DType, Endianness, Order, TypeChar, WriterBuilder};

use crate::dense_stream::DocRows;
use crate::error::{Error, Result};
use crate::io::atomic::write_atomic;

/// How the values of a matrix are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowType {
    /// IEEE binary32, `<f4`.
    F32,
    /// IEEE binary16, `<f2` (numpy's `float16`).
    F16,
}

impl RowType {
    /// Bytes per value.
    pub fn bytes(self) -> usize {
        match self {
            RowType::F32 => 4,
            RowType::F16 => 2,
        }
    }

    /// `f32` or `f16`.
    pub fn name(self) -> &'static str {
        match self {
            RowType::F32 => "f32",
            RowType::F16 => "f16",
        }
    }

    /// numpy's type string.
    pub fn descr(self) -> &'static str {
        match self {
            RowType::F32 => "<f4",
            RowType::F16 => "<f2",
        }
    }
}

/// The longest header drbench reads (numpy's own reader stops at 10,000 bytes by default).
const MAX_HEADER_BYTES: usize = 1 << 16;

/// An open `.npy` matrix: its shape and value type from the header, the rows read on demand.
#[derive(Debug)]
pub struct NpyMatrix {
    path: PathBuf,
    file: File,
    rows: usize,
    dim: usize,
    row_type: RowType,
    data_offset: u64,
    raw: Vec<u8>,
}

impl NpyMatrix {
    /// Opens `path` and checks its header: a 2-D C-order array of `<f4` or `<f2` whose data is exactly what the
    /// file holds after the header. Nothing is read beyond the header.
    pub fn open(path: &Path) -> Result<Self> {
        let bad = |message: String| Error::file(path, message);
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut pre = [0u8; 12];
        let got = read_up_to(&mut file, &mut pre).map_err(|e| Error::io(path, e))?;
        if got < 10 || &pre[..6] != b"\x93NUMPY" {
            return Err(bad("not a NumPy .npy file (it does not begin with \\x93NUMPY)".into()));
        }
        let (prefix, header_len) = match pre[6] {
            1 => (10usize, usize::from(u16::from_le_bytes([pre[8], pre[9]]))),
            2 | 3 if got == 12 => (12, u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]]) as usize),
            v => return Err(bad(format!(".npy format version {v}.{} is not one drbench reads (1, 2, 3)", pre[7]))),
        };
        if header_len > MAX_HEADER_BYTES {
            return Err(bad(format!(
                "its .npy header claims {header_len} bytes; drbench reads headers of at most {MAX_HEADER_BYTES}"
            )));
        }
        let data_offset = (prefix + header_len) as u64;
        if data_offset > file_len {
            return Err(bad(format!("the file ends ({file_len} bytes) inside its {header_len}-byte .npy header")));
        }
        let mut header_bytes = vec![0u8; prefix + header_len];
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_exact(&mut header_bytes))
            .map_err(|e| Error::io(path, e))?;
        let header = npyz::NpyHeader::from_reader(&header_bytes[..])
            .map_err(|e| bad(format!("its .npy header cannot be read: {e}")))?;
        let row_type = row_type_of(&header.dtype()).ok_or_else(|| {
            bad(format!(
                "holds {}, not little-endian float32 or float16 (`<f4`, `<f2`); convert it with \
                 a.astype(np.float32)",
                describe_dtype(&header.dtype())
            ))
        })?;
        let (rows, dim) = match *header.shape() {
            [rows, dim] if dim > 0 => (rows, dim),
            [_, 0] => return Err(bad("its rows have 0 values".into())),
            ref shape => {
                return Err(bad(format!(
                    "holds an array of shape {shape:?}; drbench reads matrices of shape (rows, dim) (one row per \
                     text: a.reshape(-1, dim))"
                )));
            }
        };
        if header.order() == Order::Fortran && rows > 1 {
            return Err(bad("is stored in Fortran (column-major) order; save np.ascontiguousarray(a) instead".into()));
        }
        let data_len = rows.checked_mul(dim).and_then(|n| n.checked_mul(row_type.bytes() as u64));
        if data_len != Some(file_len - data_offset) {
            return Err(bad(format!(
                "its header says {rows} × {dim} {} values ({} bytes), but the file holds {} bytes of data after it \
                 (cut short, or not written by numpy.save)",
                row_type.descr(),
                data_len.map_or("more than 2^64".to_string(), |n| n.to_string()),
                file_len - data_offset
            )));
        }
        let (Ok(rows), Ok(dim)) = (usize::try_from(rows), usize::try_from(dim)) else {
            return Err(bad(format!("its shape ({rows}, {dim}) does not fit this machine's address space")));
        };
        Ok(NpyMatrix { path: path.to_path_buf(), file, rows, dim, row_type, data_offset, raw: Vec::new() })
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Values per row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// How the values are stored.
    pub fn row_type(&self) -> RowType {
        self.row_type
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every row as f32 (for query matrices, which are held in memory whole).
    pub fn read_all(&mut self) -> Result<Vec<f32>> {
        let mut out = Vec::new();
        self.read_rows(0, self.rows, &mut out)?;
        Ok(out)
    }

    /// Rows `start..start + count` as f32 into `out` (f16 widened exactly).
    pub fn read_rows(&mut self, start: usize, count: usize, out: &mut Vec<f32>) -> Result<()> {
        if start.checked_add(count).is_none_or(|end| end > self.rows) {
            return Err(Error::file(&self.path, format!("rows {start}..+{count} asked of {} rows", self.rows)));
        }
        let values = count * self.dim;
        let offset = self.data_offset + (start * self.dim * self.row_type.bytes()) as u64;
        let io = |e| Error::io(&self.path, e);
        self.file.seek(SeekFrom::Start(offset)).map_err(io)?;
        // Every value is overwritten below: a recycled buffer of the right size is not cleared first.
        out.resize(values, 0.0);
        match self.row_type {
            RowType::F32 => {
                self.file.read_exact(bytemuck::cast_slice_mut(out.as_mut_slice())).map_err(io)?;
                if cfg!(target_endian = "big") {
                    out.iter_mut().for_each(|v| *v = f32::from_bits(u32::from_le(v.to_bits())));
                }
            }
            RowType::F16 => {
                self.raw.resize(values * 2, 0);
                self.file.read_exact(&mut self.raw).map_err(io)?;
                for (v, b) in out.iter_mut().zip(self.raw.chunks_exact(2)) {
                    *v = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
                }
            }
        }
        Ok(())
    }
}

/// Reads until `buf` is full or the file ends; how many bytes came.
fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

fn row_type_of(dtype: &DType) -> Option<RowType> {
    let DType::Plain(ts) = dtype else { return None };
    if ts.type_char() != TypeChar::Float || ts.endianness() != Endianness::Little {
        return None;
    }
    match ts.size_field() {
        4 => Some(RowType::F32),
        2 => Some(RowType::F16),
        _ => None,
    }
}

fn describe_dtype(dtype: &DType) -> String {
    match dtype {
        DType::Plain(ts) => format!("values of type `{ts}`"),
        _ => "a structured dtype".to_string(),
    }
}

/// Writes `values` (`rows × dim`, row-major) to `path` as a `.npy` matrix of `row_type` (f16 rounded to nearest,
/// as numpy's `astype(np.float16)`), atomically.
pub fn write_npy(path: &Path, values: &[f32], dim: usize, row_type: RowType) -> Result<()> {
    if dim == 0 || !values.len().is_multiple_of(dim) {
        return Err(Error::file(path, format!("{} values are not whole rows of {dim}", values.len())));
    }
    let shape = [(values.len() / dim) as u64, dim as u64];
    let dtype = DType::Plain(row_type.descr().parse().expect("a valid numpy type string"));
    write_atomic(path, |w| {
        npyz::WriteOptions::new_header_only().dtype(dtype).shape(&shape).writer(&mut *w).write_header_only()?;
        match row_type {
            RowType::F32 => values.iter().try_for_each(|v| w.write_all(&v.to_le_bytes())),
            RowType::F16 => values.iter().try_for_each(|v| w.write_all(&half::f16::from_f32(*v).to_le_bytes())),
        }
    })
}

/// Several matrices of equal width read as one (a corpus in shards, in the order given).
#[derive(Debug)]
pub struct NpyShards {
    shards: Vec<NpyMatrix>,
    starts: Vec<usize>,
    rows: usize,
    dim: usize,
}

impl NpyShards {
    /// Opens every file; they must have the same width.
    pub fn open(paths: &[PathBuf]) -> Result<Self> {
        let shards = paths.iter().map(|p| NpyMatrix::open(p)).collect::<Result<Vec<_>>>()?;
        let Some(first) = shards.first() else {
            return Err(Error::Invalid("no .npy file to read".into()));
        };
        let dim = first.dim;
        if let Some(other) = shards.iter().find(|s| s.dim != dim) {
            return Err(Error::file(
                &other.path,
                format!("its rows have {} values, but {} has rows of {dim}", other.dim, first.path.display()),
            ));
        }
        let mut starts = Vec::with_capacity(shards.len());
        let mut rows = 0usize;
        for s in &shards {
            starts.push(rows);
            rows += s.rows;
        }
        Ok(NpyShards { shards, starts, rows, dim })
    }

    /// Scratch bytes per value of a block being read: an f16 shard's raw bytes, and the piece of a block that
    /// spans two shards.
    fn scratch_bytes(&self) -> usize {
        let raw = if self.shards.iter().any(|s| s.row_type == RowType::F16) { 2 } else { 0 };
        raw + if self.shards.len() > 1 { 4 } else { 0 }
    }

    /// The files and their row counts, in order.
    pub fn files(&self) -> impl Iterator<Item = (&Path, usize, RowType)> {
        self.shards.iter().map(|s| (s.path(), s.rows, s.row_type))
    }
}

impl DocRows for NpyShards {
    fn rows(&self) -> usize {
        self.rows
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn scratch_bytes_per_value(&self) -> usize {
        self.scratch_bytes()
    }
    fn read_block(&mut self, start: usize, count: usize, out: &mut Vec<f32>) -> Result<()> {
        if start.checked_add(count).is_none_or(|end| end > self.rows) {
            return Err(Error::Invalid(format!("rows {start}..+{count} asked of {} rows", self.rows)));
        }
        let (mut row, end) = (start, start + count);
        let shard_of = |row: usize| self.starts.partition_point(|&s| s <= row) - 1;
        if count > 0 {
            let i = shard_of(row);
            if row - self.starts[i] + count <= self.shards[i].rows {
                // The whole block in one shard: read straight into `out`.
                return self.shards[i].read_rows(row - self.starts[i], count, out);
            }
        }
        out.clear();
        out.reserve(count * self.dim);
        let mut piece = Vec::new();
        while row < end {
            let i = shard_of(row);
            let shard = &mut self.shards[i];
            let local = row - self.starts[i];
            let n = (shard.rows - local).min(end - row);
            shard.read_rows(local, n, &mut piece)?;
            out.extend_from_slice(&piece);
            row += n;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npy").join(name)
    }

    const SMALL: [f32; 15] = [1.0, -2.0, 0.5, 0.25, 3.0, -1.5, 0.0, 1.0, 2.0, -0.75, 4.0, 8.0, 16.0, -0.125, 1.0];

    #[test]
    fn numpy_files_read_as_written() {
        for (name, row_type) in
            [("small_f32.npy", RowType::F32), ("small_f16.npy", RowType::F16), ("v2_f32.npy", RowType::F32)]
        {
            let mut m = NpyMatrix::open(&fixture(name)).unwrap();
            assert_eq!((m.rows(), m.dim(), m.row_type()), (5, 3, row_type), "{name}");
            assert_eq!(m.read_all().unwrap(), SMALL, "{name}");
            let mut block = Vec::new();
            m.read_rows(3, 2, &mut block).unwrap();
            assert_eq!(block, SMALL[9..], "{name}");
        }
    }

    #[test]
    fn written_files_hold_numpy_save_s_data_behind_a_numpy_header() {
        let dir = tempfile::tempdir().unwrap();
        for (name, row_type) in [("small_f32.npy", RowType::F32), ("small_f16.npy", RowType::F16)] {
            let out = dir.path().join(name);
            write_npy(&out, &SMALL, 3, row_type).unwrap();
            let (ours, numpy) = (std::fs::read(&out).unwrap(), std::fs::read(fixture(name)).unwrap());
            // The same 128-byte header length and data; npyz spells the shape `(5, 3, )`, numpy `(5, 3)`.
            assert_eq!(ours.len(), numpy.len(), "{name}");
            assert_eq!(ours[..10], numpy[..10], "{name}");
            assert_eq!(ours[128..], numpy[128..], "{name}");
            assert_eq!(NpyMatrix::open(&out).unwrap().read_all().unwrap(), SMALL, "{name}");
        }
    }

    #[test]
    fn shards_read_as_one_matrix_across_their_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("s{i}.npy"))).collect();
        write_npy(&paths[0], &SMALL[..6], 3, RowType::F32).unwrap();
        write_npy(&paths[1], &[], 3, RowType::F32).unwrap();
        write_npy(&paths[2], &SMALL[6..], 3, RowType::F16).unwrap();
        let mut shards = NpyShards::open(&paths).unwrap();
        assert_eq!((shards.rows(), shards.dim()), (5, 3));
        let mut out = Vec::new();
        for (start, count) in [(0, 5), (1, 3), (2, 3), (4, 1), (0, 2), (5, 0)] {
            shards.read_block(start, count, &mut out).unwrap();
            assert_eq!(out, SMALL[start * 3..(start + count) * 3], "rows {start}..+{count}");
        }
        assert!(shards.read_block(4, 2, &mut out).is_err());
        write_npy(&paths[1], &[1.0, 2.0], 2, RowType::F32).unwrap();
        let err = NpyShards::open(&paths).unwrap_err().to_string();
        assert!(err.contains("s1.npy: its rows have 2 values, but") && err.contains("has rows of 3"), "{err}");
    }

    /// A header as numpy writes it (version 1), for hand-made hostile files.
    fn with_header(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut text = dict.to_string();
        while !(10 + text.len() + 1).is_multiple_of(64) {
            text.push(' ');
        }
        text.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(text.len() as u16).to_le_bytes());
        bytes.extend_from_slice(text.as_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    #[test]
    fn unusable_files_are_refused_naming_the_file_and_the_reason() {
        let dict =
            |descr: &str, shape: &str| format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        let mut v3_huge = b"\x93NUMPY\x03\x00".to_vec();
        v3_huge.extend_from_slice(&u32::MAX.to_le_bytes());
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("empty", vec![], "not a NumPy .npy file"),
            ("text", b"id\ttext\n".to_vec(), "not a NumPy .npy file"),
            ("v9", b"\x93NUMPY\x09\x00\x10\x00".to_vec(), ".npy format version 9.0 is not one drbench reads"),
            ("huge header", v3_huge, "claims 4294967295 bytes"),
            ("cut header", with_header(&dict("<f4", "(1, 2)"), &[])[..30].to_vec(), "inside its"),
            ("garbage header", with_header("{'descr': <f4", &[]), "header cannot be read"),
            ("f64", std::fs::read(fixture("f64.npy")).unwrap(), "values of type `<f8`"),
            ("big endian", std::fs::read(fixture("big_endian.npy")).unwrap(), "values of type `>f4`"),
            ("int", with_header(&dict("<i4", "(1, 1)"), &[0; 4]), "values of type `<i4`"),
            ("1-D", std::fs::read(fixture("one_d.npy")).unwrap(), "shape [3]; drbench reads matrices"),
            ("3-D", with_header(&dict("<f4", "(1, 1, 1)"), &[0; 4]), "shape [1, 1, 1]"),
            ("zero dim", with_header(&dict("<f4", "(4, 0)"), &[]), "its rows have 0 values"),
            ("fortran", std::fs::read(fixture("fortran_f32.npy")).unwrap(), "Fortran (column-major) order"),
            (
                "short data",
                with_header(&dict("<f4", "(2, 2)"), &[0; 12]),
                "2 × 2 <f4 values (16 bytes), but the file holds 12",
            ),
            ("long data", with_header(&dict("<f2", "(1, 2)"), &[0; 6]), "(4 bytes), but the file holds 6"),
            (
                "overflowing shape",
                with_header(&dict("<f4", "(4294967296, 4294967296)"), &[0; 4]),
                "values (more than 2^64 bytes)",
            ),
            ("shape past u64", with_header(&dict("<f4", "(18446744073709551616, 1)"), &[]), "header cannot be read"),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes, want) in cases {
            let path = dir.path().join(format!("{}.npy", name.replace(' ', "_")));
            std::fs::write(&path, &bytes).unwrap();
            let err = NpyMatrix::open(&path).expect_err(name).to_string();
            assert!(err.starts_with(&path.display().to_string()), "{name}: {err}");
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}
