//! Dashboard accounts and sessions: argon2 password hashes, random session tokens in an
//! HttpOnly SameSite cookie, a CSRF token per session for commands.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::HeaderMap;
use base64::Engine;
use rand::RngCore;

/// The session cookie's name.
pub const COOKIE: &str = "floorctl_session";

/// Shortest password accepted for a dashboard account.
pub const MIN_PASSWORD: usize = 10;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees everything, commands nothing.
    Viewer,
    /// Sees everything and commands the floor.
    Supervisor,
}

impl Role {
    /// The role of this name (`viewer`, `supervisor`).
    pub fn from_name(name: &str) -> Option<Role> {
        match name {
            "viewer" => Some(Role::Viewer),
            "supervisor" => Some(Role::Supervisor),
            _ => None,
        }
    }

    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Supervisor => "supervisor",
        }
    }
}

/// An argon2id hash of `password` with a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!(
            "the password is too short: use at least {MIN_PASSWORD} characters"
        ));
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` matches a stored hash. A malformed hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Account name.
    pub user: String,
    /// Role.
    pub role: Role,
    /// The sites of a network this user may see; `None`: every site.
    pub sites: Option<Vec<String>>,
    /// The token commands must carry in `X-CSRF-Token`.
    pub csrf: String,
    /// The account's password hash at login: another now means the password was changed.
    hash: String,
    expires: Instant,
}

impl Session {
    /// Whether the account as it is now is still the one this session logged in as: same
    /// role, password and sites. A changed, demoted or removed account ends its sessions.
    pub fn still_holds(&self, account: Option<&crate::store::Account>) -> bool {
        account.is_some_and(|a| {
            a.role == self.role.name() && a.hash == self.hash && a.sites == self.sites
        })
    }
}

/// Sessions by token, in memory: a restart logs everyone out.
#[derive(Debug)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
    ttl: Duration,
}

/// 32 random bytes, URL-safe base64.
pub fn token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Sessions {
    /// Sessions lasting `ttl` from login.
    pub fn new(ttl: Duration) -> Sessions {
        Sessions {
            by_token: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    /// Opens a session for an account whose password hash is `hash`; returns its token.
    pub fn open(&self, user: &str, role: Role, sites: Option<Vec<String>>, hash: &str) -> String {
        let now = Instant::now();
        let t = token();
        let mut all = self.by_token.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|_, s| s.expires > now);
        all.insert(
            t.clone(),
            Session {
                user: user.to_string(),
                role,
                sites,
                csrf: token(),
                hash: hash.to_string(),
                expires: now + self.ttl,
            },
        );
        t
    }

    /// The session a request's cookie names, while it lasts.
    pub fn find(&self, headers: &HeaderMap) -> Option<Session> {
        let t = cookie(headers)?;
        let all = self.by_token.lock().unwrap_or_else(|p| p.into_inner());
        all.get(&t).filter(|s| s.expires > Instant::now()).cloned()
    }

    /// Ends every session of `user`.
    pub fn close_user(&self, user: &str) {
        let mut all = self.by_token.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|_, s| s.user != user);
    }

    /// Ends the session a request's cookie names.
    pub fn close(&self, headers: &HeaderMap) {
        if let Some(t) = cookie(headers) {
            let mut all = self.by_token.lock().unwrap_or_else(|p| p.into_inner());
            all.remove(&t);
        }
    }

    /// The `Set-Cookie` value for a new session.
    pub fn set_cookie(&self, token: &str) -> String {
        format!(
            "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
            self.ttl.as_secs()
        )
    }
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The session token from a request's `Cookie` headers.
fn cookie(headers: &HeaderMap) -> Option<String> {
    cookie_named(headers, COOKIE)
}

/// The value of the cookie `name` in a request's `Cookie` headers.
pub fn cookie_named(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name && !v.is_empty()).then(|| v.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_and_nothing_else() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("correct horse battery", "not a hash"));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
        assert!(hash_password("short").unwrap_err().contains("at least 10"));
    }

    #[test]
    fn a_session_is_found_by_its_cookie_only_until_closed() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let t = sessions.open("sue", Role::Supervisor, None, "h");
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            format!("theme=dark; {COOKIE}={t}").parse().unwrap(),
        );
        let s = sessions.find(&headers).unwrap();
        assert_eq!((s.user.as_str(), s.role), ("sue", Role::Supervisor));
        assert_ne!(s.csrf, t);
        let cookie = sessions.set_cookie(&t);
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        sessions.close(&headers);
        assert!(sessions.find(&headers).is_none());
        let mut forged = HeaderMap::new();
        forged.insert(
            axum::http::header::COOKIE,
            format!("{COOKIE}=x").parse().unwrap(),
        );
        assert!(sessions.find(&forged).is_none());
    }
}
