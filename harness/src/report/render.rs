//! A [`Table`] as Markdown, LaTeX (booktabs) or CSV (long format: one line per cell, for pandas/R).

use std::fmt::Write;
use std::str::FromStr;

use super::table::{Cell, Mark, Table};
use crate::error::Error;

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// GitHub Markdown table.
    Markdown,
    /// LaTeX tabular (booktabs).
    Latex,
    /// CSV, one line per cell: row, column, value, best, vs_baseline, p.
    Csv,
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "md" | "markdown" => Ok(Format::Markdown),
            "latex" | "tex" => Ok(Format::Latex),
            "csv" => Ok(Format::Csv),
            _ => Err(Error::Invalid(format!("unknown report format {s:?} (md, latex, csv)"))),
        }
    }
}

/// Renders `table`.
pub fn render(table: &Table, format: Format) -> String {
    match format {
        Format::Markdown => markdown(table),
        Format::Latex => latex(table),
        Format::Csv => csv(table),
    }
}

fn rows(table: &Table) -> impl Iterator<Item = (&str, &Vec<Option<Cell>>)> {
    table.rows.iter().map(String::as_str).zip(&table.cells).chain(table.average.iter().map(|a| ("Avg.", a)))
}

/// A value with 4 decimals, `bold` applied when best, and the better/worse mark appended; `empty` when missing.
fn cell_text(c: &Option<Cell>, empty: &str, bold: impl Fn(&str) -> String, marks: (&str, &str)) -> String {
    let Some(c) = c else { return empty.to_string() };
    let v = format!("{:.4}", c.value);
    let v = if c.best { bold(&v) } else { v };
    match c.mark {
        Mark::Better => format!("{v}{}", marks.0),
        Mark::Worse => format!("{v}{}", marks.1),
        Mark::None => v,
    }
}

fn markdown(table: &Table) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "| {} | {} |", table.corner, table.columns.join(" | "));
    let _ = writeln!(s, "|---|{}", "---:|".repeat(table.columns.len()));
    for (label, cells) in rows(table) {
        let label = if label == "Avg." { "**Avg.**".to_string() } else { label.to_string() };
        let values: Vec<String> = cells.iter().map(|c| cell_text(c, "–", |v| format!("**{v}**"), ("▲", "▼"))).collect();
        let _ = writeln!(s, "| {label} | {} |", values.join(" | "));
    }
    let _ = writeln!(s, "\n{}", table.legend);
    s
}

fn tex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(ch);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '\\' => out.push_str("\\textbackslash{}"),
            '▲' => out.push_str("$^\\blacktriangle$"),
            '▼' => out.push_str("$^\\blacktriangledown$"),
            _ => out.push(ch),
        }
    }
    out
}

fn latex(table: &Table) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "% needs \\usepackage{{booktabs}} and \\usepackage{{amssymb}}");
    let _ = writeln!(s, "\\begin{{tabular}}{{l{}}}", "r".repeat(table.columns.len()));
    let _ = writeln!(s, "\\toprule");
    let header: Vec<String> = table.columns.iter().map(|c| tex_escape(c)).collect();
    let _ = writeln!(s, "{} & {} \\\\", tex_escape(&table.corner), header.join(" & "));
    let _ = writeln!(s, "\\midrule");
    for (label, cells) in rows(table) {
        if label == "Avg." {
            let _ = writeln!(s, "\\midrule");
        }
        let values: Vec<String> = cells
            .iter()
            .map(|c| {
                cell_text(c, "--", |v| format!("\\textbf{{{v}}}"), ("$^\\blacktriangle$", "$^\\blacktriangledown$"))
            })
            .collect();
        let _ = writeln!(s, "{} & {} \\\\", tex_escape(label), values.join(" & "));
    }
    let _ = writeln!(s, "\\bottomrule\n\\end{{tabular}}");
    let _ = writeln!(s, "% {}", tex_escape(&table.legend));
    s
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn csv(table: &Table) -> String {
    let mut s = String::from("row,column,value,best,vs_baseline,p\n");
    for (label, cells) in rows(table) {
        for (col, c) in table.columns.iter().zip(cells) {
            let Some(c) = c else { continue };
            let mark = match c.mark {
                Mark::Better => "better",
                Mark::Worse => "worse",
                Mark::None => "",
            };
            let p = c.p.map(|p| format!("{p:.6}")).unwrap_or_default();
            let _ = writeln!(s, "{},{},{:.4},{},{mark},{p}", csv_field(label), csv_field(col), c.value, c.best);
        }
    }
    s
}
