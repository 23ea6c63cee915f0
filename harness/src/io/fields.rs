//! Splitting whitespace-separated fields (TREC formats) and parsing numbers with clear messages.

/// Splits `line` on runs of spaces and tabs into at most `N + 1` fields; returns the fields found and their count.
/// A count above `N` means "more than N".
#[inline]
pub fn split_ws<const N: usize>(line: &[u8]) -> ([&[u8]; N], usize) {
    let mut out: [&[u8]; N] = [&[]; N];
    let mut n = 0;
    let mut i = 0;
    let len = line.len();
    while i < len {
        while i < len && (line[i] == b' ' || line[i] == b'\t') {
            i += 1;
        }
        if i == len {
            break;
        }
        let start = i;
        while i < len && line[i] != b' ' && line[i] != b'\t' {
            i += 1;
        }
        if n == N {
            return (out, N + 1);
        }
        out[n] = &line[start..i];
        n += 1;
    }
    (out, n)
}

/// Whether a line of a TREC file holds no data: blank, or a comment (`#` first, trec_eval 10.0's rule).
pub fn is_blank_or_comment(line: &[u8]) -> bool {
    line.iter().find(|b| !b.is_ascii_whitespace()).is_none_or(|&b| b == b'#')
}

/// Whether `id` can be a field of a TREC line: not empty, no whitespace (which would split it).
pub fn is_trec_field(id: &str) -> bool {
    !id.is_empty() && !id.contains(char::is_whitespace)
}

/// `id` when a TREC line can hold it; else the reason, naming it as `what` ("document id").
pub fn trec_id<'a>(id: &'a str, what: &str) -> Result<&'a str, String> {
    if is_trec_field(id) {
        Ok(id)
    } else {
        Err(format!("{what} {id:?} cannot be written to a TREC file (empty or holding whitespace)"))
    }
}

/// Parses a relevance grade (an integer).
pub fn parse_grade(field: &[u8]) -> Result<i32, String> {
    std::str::from_utf8(field)
        .ok()
        .and_then(|s| s.parse::<i32>().ok())
        .ok_or_else(|| format!("relevance {:?} is not an integer", String::from_utf8_lossy(field)))
}

/// Parses a retrieval score (a finite decimal number).
#[inline]
pub fn parse_score(field: &[u8]) -> Result<f64, String> {
    // fast-float2 rounds exactly like `str::parse::<f64>` and reads bytes directly (no UTF-8 pass).
    match fast_float2::parse::<f64, _>(field) {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!("score {:?} is not a finite number", String::from_utf8_lossy(field))),
    }
}

/// Checks that a field is valid UTF-8 and returns it as text.
pub fn utf8<'a>(field: &'a [u8], what: &str) -> Result<&'a str, String> {
    std::str::from_utf8(field).map_err(|_| format!("{what} is not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_spaces_and_tabs() {
        let (f, n) = split_ws::<6>(b"  1 Q0\tdoc  1 2.5 tag ");
        assert_eq!(n, 6);
        assert_eq!(f[2], b"doc");
        assert_eq!(split_ws::<4>(b"a b c d e").1, 5);
        assert_eq!(split_ws::<4>(b"").1, 0);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_score(b"1e0").unwrap(), 1.0);
        assert_eq!(parse_score(b"1.500000e+00").unwrap(), 1.5);
        assert!(parse_score(b"NaN").is_err());
        assert!(parse_score(b"x").is_err());
        assert_eq!(parse_grade(b"-1").unwrap(), -1);
        assert!(parse_grade(b"1.0").is_err());
    }
}
