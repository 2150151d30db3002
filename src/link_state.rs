//! Where an adapter's connection stands, watched by the dashboard and the metrics.

use serde::Serialize;

/// The state of a connection to a PLC or to the MQTT broker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// Connecting, or connected and not yet answering.
    #[default]
    Connecting,
    /// Connected and answering.
    Connected,
    /// Lost or refused; waiting before the next attempt.
    BackingOff,
    /// Stopped with the controller.
    Stopped,
}

impl LinkState {
    /// The state in a few words for people.
    pub fn words(self) -> &'static str {
        match self {
            LinkState::Connecting => "connecting",
            LinkState::Connected => "connected",
            LinkState::BackingOff => "lost, trying again",
            LinkState::Stopped => "stopped",
        }
    }
}
