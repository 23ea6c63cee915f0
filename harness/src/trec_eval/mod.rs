//! trec_eval 10.0 as a library: its measures (all of `all_trec` and the judgment-group ones), its input rules and
//! its output byte for byte; `drbench trec_eval` and a binary called `trec_eval` run [`trec_eval`].
//!
//! Data flow: [`input`] reads the files → [`params`] turns `-m` into measures → per query, [`res_rels`] ranks the
//! run against the judgments → `calc`/`jg` fill the values ([`prefs`] for preference judgments) → [`print`] writes trec_eval's lines.

pub mod calc;
pub mod catalog;
mod evaluate;
mod gains;
pub mod input;
mod jg;
mod options;
pub mod params;
pub mod prefs;
pub mod print;
pub mod res_rels;

pub use evaluate::{Evaluated, InputFile, evaluate, trec_eval};
pub use options::{Options, RelFormat};
