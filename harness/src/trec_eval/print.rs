//! trec_eval's output lines, byte for byte: `%-22s\t%s\t%6.4f` for doubles, `%ld` for counts, a `Z` before
//! the name for Z scores, and C's spelling of non-finite numbers.

use std::io::Write;

/// C's `%6.4f`: four decimals right-aligned in six columns, `nan`/`-nan`/`inf`/`-inf` for non-finite values.
pub fn c_fixed4(v: f64) -> String {
    if v.is_nan() {
        format!("{:>6}", if v.is_sign_negative() { "-nan" } else { "nan" })
    } else if v.is_infinite() {
        format!("{:>6}", if v < 0.0 { "-inf" } else { "inf" })
    } else {
        format!("{v:6.4}")
    }
}

/// One `name \t qid \t value` line of a double, with `Z` before the name for Z scores.
pub fn double_line(out: &mut impl Write, zscore: bool, name: &str, qid: &[u8], v: f64) -> std::io::Result<()> {
    if zscore {
        out.write_all(b"Z")?;
    }
    write!(out, "{name:<22}\t")?;
    out.write_all(qid)?;
    writeln!(out, "\t{}", c_fixed4(v))
}

/// One line of a count: `%ld` of the value truncated toward zero (a double line for Z scores).
pub fn long_line(out: &mut impl Write, zscore: bool, name: &str, qid: &[u8], v: f64) -> std::io::Result<()> {
    if zscore {
        return double_line(out, true, name, qid, v);
    }
    write!(out, "{name:<22}\t")?;
    out.write_all(qid)?;
    writeln!(out, "\t{}", v as i64)
}

/// One line whose value is text (`runid`; `relstring` quotes it).
pub fn text_line(out: &mut impl Write, name: &str, qid: &[u8], text: &[u8]) -> std::io::Result<()> {
    write!(out, "{name:<22}\t")?;
    out.write_all(qid)?;
    out.write_all(b"\t")?;
    out.write_all(text)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_c_prints_them() {
        assert_eq!(c_fixed4(0.03125), "0.0312");
        assert_eq!(c_fixed4(-369.0), "-369.0000");
        assert_eq!(c_fixed4(f64::NAN), "   nan");
        assert_eq!(c_fixed4(-f64::NAN), "  -nan");
        assert_eq!(c_fixed4(f64::NEG_INFINITY), "  -inf");
        let mut out = Vec::new();
        long_line(&mut out, false, "num_ret", b"301", 967.9).unwrap();
        double_line(&mut out, true, "map", b"all", 0.5).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "num_ret               \t301\t967\nZmap                   \tall\t0.5000\n"
        );
    }
}
