//! Identifiers that come from outside (order numbers, SKUs, locations, handheld and PLC ids),
//! each a type of its own, checked once where it enters: a bad one is refused with its reason
//! and never reaches the core. Inside they read as `&str` and compare with strings.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize};

/// Longest identifier, in characters.
pub const MAX_ID_CHARS: usize = 64;

/// Why a text is no identifier of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} `{shown}` {why}")]
pub struct IdError {
    /// The kind of identifier (`order number`, `SKU`, ...).
    pub what: &'static str,
    /// The text, shortened and with control characters escaped.
    pub shown: String,
    /// What is wrong with it.
    pub why: &'static str,
}

/// Checks `text` as an identifier of kind `what`; `topic` also refuses what an MQTT topic level
/// cannot hold (`/`, `+`, `#`) and spaces.
fn check(what: &'static str, text: &str, topic: bool) -> Result<(), IdError> {
    let why = if text.is_empty() {
        Some("is empty")
    } else if text.chars().count() > MAX_ID_CHARS {
        Some("is longer than 64 characters")
    } else if text.chars().any(char::is_control) {
        Some("holds a control character")
    } else if text.trim() != text {
        Some("starts or ends with a space")
    } else if topic && text.contains(['/', '+', '#', ' ']) {
        Some("holds a space, /, + or #, which a topic level cannot")
    } else {
        None
    };
    match why {
        None => Ok(()),
        Some(why) => Err(IdError {
            what,
            shown: text
                .chars()
                .take(MAX_ID_CHARS)
                .collect::<String>()
                .escape_debug()
                .to_string(),
            why,
        }),
    }
}

macro_rules! id {
    ($(#[$doc:meta])* $name:ident, $what:literal, topic: $topic:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// What this kind of identifier is called in messages.
            pub const WHAT: &'static str = $what;

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(text: String) -> Result<Self, IdError> {
                check($what, &text, $topic)?;
                Ok($name(text))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(text: &str) -> Result<Self, IdError> {
                check($what, text, $topic)?;
                Ok($name(text.to_string()))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $name::try_from(text).map_err(serde::de::Error::custom)
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

id!(
    /// An order number.
    OrderId, "order number", topic: false
);
id!(
    /// A stock-keeping unit's code.
    Sku, "SKU", topic: false
);
id!(
    /// A pick or reserve location.
    Location, "location", topic: false
);
id!(
    /// A handheld's id: its MQTT user name and a level of its topics.
    HandheldId, "handheld id", topic: true
);
id!(
    /// A PLC's equipment id.
    PlcId, "PLC id", topic: true
);
id!(
    /// Where an order goes after the site (a route, a van, a locker bank, a pickup point).
    Destination, "destination", topic: false
);
id!(
    /// A webhook subscription's name.
    WebhookName, "webhook name", topic: true
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identifier_is_checked_once_and_then_reads_as_text() {
        let id = OrderId::try_from("A-1001").unwrap();
        assert_eq!(id, "A-1001");
        assert_eq!(&*id, "A-1001");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"A-1001\"");
        let back: OrderId = serde_json::from_str("\"A-1001\"").unwrap();
        assert_eq!(back, id);
        let mut map = std::collections::BTreeMap::new();
        map.insert(id.clone(), 1);
        assert_eq!(map.get("A-1001"), Some(&1), "looked up by text");
    }

    #[test]
    fn a_bad_identifier_is_refused_with_its_reason() {
        let cases = [
            ("", "order number `` is empty"),
            (" A1", "order number ` A1` starts or ends with a space"),
            (
                "A\u{7}1",
                "order number `A\\u{7}1` holds a control character",
            ),
        ];
        for (text, said) in cases {
            assert_eq!(OrderId::try_from(text).unwrap_err().to_string(), said);
        }
        assert!(OrderId::try_from("x".repeat(65)).is_err());
        assert!(OrderId::try_from("x".repeat(64)).is_ok());
        assert!(
            OrderId::try_from("A 1/2").is_ok(),
            "an order number may hold / and spaces"
        );
        assert_eq!(
            HandheldId::try_from("h1/#").unwrap_err().why,
            "holds a space, /, + or #, which a topic level cannot"
        );
        let err = serde_json::from_str::<Sku>("\"\"").unwrap_err();
        assert!(err.to_string().contains("SKU `` is empty"), "{err}");
    }
}
