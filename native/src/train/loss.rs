//! The contrastive loss: InfoNCE over L2-normalised embeddings with every passage of the batch as a candidate
//! (Tevatron's in-batch negatives), the positive of query i at column i·group.

use candle_core::{D, Tensor};

use crate::encoders::Result;

/// Rows divided by their L2 norm (as `F.normalize`, with its 1e-12 floor).
pub fn l2_normalize(x: &Tensor) -> Result<Tensor> {
    let norm = x.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?.clamp(1e-12, f64::INFINITY)?;
    Ok(x.broadcast_div(&norm)?)
}

/// Mean cross-entropy of `softmax(q·pᵀ / temperature)` against column `i · group` for query `i`.
/// `q` is `(n, d)`, `p` is `(n · group, d)`, both raw hidden states (normalised here).
pub fn info_nce(q: &Tensor, p: &Tensor, group: usize, temperature: f64) -> Result<Tensor> {
    let (n, _) = q.dims2()?;
    let (m, _) = p.dims2()?;
    let scores = (l2_normalize(q)?.matmul(&l2_normalize(p)?.t()?)? / temperature)?;
    let log_probs = candle_nn::ops::log_softmax(&scores, D::Minus1)?;
    let mut onehot = vec![0f64; n * m];
    for i in 0..n {
        onehot[i * m + i * group] = 1.0;
    }
    let target = Tensor::from_vec(onehot, (n, m), q.device())?.to_dtype(q.dtype())?;
    Ok(((log_probs * target)?.sum_all()? * (-1.0 / n as f64))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// Against a direct evaluation of the formula on a tiny case.
    #[test]
    fn matches_the_formula() {
        let dev = Device::Cpu;
        let q = Tensor::new(&[[1.0f64, 0.0], [0.0, 2.0]], &dev).unwrap();
        let p = Tensor::new(&[[1.0f64, 1.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], &dev).unwrap();
        let t = 0.5;
        let loss = info_nce(&q, &p, 2, t).unwrap().to_scalar::<f64>().unwrap();
        let unit = |v: [f64; 2]| {
            let n = (v[0] * v[0] + v[1] * v[1]).sqrt();
            [v[0] / n, v[1] / n]
        };
        let qs = [unit([1.0, 0.0]), unit([0.0, 2.0])];
        let ps = [unit([1.0, 1.0]), unit([1.0, 0.0]), unit([0.0, 1.0]), unit([-1.0, 0.0])];
        let mut expected = 0.0;
        for (i, qv) in qs.iter().enumerate() {
            let s: Vec<f64> = ps.iter().map(|pv| (qv[0] * pv[0] + qv[1] * pv[1]) / t).collect();
            let lse = s.iter().map(|x| x.exp()).sum::<f64>().ln();
            expected += lse - s[i * 2];
        }
        expected /= 2.0;
        assert!((loss - expected).abs() < 1e-12, "{loss} vs {expected}");
    }
}
