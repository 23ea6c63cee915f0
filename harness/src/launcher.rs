//! `--shard auto`: which shard this process is, from the environment of the launcher that started it — Slurm job
//! arrays, torchrun, Slurm tasks, Kubernetes indexed Jobs — checked (integers, index below count) and named in
//! every message.

use crate::embed_cache::ShardSelection;
use crate::error::Error;

/// The launchers `--shard auto` understands, in the order they are looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launcher {
    /// `sbatch --array`: `SLURM_ARRAY_TASK_ID` (less `SLURM_ARRAY_TASK_MIN`, over `SLURM_ARRAY_TASK_STEP`) of
    /// `SLURM_ARRAY_TASK_COUNT`.
    SlurmArray,
    /// `torchrun` (or any launcher of the torch.distributed convention): `RANK` of `WORLD_SIZE`.
    Torchrun,
    /// `srun` tasks: `SLURM_PROCID` of `SLURM_NTASKS`.
    SlurmTasks,
    /// A Kubernetes indexed Job: `JOB_COMPLETION_INDEX`, with the count given by the caller (`--shard-count`).
    KubernetesIndexedJob,
}

impl Launcher {
    /// How messages name it.
    pub fn name(self) -> &'static str {
        match self {
            Launcher::SlurmArray => "a Slurm job array",
            Launcher::Torchrun => "torchrun",
            Launcher::SlurmTasks => "Slurm tasks",
            Launcher::KubernetesIndexedJob => "a Kubernetes indexed Job",
        }
    }
}

/// What the launcher says about this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaunchedShard {
    /// The shards this process encodes.
    pub selection: ShardSelection,
    /// Who said so.
    pub launcher: Launcher,
    /// The process's rank on its node (torchrun's `LOCAL_RANK`), which picks its GPU.
    pub local_rank: Option<usize>,
}

impl LaunchedShard {
    /// The CUDA device this process uses: its `LOCAL_RANK` (torchrun starts one process per GPU of a node), taken
    /// modulo the devices `CUDA_VISIBLE_DEVICES` leaves it when that is set (Slurm's `--gpus-per-task=1` shows
    /// each task its own GPU alone, as device 0); 0 without a local rank.
    pub fn cuda_ordinal(&self, env: &dyn Fn(&str) -> Option<String>) -> usize {
        let Some(rank) = self.local_rank else { return 0 };
        match env("CUDA_VISIBLE_DEVICES") {
            Some(v) => match v.split(',').filter(|d| !d.trim().is_empty()).count() {
                0 => 0,
                visible => rank % visible,
            },
            None => rank,
        }
    }
}

/// The shard of this process from `env` (a variable's value, e.g. `|k| std::env::var(k).ok()`); `count` is the
/// number of shards when the launcher does not tell it (Kubernetes). Refuses when no launcher is found, when a
/// variable is not an integer, or when the index is not below the count.
pub fn shard_from_launcher(env: &dyn Fn(&str) -> Option<String>, count: Option<usize>) -> Result<LaunchedShard, Error> {
    let num = |key: &str| -> Result<Option<usize>, Error> {
        match env(key) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map(Some)
                .map_err(|_| Error::Invalid(format!("--shard auto: {key}={v:?} is not a non-negative integer"))),
        }
    };
    let local_rank = num("LOCAL_RANK")?;
    let found = if let (Some(id), Some(n)) = (num("SLURM_ARRAY_TASK_ID")?, num("SLURM_ARRAY_TASK_COUNT")?) {
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let step = num("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
        let offset = id.checked_sub(min).ok_or_else(|| {
            Error::Invalid(format!("--shard auto: SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}"))
        })?;
        Some((Launcher::SlurmArray, offset / step, n, "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT"))
    } else if let (Some(rank), Some(n)) = (num("RANK")?, num("WORLD_SIZE")?) {
        Some((Launcher::Torchrun, rank, n, "RANK", "WORLD_SIZE"))
    } else if let (Some(rank), Some(n)) = (num("SLURM_PROCID")?, num("SLURM_NTASKS")?) {
        Some((Launcher::SlurmTasks, rank, n, "SLURM_PROCID", "SLURM_NTASKS"))
    } else if let Some(index) = num("JOB_COMPLETION_INDEX")? {
        let n = count.ok_or_else(|| {
            Error::Invalid(format!(
                "--shard auto: a Kubernetes indexed Job (JOB_COMPLETION_INDEX={index}) does not say how many shards \
                 there are; give --shard-count (the Job's completions)"
            ))
        })?;
        Some((Launcher::KubernetesIndexedJob, index, n, "JOB_COMPLETION_INDEX", "--shard-count"))
    } else {
        None
    };
    let Some((launcher, index, n, index_key, count_key)) = found else {
        return Err(Error::Invalid(
            "--shard auto: no launcher told this process its shard; set by a Slurm job array (SLURM_ARRAY_TASK_ID, \
             SLURM_ARRAY_TASK_COUNT), torchrun (RANK, WORLD_SIZE), Slurm tasks (SLURM_PROCID, SLURM_NTASKS) or a \
             Kubernetes indexed Job (JOB_COMPLETION_INDEX with --shard-count); or give --shard I/N"
                .into(),
        ));
    };
    if let Some(c) = count
        && c != n
    {
        return Err(Error::Invalid(format!(
            "--shard auto: --shard-count {c} disagrees with {} ({count_key}={n})",
            launcher.name()
        )));
    }
    if n == 0 || index >= n {
        return Err(Error::Invalid(format!(
            "--shard auto: {} gives shard {index} ({index_key}) of {n} ({count_key}); the index must be below the \
             count",
            launcher.name()
        )));
    }
    Ok(LaunchedShard { selection: ShardSelection { index, count: n }, launcher, local_rank })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A launcher's environment, as (variable, value) pairs.
    type Env<'a> = &'a [(&'a str, &'a str)];
    /// (launcher, shard index, shard count).
    type Said = (Launcher, usize, usize);

    fn from(vars: Env<'_>, count: Option<usize>) -> Result<LaunchedShard, Error> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        shard_from_launcher(&|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()), count)
    }

    #[test]
    fn each_launcher_gives_its_shard() {
        // (environment, --shard-count, (launcher, index, count))
        let cases: &[(Env<'_>, Option<usize>, Said)] = &[
            (&[("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_COUNT", "8")], None, (Launcher::SlurmArray, 3, 8)),
            (
                &[("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_COUNT", "8"), ("SLURM_ARRAY_TASK_MIN", "1")],
                None,
                (Launcher::SlurmArray, 4, 8),
            ),
            (
                &[
                    ("SLURM_ARRAY_TASK_ID", "20"),
                    ("SLURM_ARRAY_TASK_COUNT", "4"),
                    ("SLURM_ARRAY_TASK_MIN", "10"),
                    ("SLURM_ARRAY_TASK_STEP", "5"),
                ],
                None,
                (Launcher::SlurmArray, 2, 4),
            ),
            (&[("RANK", "1"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", "1")], None, (Launcher::Torchrun, 1, 2)),
            // torchrun inside a one-task Slurm allocation: torchrun's ranks count.
            (
                &[("RANK", "3"), ("WORLD_SIZE", "4"), ("SLURM_PROCID", "0"), ("SLURM_NTASKS", "1")],
                None,
                (Launcher::Torchrun, 3, 4),
            ),
            (&[("SLURM_PROCID", "7"), ("SLURM_NTASKS", "8")], None, (Launcher::SlurmTasks, 7, 8)),
            (&[("JOB_COMPLETION_INDEX", "2")], Some(3), (Launcher::KubernetesIndexedJob, 2, 3)),
            (&[("RANK", "0"), ("WORLD_SIZE", "1")], Some(1), (Launcher::Torchrun, 0, 1)),
        ];
        for (env, count, (launcher, index, n)) in cases {
            let got = from(env, *count).unwrap_or_else(|e| panic!("{env:?}: {e}"));
            assert_eq!((got.launcher, got.selection), (*launcher, ShardSelection { index: *index, count: *n }));
        }
        assert_eq!(from(&[("RANK", "1"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", "1")], None).unwrap().local_rank, Some(1));
    }

    #[test]
    fn the_cuda_device_follows_local_rank_within_the_visible_devices() {
        let torchrun = |local: &str| from(&[("RANK", "5"), ("WORLD_SIZE", "8"), ("LOCAL_RANK", local)], None).unwrap();
        let env = |visible: Option<&'static str>| {
            move |k: &str| (k == "CUDA_VISIBLE_DEVICES").then_some(visible?.to_string())
        };
        // (LOCAL_RANK, CUDA_VISIBLE_DEVICES, the ordinal)
        for (local, visible, want) in [
            ("5", None, 5),
            ("5", Some("0,1,2,3,4,5,6,7"), 5),
            ("5", Some("3"), 0),
            ("3", Some("4,5"), 1),
            ("2", Some(""), 0),
        ] {
            assert_eq!(torchrun(local).cuda_ordinal(&env(visible)), want, "LOCAL_RANK {local}, {visible:?}");
        }
        let slurm = from(&[("SLURM_PROCID", "3"), ("SLURM_NTASKS", "8")], None).unwrap();
        assert_eq!(slurm.cuda_ordinal(&env(None)), 0);
    }

    #[test]
    fn a_missing_or_inconsistent_launcher_is_refused_with_a_message() {
        // (environment, --shard-count, what the error says)
        let cases: &[(Env<'_>, Option<usize>, &str)] = &[
            (&[], None, "no launcher told this process its shard"),
            (&[("RANK", "1")], None, "no launcher told this process its shard"),
            (&[("JOB_COMPLETION_INDEX", "2")], None, "give --shard-count"),
            (&[("RANK", "2"), ("WORLD_SIZE", "2")], None, "torchrun gives shard 2 (RANK) of 2 (WORLD_SIZE)"),
            (&[("SLURM_PROCID", "0"), ("SLURM_NTASKS", "0")], None, "of 0 (SLURM_NTASKS)"),
            (&[("RANK", "x"), ("WORLD_SIZE", "2")], None, "RANK=\"x\" is not a non-negative integer"),
            (&[("RANK", "-1"), ("WORLD_SIZE", "2")], None, "RANK=\"-1\" is not"),
            (&[("RANK", "0"), ("WORLD_SIZE", "2")], Some(3), "--shard-count 3 disagrees with torchrun (WORLD_SIZE=2)"),
            (
                &[("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_COUNT", "2"), ("SLURM_ARRAY_TASK_MIN", "1")],
                None,
                "SLURM_ARRAY_TASK_ID 0 is below SLURM_ARRAY_TASK_MIN 1",
            ),
            (&[("JOB_COMPLETION_INDEX", "3")], Some(3), "shard 3 (JOB_COMPLETION_INDEX) of 3 (--shard-count)"),
        ];
        for (env, count, want) in cases {
            let err = from(env, *count).unwrap_err().to_string();
            assert!(err.contains(want), "{env:?}: {err}");
        }
    }
}
