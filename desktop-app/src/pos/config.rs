//! The terminal's settings, `terminal.json` beside its store: the server last used, the
//! branches the cashier may sell at, which terminal this app is, and the language. Written
//! whole to a temporary file and renamed, so a crash never leaves half a file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::api::Locale;
use crate::error::{PosError, Result};

const FILE: &str = "terminal.json";

/// The settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TerminalConfig {
    /// The server last signed in to.
    #[serde(default)]
    pub server: Option<String>,
    /// Branches the signed-in cashier may sell at.
    #[serde(default)]
    pub branches: Vec<String>,
    /// Which terminal this app is.
    #[serde(default)]
    pub terminal: Option<Terminal>,
    /// The interface language.
    #[serde(default)]
    pub locale: Locale,
}

/// A terminal of a branch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terminal {
    /// Branch code.
    pub branch: String,
    /// Terminal code.
    pub terminal: String,
}

impl TerminalConfig {
    /// The settings in `dir`, or the defaults when there are none yet.
    ///
    /// # Errors
    /// When the file exists but cannot be read or parsed.
    pub fn load(dir: &Path) -> Result<TerminalConfig> {
        let path = dir.join(FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| PosError::Damaged {
                path: path.display().to_string(),
                detail: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TerminalConfig::default()),
            Err(source) => Err(PosError::File {
                what: format!("reading {}", path.display()),
                source,
            }),
        }
    }

    /// Writes the settings to `dir`.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(FILE);
        let tmp = dir.join(format!("{FILE}.tmp"));
        let bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|source| PosError::File {
                what: format!("writing {}", path.display()),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_default_when_absent() {
        let dir = tempfile::tempdir().unwrap();
        assert!(TerminalConfig::load(dir.path()).unwrap().terminal.is_none());
        let c = TerminalConfig {
            server: Some("http://127.0.0.1:8080".into()),
            branches: vec!["JKT-01".into()],
            terminal: Some(Terminal {
                branch: "JKT-01".into(),
                terminal: "POS-1".into(),
            }),
            locale: Locale::En,
        };
        c.save(dir.path()).unwrap();
        let back = TerminalConfig::load(dir.path()).unwrap();
        assert_eq!(back.terminal, c.terminal);
        assert_eq!(back.locale, Locale::En);
        std::fs::write(dir.path().join(FILE), b"{").unwrap();
        assert!(TerminalConfig::load(dir.path()).is_err());
    }
}
