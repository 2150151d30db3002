//! The checks that every order, event and unit is accounted for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use floorctl::demo;
use floorctl::store::{Database, Store};
use floorctl_core::{Event, SortOutcome};
use floorctl_protocol::order::Order;
use floorctl_protocol::scanner::UpBody;

use super::floor::Floor;

/// Every order's totes (one, or more when one filled up) are each in exactly one chute, of its
/// cut-off's lane, on the floor and in the database; the journal holds every event that got
/// them there.
pub async fn assert_every_order_accounted_for(f: &Floor) {
    let store = Store::connect(&f.database).await.unwrap();
    let totes = store.totes().await.unwrap();
    let journal = store.journal().await.unwrap();
    store.close().await;
    let layout = demo::layout();
    let cutoff_of: BTreeMap<&str, &str> = f
        .orders
        .iter()
        .map(|o| (o.id.as_str(), o.cutoff.as_str()))
        .collect();

    // On the floor: each tote in one chute, once.
    let physical: Vec<(u16, u32)> = f
        .sim
        .snapshot()
        .chutes
        .iter()
        .flat_map(|(c, ts)| ts.iter().map(move |t| (*c, *t)))
        .collect();
    let distinct: BTreeSet<u32> = physical.iter().map(|(_, t)| *t).collect();
    assert_eq!(
        physical.len(),
        distinct.len(),
        "a tote was sorted twice: {physical:?}"
    );
    assert_eq!(distinct.len(), totes.len(), "every tote in a chute");

    // In the database: each order has its totes, sorted into the chutes the floor shows, in its
    // lane.
    let orders_with_totes: BTreeSet<&str> = totes
        .iter()
        .map(|(_, o, _, _)| o.as_str())
        .filter(|o| cutoff_of.contains_key(o))
        .collect();
    assert_eq!(
        orders_with_totes.len(),
        f.orders.len(),
        "each order picked into its totes"
    );
    for (tote, order, status, chute) in &totes {
        assert_eq!(status, "sorted", "tote {tote} of {order}");
        let chute = chute.expect("sorted totes have a chute");
        assert!(
            physical.contains(&(chute, *tote)),
            "tote {tote}: database says chute {chute}, floor disagrees"
        );
        // A tote in from the DC carries a transfer order, not a customer's.
        if let Some(cutoff) = cutoff_of.get(order.as_str()) {
            assert!(
                layout.in_lane(cutoff, chute),
                "tote {tote} of {order} in chute {chute}, outside its lane"
            );
        } else {
            assert!(
                order.starts_with("transfer "),
                "tote {tote} of unknown {order}"
            );
        }
    }

    // In the journal: every order, every picked line, every tote's entry and sort.
    let mut received = BTreeSet::new();
    let mut picks = BTreeSet::new();
    let mut sorted = BTreeMap::new();
    for e in &journal {
        match &e.event {
            Event::OrderReceived { order } => {
                received.insert(order.id.clone());
            }
            Event::Scanner { msg, .. } => match &msg.body {
                UpBody::Pick { order, line, .. } | UpBody::Short { order, line, .. } => {
                    picks.insert((order.clone(), *line));
                }
                _ => {}
            },
            Event::SortConfirmed {
                tote,
                outcome: SortOutcome::Sorted,
                seq,
                ..
            } => {
                sorted
                    .entry(*tote)
                    .or_insert_with(BTreeSet::new)
                    .insert(*seq);
            }
            _ => {}
        }
    }
    assert_eq!(received.len(), f.orders.len());
    for o in &f.orders {
        for line in 0..o.lines.len() as u32 {
            assert!(
                picks.contains(&(o.id.clone(), line)),
                "order {} line {line}: its pick or short confirmation is journalled",
                o.id
            );
        }
    }
    assert_eq!(sorted.len(), totes.len(), "every tote's sort is journalled");
    assert!(
        sorted.values().all(|seqs| seqs.len() == 1),
        "a tote reported sorted under two sequence numbers"
    );
}

/// The journalled events.
pub async fn journal(f: &Floor) -> Vec<Event> {
    journal_at(&f.db).await
}

/// The events journalled in a database file.
pub async fn journal_at(db: &Path) -> Vec<Event> {
    timed_journal_at(db)
        .await
        .into_iter()
        .map(|(_, e)| e)
        .collect()
}

/// The events journalled in a database file, each with the time it was journalled.
pub async fn timed_journal_at(db: &Path) -> Vec<(u64, Event)> {
    let store = Store::open(db).await.unwrap();
    let j = store.journal().await.unwrap();
    store.close().await;
    j.into_iter().map(|e| (e.at, e.event)).collect()
}

/// The state the controller saved when it stopped equals, byte for byte, the state rebuilt by
/// replaying its whole journal from nothing, and survives being read back.
pub async fn assert_replay_reproduces_state(database: &Database) {
    let store = Store::connect(database).await.unwrap();
    let (seq, saved) = store
        .latest_snapshot()
        .await
        .unwrap()
        .expect("a stopped controller leaves a snapshot");
    let journal = store.journal().await.unwrap();
    store.close().await;
    assert_eq!(
        journal.last().unwrap().seq,
        seq,
        "the last snapshot covers the journal"
    );
    let layout = demo::layout();
    let mut replayed = floorctl_core::Core::new(layout.clone());
    for e in &journal {
        replayed.handle(&e.event, e.at);
    }
    let bytes = replayed.snapshot();
    assert_eq!(bytes.len(), saved.len(), "replayed state size");
    assert!(
        bytes == saved,
        "replaying the journal gives other state bytes"
    );
    let restored = floorctl_core::Core::restore(layout, &saved).unwrap();
    assert!(
        restored.snapshot() == saved,
        "a restored snapshot gives the same bytes"
    );
}

/// Checks a payload the controller sent on a handheld's `down/{kind}` topic against the
/// protocol's JSON Schema (docs/schemas).
pub fn assert_matches_schema(kind: &str, payload: &[u8]) {
    let path = format!(
        "{}/docs/schemas/down.{kind}.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{path}: {e}"));
    let instance: serde_json::Value =
        serde_json::from_slice(payload).unwrap_or_else(|e| panic!("down/{kind} is not JSON: {e}"));
    let errors: Vec<String> = v.iter_errors(&instance).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "down/{kind}: {instance} — {errors:?}");
}

/// Units received at each (SKU, location) the order book picks from: plenty for the day.
pub fn receipts(orders: &[Order]) -> BTreeMap<(String, String), u32> {
    orders
        .iter()
        .flat_map(|o| &o.lines)
        .map(|l| ((l.sku.clone(), l.location.clone()), 10_000))
        .collect()
}

/// Books each receipt through a controller on the floor's database.
pub async fn receive_stock(f: &Floor, received: &BTreeMap<(String, String), u32>) {
    let c = f.controller().await;
    for ((sku, location), qty) in received {
        assert!(
            c.stock(sku, location, *qty).await,
            "stock of {sku} journalled"
        );
    }
    c.shutdown(Duration::from_secs(5)).await;
}

/// The inventory balances in the state the controller saved last: for every SKU and location,
/// units received − units picked there (the orders' picked lines) = units on hand.
pub async fn assert_inventory_balances(
    database: &Database,
    received: &BTreeMap<(String, String), u32>,
) {
    let store = Store::connect(database).await.unwrap();
    let (_, saved) = store.latest_snapshot().await.unwrap().expect("a snapshot");
    store.close().await;
    let state: serde_json::Value = serde_json::from_slice(&saved).unwrap();
    let mut picked: BTreeMap<(String, String), u64> = BTreeMap::new();
    let orders = state["orders"].as_object().expect("orders in the state");
    for o in orders.values() {
        let lines = o["order"]["lines"].as_array().expect("lines");
        for (line, qty) in lines.iter().zip(o["picked"].as_array().expect("picked")) {
            let key = (
                line["sku"].as_str().unwrap().to_string(),
                line["location"].as_str().unwrap().to_string(),
            );
            *picked.entry(key).or_default() += qty.as_u64().unwrap_or(0);
        }
    }
    assert!(picked.values().sum::<u64>() > 0, "nothing was picked");
    for ((sku, location), got) in received {
        let taken = picked
            .get(&(sku.clone(), location.clone()))
            .copied()
            .unwrap_or(0);
        let on_hand = state["stock"][sku][location].as_u64();
        assert_eq!(
            on_hand,
            Some(u64::from(*got) - taken),
            "{sku} at {location}: received {got}, picked {taken}"
        );
    }
}
