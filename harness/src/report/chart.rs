//! An SVG grouped bar chart of a [`Table`]: one group per row (dataset), one bar per column (model).
//! Written directly (a few dozen elements): plotting crates would pull in font discovery for the text.

use std::fmt::Write;

use super::table::Table;

const PALETTE: [&str; 10] =
    ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The chart as an SVG document; `title` goes on top.
pub fn bar_chart_svg(table: &Table, title: &str) -> String {
    let groups: Vec<(&str, &Vec<Option<super::Cell>>)> =
        table.rows.iter().map(String::as_str).zip(&table.cells).collect();
    let n_bars = table.columns.len().max(1);
    let (bar_w, gap, left, top, plot_h) = (14.0, 24.0, 56.0, 40.0, 240.0);
    let group_w = bar_w * n_bars as f64 + gap;
    let plot_w = group_w * groups.len().max(1) as f64;
    let legend_w = 40.0 + 7.5 * table.columns.iter().map(|c| c.chars().count()).max().unwrap_or(0) as f64;
    let (width, height) = (left + plot_w + 20.0 + legend_w, top + plot_h + 90.0);
    let max = groups.iter().flat_map(|(_, r)| r.iter().flatten().map(|c| c.value)).fold(0.0f64, f64::max);
    let y_max = ((max * 10.0).ceil() / 10.0).max(0.1);
    let y = |v: f64| top + plot_h - v / y_max * plot_h;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(s, r#"<text x="{left}" y="20" font-size="14" font-weight="bold">{}</text>"#, esc(title));
    let steps = (y_max * 10.0).round() as usize;
    for i in 0..=steps {
        let v = i as f64 / 10.0;
        let yy = y(v);
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{v:.1}</text>",
            left + plot_w,
            left - 6.0,
            yy + 4.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        top + plot_h / 2.0,
        esc(&table.corner)
    );
    for (g, (label, row)) in groups.iter().enumerate() {
        let x0 = left + gap / 2.0 + g as f64 * group_w;
        for (b, cell) in row.iter().enumerate() {
            let Some(c) = cell else { continue };
            let (x, yy) = (x0 + b as f64 * bar_w, y(c.value));
            let _ = writeln!(
                s,
                r#"<rect x="{x:.1}" y="{yy:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}: {:.4}</title></rect>"#,
                bar_w - 2.0,
                top + plot_h - yy,
                PALETTE[b % PALETTE.len()],
                esc(&table.columns[b]),
                c.value
            );
        }
        let cx = x0 + bar_w * n_bars as f64 / 2.0;
        let _ = writeln!(
            s,
            r#"<text transform="translate({cx:.1} {:.1}) rotate(-30)" text-anchor="end">{}</text>"#,
            top + plot_h + 14.0,
            esc(label)
        );
    }
    let _ = writeln!(
        s,
        "<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>",
        top + plot_h,
        left + plot_w,
        top + plot_h
    );
    let lx = left + plot_w + 20.0;
    for (i, name) in table.columns.iter().enumerate() {
        let ly = top + 14.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{lx:.1}" y="{ly:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            PALETTE[i % PALETTE.len()],
            lx + 14.0,
            ly + 9.0,
            esc(name)
        );
    }
    s.push_str("</svg>\n");
    s
}
