//! AdamW (PyTorch's update, decoupled weight decay) with global-norm gradient clipping, written out so that its
//! state (moments and step count) can be checkpointed and restored exactly.

use candle_core::{DType, Tensor, Var};

use crate::encoders::Result;

/// AdamW hyper-parameters and state.
#[derive(Debug)]
pub struct AdamW {
    /// β1.
    pub beta1: f64,
    /// β2.
    pub beta2: f64,
    /// ε.
    pub eps: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Updates done.
    pub t: usize,
    /// First moments, one per parameter.
    pub m: Vec<Tensor>,
    /// Second moments, one per parameter.
    pub v: Vec<Tensor>,
}

impl AdamW {
    /// Zero state for `params` (β1 0.9, β2 0.999, ε 1e-8, PyTorch's and transformers' defaults).
    pub fn new(params: &[Var], weight_decay: f64) -> Result<Self> {
        let zeros = |p: &Var| p.as_tensor().zeros_like();
        Ok(AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            t: 0,
            m: params.iter().map(zeros).collect::<candle_core::Result<_>>()?,
            v: params.iter().map(zeros).collect::<candle_core::Result<_>>()?,
        })
    }

    /// One update of `params` with `grads` at learning rate `lr`.
    pub fn step(&mut self, params: &[Var], grads: &[Tensor], lr: f64) -> Result<()> {
        self.t += 1;
        let bc1 = 1.0 - self.beta1.powi(self.t as i32);
        let bc2 = 1.0 - self.beta2.powi(self.t as i32);
        for (i, (p, g)) in params.iter().zip(grads).enumerate() {
            let m = ((&self.m[i] * self.beta1)? + (g * (1.0 - self.beta1))?)?;
            let v = ((&self.v[i] * self.beta2)? + (g.sqr()? * (1.0 - self.beta2))?)?;
            let decayed = (p.as_tensor() * (1.0 - lr * self.weight_decay))?;
            let update = ((&m / bc1)? / ((&v / bc2)?.sqrt()? + self.eps)?)?;
            p.set(&(decayed - (update * lr)?)?)?;
            self.m[i] = m;
            self.v[i] = v;
        }
        Ok(())
    }
}

/// The global L2 norm of `grads` (in f64).
pub fn global_norm(grads: &[Tensor]) -> Result<f64> {
    let mut sum = 0.0;
    for g in grads {
        sum += g.to_dtype(DType::F64)?.sqr()?.sum_all()?.to_scalar::<f64>()?;
    }
    Ok(sum.sqrt())
}

/// Scales `grads` so their global norm is at most `max_norm` (PyTorch's `clip_grad_norm_`); returns the norm
/// before clipping.
pub fn clip_global_norm(grads: &mut [Tensor], max_norm: f64) -> Result<f64> {
    let norm = global_norm(grads)?;
    if max_norm > 0.0 && norm > max_norm {
        let coef = max_norm / (norm + 1e-6);
        for g in grads.iter_mut() {
            *g = (&*g * coef)?;
        }
    }
    Ok(norm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// Two updates of a scalar against the update written out by hand.
    #[test]
    fn adamw_matches_the_formula() {
        let p = Var::from_tensor(&Tensor::new(&[1.0f64], &Device::Cpu).unwrap()).unwrap();
        let mut opt = AdamW::new(std::slice::from_ref(&p), 0.1).unwrap();
        let (mut x, mut m, mut v) = (1.0f64, 0.0, 0.0);
        for (t, g) in [(1, 0.5f64), (2, -0.25)] {
            let lr = 0.01;
            opt.step(std::slice::from_ref(&p), &[Tensor::new(&[g], &Device::Cpu).unwrap()], lr).unwrap();
            m = 0.9 * m + 0.1 * g;
            v = 0.999 * v + 0.001 * g * g;
            x *= 1.0 - lr * 0.1;
            x -= lr * (m / (1.0 - 0.9f64.powi(t))) / ((v / (1.0 - 0.999f64.powi(t))).sqrt() + 1e-8);
            let got = p.as_tensor().to_vec1::<f64>().unwrap()[0];
            assert!((got - x).abs() < 1e-15, "step {t}: {got} vs {x}");
        }
        let mut gs = vec![Tensor::new(&[3.0f64], &Device::Cpu).unwrap(), Tensor::new(&[4.0f64], &Device::Cpu).unwrap()];
        assert_eq!(clip_global_norm(&mut gs, 1.0).unwrap(), 5.0);
        assert!((global_norm(&gs).unwrap() - 1.0).abs() < 1e-6);
    }
}
