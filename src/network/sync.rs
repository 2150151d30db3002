//! What a site tells the network and takes from it, once a second: a forward warehouse
//! publishes its transfer orders to its DC, takes the totes shipped to it and reports what it
//! received; a DC turns the transfers asked of it into orders sorted to each destination's lane
//! and marks them shipped once sorted; every site publishes its status for the network view.
//!
//! Each step is idempotent and moves a transfer on only after the site's own journal holds what
//! it did, so a crash or a fail-over between two steps repeats nothing and loses nothing.

use std::time::Duration;

use floorctl_protocol::order::{Order, OrderLine, Priority};
use tokio_util::sync::CancellationToken;

use super::Network;
use crate::controller::Handle;
use crate::store::{Lease, NetTransfer, StoreError};

/// How often a site syncs with the network.
pub const EVERY: Duration = Duration::from_secs(1);

/// The order a DC makes of a forward warehouse's transfer.
pub fn transfer_order_id(site: &str, id: i64) -> String {
    format!("transfer:{site}:{id}")
}

/// Runs the site's share of the network until `stop` fires.
pub async fn run(
    controller: Handle,
    site: String,
    network: Network,
    lease: Lease,
    stop: CancellationToken,
) {
    loop {
        if let Err(err) = once(&controller, &site, &network, &lease).await {
            tracing::warn!(%err, "cannot sync with the network; trying again");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

/// One round of syncing.
pub async fn once(
    controller: &Handle,
    site: &str,
    network: &Network,
    lease: &Lease,
) -> Result<(), StoreError> {
    let store = controller.store();
    if let Some(dc) = &network.dc {
        let new = store.publish_transfers(site, dc).await?;
        if new > 0 {
            tracing::info!(new, %dc, "transfer orders sent to the DC");
        }
        for t in store
            .net_transfers(Some("shipped"), None, Some(site))
            .await?
        {
            take_shipment(controller, &t).await?;
        }
        store.note_received_transfers(site).await?;
    }
    if !network.destinations.is_empty() {
        for t in store
            .net_transfers(Some("requested"), Some(site), None)
            .await?
        {
            accept(controller, network, &t).await?;
        }
        let shipped = store.ship_sorted_transfers(site).await?;
        if shipped > 0 {
            tracing::info!(shipped, "transfer orders sorted to their lanes and shipped");
        }
    }
    store.publish_status(lease, &status(controller)).await
}

/// A forward warehouse: a tote the DC shipped is expected here.
async fn take_shipment(controller: &Handle, t: &NetTransfer) -> Result<(), StoreError> {
    let (Some(tote), Ok(transfer)) = (t.tote, u64::try_from(t.id)) else {
        return Ok(());
    };
    let units = t.shipped.and_then(|s| u32::try_from(s).ok());
    if controller
        .transfer_shipped(transfer, tote as u32, units)
        .await
    {
        controller
            .store()
            .advance_transfer(&t.site, t.id, "shipped", "in_transit")
            .await?;
    }
    Ok(())
}

/// A DC: a transfer asked of it becomes an order on the truck (cut-off) to its destination.
async fn accept(controller: &Handle, network: &Network, t: &NetTransfer) -> Result<(), StoreError> {
    let Some(cutoff) = network.destinations.get(&t.site) else {
        tracing::warn!(site = %t.site, id = t.id, "a transfer from a site this DC does not serve (not under [network.destinations]); left waiting");
        return Ok(());
    };
    let order = Order {
        id: transfer_order_id(&t.site, t.id),
        cutoff: cutoff.clone(),
        priority: Priority::default(),
        // The site it goes to: a [[lane_rule]] may give it a lane of its own.
        destination: Some(t.site.clone()),
        lines: vec![OrderLine {
            sku: t.sku.clone(),
            qty: u32::try_from(t.qty).unwrap_or(u32::MAX),
            // Picked wherever the DC holds most of the SKU.
            location: String::new(),
        }],
    };
    if controller.submit_journalled(order).await {
        controller
            .store()
            .advance_transfer(&t.site, t.id, "requested", "accepted")
            .await?;
    }
    Ok(())
}

/// The site's status for the network view (JSON).
pub fn status(controller: &Handle) -> String {
    let summary = controller.summary();
    let s = summary.borrow();
    let waves: Vec<serde_json::Value> = s
        .waves
        .iter()
        .map(|(cutoff, w)| {
            serde_json::json!({
                "cutoff": cutoff, "orders": w.orders, "sorted": w.sorted,
                "due": w.due, "projected": w.projected, "at_risk": w.at_risk, "held": w.held,
            })
        })
        .collect();
    let links_down = controller
        .plc_status()
        .values()
        .filter(|p| !p.link_up())
        .count();
    serde_json::json!({
        "orders": s.orders,
        "picked": s.picked,
        "sorted": s.sorted,
        "in_flight": s.in_flight,
        "active_alarms": s.active_alarms.len(),
        "plc_links_down": links_down,
        "handhelds": s.handhelds.len(),
        "open_replenishments": s.open_replenishments,
        "waves": waves,
    })
    .to_string()
}
