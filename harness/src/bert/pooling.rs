//! How a BERT's token states become one vector: sentence-transformers' mean or [CLS] pooling, and that pooling
//! over a packed batch (what both packed CPU forwards, native and in the browser, run).

use serde::{Deserialize, Serialize};

use crate::packed::PackedBatch;

/// How token states become one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// Mean over every token of the sequence (special tokens included), as sentence-transformers.
    Mean,
    /// The first ([CLS]) token.
    Cls,
}

impl Pooling {
    /// The pooling a sentence-transformers `1_Pooling/config.json` text declares (mean unless it asks for CLS).
    pub fn from_sentence_transformers(config_json: &str) -> Pooling {
        #[derive(Deserialize)]
        struct PoolingConfig {
            #[serde(default)]
            pooling_mode_cls_token: bool,
        }
        match serde_json::from_str::<PoolingConfig>(config_json) {
            Ok(PoolingConfig { pooling_mode_cls_token: true }) => Pooling::Cls,
            _ => Pooling::Mean,
        }
    }
}

/// Pools the `batch.rows() × h` hidden states `x` of a packed batch into `batch.len() × h` (not normalised).
pub fn pool_packed(x: &[f32], batch: &PackedBatch, h: usize, pooling: Pooling) -> Vec<f32> {
    assert_eq!(x.len(), batch.rows() * h, "pool_packed: hidden states of another batch");
    let mut out = vec![0f32; batch.len() * h];
    for (rows, dst) in batch.ranges().zip(out.chunks_exact_mut(h)) {
        match pooling {
            Pooling::Cls => dst.copy_from_slice(&x[rows.start * h..(rows.start + 1) * h]),
            Pooling::Mean => {
                let n = rows.len();
                for row in x[rows.start * h..rows.end * h].chunks_exact(h) {
                    dst.iter_mut().zip(row).for_each(|(a, v)| *a += v);
                }
                let inv = 1.0 / n as f32;
                dst.iter_mut().for_each(|a| *a *= inv);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_cls_over_packed_rows() {
        let batch = PackedBatch::new(&[vec![1u32, 2, 3], vec![4]], 8, 10).unwrap();
        let x = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 7.0, 70.0];
        assert_eq!(pool_packed(&x, &batch, 2, Pooling::Mean), [2.0, 20.0, 7.0, 70.0]);
        assert_eq!(pool_packed(&x, &batch, 2, Pooling::Cls), [1.0, 10.0, 7.0, 70.0]);
    }

    #[test]
    fn pooling_from_sentence_transformers_files() {
        assert_eq!(Pooling::from_sentence_transformers(r#"{"pooling_mode_cls_token": true}"#), Pooling::Cls);
        assert_eq!(Pooling::from_sentence_transformers(r#"{"pooling_mode_mean_tokens": true}"#), Pooling::Mean);
        assert_eq!(Pooling::from_sentence_transformers("not json"), Pooling::Mean);
        assert_eq!(serde_json::to_string(&Pooling::Cls).unwrap(), "\"cls\"");
    }
}
