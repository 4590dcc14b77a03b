//! The four MIG dialects and what each calls a keyword.

use serde::Serialize;

/// A MIG family. Keywords are matched case-insensitively in all four.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub enum Dialect {
    /// GNU MIG (GNU Mach, the Hurd, glibc): the wire reference of this project.
    #[default]
    Gnu,
    /// Apple's `migcom` (XNU).
    Apple,
    /// OSF Mach (MkLinux).
    Osf,
    /// CMU Mach 3.0.
    Cmu,
}

impl Dialect {
    pub const ALL: [Dialect; 4] = [Dialect::Gnu, Dialect::Apple, Dialect::Osf, Dialect::Cmu];

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Gnu => "gnu",
            Dialect::Apple => "apple",
            Dialect::Osf => "osf",
            Dialect::Cmu => "cmu",
        }
    }

    pub fn from_name(name: &str) -> Option<Dialect> {
        Dialect::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(name))
    }

    /// What the family is called in messages.
    pub fn title(self) -> &'static str {
        match self {
            Dialect::Gnu => "GNU MIG",
            Dialect::Apple => "Apple MIG",
            Dialect::Osf => "OSF MIG",
            Dialect::Cmu => "CMU MIG",
        }
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
