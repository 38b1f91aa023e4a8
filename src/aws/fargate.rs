//! The Fargate task CPU/memory table (Linux tasks) and what Fargate Spot runs. Data and lookups only;
//! the agents section's check reports an invalid size.
//!
//! Source: <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size>
//! ("Task CPU and memory"), checked 2026-11-25. Fargate Spot and ARM64: AWS What's New, September 2024,
//! "Amazon ECS now supports AWS Graviton-based Spot compute with AWS Fargate"
//! (<https://aws.amazon.com/new/>), checked 2026-12-07: Spot runs ARM64 as well as x86_64, so tfgen no longer
//! refuses the pair (it did until 2026-12-07, on the older sentence).
//!
//! When AWS's own pages disagree, the global (aws.amazon.com, docs.aws.amazon.com) documentation and the
//! What's New posts win over partition copies (the China regions' documentation, amazonaws.cn, still says
//! Spot runs x86_64 only) and over third-party pages; each fact here names the source it was taken from.

/// One row: a CPU value (units, 1024 = 1 vCPU) and the memory values (MiB) Fargate accepts with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuRow {
    pub cpu: u32,
    pub memory: Memory,
}

/// Memory choices of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Memory {
    /// An explicit list.
    List(&'static [u32]),
    /// `min..=max` in steps of `step`.
    Range { min: u32, max: u32, step: u32 },
}

pub const TABLE: &[CpuRow] = &[
    CpuRow {
        cpu: 256,
        memory: Memory::List(&[512, 1024, 2048]),
    },
    CpuRow {
        cpu: 512,
        memory: Memory::Range {
            min: 1024,
            max: 4096,
            step: 1024,
        },
    },
    CpuRow {
        cpu: 1024,
        memory: Memory::Range {
            min: 2048,
            max: 8192,
            step: 1024,
        },
    },
    CpuRow {
        cpu: 2048,
        memory: Memory::Range {
            min: 4096,
            max: 16384,
            step: 1024,
        },
    },
    CpuRow {
        cpu: 4096,
        memory: Memory::Range {
            min: 8192,
            max: 30720,
            step: 1024,
        },
    },
    CpuRow {
        cpu: 8192,
        memory: Memory::Range {
            min: 16384,
            max: 61440,
            step: 4096,
        },
    },
    CpuRow {
        cpu: 16384,
        memory: Memory::Range {
            min: 32768,
            max: 122_880,
            step: 8192,
        },
    },
];

pub fn cpus() -> impl Iterator<Item = u32> {
    TABLE.iter().map(|row| row.cpu)
}

/// The memory values (MiB) allowed with `cpu`, ascending; empty for a CPU Fargate does not offer.
pub fn memory_values(cpu: u32) -> Vec<u32> {
    match TABLE.iter().find(|row| row.cpu == cpu).map(|row| row.memory) {
        None => vec![],
        Some(Memory::List(values)) => values.to_vec(),
        Some(Memory::Range { min, max, step }) => (min..=max).step_by(step as usize).collect(),
    }
}

pub fn valid(cpu: u32, memory: u32) -> bool {
    memory_values(cpu).contains(&memory)
}

/// "512, 1024 or 2048 MiB" / "1024-4096 MiB in steps of 1024", for messages.
pub fn describe_memory(cpu: u32) -> String {
    match TABLE.iter().find(|row| row.cpu == cpu).map(|row| row.memory) {
        None => "none".into(),
        Some(Memory::List(values)) => {
            let v: Vec<String> = values.iter().map(ToString::to_string).collect();
            let (last, rest) = v.split_last().expect("non-empty list");
            format!("{} or {last} MiB", rest.join(", "))
        }
        Some(Memory::Range { min, max, step }) => format!("{min}-{max} MiB in steps of {step}"),
    }
}

/// A CPU/memory pair Fargate accepts, in CPU units (1024 = 1 vCPU) and MiB: the checked newtype the
/// agents section keeps (its constructor is the table above).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FargateSize {
    pub cpu: u32,
    pub memory: u32,
}

impl FargateSize {
    pub fn new(cpu: i64, memory: i64) -> Result<Self, String> {
        let Some(cpu) = u32::try_from(cpu).ok().filter(|c| cpus().any(|x| x == *c)) else {
            let all: Vec<String> = cpus().map(|c| c.to_string()).collect();
            return Err(format!("Fargate CPU `{cpu}` is not one of {}", all.join(", ")));
        };
        match u32::try_from(memory) {
            Ok(memory) if valid(cpu, memory) => Ok(Self { cpu, memory }),
            _ => Err(format!(
                "Fargate does not offer {memory} MiB with {cpu} CPU units; allowed: {}",
                describe_memory(cpu)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_aws_table() {
        assert!(valid(512, 1024) && valid(1024, 2048) && valid(256, 1024) && valid(4096, 30720));
        assert!(valid(16384, 122_880) && valid(8192, 20480));
        assert!(!valid(256, 4096) && !valid(256, 1536) && !valid(1024, 1024) && !valid(1024, 2500));
        assert!(!valid(300, 1024) && !valid(8192, 18432));
        assert_eq!(describe_memory(256), "512, 1024 or 2048 MiB");
        assert_eq!(describe_memory(512), "1024-4096 MiB in steps of 1024");
        assert_eq!(memory_values(16384).len(), 12);
    }
}
