//! A site's place in a network of sites: the settings the site file's `[network]` gives.

use std::collections::BTreeMap;
use std::time::Duration;

/// A validated `[network]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// Schema of the network tables.
    pub schema: String,
    /// Lease length.
    pub lease: Duration,
    /// The DC this forward warehouse asks for stock.
    pub dc: Option<String>,
    /// Sites this DC ships to, each with the cut-off its transfer orders go on.
    pub destinations: BTreeMap<String, String>,
    /// Transfers of one destination being picked at once.
    pub open_per_destination: usize,
}

impl Network {
    /// The schema holding site `site`'s own tables.
    pub fn site_schema(&self, site: &str) -> String {
        format!("{}_{site}", self.schema)
    }
}
