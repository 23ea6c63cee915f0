//! Lucene's numeric details that decide the fourth decimal: the one-byte length norm (`SmallFloat.intToByte4`),
//! BM25's idf and per-norm cache in float arithmetic, and Anserini's score rounding / tie adjustment.

/// Lucene `SmallFloat.longToInt4`: float-like encoding keeping 4 significant bits.
fn long_to_int4(i: u64) -> u32 {
    let num_bits = 64 - i.leading_zeros();
    if num_bits < 4 {
        i as u32
    } else {
        let shift = num_bits - 4;
        let mut encoded = (i >> shift) as u32;
        encoded &= 0x07;
        encoded |= (shift + 1) << 3;
        encoded
    }
}

/// Lucene `SmallFloat.int4ToLong`.
fn int4_to_long(i: u32) -> u64 {
    let bits = u64::from(i & 0x07);
    let shift = (i >> 3) as i32 - 1;
    if shift == -1 { bits } else { (bits | 0x08) << shift }
}

const MAX_INT4: u32 = 231; // long_to_int4(i32::MAX)
const NUM_FREE_VALUES: u32 = 255 - MAX_INT4;

/// Lucene `SmallFloat.intToByte4`: a document length as stored in the norm byte (exact below 24).
pub fn length_to_norm(length: u32) -> u8 {
    if length < NUM_FREE_VALUES {
        length as u8
    } else {
        (NUM_FREE_VALUES + long_to_int4(u64::from(length - NUM_FREE_VALUES))) as u8
    }
}

/// Lucene `SmallFloat.byte4ToInt`: the length a norm byte stands for.
pub fn norm_to_length(norm: u8) -> u32 {
    let i = u32::from(norm);
    if i < NUM_FREE_VALUES { i } else { NUM_FREE_VALUES + int4_to_long(i - NUM_FREE_VALUES) as u32 }
}

/// BM25 parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bm25Params {
    /// Term-frequency saturation (Pyserini's BEIR default: 0.9).
    pub k1: f32,
    /// Length normalisation (Pyserini's BEIR default: 0.4).
    pub b: f32,
}

impl Bm25Params {
    /// Refuses parameters that give no ranking: k1 must be finite and ≥ 0, b finite in [0, 1].
    pub fn check(&self) -> Result<(), String> {
        if !(self.k1.is_finite() && self.k1 >= 0.0) {
            return Err(format!("BM25 k1 must be a finite number ≥ 0, not {}", self.k1));
        }
        if !(self.b.is_finite() && (0.0..=1.0).contains(&self.b)) {
            return Err(format!("BM25 b must be a number in [0, 1], not {}", self.b));
        }
        Ok(())
    }
}

impl Default for Bm25Params {
    fn default() -> Self {
        Bm25Params { k1: 0.9, b: 0.4 }
    }
}

/// Lucene 9 `BM25Similarity.idf`: `(float) log(1 + (docCount - docFreq + 0.5) / (docFreq + 0.5))`.
pub fn idf(doc_freq: u64, doc_count: u64) -> f32 {
    (1.0 + (doc_count as f64 - doc_freq as f64 + 0.5) / (doc_freq as f64 + 0.5)).ln() as f32
}

/// Lucene's per-norm cache `1 / (k1 * ((1 - b) + b * length / avgdl))`, in float arithmetic.
pub fn norm_cache(params: Bm25Params, avgdl: f32) -> [f32; 256] {
    let mut cache = [0f32; 256];
    for (i, c) in cache.iter_mut().enumerate() {
        let len = norm_to_length(i as u8) as f32;
        *c = 1.0 / (params.k1 * ((1.0 - params.b) + params.b * len / avgdl));
    }
    cache
}

/// Lucene 9 `BM25Scorer.score`: `weight - weight / (1 + freq * normInverse)`, in float arithmetic.
#[inline]
pub fn term_score(weight: f32, freq: u32, norm_inverse: f32) -> f32 {
    weight - weight / (1.0 + freq as f32 * norm_inverse)
}

/// Java's `Math.round(double)`: halves round up (towards +infinity).
fn java_round(x: f64) -> f64 {
    let f = x.floor();
    if x - f >= 0.5 { f + 1.0 } else { f }
}

/// Anserini's `ScoreTiesAdjusterReranker`, applied to scores already in (score desc, docid asc) order:
/// round to 4 decimals, then lower each member of a tie group by 1e-6 × its position in the group, so that the
/// written run keeps Anserini's order. Pyserini's published BEIR numbers are computed from such runs.
pub fn anserini_adjust_ties(scores: &mut [f32]) {
    let mut dup = 0u32;
    for i in 0..scores.len() {
        scores[i] = (java_round(f64::from(scores[i]) * 10000.0) / 10000.0) as f32;
        if i == 0 || scores[i - 1] - scores[i] > 1e-4f32 {
            dup = 0;
        } else {
            dup += 1;
            scores[i] -= 1e-6f32 * dup as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norms_round_trip_like_lucene() {
        // Exact below 24; then 4 significant bits, e.g. Lucene's table has 24, 25, ... 40, 42, 44, ...
        for len in 0..24 {
            assert_eq!(norm_to_length(length_to_norm(len)), len);
        }
        assert_eq!(norm_to_length(length_to_norm(41)), 40);
        assert_eq!(norm_to_length(length_to_norm(100)), 96);
        assert_eq!(norm_to_length(length_to_norm(1000)), 984);
        assert_eq!(length_to_norm(i32::MAX as u32), 255);
        let mut last = 0;
        for n in 0..=255u8 {
            let l = norm_to_length(n);
            assert!(n == 0 || l > last, "monotonic");
            assert_eq!(length_to_norm(l), n, "the table's values encode to themselves");
            last = l;
        }
    }

    #[test]
    fn anserini_ties() {
        let mut s = [6.59884f32, 5.17071, 5.17068, 5.1707, 5.0];
        anserini_adjust_ties(&mut s);
        assert_eq!(s, [6.5988, 5.1707, 5.1707 - 1e-6, 5.1707 - 2e-6, 5.0]);
    }
}
