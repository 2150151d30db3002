//! The site file's `[network]` section: this site as one of a network of sites (a distribution
//! centre and its forward warehouses) on one PostgreSQL server.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

pub use crate::network::Network;

/// `[network]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    /// Schema of the network's own tables (site leases and status, transfers between sites);
    /// each site's tables go in the schema `{schema}_{site}`. Default `floorctl`.
    pub schema: Option<String>,
    /// How long a site's lease lasts unrenewed, in milliseconds: a standby takes the site over
    /// this long after its owner stopped renewing. Default 5000.
    pub lease_ms: Option<u64>,
    /// A forward warehouse: the site id of the distribution centre that fills its transfers.
    pub dc: Option<String>,
    /// A distribution centre: each site it ships to, with the cut-off (the truck to that site)
    /// its transfer orders are sorted on, which names the lane.
    #[serde(default)]
    pub destinations: BTreeMap<String, String>,
    /// A distribution centre: transfers of one destination being picked at once; more wait
    /// their turn, so every site is served while one asks much. Default 16.
    pub open_per_destination: Option<u32>,
}

/// Default transfers of one destination being picked at once.
pub(super) const DEFAULT_OPEN_PER_DESTINATION: u32 = 16;

/// Default lease length.
pub(super) const DEFAULT_LEASE_MS: u64 = 5_000;

/// Whether `name` can name a schema or be part of one: letters, digits, `_` and `-`.
pub(super) fn schema_safe(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Validates `[network]`; `postgres` says whether the site's database is PostgreSQL, `cutoffs`
/// are the site's cut-off names.
pub(super) fn network(
    file: &NetworkFile,
    site: &str,
    postgres: bool,
    cutoffs: &[&str],
    problems: &mut Vec<String>,
) -> Network {
    let schema = file.schema.clone().unwrap_or_else(|| "floorctl".into());
    if !schema_safe(&schema) {
        problems.push(format!(
            "[network] schema `{schema}`: use 1 to 40 letters, digits, _ or -"
        ));
    }
    if !schema_safe(site) {
        problems.push(format!(
            "site `{site}`: in a network the site id names a database schema; use 1 to 40 letters, digits, _ or -"
        ));
    }
    if !postgres {
        problems.push(
            "[network] needs a PostgreSQL database (database = \"postgres://…\"): the sites share it"
                .into(),
        );
    }
    let lease_ms = file.lease_ms.unwrap_or(DEFAULT_LEASE_MS);
    if !(1_000..=60_000).contains(&lease_ms) {
        problems.push(format!(
            "[network] lease_ms = {lease_ms}: use 1000 to 60000"
        ));
    }
    if file.dc.as_deref() == Some(site) {
        problems.push(format!("[network] dc = \"{site}\" is this site itself"));
    }
    for (dest, cutoff) in &file.destinations {
        if dest == site {
            problems.push(format!(
                "[network.destinations] `{dest}` is this site itself"
            ));
        }
        if !cutoffs.contains(&cutoff.as_str()) {
            problems.push(format!(
                "[network.destinations] {dest} = \"{cutoff}\": no [[cutoff]] of that name (the truck to {dest}, naming its lane)"
            ));
        }
    }
    let open = file
        .open_per_destination
        .unwrap_or(DEFAULT_OPEN_PER_DESTINATION);
    if open == 0 {
        problems.push("[network] open_per_destination must be at least 1".into());
    }
    Network {
        schema,
        lease: Duration::from_millis(lease_ms),
        dc: file.dc.clone(),
        destinations: file.destinations.clone(),
        open_per_destination: open as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_section_is_checked_against_the_site() {
        let file = NetworkFile {
            schema: Some("net; drop".into()),
            lease_ms: Some(10),
            dc: Some("fwd1".into()),
            destinations: [("fwd2".to_string(), "truck".to_string())].into(),
            open_per_destination: None,
        };
        let mut problems = Vec::new();
        network(&file, "fwd1", false, &["11:00"], &mut problems);
        let all = problems.join("\n");
        for want in [
            "schema `net; drop`",
            "needs a PostgreSQL",
            "lease_ms = 10",
            "dc = \"fwd1\" is this site",
            "fwd2 = \"truck\": no [[cutoff]]",
        ] {
            assert!(all.contains(want), "{want} missing from:\n{all}");
        }
        let ok = NetworkFile {
            destinations: [("fwd2".to_string(), "11:00".to_string())].into(),
            ..NetworkFile::default()
        };
        let mut problems = Vec::new();
        let n = network(&ok, "dc", true, &["11:00"], &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(n.site_schema("dc"), "floorctl_dc");
        assert_eq!(n.lease, Duration::from_secs(5));
    }
}
