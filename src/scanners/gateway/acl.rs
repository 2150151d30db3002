//! Who may publish and subscribe to what through the embedded broker: the same rules as
//! deploy/mosquitto/floorctl.acl.

/// Who a connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Role {
    /// The controller: every handheld's `up/`, every handheld's `down/`.
    Controller,
    /// A handheld logged in under its id: its own `up/` to publish, its own `down/` to read.
    Handheld(String),
    /// No password file: nothing is checked.
    Open,
}

/// Whether `role` may publish to `topic`.
pub(super) fn may_publish(role: &Role, topic: &str) -> bool {
    if topic.contains(['+', '#']) {
        return false;
    }
    match role {
        Role::Controller | Role::Open => true,
        Role::Handheld(id) => own(topic, id, "up"),
    }
}

/// Whether `role` may subscribe to `filter`: everything it matches must be the role's to read.
pub(super) fn may_subscribe(role: &Role, filter: &str) -> bool {
    match role {
        Role::Controller | Role::Open => true,
        Role::Handheld(id) => own(filter, id, "down"),
    }
}

/// `floorctl/{site}/scanners/{id}/{dir}/…` with a site level (any, or `+` in a filter), this
/// handheld's id exactly, and at least one level after `dir`.
fn own(topic: &str, id: &str, dir: &str) -> bool {
    let levels: Vec<&str> = topic.split('/').collect();
    matches!(
        levels[..],
        ["floorctl", site, "scanners", who, d, ref rest @ ..]
            if !site.is_empty() && !site.contains('#') && who == id && d == dir && !rest.is_empty()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handheld_publishes_only_under_its_own_up() {
        let h1 = Role::Handheld("h1".into());
        assert!(may_publish(&h1, "floorctl/fwd1/scanners/h1/up/scan"));
        assert!(!may_publish(&h1, "floorctl/fwd1/scanners/h2/up/scan"));
        assert!(!may_publish(
            &h1,
            "floorctl/fwd1/scanners/h1/down/direction"
        ));
        assert!(!may_publish(&h1, "floorctl/fwd1/scanners/h1/up"));
        assert!(!may_publish(&h1, "floorctl/fwd1/scanners/h1/up/+"));
        assert!(!may_publish(&h1, "other/fwd1/scanners/h1/up/scan"));
        assert!(may_publish(
            &Role::Controller,
            "floorctl/fwd1/scanners/h2/down/direction"
        ));
    }

    #[test]
    fn a_handheld_subscribes_only_to_its_own_down() {
        let h1 = Role::Handheld("h1".into());
        assert!(may_subscribe(&h1, "floorctl/fwd1/scanners/h1/down/#"));
        assert!(may_subscribe(&h1, "floorctl/+/scanners/h1/down/direction"));
        assert!(!may_subscribe(&h1, "floorctl/fwd1/scanners/+/down/#"));
        assert!(!may_subscribe(&h1, "floorctl/fwd1/scanners/h2/down/#"));
        assert!(!may_subscribe(&h1, "floorctl/fwd1/scanners/h1/up/#"));
        assert!(!may_subscribe(&h1, "floorctl/#"));
        assert!(!may_subscribe(&h1, "#"));
        assert!(!may_subscribe(&h1, "floorctl/fwd1/scanners/h1/down"));
    }
}
