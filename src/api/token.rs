//! API tokens: made at random, shown once, kept only as a hash.

use sha2::{Digest, Sha256};

/// Scopes a service account may be given.
pub const SCOPES: &[&str] = &[
    "orders:write",
    "orders:read",
    "stock:write",
    "events:read",
    "webhooks:write",
];

/// A new token: `fct_` and 32 random bytes, URL-safe base64.
pub fn new() -> String {
    format!("fct_{}", crate::dashboard::auth::token())
}

/// The hash a token is kept and looked up by (SHA-256, hex): a token is 256 random bits, so a
/// fast hash is as safe as a slow one and lets every request be checked cheaply.
pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_and_are_kept_by_a_hash_that_does_not_show_them() {
        let (a, b) = (new(), new());
        assert_ne!(a, b);
        assert!(a.starts_with("fct_") && a.len() > 40, "{a}");
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(hash(&a).len(), 64);
        assert!(!hash(&a).contains(&a[4..]));
    }
}
