//! Seeded batches from training groups: per epoch a shuffled order of the groups, per query one positive and
//! `group_size - 1` negatives drawn from its own generator, so that any step's batch is a pure function of
//! (seed, step) — which is what makes a resumed run identical to an uninterrupted one.

use drbench_harness::io::{TrainGroupSource, TrainPassage};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Purposes of derived seeds (kept distinct so that changing one use never shifts another).
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub enum SeedUse {
    /// Order of the groups in an epoch.
    Shuffle = 1,
    /// Positive and negatives of one example.
    Sample = 2,
    /// LoRA dropout masks of one forward chunk.
    Dropout = 3,
    /// Initial LoRA `A` matrices.
    Init = 4,
}

/// A 64-bit seed derived from the run's seed, a purpose and two indices (SplitMix64 finaliser over each part).
pub fn derive_seed(seed: u64, purpose: SeedUse, a: u64, b: u64) -> u64 {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    [purpose as u64, a, b].into_iter().fold(mix(seed), |h, x| mix(h ^ mix(x)))
}

/// One training example: a query and its passages, the positive first.
#[derive(Debug, Clone)]
pub struct Example {
    /// Query id (for messages).
    pub query_id: String,
    /// Query text.
    pub query: String,
    /// `group_size` passages: positive, then negatives.
    pub passages: Vec<TrainPassage>,
}

/// Hands out contrastive batches: step `s`, micro-batch `m` of an epoch-shuffled, drop-last order, reading only
/// the groups a batch needs from its source (in memory, or a [`drbench_harness::io::TrainGroupFile`] on disk).
pub struct Sampler<'a> {
    groups: &'a dyn TrainGroupSource,
    group_size: usize,
    batch: usize,
    accumulation: usize,
    seed: u64,
    order: Option<(usize, Vec<usize>)>,
}

impl std::fmt::Debug for Sampler<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampler")
            .field("groups", &self.groups.count())
            .field("group_size", &self.group_size)
            .field("batch", &self.batch)
            .field("accumulation", &self.accumulation)
            .field("seed", &self.seed)
            .finish()
    }
}

impl<'a> Sampler<'a> {
    /// A sampler over `groups`; errors when a query has no negative but the group size needs some.
    pub fn new(
        groups: &'a dyn TrainGroupSource,
        group_size: usize,
        batch: usize,
        accumulation: usize,
        seed: u64,
    ) -> Result<Self, String> {
        if let Some(q) = groups.first_without_negatives().filter(|_| group_size > 1) {
            return Err(format!(
                "query {q:?} has no negative_passages, but --train-group-size {group_size} needs {}",
                group_size - 1
            ));
        }
        Ok(Sampler { groups, group_size, batch, accumulation, seed, order: None })
    }

    /// Optimizer steps in one epoch (incomplete last steps are dropped).
    pub fn steps_per_epoch(&self) -> usize {
        self.groups.count() / (self.batch * self.accumulation)
    }

    fn order(&mut self, epoch: usize) -> &[usize] {
        if self.order.as_ref().map(|(e, _)| *e) != Some(epoch) {
            let mut order: Vec<usize> = (0..self.groups.count()).collect();
            let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(self.seed, SeedUse::Shuffle, epoch as u64, 0));
            order.shuffle(&mut rng);
            self.order = Some((epoch, order));
        }
        &self.order.as_ref().expect("just set").1
    }

    /// The examples of micro-batch `micro` of optimizer step `step` (both 0-based); an error when a group cannot
    /// be read from its file.
    pub fn micro_batch(&mut self, step: usize, micro: usize) -> Result<Vec<Example>, drbench_harness::Error> {
        let spe = self.steps_per_epoch().max(1);
        let (epoch, in_epoch) = (step / spe, step % spe);
        let start = (in_epoch * self.accumulation + micro) * self.batch;
        let end = start + self.batch;
        let picks: Vec<usize> = self.order(epoch)[start..end].to_vec();
        let (groups, group_size, seed) = (self.groups, self.group_size, self.seed);
        picks
            .into_iter()
            .enumerate()
            .map(|(j, gi)| {
                let g = groups.group(gi)?;
                let mut rng =
                    ChaCha8Rng::seed_from_u64(derive_seed(seed, SeedUse::Sample, epoch as u64, (start + j) as u64));
                let mut passages = Vec::with_capacity(group_size);
                passages.push(g.positive_passages[rng.random_range(0..g.positive_passages.len())].clone());
                let need = group_size - 1;
                let negs = &g.negative_passages;
                if negs.len() >= need {
                    passages.extend(
                        rand::seq::index::sample(&mut rng, negs.len(), need).into_iter().map(|i| negs[i].clone()),
                    );
                } else {
                    passages.extend((0..need).map(|_| negs[rng.random_range(0..negs.len())].clone()));
                }
                Ok(Example { query_id: g.query_id, query: g.query, passages })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drbench_harness::io::TrainGroup;

    fn groups(n: usize, negs: usize) -> Vec<TrainGroup> {
        let p = |id: String| TrainPassage { docid: id.clone(), title: String::new(), text: id };
        (0..n)
            .map(|i| TrainGroup {
                query_id: i.to_string(),
                query: format!("q{i}"),
                positive_passages: vec![p(format!("pos{i}"))],
                negative_passages: (0..negs).map(|k| p(format!("neg{i}-{k}"))).collect(),
            })
            .collect()
    }

    #[test]
    fn batches_are_a_function_of_seed_and_step() {
        let gs = groups(10, 5);
        let mut s = Sampler::new(&gs, 3, 2, 2, 7).unwrap();
        assert_eq!(s.steps_per_epoch(), 2);
        let ids = |b: Result<Vec<Example>, drbench_harness::Error>| -> Vec<String> {
            b.unwrap().iter().flat_map(|e| e.passages.iter().map(|p| p.docid.clone())).collect()
        };
        // Step 1 asked first, or after step 0, gives the same batch; epoch 1 reshuffles.
        let b1 = ids(s.micro_batch(1, 1));
        let _ = s.micro_batch(0, 0);
        assert_eq!(ids(s.micro_batch(1, 1)), b1);
        let mut fresh = Sampler::new(&gs, 3, 2, 2, 7).unwrap();
        assert_eq!(ids(fresh.micro_batch(1, 1)), b1);
        // One epoch covers 8 distinct groups (2 dropped), each with its positive first and distinct negatives.
        let mut seen = Vec::new();
        for step in 0..2 {
            for micro in 0..2 {
                for e in s.micro_batch(step, micro).unwrap() {
                    assert_eq!(e.passages[0].docid, format!("pos{}", e.query_id));
                    assert_eq!(e.passages.len(), 3);
                    assert_ne!(e.passages[1].docid, e.passages[2].docid);
                    seen.push(e.query_id.to_string());
                }
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 8);
        assert_ne!(ids(s.micro_batch(2, 0)), ids(s.micro_batch(0, 0)));
        // Another seed, another order.
        let mut other = Sampler::new(&gs, 3, 2, 2, 8).unwrap();
        assert_ne!(ids(other.micro_batch(1, 1)), b1);
        // Too few negatives: drawn with replacement; none at all: an error naming the query.
        let few = groups(4, 1);
        let mut s = Sampler::new(&few, 3, 2, 1, 1).unwrap();
        assert!(s.micro_batch(0, 0).unwrap().iter().all(|e| e.passages[1].docid == e.passages[2].docid));
        let err = Sampler::new(&groups(2, 0), 2, 1, 1, 1).unwrap_err();
        assert!(err.contains("query \"0\" has no negative_passages"), "{err}");
    }
}
