//! `x · Wᵀ` for a frozen weight as a candle custom op whose backward returns only `∂/∂x`. candle's own matmul
//! backward also computes (and keeps until the end of `backward`) a full-size gradient for the weight even when
//! nothing needs it — for LoRA training that is the whole model's size in extra memory and one extra matmul per
//! projection. Works on every backend through `BackendStorage::matmul` on the operands' own storage.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CudaStorage, CustomOp1, Layout, Shape, Storage, Tensor};

/// The op: holds the frozen `(out, in)` weight.
#[derive(Debug)]
struct FrozenMatmul {
    w: Tensor,
}

impl FrozenMatmul {
    /// (rows, in, out) and the output shape for input layout `l`.
    fn dims(&self, l: &Layout) -> candle_core::Result<(usize, usize, usize, Shape)> {
        let inner = *l.dims().last().ok_or_else(|| candle_core::Error::Msg("frozen matmul of a scalar".into()))?;
        let (out, w_in) = self.w.dims2()?;
        if w_in != inner {
            candle_core::bail!("frozen matmul: input width {inner}, weight {out}×{w_in}");
        }
        if !l.is_contiguous() {
            candle_core::bail!("frozen matmul needs a contiguous input");
        }
        let rows = l.shape().elem_count() / inner;
        let mut dims = l.dims().to_vec();
        *dims.last_mut().expect("checked") = out;
        Ok((rows, inner, out, Shape::from(dims)))
    }

    /// The forward on any backend: `x` (storage `s`, layout `l`) times the weight's storage of the same backend,
    /// picked out of the weight's `Storage` by `pick`.
    fn forward_on<S: BackendStorage>(
        &self,
        s: &S,
        l: &Layout,
        pick: fn(&Storage) -> Option<&S>,
    ) -> candle_core::Result<(S, Shape)> {
        let (rows, inner, out, shape) = self.dims(l)?;
        let (w_st, w_l) = self.w.storage_and_layout();
        let Some(w) = pick(&w_st) else { candle_core::bail!("frozen matmul: weight and input on different devices") };
        let x_l = Layout::contiguous_with_offset((rows, inner), l.start_offset());
        Ok((s.matmul(w, (1, rows, out, inner), &x_l, &w_l.transpose(0, 1)?)?, shape))
    }
}

impl CustomOp1 for FrozenMatmul {
    fn name(&self) -> &'static str {
        "frozen-matmul"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        self.forward_on(s, l, |w| if let Storage::Cpu(w) = w { Some(w) } else { None })
    }

    fn cuda_fwd(&self, s: &CudaStorage, l: &Layout) -> candle_core::Result<(CudaStorage, Shape)> {
        self.forward_on(s, l, |w| if let Storage::Cuda(w) = w { Some(w) } else { None })
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let (out, inner) = self.w.dims2()?;
        let dims = grad_res.dims().to_vec();
        let rows = grad_res.elem_count() / out;
        let g = grad_res.reshape((rows, out))?.matmul(&self.w)?;
        let mut in_dims = dims;
        *in_dims.last_mut().expect("grad has a last dimension") = inner;
        Some(g.reshape(in_dims)).transpose()
    }
}

/// `x · wᵀ` (`x`: `(..., in)`, `w`: `(out, in)`) with a backward for `x` only.
pub fn frozen_matmul_t(x: &Tensor, w: &Tensor) -> candle_core::Result<Tensor> {
    x.contiguous()?.apply_op1_arc(std::sync::Arc::new(Box::new(FrozenMatmul { w: w.contiguous()? })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// Same values and input gradient as candle's matmul, and no gradient for the weight.
    #[test]
    fn matches_matmul_forward_and_input_gradient() {
        let dev = Device::Cpu;
        let x = Var::from_tensor(&Tensor::randn(0f64, 1.0, (2, 3, 5), &dev).unwrap()).unwrap();
        let w = Tensor::randn(0f64, 1.0, (4, 5), &dev).unwrap();
        let g = Tensor::randn(0f64, 1.0, (2, 3, 4), &dev).unwrap();
        let ours = frozen_matmul_t(&x, &w).unwrap();
        let theirs = x.broadcast_matmul(&w.t().unwrap()).unwrap();
        let diff =
            |a: &Tensor, b: &Tensor| (a - b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f64>().unwrap();
        assert!(diff(&ours, &theirs) < 1e-12);
        let ga = (&ours * &g).unwrap().sum_all().unwrap().backward().unwrap();
        let gb = (&theirs * &g).unwrap().sum_all().unwrap().backward().unwrap();
        assert!(diff(ga.get(&x).unwrap(), gb.get(&x).unwrap()) < 1e-12);
        assert!(ga.get(&w).is_none() && ga.get_ids().count() < gb.get_ids().count());
    }
}
