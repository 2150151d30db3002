//! Which database a site uses: a SQLite file or a PostgreSQL server, shown without its password.

use std::fmt;
use std::path::{Path, PathBuf};

/// Which database: a SQLite file, or a PostgreSQL server by URL.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// SQLite file (created when missing).
    Sqlite(PathBuf),
    /// `postgres://user:password@host:port/database` (URL parameters such as
    /// `options[search_path]=schema` pass through).
    Postgres(String),
}

impl Database {
    /// A database named in a site file: a `postgres://` or `postgresql://` URL, else a SQLite
    /// file relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Database {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Database::Postgres(text.to_string())
        } else {
            Database::Sqlite(base.join(text))
        }
    }

    /// The SQLite file, for a SQLite database.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(p) => Some(p),
            Database::Postgres(_) => None,
        }
    }
}

impl From<PathBuf> for Database {
    fn from(p: PathBuf) -> Database {
        Database::Sqlite(p)
    }
}

impl From<&Path> for Database {
    fn from(p: &Path) -> Database {
        Database::Sqlite(p.to_path_buf())
    }
}

/// Shown without the password.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "{}", p.display()),
            Database::Postgres(url) => {
                let shown = match (url.find("://"), url.rfind('@')) {
                    (Some(scheme), Some(at)) if at > scheme => {
                        let userinfo = &url[scheme + 3..at];
                        let user = userinfo.split(':').next().unwrap_or("");
                        format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
                    }
                    _ => url.clone(),
                };
                f.write_str(&shown)
            }
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Database({self})")
    }
}

/// A SQLite URL for a file, created when missing; `%`, `?` and `#` in the path are escaped.
pub(super) fn sqlite_url(path: &Path) -> String {
    let mut escaped = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => escaped.push_str("%25"),
            '?' => escaped.push_str("%3F"),
            '#' => escaped.push_str("%23"),
            c => escaped.push(c),
        }
    }
    format!("sqlite://{escaped}?mode=rwc")
}
