//! Standard Webhooks signatures: `v1,` and the base64 HMAC-SHA256, keyed by the secret's bytes,
//! of `{webhook-id}.{webhook-timestamp}.{body}`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a secret starts with.
const PREFIX: &str = "whsec_";

/// A new secret: `whsec_` and 24 random bytes in base64.
pub fn new_secret() -> String {
    let bytes: [u8; 24] = rand::random();
    format!("{PREFIX}{}", STANDARD.encode(bytes))
}

/// The key of a secret (`whsec_` and base64), or why it is not one.
pub fn key(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret.strip_prefix(PREFIX).unwrap_or(secret);
    match STANDARD.decode(encoded) {
        Ok(key) if key.len() >= 16 => Ok(key),
        Ok(_) => Err("a webhook secret must hold at least 16 bytes".into()),
        Err(_) => Err("a webhook secret is `whsec_` followed by base64".into()),
    }
}

/// The `webhook-signature` header of a delivery.
pub fn sign(key: &[u8], id: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_reference() {
        // The specification's example, checked with Python's hmac module.
        let key = key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn new_secrets_are_keys_and_differ() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(key(&a).unwrap().len(), 24);
    }

    #[test]
    fn a_secret_that_is_no_base64_or_too_short_is_refused() {
        assert!(key("whsec_not base64!").unwrap_err().contains("base64"));
        assert!(key("whsec_AAAA").unwrap_err().contains("16 bytes"));
    }
}
