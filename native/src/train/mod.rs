//! LoRA contrastive fine-tuning of Qwen2 retrievers (the RepLLaMA recipe as the study ran it): training groups
//! → seeded batches → EOS-pooled, L2-normalised embeddings → InfoNCE with in-batch negatives, backpropagated in
//! chunks (GradCache) into LoRA adapters → AdamW; checkpoints that resume bit-identically.

pub mod batches;
pub mod checkpoint;
pub mod loss;
pub mod optim;
pub mod recipe;
pub mod run;
pub mod trainer;

pub use recipe::Recipe;
pub use trainer::{StepReport, Trainer};
