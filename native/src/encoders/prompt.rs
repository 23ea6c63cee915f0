//! Prompt construction for LLM retrievers: the study's PromptReps prompt rendered through the model's own chat
//! template (minijinja over `tokenizer_config.json` or `chat_template.jinja`), and RepLLaMA's `Query: ` /
//! `Passage: ` + EOS format.

use std::path::Path;

use drbench_harness::encoder::Role;
use serde_json::Value;

use super::error::{ModelError, Result};

/// How an LLM turns a text into the sequence whose last token is pooled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum PromptMode {
    /// Zero-shot PromptReps: chat template + "Use one word to represent ..." + `The word is: "`.
    Promptreps,
    /// `Query: {text}` / `Passage: {text}` followed by the EOS token text (RepLLaMA).
    Eos,
}

impl PromptMode {
    /// Short name for signatures.
    pub fn name(self) -> &'static str {
        match self {
            PromptMode::Promptreps => "promptreps",
            PromptMode::Eos => "eos",
        }
    }
}

/// The user turn of PromptReps.
pub fn promptreps_message(text: &str, role: Role) -> String {
    let (label, noun) = match role {
        Role::Query => ("Query", "query"),
        Role::Passage => ("Passage", "passage"),
    };
    format!(
        "{label}: \"{text}\". Use one word to represent the {noun} in a retrieval task. Make sure your word is in lowercase."
    )
}

/// A chat template loaded from a model folder.
#[derive(Debug)]
pub struct ChatTemplate {
    source: String,
}

impl ChatTemplate {
    /// Reads `chat_template.jinja`, else the `chat_template` key of `tokenizer_config.json`, in `dir`.
    pub fn load(dir: &Path) -> Result<ChatTemplate> {
        let jinja = dir.join("chat_template.jinja");
        if jinja.is_file() {
            let source = std::fs::read_to_string(&jinja).map_err(|e| ModelError::file(&jinja, e.to_string()))?;
            return Ok(ChatTemplate { source });
        }
        let cfg = dir.join("tokenizer_config.json");
        let text = std::fs::read_to_string(&cfg).map_err(|e| ModelError::file(&cfg, e.to_string()))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| ModelError::file(&cfg, format!("bad JSON: {e}")))?;
        match v.get("chat_template") {
            Some(Value::String(s)) => Ok(ChatTemplate { source: s.clone() }),
            _ => Err(ModelError::file(&cfg, "no chat_template (and no chat_template.jinja beside it)")),
        }
    }

    /// Renders one user message with the generation prompt, as
    /// `tokenizer.apply_chat_template([{"role":"user","content":msg}], add_generation_prompt=True, tokenize=False)`.
    pub fn render_user(&self, message: &str) -> Result<String> {
        let mut env = minijinja::Environment::new();
        env.set_trim_blocks(false);
        env.set_lstrip_blocks(false);
        // HF templates may call raise_exception(); make it a render error.
        env.add_function("raise_exception", |msg: String| -> std::result::Result<String, minijinja::Error> {
            Err(minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, msg))
        });
        env.add_template("chat", &self.source).map_err(|e| ModelError::Template(e.to_string()))?;
        let tmpl = env.get_template("chat").map_err(|e| ModelError::Template(e.to_string()))?;
        tmpl.render(minijinja::context! {
            messages => vec![minijinja::context! { role => "user", content => message }],
            add_generation_prompt => true,
            tools => minijinja::Value::from(()),
        })
        .map_err(|e| ModelError::Template(e.to_string()))
    }
}

/// The full prompt string for `text` in `mode` (the EOS text is appended for `eos`).
pub fn build_prompt(
    mode: PromptMode,
    template: Option<&ChatTemplate>,
    eos_text: &str,
    text: &str,
    role: Role,
) -> Result<String> {
    match mode {
        PromptMode::Promptreps => {
            let template =
                template.ok_or_else(|| ModelError::Unsupported("promptreps needs the model's chat template".into()))?;
            let mut s = template.render_user(&promptreps_message(text, role))?;
            s.push_str("The word is: \"");
            Ok(s)
        }
        PromptMode::Eos => {
            let label = match role {
                Role::Query => "Query",
                Role::Passage => "Passage",
            };
            Ok(format!("{label}: {text}{eos_text}"))
        }
    }
}
