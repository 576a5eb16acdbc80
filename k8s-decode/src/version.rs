//! Kubernetes release selection.

use std::fmt;
use std::str::FromStr;

/// The Kubernetes release whose API rules (field set, omission rules) apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KubeVersion {
    /// `None` = the newest known (HEAD / master).
    minor: Option<u32>,
}

impl KubeVersion {
    /// The newest release the schema knows (`HEAD`).
    pub const HEAD: KubeVersion = KubeVersion { minor: None };

    /// Release `1.<minor>`.
    pub const fn minor_release(minor: u32) -> Self {
        KubeVersion { minor: Some(minor) }
    }

    /// The minor number, `None` for HEAD.
    pub fn minor(self) -> Option<u32> {
        self.minor
    }
}

/// Error parsing a [`KubeVersion`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Kubernetes version {0:?}: expected \"1.N\", \"v1.N\", \"1.N.P\" or \"HEAD\"")]
pub struct ParseVersionError(pub String);

impl FromStr for KubeVersion {
    type Err = ParseVersionError;

    /// Accepts `1.N`, `v1.N`, `1.N.P`, `v1.N.P` (with an optional `-suffix`,
    /// e.g. `v1.30.2-gke.100`), and `HEAD`/`head`/`master`/`latest`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if ["head", "master", "latest"].contains(&t.to_ascii_lowercase().as_str()) {
            return Ok(KubeVersion::HEAD);
        }
        let err = || ParseVersionError(s.to_string());
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        let t = t.split(['-', '+']).next().unwrap_or(t);
        let mut parts = t.split('.');
        if parts.next() != Some("1") {
            return Err(err());
        }
        let minor: u32 = parts.next().ok_or_else(err)?.parse().map_err(|_| err())?;
        if let Some(p) = parts.next() {
            p.parse::<u32>().map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(KubeVersion::minor_release(minor))
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.minor {
            Some(m) => write!(f, "1.{m}"),
            None => f.write_str("HEAD"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!("1.30".parse(), Ok(KubeVersion::minor_release(30)));
        assert_eq!("v1.30".parse(), Ok(KubeVersion::minor_release(30)));
        assert_eq!("1.24.3".parse(), Ok(KubeVersion::minor_release(24)));
        assert_eq!("v1.30.2-gke.100".parse(), Ok(KubeVersion::minor_release(30)));
        assert_eq!("HEAD".parse(), Ok(KubeVersion::HEAD));
        assert!("2.1".parse::<KubeVersion>().is_err());
        assert!("1.x".parse::<KubeVersion>().is_err());
        assert!("1.2.3.4".parse::<KubeVersion>().is_err());
        assert_eq!(KubeVersion::minor_release(34).to_string(), "1.34");
    }
}
