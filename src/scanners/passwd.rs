//! Handheld passwords in Mosquitto's password-file format (`user:$7$iterations$salt$hash`,
//! PBKDF2-HMAC-SHA512, base64), so one file serves the embedded broker and Mosquitto alike.

use std::collections::BTreeMap;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use floorctl_protocol::text::{read_text, MAX_CONFIG_BYTES};
use rand::RngCore;

/// Iterations used for new hashes (Mosquitto's own default is 101; more is slower to guess).
pub const ITERATIONS: u32 = 10_000;
const SALT_LEN: usize = 12;
const HASH_LEN: usize = 64;

/// A PBKDF2-SHA512 hash as stored.
#[derive(Clone, PartialEq, Eq)]
struct Hash {
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash({} iterations)", self.iterations)
    }
}

/// User names and their password hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Passwords {
    users: BTreeMap<String, Hash>,
}

impl Passwords {
    /// Reads a password file; every bad line is reported with its number.
    pub fn load(path: &Path) -> Result<Passwords, Vec<String>> {
        let text = read_text(path, MAX_CONFIG_BYTES)
            .map_err(|e| vec![format!("cannot read {}: {e}", path.display())])?;
        Passwords::parse(&text).map_err(|p| {
            p.into_iter()
                .map(|e| format!("{}:{e}", path.display()))
                .collect()
        })
    }

    /// Reads password-file text.
    pub fn parse(text: &str) -> Result<Passwords, Vec<String>> {
        let mut users = BTreeMap::new();
        let mut problems = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let n = n + 1;
            let Some((user, stored)) = line.split_once(':') else {
                problems.push(format!("{n}: expected user:hash"));
                continue;
            };
            if user.is_empty() || user.contains(['/', '+', '#']) {
                problems.push(format!(
                    "{n}: user `{user}` must be a handheld id (not empty, no / + #)"
                ));
                continue;
            }
            match parse_hash(stored) {
                Ok(h) => {
                    if users.insert(user.to_string(), h).is_some() {
                        problems.push(format!("{n}: user `{user}` is listed twice"));
                    }
                }
                Err(e) => problems.push(format!("{n}: user `{user}`: {e}")),
            }
        }
        if problems.is_empty() {
            Ok(Passwords { users })
        } else {
            Err(problems)
        }
    }

    /// Whether `password` is `user`'s.
    pub fn verify(&self, user: &str, password: &[u8]) -> bool {
        let Some(h) = self.users.get(user) else {
            // As costly as a known user's check, so a user name cannot be told by timing.
            let iterations = self.users.values().map(|h| h.iterations).max();
            let _ = derive(
                password,
                b"no such user here",
                iterations.unwrap_or(ITERATIONS),
            );
            return false;
        };
        let derived = derive(password, &h.salt, h.iterations);
        // Compare every byte whatever the first difference.
        derived.len() == h.hash.len()
            && derived
                .iter()
                .zip(&h.hash)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// Whether `user` is listed.
    pub fn has(&self, user: &str) -> bool {
        self.users.contains_key(user)
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether no user is listed.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// A password-file line for `user` with a fresh random salt.
pub fn line(user: &str, password: &str, iterations: u32) -> String {
    let mut salt = [0u8; SALT_LEN];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let hash = derive(password.as_bytes(), &salt, iterations);
    format!(
        "{user}:$7${iterations}${}${}",
        B64.encode(salt),
        B64.encode(hash)
    )
}

/// Adds `user` to the password file at `path` or replaces its password, keeping every other
/// line; the file is created when missing and replaced whole, never left half-written.
pub fn set(path: &Path, user: &str, password: &str, iterations: u32) -> Result<(), String> {
    if user.is_empty() || user.contains([':', '/', '+', '#']) || user.trim() != user {
        return Err(format!(
            "user `{user}` must be a handheld id: not empty, no : / + # or spaces"
        ));
    }
    if password.is_empty() {
        return Err("the password is empty".into());
    }
    let text = match read_text(path, MAX_CONFIG_BYTES) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    Passwords::parse(&text).map_err(|p| {
        format!(
            "{} is not a valid password file:\n  {}",
            path.display(),
            p.join("\n  ")
        )
    })?;
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.split_once(':').map(|(u, _)| u) != Some(user))
        .map(str::to_string)
        .collect();
    lines.push(line(user, password, iterations));
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, lines.join("\n") + "\n")
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn derive(password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut out = vec![0u8; HASH_LEN];
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, iterations, &mut out);
    out
}

fn parse_hash(stored: &str) -> Result<Hash, String> {
    let parts: Vec<&str> = stored.split('$').collect();
    let ["", "7", iterations, salt, hash] = parts[..] else {
        return Err("only $7$ (PBKDF2-SHA512) hashes are read; make the line with `floorctl passwd` or mosquitto_passwd 2".into());
    };
    let iterations: u32 = iterations
        .parse()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| format!("iteration count `{iterations}` is not a positive number"))?;
    let salt = B64
        .decode(salt)
        .map_err(|e| format!("salt is not base64: {e}"))?;
    let hash = B64
        .decode(hash)
        .map_err(|e| format!("hash is not base64: {e}"))?;
    if hash.len() != HASH_LEN {
        return Err(format!(
            "hash is {} bytes; PBKDF2-SHA512 gives {HASH_LEN}",
            hash.len()
        ));
    }
    Ok(Hash {
        iterations,
        salt,
        hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../deploy/mosquitto/floorctl.passwd.example");

    #[test]
    fn hashes_made_by_mosquitto_passwd_are_verified() {
        let p = Passwords::parse(EXAMPLE).unwrap();
        assert_eq!(p.len(), 5);
        assert!(p.verify("h1", b"h1-secret"));
        assert!(p.verify("floorctl", b"floorctl-secret"));
        assert!(
            p.verify("events", b"events-secret"),
            "made by floorctl passwd"
        );
        assert!(!p.verify("h1", b"h2-secret"));
        assert!(!p.verify("h9", b"h9-secret"));
    }

    #[test]
    fn a_new_line_verifies_and_salts_differ() {
        let a = line("h7", "pw", 50);
        let b = line("h7", "pw", 50);
        assert_ne!(a, b);
        let p = Passwords::parse(&a).unwrap();
        assert!(p.verify("h7", b"pw"));
        assert!(!p.verify("h7", b"pW"));
    }

    #[test]
    fn setting_a_password_replaces_only_that_users_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("handhelds.passwd");
        set(&path, "h1", "one", 10).unwrap();
        set(&path, "h2", "two", 10).unwrap();
        set(&path, "h1", "uno", 10).unwrap();
        let p = Passwords::load(&path).unwrap();
        assert_eq!(p.len(), 2);
        assert!(p.verify("h1", b"uno") && !p.verify("h1", b"one"));
        assert!(p.verify("h2", b"two"));
        assert!(set(&path, "h/3", "x", 10).is_err());
        std::fs::write(&path, "garbage\n").unwrap();
        assert!(set(&path, "h4", "x", 10)
            .unwrap_err()
            .contains("not a valid password file"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "garbage\n",
            "left as it was"
        );
    }

    #[test]
    fn bad_lines_are_reported_with_their_numbers() {
        let text = "# comment\nh1\nh2:$6$abc$def\nh3:$7$x$AA==$AA==\na/b:$7$1$AA==$AA==\n";
        let p = Passwords::parse(text).unwrap_err();
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[0].starts_with("2: expected user:hash"));
        assert!(p[1].contains("only $7$"));
        assert!(p[2].contains("iteration count `x`"));
        assert!(p[3].contains("handheld id"));
    }
}
