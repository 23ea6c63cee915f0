//! trec_eval's gain map (`gain_init.c`): relevance levels to gains, from `rel=gain` parameters and the levels
//! present, sorted by gain, with how many judged documents each level has.

use super::res_rels::ResRels;

/// One relevance level with its gain and number of judged documents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelGain {
    /// The relevance value.
    pub rel_level: i64,
    /// Its gain.
    pub gain: f64,
    /// Judged documents at this level.
    pub num_at_level: i64,
}

/// `pairs` whose name is an integer set that level's gain; every other level present gains its own value.
pub fn setup_gains(pairs: &[(String, f64)], rr: &ResRels) -> Vec<RelGain> {
    let mut gains: Vec<RelGain> = pairs
        .iter()
        .filter(|(name, _)| valid_int(name))
        .map(|(name, gain)| RelGain { rel_level: super::input::atol(name.as_bytes()), gain: *gain, num_at_level: 0 })
        .collect();
    // Only a parameter can name a level already in the map (the levels pushed below are each one new), so only
    // the parameters are searched: linear, not quadratic, in the number of levels (a relevance of 999999 makes a
    // million).
    let from_params = gains.len();
    for level in 0..rr.num_rel_levels {
        let count = rr.rel_levels[level];
        match gains[..from_params].iter_mut().find(|g| g.rel_level == level as i64) {
            Some(g) => g.num_at_level = count,
            None => gains.push(RelGain { rel_level: level as i64, gain: level as f64, num_at_level: count }),
        }
    }
    sort_by_gain(&mut gains);
    gains
}

/// Insertion sort by trec_eval's comparator, `(int)(a.gain - b.gain)`: gains less than 1 apart compare equal,
/// and a stable sort keeps them in the order above (a library sort may reject a comparator that is not a total
/// order).
fn sort_by_gain(gains: &mut [RelGain]) {
    let cmp = |a: &RelGain, b: &RelGain| (a.gain - b.gain) as i32;
    for i in 1..gains.len() {
        let mut j = i;
        while j > 0 && cmp(&gains[j - 1], &gains[j]) > 0 {
            gains.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// The gain of relevance `rel` (0 for a level not in the map).
pub fn get_gain(rel: i64, gains: &[RelGain]) -> f64 {
    gains.iter().find(|g| g.rel_level == rel).map_or(0.0, |g| g.gain)
}

/// trec_eval's `valid_int`: an optional sign and at least one digit, nothing else.
fn valid_int(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Walks the ideal ranking level by level (highest gain first): `next()` is the ideal gain at the next rank.
pub struct IdealGains<'a> {
    gains: &'a [RelGain],
    cur_level: isize,
    num_at_level: i64,
}

impl<'a> IdealGains<'a> {
    /// Starts at the top level.
    pub fn new(gains: &'a [RelGain]) -> Self {
        IdealGains { gains, cur_level: gains.len() as isize - 1, num_at_level: 0 }
    }

    /// The gain of the current level (0 when every level is used up), before any step.
    pub fn current(&self) -> f64 {
        if self.cur_level >= 0 { self.gains[self.cur_level as usize].gain } else { 0.0 }
    }

    /// Moves one rank down and returns the ideal gain there.
    pub fn step(&mut self) -> f64 {
        self.num_at_level += 1;
        while self.cur_level >= 0 && self.num_at_level > self.gains[self.cur_level as usize].num_at_level {
            self.num_at_level = 1;
            self.cur_level -= 1;
        }
        self.current()
    }
}
