//! The original Porter stemmer exactly as Lucene's `PorterStemmer` implements it (Martin Porter's reference C
//! version, with its "departures": `bli`→`ble`, `logi`→`log`), working on UTF-16 code units as Java does.
//! This is not Snowball's Porter2 ("English") stemmer.

/// Reusable stemmer state (the buffer is kept between calls). Indices are signed because Lucene's `j` can be -1.
#[derive(Debug, Default)]
pub struct PorterStemmer {
    b: Vec<u16>,
    j: isize,
    k: isize,
}

const K0: isize = 0;

impl PorterStemmer {
    /// A new stemmer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stems a lowercase word; words of 1–2 UTF-16 units come back unchanged.
    pub fn stem(&mut self, word: &str) -> String {
        self.b.clear();
        self.b.extend(word.encode_utf16());
        if self.b.len() <= 2 {
            return word.to_string();
        }
        self.k = self.b.len() as isize - 1;
        self.j = 0;
        self.step1();
        self.step2();
        self.step3();
        self.step4();
        self.step5();
        self.step6();
        String::from_utf16_lossy(&self.b[..=self.k as usize])
    }

    #[inline]
    fn at(&self, i: isize) -> u16 {
        self.b[i as usize]
    }

    /// The unit at `i` as an ASCII byte, or 0 for anything else (so non-ASCII never matches a rule).
    #[inline]
    fn ascii_at(&self, i: isize) -> u8 {
        let c = self.at(i);
        if c < 0x80 { c as u8 } else { 0 }
    }

    fn cons(&self, i: isize) -> bool {
        match self.ascii_at(i) {
            b'a' | b'e' | b'i' | b'o' | b'u' => false,
            b'y' => i == K0 || !self.cons(i - 1),
            _ => true,
        }
    }

    /// Number of consonant sequences between k0 and j.
    fn m(&self) -> usize {
        let mut n = 0;
        let mut i = K0;
        loop {
            if i > self.j {
                return n;
            }
            if !self.cons(i) {
                break;
            }
            i += 1;
        }
        i += 1;
        loop {
            loop {
                if i > self.j {
                    return n;
                }
                if self.cons(i) {
                    break;
                }
                i += 1;
            }
            i += 1;
            n += 1;
            loop {
                if i > self.j {
                    return n;
                }
                if !self.cons(i) {
                    break;
                }
                i += 1;
            }
            i += 1;
        }
    }

    fn vowel_in_stem(&self) -> bool {
        (K0..=self.j).any(|i| !self.cons(i))
    }

    fn double_c(&self, j: isize) -> bool {
        j > K0 && self.at(j) == self.at(j - 1) && self.cons(j)
    }

    fn cvc(&self, i: isize) -> bool {
        if i < K0 + 2 || !self.cons(i) || self.cons(i - 1) || !self.cons(i - 2) {
            return false;
        }
        !matches!(self.ascii_at(i), b'w' | b'x' | b'y')
    }

    /// True when b[k0..=k] ends with `s`; then j = k - len(s) (possibly -1).
    fn ends(&mut self, s: &str) -> bool {
        let l = s.len() as isize;
        let o = self.k - l + 1;
        if o < K0 {
            return false;
        }
        if !s.bytes().enumerate().all(|(i, c)| self.at(o + i as isize) == u16::from(c)) {
            return false;
        }
        self.j = self.k - l;
        true
    }

    fn set_to(&mut self, s: &str) {
        let o = (self.j + 1) as usize;
        if self.b.len() < o + s.len() {
            self.b.resize(o + s.len(), 0);
        }
        for (i, c) in s.bytes().enumerate() {
            self.b[o + i] = u16::from(c);
        }
        self.k = self.j + s.len() as isize;
    }

    fn r(&mut self, s: &str) {
        if self.m() > 0 {
            self.set_to(s);
        }
    }

    /// Plurals and -ed / -ing (the paper's step 1ab).
    fn step1(&mut self) {
        if self.ascii_at(self.k) == b's' {
            if self.ends("sses") {
                self.k -= 2;
            } else if self.ends("ies") {
                self.set_to("i");
            } else if self.ascii_at(self.k - 1) != b's' {
                self.k -= 1;
            }
        }
        if self.ends("eed") {
            if self.m() > 0 {
                self.k -= 1;
            }
        } else if (self.ends("ed") || self.ends("ing")) && self.vowel_in_stem() {
            self.k = self.j;
            if self.ends("at") {
                self.set_to("ate");
            } else if self.ends("bl") {
                self.set_to("ble");
            } else if self.ends("iz") {
                self.set_to("ize");
            } else if self.double_c(self.k) {
                let ch = self.ascii_at(self.k);
                self.k -= 1;
                if matches!(ch, b'l' | b's' | b'z') {
                    self.k += 1;
                }
            } else if self.m() == 1 && self.cvc(self.k) {
                self.set_to("e");
            }
        }
    }

    /// Terminal y to i when there is another vowel in the stem (step 1c).
    fn step2(&mut self) {
        if self.ends("y") && self.vowel_in_stem() {
            let k = self.k as usize;
            self.b[k] = u16::from(b'i');
        }
    }

    /// Double suffixes to single ones (the paper's step 2).
    fn step3(&mut self) {
        if self.k == K0 {
            return;
        }
        let rules: &[(&str, &str)] = match self.ascii_at(self.k - 1) {
            b'a' => &[("ational", "ate"), ("tional", "tion")],
            b'c' => &[("enci", "ence"), ("anci", "ance")],
            b'e' => &[("izer", "ize")],
            b'l' => &[("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous")],
            b'o' => &[("ization", "ize"), ("ation", "ate"), ("ator", "ate")],
            b's' => &[("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous")],
            b't' => &[("aliti", "al"), ("iviti", "ive"), ("biliti", "ble")],
            b'g' => &[("logi", "log")],
            _ => &[],
        };
        self.apply_first(rules);
    }

    /// -ic-, -full, -ness etc. (the paper's step 3).
    fn step4(&mut self) {
        let rules: &[(&str, &str)] = match self.ascii_at(self.k) {
            b'e' => &[("icate", "ic"), ("ative", ""), ("alize", "al")],
            b'i' => &[("iciti", "ic")],
            b'l' => &[("ical", "ic"), ("ful", "")],
            b's' => &[("ness", "")],
            _ => &[],
        };
        self.apply_first(rules);
    }

    /// Applies the first rule whose suffix matches (and only that one), as Lucene's `switch` + `break`.
    fn apply_first(&mut self, rules: &[(&str, &str)]) {
        for (suffix, replacement) in rules {
            if self.ends(suffix) {
                self.r(replacement);
                return;
            }
        }
    }

    /// -ant, -ence etc. in context <c>vcvc<v> (the paper's step 4).
    fn step5(&mut self) {
        if self.k == K0 {
            return;
        }
        let matched = match self.ascii_at(self.k - 1) {
            b'a' => self.ends("al"),
            b'c' => self.ends("ance") || self.ends("ence"),
            b'e' => self.ends("er"),
            b'i' => self.ends("ic"),
            b'l' => self.ends("able") || self.ends("ible"),
            b'n' => self.ends("ant") || self.ends("ement") || self.ends("ment") || self.ends("ent"),
            b'o' => {
                (self.ends("ion") && self.j >= 0 && matches!(self.ascii_at(self.j), b's' | b't')) || self.ends("ou")
            }
            b's' => self.ends("ism"),
            b't' => self.ends("ate") || self.ends("iti"),
            b'u' => self.ends("ous"),
            b'v' => self.ends("ive"),
            b'z' => self.ends("ize"),
            _ => false,
        };
        if matched && self.m() > 1 {
            self.k = self.j;
        }
    }

    /// A final -e when m() > 1, and -ll to -l (the paper's step 5).
    fn step6(&mut self) {
        self.j = self.k;
        if self.ascii_at(self.k) == b'e' {
            let a = self.m();
            if a > 1 || (a == 1 && !self.cvc(self.k - 1)) {
                self.k -= 1;
            }
        }
        if self.ascii_at(self.k) == b'l' && self.double_c(self.k) && self.m() > 1 {
            self.k -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(word: &str, stem: &str) {
        assert_eq!(PorterStemmer::new().stem(word), stem, "{word}");
    }

    #[test]
    fn porter_paper_examples() {
        for (w, s) in [
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("ties", "ti"),
            ("caress", "caress"),
            ("cats", "cat"),
            ("feed", "feed"),
            ("agreed", "agre"),
            ("plastered", "plaster"),
            ("bled", "bled"),
            ("motoring", "motor"),
            ("sing", "sing"),
            ("conflated", "conflat"),
            ("troubled", "troubl"),
            ("sized", "size"),
            ("hopping", "hop"),
            ("tanned", "tan"),
            ("falling", "fall"),
            ("hissing", "hiss"),
            ("fizzed", "fizz"),
            ("failing", "fail"),
            ("filing", "file"),
            ("happy", "happi"),
            ("sky", "sky"),
            ("relational", "relat"),
            ("conditional", "condit"),
            ("generalization", "gener"),
            ("sensibility", "sensibl"),
            ("archaeology", "archaeolog"),
            ("possibly", "possibl"),
            ("as", "as"),
            ("a", "a"),
        ] {
            check(w, s);
        }
    }
}
