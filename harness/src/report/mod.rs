//! Reports: results of many (model, task) cells as tables in the study's layouts, with significance marks
//! against a baseline, rendered as Markdown, LaTeX or CSV, and as an SVG bar chart.
//!
//! Results come from drbench's own result folders or from MTEB result files (`results.rs`); `table.rs` lays
//! them out and runs the paired t-tests; `render.rs` and `chart.rs` turn a table into text.

mod chart;
mod mteb;
mod render;
mod results;
mod table;

pub use chart::bar_chart_svg;
pub use mteb::{measure_from_mteb_key, mteb_key};
pub use render::{Format, render};
pub use results::{CellResult, read_results};
pub use table::{Cell, Layout, Mark, Table, TableSpec, build_table};
