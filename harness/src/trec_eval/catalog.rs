//! trec_eval 10.0's measures and nicknames, in its order: for each, the shape of its values, how the summary
//! averages them, its default parameters, the input format it needs, and a one-line explanation.

/// Which measure a definition computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs, non_camel_case_types)]
pub enum Id {
    runid,
    num_q,
    num_ret,
    num_rel,
    num_rel_ret,
    map,
    gm_map,
    Rprec,
    bpref,
    recip_rank,
    iprec_at_recall,
    P,
    relstring,
    recall,
    infAP,
    gm_bpref,
    Rprec_mult,
    utility,
    pt11_avg,
    binG,
    G,
    dcg,
    ideal_dcg,
    ndcg,
    ndcg_rel,
    Rndcg,
    ndcg_cut,
    map_cut,
    relative_P,
    success,
    set_P,
    set_relative_P,
    set_recall,
    set_map,
    set_F,
    num_nonrel_judged_ret,
    prefs_num_prefs_poss,
    prefs_num_prefs_ful,
    prefs_num_prefs_ful_ret,
    prefs_simp,
    prefs_pair,
    prefs_avgjg,
    prefs_avgjg_Rnonrel,
    prefs_simp_ret,
    prefs_pair_ret,
    prefs_avgjg_ret,
    prefs_avgjg_Rnonrel_ret,
    prefs_simp_imp,
    prefs_pair_imp,
    prefs_avgjg_imp,
    map_avgjg,
    P_avgjg,
    Rprec_mult_avgjg,
    yaap,
    rbp,
    rbp_resid,
    unj,
}

/// How a measure's values are laid out and named.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// No stored value (`runid`).
    Nothing,
    /// One integer, printed as an integer.
    Long,
    /// One double.
    Double,
    /// One double per integer cut-off (`P_5`, `P_10`, ...).
    CutLong(&'static [i64]),
    /// One double per fractional cut-off, named with two decimals (`iprec_at_recall_0.10`).
    CutDouble(&'static [f64]),
    /// One double computed with a list of doubles (`utility`, `11pt_avg`, `set_F`, `relstring`).
    ParamDoubles(&'static [f64]),
    /// One double computed with `name=value` pairs (gain maps of `ndcg`, `p` of `rbp`).
    ParamPairs,
}

/// How the summary line is made from the per-query values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Average {
    /// Arithmetic mean over queries (over all qrels queries with `-c`).
    Mean,
    /// Geometric mean of values floored at 0.00001.
    GeoMean,
    /// Sum over queries.
    Sum,
    /// The number of queries.
    NumQ,
    /// Sum over queries; with `-c`, the relevant documents of every qrels query.
    NumRel,
    /// No summary value (`runid`, `relstring` print their own).
    None,
}

/// The relevance input a measure reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Nothing beyond the run (`runid`, `num_q`).
    Any,
    /// `qrels` judgments.
    Qrels,
    /// `qrels_jg` judgment groups.
    QrelsJg,
    /// Preference judgments (`prefs` or `qrels_prefs`).
    Prefs,
}

/// One trec_eval measure.
#[derive(Debug, Clone, Copy)]
pub struct Def {
    /// Its identity.
    pub id: Id,
    /// Its root name on the command line and in the output.
    pub name: &'static str,
    /// Its values and defaults.
    pub shape: Shape,
    /// How the summary averages it.
    pub average: Average,
    /// Whether `-q` prints it per query.
    pub per_query: bool,
    /// What it reads.
    pub needs: Needs,
    /// What it measures.
    pub explanation: &'static str,
}

const CUTS: &[i64] = &[5, 10, 15, 20, 30, 100, 200, 500, 1000];
const RECALL_POINTS: &[f64] = &[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
const R_MULTIPLES: &[f64] = &[0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0];

const fn def(
    id: Id,
    name: &'static str,
    shape: Shape,
    average: Average,
    needs: Needs,
    explanation: &'static str,
) -> Def {
    Def { id, name, shape, average, per_query: true, needs, explanation }
}

const fn summary_only(mut d: Def) -> Def {
    d.per_query = false;
    d
}

use Average as A;
use Needs as N;
use Shape as S;

/// Every measure, in the order trec_eval computes and prints them.
pub const MEASURES: &[Def] = &[
    summary_only(def(Id::runid, "runid", S::Nothing, A::None, N::Any, "Run id given by the results file.")),
    summary_only(def(Id::num_q, "num_q", S::Long, A::NumQ, N::Any, "Number of topics results are averaged over.")),
    def(Id::num_ret, "num_ret", S::Long, A::Sum, N::Qrels, "Number of documents retrieved (summary: sum)."),
    def(Id::num_rel, "num_rel", S::Long, A::NumRel, N::Qrels, "Number of relevant documents (summary: sum)."),
    def(Id::num_rel_ret, "num_rel_ret", S::Long, A::Sum, N::Qrels, "Relevant documents retrieved (summary: sum)."),
    def(Id::map, "map", S::Double, A::Mean, N::Qrels, "Mean average precision."),
    summary_only(def(Id::gm_map, "gm_map", S::Double, A::GeoMean, N::Qrels, "Geometric mean of average precision.")),
    def(Id::Rprec, "Rprec", S::Double, A::Mean, N::Qrels, "Precision after R (the number relevant) documents."),
    def(
        Id::bpref,
        "bpref",
        S::Double,
        A::Mean,
        N::Qrels,
        "Binary preference: judged relevant above judged nonrelevant.",
    ),
    def(Id::recip_rank, "recip_rank", S::Double, A::Mean, N::Qrels, "Reciprocal rank of the first relevant document."),
    def(
        Id::iprec_at_recall,
        "iprec_at_recall",
        S::CutDouble(RECALL_POINTS),
        A::Mean,
        N::Qrels,
        "Interpolated precision at recall levels.",
    ),
    def(Id::P, "P", S::CutLong(CUTS), A::Mean, N::Qrels, "Precision at cut-offs."),
    def(
        Id::relstring,
        "relstring",
        S::ParamDoubles(&[10.0]),
        A::None,
        N::Qrels,
        "The relevance of the first N documents as a string.",
    ),
    def(Id::recall, "recall", S::CutLong(CUTS), A::Mean, N::Qrels, "Recall at cut-offs."),
    def(
        Id::infAP,
        "infAP",
        S::Double,
        A::Mean,
        N::Qrels,
        "Inferred average precision (judgments < 0 are unjudged pool members).",
    ),
    summary_only(def(Id::gm_bpref, "gm_bpref", S::Double, A::GeoMean, N::Qrels, "Geometric mean of bpref.")),
    def(Id::Rprec_mult, "Rprec_mult", S::CutDouble(R_MULTIPLES), A::Mean, N::Qrels, "Precision at multiples of R."),
    def(
        Id::utility,
        "utility",
        S::ParamDoubles(&[1.0, -1.0, 0.0, 0.0]),
        A::Mean,
        N::Qrels,
        "Set utility a*relret + b*nonrelret + c*relnotret + d*nonrelnotret.",
    ),
    def(
        Id::pt11_avg,
        "11pt_avg",
        S::ParamDoubles(RECALL_POINTS),
        A::Mean,
        N::Qrels,
        "Interpolated precision averaged over recall points.",
    ),
    def(Id::binG, "binG", S::Double, A::Mean, N::Qrels, "Binary G, a cost-based gain measure."),
    def(
        Id::G,
        "G",
        S::ParamPairs,
        A::Mean,
        N::Qrels,
        "Normalized cumulative gain with a cost model (gain map rel=gain).",
    ),
    def(Id::dcg, "dcg", S::ParamPairs, A::Mean, N::Qrels, "Discounted cumulative gain (gain map rel=gain)."),
    def(
        Id::ideal_dcg,
        "ideal_dcg",
        S::ParamPairs,
        A::Mean,
        N::Qrels,
        "Ideal discounted cumulative gain (gain map rel=gain).",
    ),
    def(
        Id::ndcg,
        "ndcg",
        S::ParamPairs,
        A::Mean,
        N::Qrels,
        "Normalized discounted cumulative gain (gain map rel=gain).",
    ),
    def(
        Id::ndcg_rel,
        "ndcg_rel",
        S::ParamPairs,
        A::Mean,
        N::Qrels,
        "nDCG averaged over the ranks of relevant documents.",
    ),
    def(
        Id::Rndcg,
        "Rndcg",
        S::ParamPairs,
        A::Mean,
        N::Qrels,
        "nDCG averaged at the boundaries of the ideal gain levels.",
    ),
    def(Id::ndcg_cut, "ndcg_cut", S::CutLong(CUTS), A::Mean, N::Qrels, "nDCG at cut-offs (gain = relevance)."),
    def(Id::map_cut, "map_cut", S::CutLong(CUTS), A::Mean, N::Qrels, "Average precision at cut-offs."),
    def(
        Id::relative_P,
        "relative_P",
        S::CutLong(CUTS),
        A::Mean,
        N::Qrels,
        "Precision at cut-offs relative to the best possible.",
    ),
    def(
        Id::success,
        "success",
        S::CutLong(&[1, 5, 10]),
        A::Mean,
        N::Qrels,
        "1 if a relevant document is within the cut-off.",
    ),
    def(Id::set_P, "set_P", S::Double, A::Mean, N::Qrels, "Precision of the whole retrieved set."),
    def(
        Id::set_relative_P,
        "set_relative_P",
        S::Double,
        A::Mean,
        N::Qrels,
        "Set precision relative to the best possible.",
    ),
    def(Id::set_recall, "set_recall", S::Double, A::Mean, N::Qrels, "Recall of the whole retrieved set."),
    def(Id::set_map, "set_map", S::Double, A::Mean, N::Qrels, "Set precision times set recall."),
    def(
        Id::set_F,
        "set_F",
        S::ParamDoubles(&[1.0]),
        A::Mean,
        N::Qrels,
        "F measure of the retrieved set (parameter: beta).",
    ),
    def(
        Id::num_nonrel_judged_ret,
        "num_nonrel_judged_ret",
        S::Long,
        A::Sum,
        N::Qrels,
        "Judged nonrelevant documents retrieved.",
    ),
    def(
        Id::prefs_num_prefs_poss,
        "prefs_num_prefs_poss",
        S::Long,
        A::Sum,
        N::Prefs,
        "Possible preferences (summary: sum).",
    ),
    def(
        Id::prefs_num_prefs_ful,
        "prefs_num_prefs_ful",
        S::Long,
        A::Sum,
        N::Prefs,
        "Preferences fulfilled (summary: sum).",
    ),
    def(
        Id::prefs_num_prefs_ful_ret,
        "prefs_num_prefs_ful_ret",
        S::Long,
        A::Sum,
        N::Prefs,
        "Preferences fulfilled among retrieved documents.",
    ),
    def(Id::prefs_simp, "prefs_simp", S::Double, A::Mean, N::Prefs, "Simple ratio of preferences fulfilled."),
    def(
        Id::prefs_pair,
        "prefs_pair",
        S::Double,
        A::Mean,
        N::Prefs,
        "Preferences fulfilled, averaged over document pairs.",
    ),
    def(
        Id::prefs_avgjg,
        "prefs_avgjg",
        S::Double,
        A::Mean,
        N::Prefs,
        "Preferences fulfilled, averaged over judgment groups.",
    ),
    def(
        Id::prefs_avgjg_Rnonrel,
        "prefs_avgjg_Rnonrel",
        S::Double,
        A::Mean,
        N::Prefs,
        "prefs_avgjg with R nonrelevant documents.",
    ),
    def(Id::prefs_simp_ret, "prefs_simp_ret", S::Double, A::Mean, N::Prefs, "prefs_simp among retrieved documents."),
    def(Id::prefs_pair_ret, "prefs_pair_ret", S::Double, A::Mean, N::Prefs, "prefs_pair among retrieved documents."),
    def(Id::prefs_avgjg_ret, "prefs_avgjg_ret", S::Double, A::Mean, N::Prefs, "prefs_avgjg among retrieved documents."),
    def(
        Id::prefs_avgjg_Rnonrel_ret,
        "prefs_avgjg_Rnonrel_ret",
        S::Double,
        A::Mean,
        N::Prefs,
        "prefs_avgjg_Rnonrel among retrieved documents.",
    ),
    def(Id::prefs_simp_imp, "prefs_simp_imp", S::Double, A::Mean, N::Prefs, "prefs_simp counting implied preferences."),
    def(Id::prefs_pair_imp, "prefs_pair_imp", S::Double, A::Mean, N::Prefs, "prefs_pair counting implied preferences."),
    def(
        Id::prefs_avgjg_imp,
        "prefs_avgjg_imp",
        S::Double,
        A::Mean,
        N::Prefs,
        "prefs_avgjg counting implied preferences.",
    ),
    def(Id::map_avgjg, "map_avgjg", S::Double, A::Mean, N::QrelsJg, "map averaged over judgment groups."),
    def(Id::P_avgjg, "P_avgjg", S::CutLong(CUTS), A::Mean, N::QrelsJg, "P at cut-offs averaged over judgment groups."),
    def(
        Id::Rprec_mult_avgjg,
        "Rprec_mult_avgjg",
        S::CutDouble(R_MULTIPLES),
        A::Mean,
        N::QrelsJg,
        "Rprec_mult averaged over judgment groups.",
    ),
    def(
        Id::yaap,
        "yaap",
        S::Double,
        A::Mean,
        N::Qrels,
        "Yet another average precision: log((1 + sum P) / (1 + R - sum P)).",
    ),
    def(Id::rbp, "rbp", S::ParamPairs, A::Mean, N::Qrels, "Rank-biased precision (parameter p=0.9 and a gain map)."),
    def(
        Id::rbp_resid,
        "rbp_resid",
        S::ParamPairs,
        A::Mean,
        N::Qrels,
        "Rank-biased precision residual from unjudged documents.",
    ),
    def(Id::unj, "unj", S::CutLong(&[5, 10, 20]), A::Mean, N::Qrels, "Fraction of unjudged documents at cut-offs."),
];

/// trec_eval's nicknames for groups of measures.
pub const NICKNAMES: &[(&str, &[&str])] = &[
    (
        "official",
        &[
            "runid",
            "num_q",
            "num_ret",
            "num_rel",
            "num_rel_ret",
            "map",
            "gm_map",
            "Rprec",
            "bpref",
            "recip_rank",
            "iprec_at_recall",
            "P",
        ],
    ),
    (
        "set",
        &[
            "runid",
            "num_q",
            "num_ret",
            "num_rel",
            "num_rel_ret",
            "utility",
            "set_P",
            "set_recall",
            "set_relative_P",
            "set_map",
            "set_F",
        ],
    ),
    (
        "all_trec",
        &[
            "runid",
            "num_q",
            "num_ret",
            "num_rel",
            "num_rel_ret",
            "map",
            "gm_map",
            "Rprec",
            "bpref",
            "recip_rank",
            "iprec_at_recall",
            "P",
            "relstring",
            "recall",
            "unj",
            "rbp",
            "rbp_resid",
            "infAP",
            "gm_bpref",
            "utility",
            "11pt_avg",
            "ndcg",
            "relative_P",
            "Rprec_mult",
            "success",
            "map_cut",
            "ndcg_cut",
            "ndcg_rel",
            "Rndcg",
            "binG",
            "G",
            "set_P",
            "set_recall",
            "set_relative_P",
            "set_map",
            "set_F",
            "num_nonrel_judged_ret",
        ],
    ),
    (
        "all_prefs",
        &[
            "runid",
            "num_q",
            "prefs_num_prefs_poss",
            "prefs_num_prefs_ful",
            "prefs_num_prefs_ful_ret",
            "prefs_simp",
            "prefs_pair",
            "prefs_avgjg",
            "prefs_avgjg_Rnonrel",
            "prefs_simp_ret",
            "prefs_pair_ret",
            "prefs_avgjg_ret",
            "prefs_avgjg_Rnonrel_ret",
            "prefs_simp_imp",
            "prefs_pair_imp",
            "prefs_avgjg_imp",
        ],
    ),
    (
        "prefs",
        &[
            "runid",
            "num_q",
            "prefs_num_prefs_poss",
            "prefs_num_prefs_ful",
            "prefs_num_prefs_ful_ret",
            "prefs_simp",
            "prefs_pair",
            "prefs_avgjg",
        ],
    ),
    ("qrels_jg", &["runid", "num_q", "map_avgjg", "P_avgjg", "Rprec_mult_avgjg"]),
];

/// The measure called `name`, if trec_eval has one.
pub fn find(name: &str) -> Option<&'static Def> {
    MEASURES.iter().find(|d| d.name == name)
}

/// Whether trec_eval zeroes `id` for a query the run lacks (`-c`), after evaluating a stand-in ranking of one
/// unjudged document: the values that would count that document.
pub fn zeroed_without_results(id: Id) -> bool {
    matches!(id, Id::num_ret | Id::utility | Id::unj | Id::rbp_resid)
}

/// The measures a nickname stands for.
pub fn nickname(name: &str) -> Option<&'static [&'static str]> {
    NICKNAMES.iter().find(|(n, _)| *n == name).map(|(_, list)| *list)
}
