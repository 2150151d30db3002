//! Who may publish and subscribe to what through the embedded broker: the same rules as
//! deploy/mosquitto/floorctl.acl.

/// Who a connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Role {
    /// The controller: every handheld's `up/`, every handheld's `down/`, the site's events.
    Controller,
    /// A handheld logged in under its id: its own `up/` to publish, its own `down/` to read.
    Handheld(String),
    /// A system reading the site's events (`floorctl/{site}/events/…`), logged in as
    /// `events` or `events-NAME`: nothing to publish.
    Events(String),
    /// No password file: nothing is checked.
    Open,
}

/// Client ids beginning with this are the controllers' (`floorctl-{site}`).
pub(super) const CONTROLLER_CLIENT_ID: &str = "floorctl-";

/// The role of a login of the password file: an events reader by its name, else a handheld.
pub(super) fn of_login(user: String) -> Role {
    if user == "events" || user.starts_with("events-") {
        Role::Events(user)
    } else {
        Role::Handheld(user)
    }
}

/// Whether `role` may connect under `client_id`. The broker keys a session by its client id
/// and ends the connection holding it when another claims it, so a handheld's id is bound to
/// its login: exactly its user name. The controllers' ids are theirs alone.
pub(super) fn may_use_client_id(role: &Role, client_id: &str) -> Result<(), String> {
    match role {
        Role::Controller | Role::Open => Ok(()),
        Role::Handheld(id) | Role::Events(id)
            if client_id == id && !id.starts_with(CONTROLLER_CLIENT_ID) =>
        {
            Ok(())
        }
        Role::Handheld(id) | Role::Events(id) => Err(format!(
            "login {id:?} connects under client id {client_id:?}: its client id must be its user name"
        )),
    }
}

/// Whether `role` may publish to `topic`.
pub(super) fn may_publish(role: &Role, topic: &str) -> bool {
    if topic.contains(['+', '#']) {
        return false;
    }
    match role {
        Role::Controller | Role::Open => true,
        Role::Handheld(id) => own(topic, id, "up"),
        Role::Events(_) => false,
    }
}

/// Whether `role` may subscribe to `filter`: everything it matches must be the role's to read.
pub(super) fn may_subscribe(role: &Role, filter: &str) -> bool {
    match role {
        Role::Controller | Role::Open => true,
        Role::Handheld(id) => own(filter, id, "down"),
        Role::Events(_) => events(filter),
    }
}

/// `floorctl/{site}/events/…` with a site level (any, or `+` in a filter).
fn events(filter: &str) -> bool {
    let levels: Vec<&str> = filter.split('/').collect();
    matches!(
        levels[..],
        ["floorctl", site, "events", ref rest @ ..]
            if !site.is_empty() && !site.contains('#') && !rest.is_empty()
    )
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
    fn an_events_login_reads_the_events_and_nothing_else() {
        let erp = of_login("events-erp".into());
        assert_eq!(erp, Role::Events("events-erp".into()));
        assert_eq!(of_login("eventsx".into()), Role::Handheld("eventsx".into()));
        assert!(may_subscribe(&erp, "floorctl/fwd1/events/#"));
        assert!(may_subscribe(&erp, "floorctl/+/events/order.late"));
        assert!(!may_subscribe(&erp, "floorctl/#"));
        assert!(!may_subscribe(&erp, "floorctl/#/events/#"));
        assert!(!may_subscribe(&erp, "floorctl/fwd1/scanners/h1/down/#"));
        assert!(!may_subscribe(&erp, "floorctl/fwd1/events"));
        assert!(!may_publish(&erp, "floorctl/fwd1/events/order.late"));
        assert!(!may_publish(&erp, "floorctl/fwd1/scanners/h1/up/logout"));
        assert!(!may_subscribe(
            &Role::Handheld("h1".into()),
            "floorctl/fwd1/events/#"
        ));
        assert!(may_use_client_id(&erp, "events-erp").is_ok());
        assert!(may_use_client_id(&erp, "h1").is_err());
    }

    #[test]
    fn a_handheld_connects_only_under_its_own_user_name() {
        let h1 = Role::Handheld("h1".into());
        assert!(may_use_client_id(&h1, "h1").is_ok());
        for other in ["h2", "", "h1-2", "fwd1-h1", "floorctl-fwd1"] {
            assert!(may_use_client_id(&h1, other).is_err(), "{other:?}");
        }
        let named_like_a_controller = Role::Handheld("floorctl-fwd1".into());
        assert!(may_use_client_id(&named_like_a_controller, "floorctl-fwd1").is_err());
        assert!(may_use_client_id(&Role::Controller, "floorctl-fwd1").is_ok());
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
