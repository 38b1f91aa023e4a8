//! A validated Fargate task size (checked constructor against AWS's CPU/memory table).
//!
//! It does not pick defaults: the sizing's are in [`crate::sections::defaults`], and
//! [`crate::sections::agents`] applies them and the environment's overrides.

use serde::Serialize;

/// A CPU/memory pair Fargate accepts, in CPU units (1024 = 1 vCPU) and MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FargateSize {
    pub cpu: u32,
    pub memory: u32,
}

/// AWS's table: for each CPU value, the memory range and step (MiB).
const TABLE: [(u32, u32, u32, u32); 7] = [
    (256, 512, 2048, 512),
    (512, 1024, 4096, 1024),
    (1024, 2048, 8192, 1024),
    (2048, 4096, 16384, 1024),
    (4096, 8192, 30720, 1024),
    (8192, 16384, 61440, 4096),
    (16384, 32768, 122_880, 8192),
];

impl FargateSize {
    pub fn new(cpu: i64, memory: i64) -> Result<Self, String> {
        let Some(&(cpu, min, max, step)) = TABLE.iter().find(|row| i64::from(row.0) == cpu) else {
            let cpus: Vec<String> = TABLE.iter().map(|row| row.0.to_string()).collect();
            return Err(format!("Fargate CPU `{cpu}` is not one of {}", cpus.join(", ")));
        };
        let ok = if cpu == 256 {
            matches!(memory, 512 | 1024 | 2048)
        } else {
            memory >= i64::from(min) && memory <= i64::from(max) && (memory - i64::from(min)) % i64::from(step) == 0
        };
        if !ok {
            return Err(format!(
                "Fargate does not offer {memory} MiB with {cpu} CPU units; allowed: {}",
                Self::memory_choices(cpu)
            ));
        }
        let memory = u32::try_from(memory).map_err(|_| "memory out of range".to_string())?;
        Ok(Self { cpu, memory })
    }

    /// The memory values allowed for `cpu`, e.g. "1024-4096 MiB in steps of 1024".
    pub fn memory_choices(cpu: u32) -> String {
        match TABLE.iter().find(|row| row.0 == cpu) {
            Some(_) if cpu == 256 => "512, 1024 or 2048 MiB".to_string(),
            Some(&(_, min, max, step)) => format!("{min}-{max} MiB in steps of {step}"),
            None => "none".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_aws_table() {
        assert!(FargateSize::new(512, 1024).is_ok());
        assert!(FargateSize::new(1024, 2048).is_ok());
        assert!(FargateSize::new(256, 1024).is_ok());
        assert!(FargateSize::new(256, 4096).is_err());
        assert!(FargateSize::new(256, 1536).is_err());
        assert!(FargateSize::new(1024, 1024).is_err());
        assert!(FargateSize::new(1024, 2500).is_err());
        assert!(FargateSize::new(300, 1024).is_err());
        assert!(FargateSize::new(4096, 30720).is_ok());
    }
}
