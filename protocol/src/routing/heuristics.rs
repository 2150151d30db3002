//! The classic routing heuristics, each built as an explicit walk so its length is what a picker
//! following it walks.

use super::{by_aisle, Pick, Policy, Route, Warehouse};

/// A picker's walk: where it is, how far it has gone, which picks it has made.
struct Walk<'w> {
    w: &'w Warehouse,
    x: f64,
    p: f64,
    length: f64,
    order: Vec<usize>,
}

impl<'w> Walk<'w> {
    fn new(w: &'w Warehouse) -> Walk<'w> {
        Walk {
            w,
            x: w.depot_m,
            p: 0.0,
            length: 0.0,
            order: Vec::new(),
        }
    }

    /// Along the cross-aisle it is on.
    fn along(&mut self, x: f64) {
        debug_assert!(
            self.p == 0.0 || self.p == self.w.through(),
            "off a cross-aisle"
        );
        self.length += (self.x - x).abs();
        self.x = x;
    }

    /// Up or down the aisle it is at.
    fn to(&mut self, p: f64) {
        self.length += (self.p - p).abs();
        self.p = p;
    }

    /// Walks to each pick in turn within the current aisle.
    fn pick(&mut self, picks: impl IntoIterator<Item = (f64, usize)>) {
        for (p, i) in picks {
            self.to(p);
            self.order.push(i);
        }
    }

    fn front(&self) -> bool {
        self.p == 0.0
    }

    fn home(mut self) -> Route {
        debug_assert!(self.front());
        self.along(self.w.depot_m);
        Route {
            length_m: self.length,
            order: self.order,
        }
    }
}

pub(super) fn route(w: &Warehouse, picks: &[Pick], policy: Policy) -> Route {
    let aisles = by_aisle(picks);
    let h = w.through();
    let mut walk = Walk::new(w);
    match policy {
        Policy::SShape => {
            let odd = aisles.len() % 2 == 1;
            for (n, (aisle, ps)) in aisles.iter().enumerate() {
                walk.along(w.x(*aisle));
                if walk.front() && odd && n + 1 == aisles.len() {
                    walk.pick(ps.iter().copied());
                    walk.to(0.0);
                } else if walk.front() {
                    walk.pick(ps.iter().copied());
                    walk.to(h);
                } else {
                    walk.pick(ps.iter().rev().copied());
                    walk.to(0.0);
                }
            }
        }
        Policy::Return => {
            for (aisle, ps) in &aisles {
                walk.along(w.x(*aisle));
                walk.pick(ps.iter().copied());
                walk.to(0.0);
            }
        }
        Policy::Midpoint | Policy::LargestGap if aisles.len() == 1 => {
            let (aisle, ps) = &aisles[0];
            walk.along(w.x(*aisle));
            walk.pick(ps.iter().copied());
            walk.to(0.0);
        }
        Policy::Midpoint | Policy::LargestGap => {
            let split = |ps: &[(f64, usize)]| -> usize {
                if policy == Policy::Midpoint {
                    ps.iter().take_while(|(p, _)| *p <= h / 2.0).count()
                } else {
                    largest_gap(ps, h)
                }
            };
            let (first, rest) = aisles.split_first().expect("two aisles or more");
            let (last, middle) = rest.split_last().expect("two aisles or more");
            walk.along(w.x(first.0));
            walk.pick(first.1.iter().copied());
            walk.to(h);
            for (aisle, ps) in middle {
                let back = &ps[split(ps)..];
                if !back.is_empty() {
                    walk.along(w.x(*aisle));
                    walk.pick(back.iter().rev().copied());
                    walk.to(h);
                }
            }
            walk.along(w.x(last.0));
            walk.pick(last.1.iter().rev().copied());
            walk.to(0.0);
            for (aisle, ps) in middle.iter().rev() {
                let front = &ps[..split(ps)];
                if !front.is_empty() {
                    walk.along(w.x(*aisle));
                    walk.pick(front.iter().copied());
                    walk.to(0.0);
                }
            }
        }
        Policy::Combined => {
            // Entering an aisle from the front (back) costs the walk to its nearest pick.
            let entry = |ps: &[(f64, usize)], front: bool| {
                if front {
                    ps[0].0
                } else {
                    h - ps[ps.len() - 1].0
                }
            };
            for (n, (aisle, ps)) in aisles.iter().enumerate() {
                walk.along(w.x(*aisle));
                let front = walk.front();
                let reach = if front {
                    ps[ps.len() - 1].0
                } else {
                    h - ps[0].0
                };
                let traverse = match aisles.get(n + 1) {
                    // The last aisle leaves the picker at the front.
                    None => !front,
                    Some((_, next)) => h + entry(next, !front) < 2.0 * reach + entry(next, front),
                };
                let ordered: Vec<(f64, usize)> = if front {
                    ps.clone()
                } else {
                    ps.iter().rev().copied().collect()
                };
                walk.pick(ordered);
                walk.to(match (traverse, front) {
                    (true, true) | (false, false) => h,
                    _ => 0.0,
                });
            }
        }
        Policy::Optimal => unreachable!("the optimal route is not a heuristic"),
    }
    walk.home()
}

/// How many of an aisle's picks (sorted) lie before its largest gap, counting the gaps to
/// both cross-aisles' centre lines: those are picked from the front, the rest from the back.
fn largest_gap(ps: &[(f64, usize)], h: f64) -> usize {
    let mut points = vec![0.0];
    points.extend(ps.iter().map(|(p, _)| *p));
    points.push(h);
    (0..points.len() - 1)
        .max_by(|a, b| {
            (points[a + 1] - points[*a])
                .total_cmp(&(points[b + 1] - points[*b]))
                .then(b.cmp(a))
        })
        .unwrap_or(0)
}
