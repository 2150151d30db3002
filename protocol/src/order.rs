//! Customer orders as they arrive from the order system, and their CSV form.

use serde::{Deserialize, Serialize};

use crate::id::{Destination, Location, OrderId, Sku};

/// How urgent an order is: urgent orders (a pharmacy's, say) are picked before any normal one,
/// whatever their cut-off, each in a tote of its own as every order is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Before every normal order.
    Urgent,
    /// By cut-off, then arrival.
    #[default]
    Normal,
}

/// One order: lines to pick into one tote, due at a delivery cut-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Order number.
    pub id: String,
    /// Name of the delivery cut-off the order was placed for (for example `11:00`); empty: the
    /// controller gives it the first cut-off whose `ordered_before` is still to come when it
    /// arrives.
    pub cutoff: String,
    /// Priority class.
    #[serde(default)]
    pub priority: Priority,
    /// Where it goes after the site: a delivery route or van, a locker bank, a pickup point,
    /// another site; none: the cut-off's lane alone decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Lines in pick order.
    pub lines: Vec<OrderLine>,
}

impl Order {
    /// A normal-priority order of one line.
    pub fn one_line(id: &str, cutoff: &str, sku: &str, qty: u32, location: &str) -> Order {
        Order {
            id: id.into(),
            cutoff: cutoff.into(),
            priority: Priority::Normal,
            destination: None,
            lines: vec![OrderLine {
                sku: sku.into(),
                qty,
                location: location.into(),
            }],
        }
    }
}

/// One order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// SKU code.
    pub sku: String,
    /// Units ordered.
    pub qty: u32,
    /// Pick face holding the SKU.
    pub location: String,
}

/// Header of the order CSV.
pub const CSV_HEADER: &str = "order,cutoff,sku,qty,location";
/// The same header with the optional priority column (`urgent` or `normal`).
pub const CSV_HEADER_WITH_PRIORITY: &str = "order,cutoff,sku,qty,location,priority";
/// Columns that may follow [`CSV_HEADER`], each at most once, in any order.
pub const CSV_OPTIONAL_COLUMNS: [&str; 2] = ["priority", "destination"];

/// Orders as CSV text that [`parse_csv`] reads back (header [`CSV_HEADER`], with the priority
/// and destination columns when an order needs them; a line per order line).
pub fn to_csv(orders: &[Order]) -> String {
    let extra = orders
        .iter()
        .any(|o| o.priority != Priority::Normal || o.destination.is_some());
    let mut csv = if extra {
        format!("{CSV_HEADER},priority,destination\n")
    } else {
        format!("{CSV_HEADER}\n")
    };
    for o in orders {
        for l in &o.lines {
            csv.push_str(&format!(
                "{},{},{},{},{}",
                o.id, o.cutoff, l.sku, l.qty, l.location
            ));
            if extra {
                let priority = match o.priority {
                    Priority::Urgent => "urgent",
                    Priority::Normal => "normal",
                };
                csv.push_str(&format!(
                    ",{priority},{}",
                    o.destination.as_deref().unwrap_or_default()
                ));
            }
            csv.push('\n');
        }
    }
    csv
}

/// Reads orders from CSV text with the header [`CSV_HEADER`], one line per order line; lines of
/// one order are consecutive. Every bad line is reported, with its number.
pub fn parse_csv(text: &str) -> Result<Vec<Order>, Vec<String>> {
    // A byte order mark, as some spreadsheet programs write, is no part of the header.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let mut problems = Vec::new();
    let header = lines.next().map(|(_, h)| h.trim()).unwrap_or_default();
    let extras: Vec<&str> = match header.strip_prefix(CSV_HEADER) {
        Some("") => Vec::new(),
        Some(rest) if rest.starts_with(',') => rest[1..].split(',').map(str::trim).collect(),
        _ => Vec::new(),
    };
    let known = extras.iter().all(|c| CSV_OPTIONAL_COLUMNS.contains(c))
        && extras.len()
            == extras
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len();
    if !header.starts_with(CSV_HEADER) || !known {
        return Err(vec![format!(
            "line 1: the header must be `{CSV_HEADER}`, followed by any of {} (for example `{CSV_HEADER_WITH_PRIORITY}`)",
            CSV_OPTIONAL_COLUMNS.map(|c| format!("`{c}`")).join(" and ")
        )]);
    }
    let with_priority = extras.contains(&"priority");
    let at = |name: &str| extras.iter().position(|c| *c == name).map(|i| 5 + i);
    let mut orders: Vec<Order> = Vec::new();
    // Orders already ended by another's line: each line looks its order up once.
    let mut ended: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (n, line) in lines {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let want = 5 + extras.len();
        // The optional columns may be left off the end of a line.
        if f.len() < 5 || f.len() > want {
            problems.push(format!(
                "line {}: expected {want} fields, found {}",
                n + 1,
                f.len()
            ));
            continue;
        }
        let field = |column: Option<usize>| column.and_then(|i| f.get(i)).copied().unwrap_or("");
        let priority = match field(at("priority")) {
            "urgent" => Priority::Urgent,
            "normal" | "" => Priority::Normal,
            other => {
                problems.push(format!(
                    "line {}: priority `{other}` is neither `urgent` nor `normal`",
                    n + 1
                ));
                continue;
            }
        };
        let destination = Some(field(at("destination"))).filter(|d| !d.is_empty());
        if let Some(Err(e)) = destination.map(Destination::try_from) {
            problems.push(format!("line {}: {e}", n + 1));
            continue;
        }
        let [id, cutoff, sku, qty, location] = f[..5] else {
            continue;
        };
        let refused: Vec<String> = [
            OrderId::try_from(id).err(),
            Sku::try_from(sku).err(),
            Location::try_from(location).err(),
        ]
        .into_iter()
        .flatten()
        .map(|e| format!("line {}: {e}", n + 1))
        .collect();
        if !refused.is_empty() {
            problems.extend(refused);
            continue;
        }
        let qty = match qty.parse::<u32>() {
            Ok(q) => q,
            Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => {
                problems.push(format!(
                    "line {}: qty {qty} is more than {}, the most a line may ask",
                    n + 1,
                    u32::MAX
                ));
                continue;
            }
            Err(_) => {
                problems.push(format!("line {}: qty `{qty}` is not a whole number", n + 1));
                continue;
            }
        };
        if qty == 0 {
            problems.push(format!("line {}: qty must be at least 1", n + 1));
            continue;
        }
        let line = OrderLine {
            sku: sku.into(),
            qty,
            location: location.into(),
        };
        match orders.last_mut() {
            Some(o) if o.id == id => {
                if o.cutoff != cutoff {
                    problems.push(format!("line {}: order {id} has two cut-offs", n + 1));
                }
                if with_priority && o.priority != priority {
                    problems.push(format!("line {}: order {id} has two priorities", n + 1));
                }
                if o.destination.as_deref() != destination {
                    problems.push(format!("line {}: order {id} has two destinations", n + 1));
                }
                o.lines.push(line);
            }
            _ => {
                if let Some(previous) = orders.last() {
                    ended.insert(previous.id.clone());
                }
                if ended.contains(id) {
                    problems.push(format!(
                        "line {}: the lines of order {id} are not consecutive",
                        n + 1
                    ));
                }
                orders.push(Order {
                    id: id.into(),
                    cutoff: cutoff.into(),
                    priority,
                    destination: destination.map(String::from),
                    lines: vec![line],
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(orders)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_lines_make_one_order() {
        let csv = "order,cutoff,sku,qty,location\nA1,11:00,S1,2,L-01\nA1,11:00,S2,1,L-02\nB1,17:00,S1,1,L-01\n";
        let orders = parse_csv(csv).unwrap();
        assert_eq!(orders.len(), 2);
        assert_eq!(orders[0].lines.len(), 2);
        assert_eq!(orders[1].cutoff, "17:00");
    }

    #[test]
    fn an_empty_cutoff_is_left_for_the_controller_to_choose() {
        let orders = parse_csv(
            "order,cutoff,sku,qty,location
A1,,S1,2,L-01
",
        )
        .unwrap();
        assert_eq!(orders[0].cutoff, "");
        assert!(parse_csv(
            "order,cutoff,sku,qty,location
,11:00,S1,2,L-01
"
        )
        .is_err());
    }

    #[test]
    fn orders_written_as_csv_read_back_the_same() {
        let orders = vec![
            Order::one_line("O1", "11:00", "S1", 2, "A-01"),
            Order::one_line("O2", "17:00", "S2", 1, "B-02"),
        ];
        assert_eq!(parse_csv(&to_csv(&orders)).unwrap(), orders);
    }

    #[test]
    fn a_destination_column_says_where_an_order_goes_and_reads_back() {
        let csv = "order,cutoff,sku,qty,location,destination,priority\nR1,11:00,S1,1,L-01,R3\nR1,11:00,S2,1,L-02,R3\nP1,17:00,S1,1,L-01,,urgent\n";
        let orders = parse_csv(csv).unwrap();
        assert_eq!(orders[0].destination.as_deref(), Some("R3"));
        assert_eq!(
            (orders[1].destination.as_deref(), orders[1].priority),
            (None, Priority::Urgent)
        );
        assert_eq!(parse_csv(&to_csv(&orders)).unwrap(), orders);
        let two = "order,cutoff,sku,qty,location,destination\nR1,11:00,S1,1,L-01,R3\nR1,11:00,S2,1,L-02,R4\n";
        assert!(parse_csv(two).unwrap_err()[0].contains("order R1 has two destinations"));
        let unknown = "order,cutoff,sku,qty,location,route\nR1,11:00,S1,1,L-01,R3\n";
        assert!(parse_csv(unknown).unwrap_err()[0]
            .contains("followed by any of `priority` and `destination`"));
        let bad = "order,cutoff,sku,qty,location,destination\nR1,11:00,S1,1,L-01,R\u{1b}3\n";
        assert!(parse_csv(bad).unwrap_err()[0].contains("control character"));
    }

    #[test]
    fn a_priority_column_marks_urgent_orders() {
        let csv = "order,cutoff,sku,qty,location,priority\nP1,17:00,S1,1,L-01,urgent\nA1,11:00,S1,1,L-01,normal\n";
        let orders = parse_csv(csv).unwrap();
        assert_eq!(orders[0].priority, Priority::Urgent);
        assert_eq!(orders[1].priority, Priority::Normal);
        let bad = "order,cutoff,sku,qty,location,priority\nP1,17:00,S1,1,L-01,asap\n";
        assert!(parse_csv(bad).unwrap_err()[0].contains("priority `asap`"));
    }

    #[test]
    fn an_order_number_sku_or_location_that_is_no_identifier_is_refused_by_line() {
        let long = "S".repeat(65);
        let csv = format!(
            "order,cutoff,sku,qty,location\nA1,11:00,{long},1,L-01\nA\u{1b}[2J,11:00,S1,1,L-01\nA3,11:00,S1,1,\n"
        );
        let problems = parse_csv(&csv).unwrap_err();
        assert_eq!(
            problems,
            [
                format!(
                    "line 2: SKU `{}` is longer than 64 characters",
                    "S".repeat(64)
                ),
                "line 3: order number `A\\u{1b}[2J` holds a control character".to_string(),
                "line 4: location `` is empty".to_string(),
            ]
        );
    }

    #[test]
    fn every_bad_line_is_reported() {
        let csv =
            "order,cutoff,sku,qty,location\nA1,11:00,S1,x,L-01\nA2,11:00,S1,1\nA3,11:00,S1,0,L\n";
        let problems = parse_csv(csv).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("line 2"));
    }

    #[test]
    fn a_file_saved_with_a_byte_order_mark_reads_as_without() {
        let csv = "\u{feff}order,cutoff,sku,qty,location\nA1,11:00,S1,1,L-01\n";
        assert_eq!(parse_csv(csv).unwrap().len(), 1);
    }

    #[test]
    fn a_quantity_too_large_is_called_too_large() {
        let csv = "order,cutoff,sku,qty,location\nA1,11:00,S1,99999999999,L-01\nA2,11:00,S1,-1,L\n";
        let problems = parse_csv(csv).unwrap_err();
        assert!(problems[0].contains("more than 4294967295"), "{problems:?}");
        assert!(problems[1].contains("not a whole number"), "{problems:?}");
    }

    #[test]
    fn an_order_whose_lines_are_apart_is_reported_once_per_return() {
        let csv =
            "order,cutoff,sku,qty,location\nA1,11:00,S1,1,L\nA2,11:00,S1,1,L\nA1,11:00,S2,1,L\n";
        let problems = parse_csv(csv).unwrap_err();
        assert_eq!(
            problems,
            ["line 4: the lines of order A1 are not consecutive"],
            "{problems:?}"
        );
    }
}
