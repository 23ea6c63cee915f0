//! trec_eval's evaluation settings (its `EPI`): the flags of its command line as one typed struct.

/// The format of the relevance file (`-R`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RelFormat {
    /// `qid iter docno rel` (the default).
    #[default]
    Qrels,
    /// `qid jg docno rel`: several judgment groups per query, for the `*_avgjg` measures.
    QrelsJg,
    /// `qid jg jsg docno rel_level`: preference judgments.
    Prefs,
    /// A qrels file read as preferences (every relevance level preferred to the lower ones).
    QrelsPrefs,
}

impl RelFormat {
    /// The format named as trec_eval's `-R` names it.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "qrels" => RelFormat::Qrels,
            "qrels_jg" => RelFormat::QrelsJg,
            "prefs" => RelFormat::Prefs,
            "qrels_prefs" => RelFormat::QrelsPrefs,
            _ => return None,
        })
    }
}

/// Everything that changes how trec_eval evaluates and prints.
#[derive(Debug, Clone)]
pub struct Options {
    /// `-q`: print every query's values before the summary.
    pub per_query: bool,
    /// `-n` unset: print the summary (`all`) lines.
    pub summary: bool,
    /// `-c`: average over every query of the qrels; a query without results counts as retrieving nothing.
    pub average_complete: bool,
    /// `-J`: drop unjudged documents from each ranking before measuring.
    pub judged_docs_only: bool,
    /// `-N`: documents in the collection (used by `utility`).
    pub num_docs_in_coll: i64,
    /// `-l`: the smallest relevance value that counts as relevant.
    pub relevance_level: i64,
    /// `-M`: rank at most this many documents per query.
    pub max_docs_per_topic: u64,
    /// `-R`: the format of the relevance file.
    pub rel_format: RelFormat,
    /// `-m`: measures, nicknames, and measures with parameters (`P.5,10`), in command-line order; empty means
    /// `official`.
    pub measures: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            per_query: false,
            summary: true,
            average_complete: false,
            judged_docs_only: false,
            num_docs_in_coll: 0,
            relevance_level: 1,
            max_docs_per_topic: u64::MAX,
            rel_format: RelFormat::Qrels,
            measures: Vec::new(),
        }
    }
}
