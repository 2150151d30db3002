//! One controller per SQLite database: an exclusive lock on a file beside it, held while the
//! controller runs and released by the system when the process ends, however it ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

/// The lock a running controller holds on its SQLite database; released when dropped.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

/// Another controller holds the database, or its lock file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// Another controller runs on the database.
    #[error("{database} is in use by another floorctl{holder}; one controller runs on a database at a time")]
    InUse {
        /// The database file.
        database: PathBuf,
        /// ` (process N)` when the holder wrote its process id.
        holder: String,
    },
    /// The lock file cannot be opened or locked.
    #[error("cannot lock {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl InstanceLock {
    /// Takes the lock of the SQLite database `database` (the file `{database}.lock`), or says
    /// who holds it.
    pub fn take(database: &Path) -> Result<InstanceLock, InstanceError> {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let io = |source| InstanceError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                let holder = if !pid.is_empty() && pid.chars().all(|c| c.is_ascii_digit()) {
                    format!(" (process {pid})")
                } else {
                    String::new()
                };
                return Err(InstanceError::InUse {
                    database: database.to_path_buf(),
                    holder,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        Ok(InstanceLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("floorctl.db");
        let first = InstanceLock::take(&db).unwrap();
        let refused = InstanceLock::take(&db).unwrap_err().to_string();
        assert!(
            refused.contains(&format!("process {}", std::process::id())),
            "{refused}"
        );
        drop(first);
        InstanceLock::take(&db).unwrap();
    }
}
