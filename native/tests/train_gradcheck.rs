//! LoRA training is differentiated correctly: on the tiny random Qwen2 of ../shared/golden in f64, the chunked
//! (GradCache) gradients of the contrastive loss equal those of one whole-batch graph, whatever the chunk size,
//! and agree with central finite differences.

mod common;

use candle_core::{DType, Device, Tensor, Var};
use drbench_harness::io::TrainPassage;
use drbench_native::encoders::lora::Target;
use drbench_native::encoders::tokenize::load_tokenizer;
use drbench_native::encoders::weights::load_hf;
use drbench_native::train::batches::Example;
use drbench_native::train::trainer::TokenBatch;
use drbench_native::train::{Recipe, Trainer};
use rand::{Rng, SeedableRng};

fn trainer(chunk_size: usize) -> Trainer {
    let shared = common::shared();
    let model = load_hf(&shared.join("golden/qwen2-tiny"), DType::F64, &Device::Cpu).unwrap();
    let tok = load_tokenizer(&shared.join("mirror/models/qwen2.5-coder-0.5b-instruct/tokenizer.json")).unwrap();
    let recipe = Recipe {
        train_group_size: 3,
        per_device_batch_size: 2,
        lora_r: 4,
        lora_alpha: 8.0,
        lora_dropout: 0.1,
        temperature: 0.05,
        q_max_len: 12,
        p_max_len: 20,
        chunk_size,
        lora_targets: Target::ALL.to_vec(),
        ..Recipe::default()
    };
    let t = Trainer::new(model, tok, recipe).unwrap();
    // PEFT starts B at zero, where dL/dA vanishes; give every B random values so that all gradients are checked.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    for p in &t.params {
        let n = p.b.elem_count();
        let vals: Vec<f64> = (0..n).map(|_| rng.random_range(-0.5..0.5)).collect();
        p.b.set(&Tensor::from_vec(vals, p.b.shape(), &Device::Cpu).unwrap()).unwrap();
    }
    t
}

fn batch(t: &Trainer) -> TokenBatch {
    let p = |text: &str| TrainPassage { docid: text.into(), title: "T".into(), text: text.into() };
    let (p1, p2, p3) = (p("cells divide by mitosis"), p("the moon orbits the earth"), p("vitamin D and bone density"));
    let (p4, p5, p6) = (
        p("stem cells differentiate"),
        p("a short one"),
        p(
            "tides follow the moon, roughly twice daily, because the pull of its gravity on the oceans is uneven across the planet",
        ),
    );
    let examples = vec![
        Example { query_id: "1".into(), query: "how do cells divide?".into(), passages: vec![p1, p2, p3] },
        Example { query_id: "2".into(), query: "what causes tides".into(), passages: vec![p6, p4, p5] },
    ];
    t.token_batch(&examples).unwrap()
}

fn to_vec(t: &Tensor) -> Vec<f64> {
    t.flatten_all().unwrap().to_vec1::<f64>().unwrap()
}

#[test]
fn chunked_gradients_equal_the_whole_graph_and_finite_differences() {
    let t = trainer(2);
    let b = batch(&t);
    assert!(b.passages.iter().any(|p| p.len() == 20), "a passage is cut to p_max_len");
    let (loss, grads) = t.grads(&b, 7).unwrap();
    let vars = t.vars();

    // One graph over the whole batch: same loss, same gradients.
    let whole = t.loss_graph(&b, 7).unwrap();
    assert!((whole.to_scalar::<f64>().unwrap() - loss).abs() < 1e-12);
    let store = whole.backward().unwrap();
    for (v, g) in vars.iter().zip(&grads) {
        let reference = to_vec(store.get(v.as_tensor()).unwrap());
        let got = to_vec(g);
        let scale = reference.iter().fold(0f64, |m, x| m.max(x.abs()));
        let diff = reference.iter().zip(&got).fold(0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(diff <= 1e-10 * scale.max(1.0), "chunked vs whole graph: {diff} (scale {scale})");
    }

    // Another chunk size: same gradients.
    let (loss8, grads8) = trainer(8).grads(&b, 7).unwrap();
    assert!((loss8 - loss).abs() < 1e-12);
    for (a, c) in grads.iter().zip(&grads8) {
        let diff = to_vec(a).iter().zip(to_vec(c)).fold(0f64, |m, (x, y)| m.max((x - y).abs()));
        assert!(diff < 1e-10, "chunk 2 vs 8: {diff}");
    }

    // Central differences on 40 seeded coordinates spread over all A and B matrices.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let h = 1e-6;
    let mut worst = 0f64;
    for _ in 0..40 {
        let vi = rng.random_range(0..vars.len());
        let var: &Var = &vars[vi];
        let n = var.elem_count();
        let k = rng.random_range(0..n);
        let original = to_vec(var.as_tensor());
        let eval = |delta: f64| {
            let mut v = original.clone();
            v[k] += delta;
            var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu).unwrap()).unwrap();
            t.loss_graph(&b, 7).unwrap().to_scalar::<f64>().unwrap()
        };
        let fd = (eval(h) - eval(-h)) / (2.0 * h);
        var.set(&Tensor::from_vec(original, var.shape(), &Device::Cpu).unwrap()).unwrap();
        let g = to_vec(&grads[vi])[k];
        let rel = (fd - g).abs() / fd.abs().max(g.abs()).max(1e-6);
        worst = worst.max(rel);
        assert!(rel <= 1e-3, "var {vi} element {k}: analytic {g:e}, finite difference {fd:e}, relative error {rel:e}");
    }
    eprintln!("loss {loss:.6}; worst relative error over 40 coordinates: {worst:.2e}");
}
