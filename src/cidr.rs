//! A validated IPv4 CIDR block (checked constructor) and the subnet arithmetic the resolver needs.
//!
//! It does not decide the network layout; [`crate::resolve`] does.

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Serialize, Serializer};

/// An IPv4 network in CIDR notation whose host bits are zero, e.g. `10.0.0.0/16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Cidr {
    addr: u32,
    prefix: u8,
}

impl Ipv4Cidr {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (addr, prefix) = text
            .split_once('/')
            .ok_or("expected `a.b.c.d/prefix`, e.g. `10.0.0.0/16`")?;
        let ip: Ipv4Addr = addr.parse().map_err(|_| format!("`{addr}` is not an IPv4 address"))?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("`/{prefix}` is not a prefix length between 0 and 32"))?;
        let cidr = Self {
            addr: u32::from(ip) & mask(prefix),
            prefix,
        };
        if u32::from(ip) != cidr.addr {
            return Err(format!("host bits are set; the network address is `{cidr}`"));
        }
        Ok(cidr)
    }

    pub fn prefix(self) -> u8 {
        self.prefix
    }

    /// The `index`-th subnet with `new_bits` more prefix bits, like Terraform's `cidrsubnet`.
    pub fn subnet(self, new_bits: u8, index: u32) -> Option<Self> {
        let prefix = self.prefix.checked_add(new_bits).filter(|p| *p <= 32)?;
        if new_bits < 32 && u64::from(index) >= (1u64 << new_bits) {
            return None;
        }
        let offset = u64::from(index) << (32 - u32::from(prefix));
        let addr = u32::try_from(u64::from(self.addr) + offset).ok()?;
        Some(Self { addr, prefix })
    }

    pub fn contains(self, other: Self) -> bool {
        other.prefix >= self.prefix && (other.addr & mask(self.prefix)) == self.addr
    }

    pub fn overlaps(self, other: Self) -> bool {
        self.contains(other) || other.contains(self)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.addr), self.prefix)
    }
}

impl Serialize for Ipv4Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_derives_the_plans_subnets() {
        let vpc = Ipv4Cidr::parse("10.0.0.0/16").unwrap();
        assert_eq!(vpc.subnet(8, 1).unwrap().to_string(), "10.0.1.0/24");
        assert_eq!(vpc.subnet(8, 20).unwrap().to_string(), "10.0.20.0/24");
        assert!(vpc.subnet(8, 256).is_none());
        assert!(vpc.contains(Ipv4Cidr::parse("10.0.10.0/24").unwrap()));
        assert!(!vpc.contains(Ipv4Cidr::parse("10.1.0.0/24").unwrap()));
    }

    #[test]
    fn rejects_host_bits_and_garbage() {
        assert!(Ipv4Cidr::parse("10.0.0.1/16").unwrap_err().contains("10.0.0.0/16"));
        assert!(Ipv4Cidr::parse("10.0.0.0").is_err());
        assert!(Ipv4Cidr::parse("10.0.0.0/33").is_err());
        assert!(Ipv4Cidr::parse("300.0.0.0/8").is_err());
    }
}
