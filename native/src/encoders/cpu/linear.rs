//! A linear layer over packed token rows: `y = x · Wᵀ (+ b)` with `W` in PyTorch's `out × in` layout, either f32
//! (one gemm over all rows, `harness::matmul`) or bf16 panels (`bf16`).

use drbench_harness::matmul::{MatView, Threads, matmul};
use rayon::prelude::*;

use super::bf16::Bf16Weights;
use super::ops;

/// A weight matrix in one of the forms the CPU forward multiplies by.
#[derive(Debug, Clone, Copy)]
pub enum Weights<'a> {
    /// f32, row-major `outputs × inputs`.
    F32 {
        /// The values.
        data: &'a [f32],
        /// Input columns.
        inputs: usize,
        /// Output columns.
        outputs: usize,
    },
    /// bf16 panels.
    Bf16(&'a Bf16Weights),
}

impl Weights<'_> {
    /// Input columns.
    pub fn inputs(&self) -> usize {
        match self {
            Weights::F32 { inputs, .. } => *inputs,
            Weights::Bf16(w) => w.inputs(),
        }
    }

    /// Output columns.
    pub fn outputs(&self) -> usize {
        match self {
            Weights::F32 { outputs, .. } => *outputs,
            Weights::Bf16(w) => w.outputs(),
        }
    }
}

/// `out = x · Wᵀ + b`, or `out += x · Wᵀ + b` with `accumulate` (a residual already there), for `x` of
/// `rows × inputs` and `out` of `rows × outputs` (row-major; extra elements of `out` are left alone).
pub fn linear(x: &[f32], w: Weights<'_>, bias: Option<&[f32]>, out: &mut [f32], accumulate: bool) {
    let (inputs, outputs) = (w.inputs(), w.outputs());
    let rows = x.len() / inputs;
    assert_eq!(x.len(), rows * inputs, "linear: x is not a whole number of {inputs}-wide rows");
    let out = &mut out[..rows * outputs];
    match (bias, accumulate) {
        (Some(b), true) => ops::add_bias(out, b),
        (Some(b), false) => out.par_chunks_mut(outputs).for_each(|r| r.copy_from_slice(b)),
        (None, true) => {}
        (None, false) => out.fill(0.0),
    }
    match w {
        Weights::Bf16(w) => w.accumulate(x, out),
        Weights::F32 { data, .. } => {
            let w = MatView::row_major(data, outputs, inputs).t();
            matmul(out, outputs, MatView::row_major(x, rows, inputs), w, 1.0, true, Threads::Pool);
        }
    }
}
