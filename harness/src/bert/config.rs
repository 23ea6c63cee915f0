//! BERT's hyper-parameters as typed values: the fields of a Hugging Face `config.json` that inference needs (other
//! fields are ignored), checked once, and the header of drbench's int8 weight file, which carries that config
//! with the pooling and the truncation length.

use serde::{Deserialize, Serialize};

use super::Pooling;

/// Limits that keep a hostile config from asking for absurd allocations before any tensor is read.
const MAX_WIDTH: usize = 1 << 16;
const MAX_LAYERS: usize = 1 << 10;
const MAX_VOCAB: usize = 1 << 24;
const MAX_POSITIONS: usize = 1 << 20;

/// A BERT `config.json` (the fields inference reads; unknown ones are ignored, so any Hugging Face BERT parses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BertConfig {
    /// Word-piece vocabulary.
    pub vocab_size: usize,
    /// Model width.
    pub hidden_size: usize,
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads (they split `hidden_size`).
    pub num_attention_heads: usize,
    /// MLP width.
    pub intermediate_size: usize,
    /// MLP activation, Hugging Face's name (`gelu` is the exact erf GELU).
    #[serde(default = "default_act")]
    pub hidden_act: String,
    /// Rows of the position table: the longest input.
    pub max_position_embeddings: usize,
    /// Rows of the token-type table.
    #[serde(default = "default_types")]
    pub type_vocab_size: usize,
    /// LayerNorm epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// `absolute` (BERT) or a relative scheme.
    #[serde(default = "default_positions")]
    pub position_embedding_type: String,
    /// `bert`, `roberta`, ... (tensor names may sit under it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_type: Option<String>,
}

fn default_act() -> String {
    "gelu".into()
}
fn default_types() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_positions() -> String {
    "absolute".into()
}

impl BertConfig {
    /// Parses a `config.json` text and checks it ([`BertConfig::check`]).
    pub fn from_json(text: &str) -> Result<BertConfig, String> {
        let config: BertConfig = serde_json::from_str(text).map_err(|e| format!("not a BERT config: {e}"))?;
        config.check()?;
        Ok(config)
    }

    /// Sizes that make sense: non-zero, heads dividing the width, below generous limits.
    pub fn check(&self) -> Result<(), String> {
        let sizes = [
            ("vocab_size", self.vocab_size, MAX_VOCAB),
            ("hidden_size", self.hidden_size, MAX_WIDTH),
            ("num_hidden_layers", self.num_hidden_layers, MAX_LAYERS),
            ("num_attention_heads", self.num_attention_heads, MAX_WIDTH),
            ("intermediate_size", self.intermediate_size, MAX_WIDTH * 4),
            ("max_position_embeddings", self.max_position_embeddings, MAX_POSITIONS),
            ("type_vocab_size", self.type_vocab_size, MAX_VOCAB),
        ];
        for (name, value, max) in sizes {
            if value == 0 || value > max {
                return Err(format!("{name} = {value}: expected 1 to {max}"));
            }
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps >= 0.0) {
            return Err(format!("layer_norm_eps = {}: expected a finite non-negative number", self.layer_norm_eps));
        }
        Ok(())
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads.max(1)
    }

    /// Whether the MLP is the exact GELU and positions are absolute: what the packed forwards implement.
    pub fn packed_support(&self) -> Result<(), String> {
        if self.hidden_act != "gelu" {
            return Err(format!("hidden_act {:?}: only BERT's exact (erf) GELU is implemented", self.hidden_act));
        }
        if self.position_embedding_type != "absolute" {
            return Err(format!(
                "position_embedding_type {:?}: only absolute positions are implemented",
                self.position_embedding_type
            ));
        }
        Ok(())
    }
}

/// The architectures an int8 weight file can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Int8Architecture {
    /// A BERT sentence encoder.
    Bert,
}

/// The JSON header of an int8 weight file (`drbench quantize`): what the model is and how to pool and truncate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Int8Header {
    /// Always `bert` for now.
    pub architecture: Int8Architecture,
    /// The model's config.json.
    pub bert: BertConfig,
    /// sentence-transformers' pooling.
    pub pooling: Pooling,
    /// sentence-transformers' `max_seq_length` (special tokens included).
    pub max_seq_length: usize,
    /// How the matrices were quantized (for people reading the header).
    #[serde(default)]
    pub quantization: String,
}

impl Int8Header {
    /// Checks the config and that the truncation length fits the position table.
    pub fn check(&self) -> Result<(), String> {
        self.bert.check()?;
        if self.max_seq_length == 0 || self.max_seq_length > self.bert.max_position_embeddings {
            return Err(format!(
                "max_seq_length {} must be 1 to max_position_embeddings ({})",
                self.max_seq_length, self.bert.max_position_embeddings
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINILM: &str = r#"{"architectures": ["BertModel"], "hidden_act": "gelu", "hidden_size": 384,
        "intermediate_size": 1536, "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert",
        "num_attention_heads": 12, "num_hidden_layers": 6, "type_vocab_size": 2, "vocab_size": 30522}"#;

    #[test]
    fn a_hugging_face_config_parses_and_bad_ones_are_named() {
        let c = BertConfig::from_json(MINILM).unwrap();
        assert_eq!((c.hidden_size, c.head_dim(), c.model_type.as_deref()), (384, 32, Some("bert")));
        assert!(c.packed_support().is_ok());
        let cases = [
            (r#""num_attention_heads": 12"#, r#""num_attention_heads": 7"#, "not a multiple"),
            (r#""num_attention_heads": 12"#, r#""num_attention_heads": 0"#, "num_attention_heads = 0"),
            (r#""vocab_size": 30522"#, r#""vocab_size": 99999999999"#, "vocab_size = 99999999999"),
            (r#""hidden_size": 384"#, r#""hidden_size": "x""#, "not a BERT config"),
            (r#""layer_norm_eps": 1e-12"#, r#""layer_norm_eps": -1"#, "layer_norm_eps"),
        ];
        for (from, to, want) in cases {
            let err = BertConfig::from_json(&MINILM.replace(from, to)).unwrap_err();
            assert!(err.contains(want), "{to}: {err}");
        }
        let relu = BertConfig::from_json(&MINILM.replace(r#""gelu""#, r#""relu""#)).unwrap();
        assert!(relu.packed_support().unwrap_err().contains("relu"));
    }
}
