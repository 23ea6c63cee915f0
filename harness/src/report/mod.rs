//! Reports: results of many (model, task) cells as tables in the study's layouts, with significance marks
//! against a baseline, rendered as Markdown, LaTeX or CSV, and as an SVG bar chart.
//!
//! Results ([`CellResult`], read from drbench's and MTEB's files by `drbench_pipeline::record`) are laid out by
//! `table.rs`, which runs the paired t-tests; `render.rs` and `chart.rs` turn a table into text; `mteb.rs` maps
//! MTEB's score names to measures.

mod chart;
mod mteb;
mod render;
mod results;
mod table;

pub use chart::bar_chart_svg;
pub use mteb::{measure_from_mteb_key, mteb_key};
pub use render::{Format, render};
pub use results::CellResult;
pub use table::{Cell, Layout, Mark, Table, TableSpec, build_table};
