//! What the floor tells the systems around it (shops, WMSs, ERPs): one entry of the outbox per
//! fact, derived from an event and what the core made of it, journalled with them.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{Command, Core, Event, Note, OrderStatus, Reaction, Record, ToteStatus};

/// The kinds of published event, named as consumers subscribe to them (`order.sorted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// An order is in.
    #[serde(rename = "order.received")]
    OrderReceived,
    /// An order went to the pickers.
    #[serde(rename = "order.released")]
    OrderReleased,
    /// A line of an order was picked, by a handheld into a tote.
    #[serde(rename = "order.line_picked")]
    OrderLinePicked,
    /// A line was picked short: fewer units than asked (the rest found elsewhere or
    /// back-ordered).
    #[serde(rename = "order.short")]
    OrderShort,
    /// Every line of an order is picked and its tote closed.
    #[serde(rename = "order.picked")]
    OrderPicked,
    /// Units of a line were found nowhere and are back-ordered.
    #[serde(rename = "order.back_ordered")]
    OrderBackOrdered,
    /// Every tote of an order is in its lane.
    #[serde(rename = "order.sorted")]
    OrderSorted,
    /// An order's due time passed before it was in its lane (said once, when it passes or when
    /// the order reaches its lane after it).
    #[serde(rename = "order.late")]
    OrderLate,
    /// An order was withdrawn before any picker took it.
    #[serde(rename = "order.cancelled")]
    OrderCancelled,
    /// A picker closed a tote.
    #[serde(rename = "tote.closed")]
    ToteClosed,
    /// The sorter read a tote at its induct and was told its chute.
    #[serde(rename = "tote.inducted")]
    ToteInducted,
    /// A tote is in a chute.
    #[serde(rename = "tote.sorted")]
    ToteSorted,
    /// The sorter lost track of a tote.
    #[serde(rename = "tote.lost")]
    ToteLost,
    /// An alarm was raised for the supervisors.
    #[serde(rename = "alarm.raised")]
    AlarmRaised,
    /// A standing alarm's condition is gone.
    #[serde(rename = "alarm.cleared")]
    AlarmCleared,
    /// A forward pick face fell to its refill point (or was found short): a refill is on its way.
    #[serde(rename = "face.below_minimum")]
    FaceBelowMinimum,
    /// Stock was asked of the distribution centre.
    #[serde(rename = "transfer.asked")]
    TransferAsked,
    /// The distribution centre shipped a transfer.
    #[serde(rename = "transfer.shipped")]
    TransferShipped,
    /// A transfer arrived and was counted in.
    #[serde(rename = "transfer.received")]
    TransferReceived,
}

impl Kind {
    /// Every kind, in the order they are documented.
    pub const ALL: [Kind; 19] = [
        Kind::OrderReceived,
        Kind::OrderReleased,
        Kind::OrderLinePicked,
        Kind::OrderShort,
        Kind::OrderPicked,
        Kind::OrderBackOrdered,
        Kind::OrderSorted,
        Kind::OrderLate,
        Kind::OrderCancelled,
        Kind::ToteClosed,
        Kind::ToteInducted,
        Kind::ToteSorted,
        Kind::ToteLost,
        Kind::AlarmRaised,
        Kind::AlarmCleared,
        Kind::FaceBelowMinimum,
        Kind::TransferAsked,
        Kind::TransferShipped,
        Kind::TransferReceived,
    ];

    /// Its name (`order.sorted`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::OrderReceived => "order.received",
            Kind::OrderReleased => "order.released",
            Kind::OrderLinePicked => "order.line_picked",
            Kind::OrderShort => "order.short",
            Kind::OrderPicked => "order.picked",
            Kind::OrderBackOrdered => "order.back_ordered",
            Kind::OrderSorted => "order.sorted",
            Kind::OrderLate => "order.late",
            Kind::OrderCancelled => "order.cancelled",
            Kind::ToteClosed => "tote.closed",
            Kind::ToteInducted => "tote.inducted",
            Kind::ToteSorted => "tote.sorted",
            Kind::ToteLost => "tote.lost",
            Kind::AlarmRaised => "alarm.raised",
            Kind::AlarmCleared => "alarm.cleared",
            Kind::FaceBelowMinimum => "face.below_minimum",
            Kind::TransferAsked => "transfer.asked",
            Kind::TransferShipped => "transfer.shipped",
            Kind::TransferReceived => "transfer.received",
        }
    }

    /// The kind of that name.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One fact for the outside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// What happened.
    pub kind: Kind,
    /// The order it is about, when it is about one (consumers get an order's events in order).
    pub order: Option<String>,
    /// Its details.
    pub data: Value,
}

impl Published {
    fn new(kind: Kind, order: Option<&str>, data: Value) -> Published {
        Published {
            kind,
            order: order.map(str::to_string),
            data,
        }
    }
}

/// A line picked by `handheld` into `tote`: `qty` of the `wanted` units of `sku`; short too
/// when fewer.
pub(crate) fn line_picked(
    order: &str,
    line: u32,
    sku: &str,
    wanted: u32,
    qty: u32,
    tote: u32,
    handheld: &str,
) -> Vec<Published> {
    let mut out = vec![Published::new(
        Kind::OrderLinePicked,
        Some(order),
        json!({ "order": order, "line": line, "sku": sku, "qty": qty, "tote": tote, "handheld": handheld }),
    )];
    if qty < wanted {
        out.push(Published::new(
            Kind::OrderShort,
            Some(order),
            json!({ "order": order, "line": line, "sku": sku, "wanted": wanted, "picked": qty, "handheld": handheld }),
        ));
    }
    out
}

/// Face `location` of `sku` is at or below its refill point `min` (`projected` with what is on
/// its way); `refill` units are asked for.
pub(crate) fn face_below_minimum(
    location: &str,
    sku: &str,
    projected: i64,
    min: u32,
    refill: u32,
) -> Published {
    Published::new(
        Kind::FaceBelowMinimum,
        None,
        json!({ "location": location, "sku": sku, "projected": projected, "min": min, "refill": refill }),
    )
}

impl Core {
    /// What the outside is told of `event`, which the core has just handled into `reaction`.
    pub(super) fn publish(&self, event: &Event, reaction: &Reaction) -> Vec<Published> {
        let mut out = Vec::new();
        match event {
            Event::OrderReceived { order } => {
                if let Some(o) = self.orders.get(&order.id) {
                    out.push(Published::new(
                        Kind::OrderReceived,
                        Some(&order.id),
                        json!({
                            "order": order.id,
                            "cutoff": o.order.cutoff,
                            "priority": o.order.priority,
                            "destination": o.order.destination,
                            "due_ms": o.due,
                            "lines": o.order.lines.len(),
                        }),
                    ));
                }
            }
            Event::OrderCancelled { order, by } if reaction.refusal.is_none() => {
                out.push(Published::new(
                    Kind::OrderCancelled,
                    Some(order),
                    json!({ "order": order, "by": by }),
                ));
            }
            Event::ToteInducted { sorter, tote, .. } => {
                let chute = reaction.commands.iter().find_map(|c| match c {
                    Command::Divert { tote: t, chute, .. } if t == tote => Some(*chute),
                    _ => None,
                });
                if let (Some(chute), Some(t)) = (chute, self.totes.get(tote)) {
                    let order = self
                        .orders
                        .contains_key(&t.order)
                        .then_some(t.order.as_str());
                    out.push(Published::new(
                        Kind::ToteInducted,
                        order,
                        json!({ "tote": tote, "order": order, "sorter": sorter, "chute": chute }),
                    ));
                }
            }
            Event::TransferShipped {
                tote,
                transfer,
                qty,
            } => out.push(Published::new(
                Kind::TransferShipped,
                None,
                json!({ "transfer": transfer, "tote": tote, "qty": qty }),
            )),
            _ => {}
        }
        for record in &reaction.records {
            self.publish_record(record, &mut out);
        }
        for note in &reaction.notes {
            match note {
                Note::BackOrdered {
                    order,
                    sku,
                    missing,
                    scanner,
                } => out.push(Published::new(
                    Kind::OrderBackOrdered,
                    Some(order),
                    json!({ "order": order, "sku": sku, "missing": missing, "handheld": scanner }),
                )),
                Note::OrderLate { order, cutoff, due } => out.push(Published::new(
                    Kind::OrderLate,
                    Some(order),
                    json!({ "order": order, "cutoff": cutoff, "due_ms": due, "sorted_ms": null }),
                )),
                _ => {}
            }
        }
        for command in &reaction.commands {
            match command {
                Command::Alarm { source, text, said } => out.push(Published::new(
                    Kind::AlarmRaised,
                    None,
                    alarm_data(source, text, Some(said)),
                )),
                Command::AlarmCleared { source, text, said } => out.push(Published::new(
                    Kind::AlarmCleared,
                    None,
                    alarm_data(source, text, said.as_ref()),
                )),
                _ => {}
            }
        }
        out
    }

    fn publish_record(&self, record: &Record, out: &mut Vec<Published>) {
        match record {
            Record::Order {
                id,
                cutoff,
                status,
                tote,
                picked,
            } => {
                let kind = match status {
                    OrderStatus::Released => Kind::OrderReleased,
                    OrderStatus::Picked => Kind::OrderPicked,
                    OrderStatus::Sorted => Kind::OrderSorted,
                    // Cancelling is published from its event, with who did it.
                    OrderStatus::Waiting | OrderStatus::Picking | OrderStatus::Cancelled => return,
                };
                let state = self.orders.get(id);
                let due = state.and_then(|o| o.due);
                // Late and not yet said so (an order late while open was said so then).
                let late = kind == Kind::OrderSorted
                    && state.is_some_and(|o| !o.late)
                    && due.is_some_and(|due| self.now > due);
                out.push(Published::new(
                    kind,
                    Some(id),
                    json!({ "order": id, "cutoff": cutoff, "tote": tote, "picked": picked }),
                ));
                if late {
                    out.push(Published::new(
                        Kind::OrderLate,
                        Some(id),
                        json!({ "order": id, "cutoff": cutoff, "due_ms": due, "sorted_ms": self.now }),
                    ));
                }
            }
            Record::Tote {
                id,
                order,
                status,
                chute,
            } => {
                let kind = match status {
                    ToteStatus::Closed => Kind::ToteClosed,
                    ToteStatus::Sorted => Kind::ToteSorted,
                    ToteStatus::Lost => Kind::ToteLost,
                    _ => return,
                };
                // A DC tote carries a transfer, not an order.
                let subject = self.orders.contains_key(order).then_some(order.as_str());
                out.push(Published::new(
                    kind,
                    subject,
                    json!({ "tote": id, "order": subject, "chute": chute }),
                ));
            }
            Record::Transfer { id, sku, qty, face } => out.push(Published::new(
                Kind::TransferAsked,
                None,
                json!({ "transfer": id, "sku": sku, "qty": qty, "face": face }),
            )),
            Record::TransferReceived { id, received } => out.push(Published::new(
                Kind::TransferReceived,
                None,
                json!({ "transfer": id, "received": received }),
            )),
        }
    }
}

/// An alarm's event: its source, its English text, and its code with the details (`code`,
/// `params`) when it has one.
fn alarm_data(source: &str, text: &str, said: Option<&crate::AlarmText>) -> serde_json::Value {
    let mut data = said
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or_else(|| json!({}));
    data["source"] = json!(source);
    data["text"] = json!(text);
    data
}
