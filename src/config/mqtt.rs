//! The site file's `[mqtt]` section: the embedded broker and its handhelds' logins, or an
//! external broker and the controller's login to it.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::scanners::passwd::Passwords;
use crate::scanners::Credentials;

/// MQTT settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttFile {
    /// External broker as `host:port`. When absent, floorctl starts its embedded broker.
    pub broker: Option<String>,
    /// Where the embedded broker listens (default 127.0.0.1:11883, clear of a system broker on 1883).
    pub embedded_listen: Option<SocketAddr>,
    /// User name the controller logs in to an external broker with.
    pub username: Option<String>,
    /// Name of the environment variable holding that user's password (kept out of this file).
    pub password_env: Option<String>,
    /// Embedded broker: the handhelds' password file (Mosquitto's format; `floorctl passwd`
    /// writes it), relative to the site file. With it, each handheld logs in with its id and
    /// password and may use only its own topics; without it, any client is let in.
    pub handheld_passwords: Option<PathBuf>,
    /// Let the embedded broker admit handhelds without a login (a trial floor only).
    #[serde(default)]
    pub allow_anonymous: bool,
    /// External broker: where the handheld app reaches its WebSocket listener, as
    /// `ws://host:port` or `wss://host:port/path` (see deploy/mosquitto). With the embedded
    /// broker the app uses the dashboard's own `/mqtt`.
    pub websocket_url: Option<String>,
}

/// The handheld app's WebSocket URL of an external broker, checked.
pub(super) fn websocket_url(file: &MqttFile, problems: &mut Vec<String>) -> Option<String> {
    let url = file.websocket_url.as_ref()?;
    if file.broker.is_none() {
        problems.push("mqtt.websocket_url is for an external broker; with the embedded broker the handheld app uses the dashboard's /mqtt".into());
        return None;
    }
    let rest = url
        .strip_prefix("wss://")
        .or_else(|| url.strip_prefix("ws://"));
    let fine = rest.is_some_and(|r| {
        !r.is_empty()
            && r.chars()
                .all(|c| c.is_ascii_graphic() && c != ';' && c != '\'' && c != '"')
    });
    if !fine {
        problems.push(format!(
            "mqtt.websocket_url `{url}` must be ws://host:port or wss://host:port/path, for example ws://broker.site:9001"
        ));
        return None;
    }
    Some(url.clone())
}

/// Default embedded broker address.
pub const DEFAULT_EMBEDDED_LISTEN: &str = "127.0.0.1:11883";

/// Where the controller's MQTT client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broker {
    /// Start the embedded broker and connect to it.
    Embedded {
        /// Where it listens.
        listen: SocketAddr,
        /// Handhelds' passwords; none: any client is let in.
        handhelds: Option<Passwords>,
    },
    /// Connect to an external broker.
    External {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// User name and password, when the broker asks for them.
        credentials: Option<Credentials>,
    },
}

/// The broker the `[mqtt]` section names, its problems added to `problems`.
pub(super) fn broker(file: &MqttFile, problems: &mut Vec<String>) -> Broker {
    let default_listen = || DEFAULT_EMBEDDED_LISTEN.parse().expect("valid default");
    let handhelds = match &file.handheld_passwords {
        Some(_) if file.broker.is_some() => {
            problems.push("mqtt.handheld_passwords is for the embedded broker; an external broker checks logins with its own password file (see deploy/mosquitto)".into());
            None
        }
        Some(path) => match Passwords::load(path) {
            Ok(p) => Some(p),
            Err(e) => {
                problems.extend(
                    e.into_iter()
                        .map(|e| format!("mqtt.handheld_passwords: {e}")),
                );
                None
            }
        },
        None if file.broker.is_none() && !file.allow_anonymous => {
            problems.push("the embedded broker refuses anonymous handhelds: set mqtt.handheld_passwords (lines made with `floorctl passwd`), or mqtt.allow_anonymous = true for a trial floor".into());
            None
        }
        None => None,
    };
    match (&file.broker, file.embedded_listen) {
        (Some(b), _) => match b.rsplit_once(':').map(|(h, p)| (h, p.parse::<u16>())) {
            Some((host, Ok(port))) if !host.is_empty() => Broker::External {
                host: host.into(),
                port,
                credentials: match (&file.username, &file.password_env) {
                    (None, None) => None,
                    (Some(username), Some(var)) => match std::env::var(var) {
                        Ok(password) => Some(Credentials {
                            username: username.clone(),
                            password,
                        }),
                        Err(_) => {
                            problems.push(format!(
                                "mqtt.password_env names `{var}`, which is not set: export the broker password in it"
                            ));
                            None
                        }
                    },
                    _ => {
                        problems.push(
                            "mqtt.username and mqtt.password_env go together: give both or neither"
                                .into(),
                        );
                        None
                    }
                },
            },
            _ => {
                problems.push(format!(
                    "mqtt.broker `{b}` must be host:port, for example 127.0.0.1:1883"
                ));
                Broker::Embedded {
                    listen: default_listen(),
                    handhelds: None,
                }
            }
        },
        (None, listen) => Broker::Embedded {
            listen: listen.unwrap_or_else(default_listen),
            handhelds,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn external(url: &str) -> MqttFile {
        MqttFile {
            broker: Some("broker.site:1883".into()),
            websocket_url: Some(url.into()),
            ..MqttFile::default()
        }
    }

    #[test]
    fn the_handheld_apps_websocket_url_is_a_ws_address_of_an_external_broker() {
        let mut problems = Vec::new();
        let url = websocket_url(&external("wss://broker.site:9001/mqtt"), &mut problems);
        assert_eq!(url.as_deref(), Some("wss://broker.site:9001/mqtt"));
        assert!(problems.is_empty());
        for bad in [
            "http://broker.site:9001",
            "ws://",
            "ws://a b",
            "ws://x; script-src *",
            "ws://x'",
        ] {
            let mut problems = Vec::new();
            assert_eq!(websocket_url(&external(bad), &mut problems), None, "{bad}");
            assert!(problems[0].contains("mqtt.websocket_url"), "{problems:?}");
        }
        let mut problems = Vec::new();
        let embedded = MqttFile {
            websocket_url: Some("ws://x:9001".into()),
            ..MqttFile::default()
        };
        assert_eq!(websocket_url(&embedded, &mut problems), None);
        assert!(problems[0].contains("embedded broker"), "{problems:?}");
    }
}
