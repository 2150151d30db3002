//! The shortest route by Ratliff and Rosenthal's dynamic program (Operations Research 31(3),
//! 1983): the route is built column by column (aisle by aisle, left to right) as a multigraph on
//! the aisles' front and back ends; a partial route is classed by the degree parity of the two
//! ends of the current column and by whether they are connected, and only the cheapest partial
//! route of each class is kept. The route found is turned into a visiting order by walking its
//! multigraph (an Euler tour from the depot).

use super::{by_aisle, Pick, Route, Warehouse};

/// Degree of a column end so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deg {
    Zero,
    Even,
    Odd,
}

impl Deg {
    fn add(self, copies: u8) -> Deg {
        match (self, copies) {
            (d, 0) => d,
            (Deg::Odd, c) if c % 2 == 1 => Deg::Even,
            (_, c) if c % 2 == 1 => Deg::Odd,
            (Deg::Odd, _) => Deg::Odd,
            _ => Deg::Even,
        }
    }

    fn of(copies: u8) -> Deg {
        Deg::Zero.add(copies)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How the partial route's components meet the current column's two ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conn {
    /// No edge yet.
    Empty,
    /// One component, holding every end with a non-zero degree.
    One,
    /// Two components, one at the front end and one at the back end.
    Two,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Class {
    front: Deg,
    back: Deg,
    conn: Conn,
}

impl Class {
    const START: Class = Class {
        front: Deg::Zero,
        back: Deg::Zero,
        conn: Conn::Empty,
    };

    fn index(self) -> usize {
        (self.front.index() * 3 + self.back.index()) * 3 + self.conn as usize
    }

    /// Component labels of the front and back ends (`None`: no edge there).
    fn labels(self) -> (Option<u8>, Option<u8>) {
        let f = (self.front != Deg::Zero).then_some(0);
        let b = (self.back != Deg::Zero).then_some(if self.conn == Conn::Two { 1 } else { 0 });
        (f, b)
    }

    fn from_labels(front: Deg, back: Deg, f: Option<u8>, b: Option<u8>) -> Class {
        let conn = match (f, b) {
            (None, None) => Conn::Empty,
            (Some(x), Some(y)) if x != y => Conn::Two,
            _ => Conn::One,
        };
        Class { front, back, conn }
    }
}

/// How a column's aisle is walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vertical {
    /// Not at all.
    None,
    /// Through once or twice.
    Through(u8),
    /// From the front to the farthest pick and back.
    Front,
    /// From the back to the nearest pick and back.
    Back,
    /// From both ends, leaving the largest gap between picks unwalked; `.0` picks from the front.
    Gap(usize),
}

/// One column: an aisle, or the depot's place on the cross-aisles when it is not at an aisle.
#[derive(Debug, Clone)]
struct Column {
    x: f64,
    /// The aisle's picks sorted by position, as (position, index); empty for no picks.
    picks: Vec<(f64, usize)>,
    /// Whether there is an aisle here (the depot's own column may have none).
    aisle: bool,
    /// Whether the front end is the depot (it must be on the route).
    depot: bool,
}

impl Column {
    fn options(&self, h: f64) -> Vec<(Vertical, f64)> {
        let mut v = Vec::new();
        if self.picks.is_empty() {
            v.push((Vertical::None, 0.0));
        }
        if !self.aisle {
            return v;
        }
        v.push((Vertical::Through(1), h));
        v.push((Vertical::Through(2), 2.0 * h));
        if let (Some(first), Some(last)) = (self.picks.first(), self.picks.last()) {
            v.push((Vertical::Front, 2.0 * last.0));
            v.push((Vertical::Back, 2.0 * (h - first.0)));
            // Largest gap between two picks (the end gaps are Front and Back).
            if let Some(k) = (1..self.picks.len()).max_by(|a, b| {
                let g = |i: usize| self.picks[i].0 - self.picks[i - 1].0;
                g(*a).total_cmp(&g(*b))
            }) {
                let gap = self.picks[k].0 - self.picks[k - 1].0;
                v.push((Vertical::Gap(k), 2.0 * (h - gap)));
            }
        }
        v
    }
}

/// Applies a column's vertical walk to a class.
fn vertical(c: Class, v: Vertical) -> Class {
    let (mut f, mut b) = c.labels();
    let mut next = 2u8;
    let mut label = |l: &mut Option<u8>| {
        if l.is_none() {
            *l = Some(next);
            next += 1;
        }
    };
    let (df, db) = match v {
        Vertical::None => return c,
        Vertical::Through(n) => {
            label(&mut f);
            label(&mut b);
            // Joined through the aisle.
            let (x, y) = (f.unwrap_or(0), b.unwrap_or(0));
            b = Some(x.min(y));
            f = Some(x.min(y));
            (n, n)
        }
        Vertical::Front => {
            label(&mut f);
            (2, 0)
        }
        Vertical::Back => {
            label(&mut b);
            (0, 2)
        }
        Vertical::Gap(_) => {
            label(&mut f);
            label(&mut b);
            (2, 2)
        }
    };
    Class::from_labels(c.front.add(df), c.back.add(db), f, b)
}

/// Leaves a column over `fc` front and `bc` back cross-aisle copies to the next column, or
/// `None` when that would close a component or leave an end of odd degree.
fn horizontal(c: Class, fc: u8, bc: u8) -> Option<Class> {
    if c.front.add(fc) == Deg::Odd || c.back.add(bc) == Deg::Odd {
        return None;
    }
    let (f, b) = c.labels();
    let (nf, nb) = (
        (fc > 0).then(|| f.unwrap_or(2)),
        (bc > 0).then(|| b.unwrap_or(3)),
    );
    // Every existing component must reach the next column.
    for l in [f, b].into_iter().flatten() {
        if nf != Some(l) && nb != Some(l) {
            return None;
        }
    }
    Some(Class::from_labels(Deg::of(fc), Deg::of(bc), nf, nb))
}

/// How a class at a column was reached.
#[derive(Debug, Clone, Copy)]
struct Step {
    cost: f64,
    /// Class before the vertical walk, and that walk.
    before: usize,
    vertical: Vertical,
    /// For the class before the vertical walk: the previous column's class and the copies.
    from: Option<(usize, u8, u8)>,
}

pub(super) fn route(w: &Warehouse, picks: &[Pick]) -> Route {
    let h = w.through();
    let mut columns: Vec<Column> = by_aisle(picks)
        .into_iter()
        .map(|(a, ps)| Column {
            x: w.x(a),
            picks: ps,
            aisle: true,
            depot: false,
        })
        .collect();
    match columns.iter_mut().find(|c| c.x == w.depot_m) {
        Some(c) => c.depot = true,
        None => {
            // The depot between aisles, or at an aisle without picks: a column of its own.
            let aisle = (1..=w.aisles).any(|a| w.x(a) == w.depot_m);
            columns.push(Column {
                x: w.depot_m,
                picks: Vec::new(),
                aisle,
                depot: true,
            });
            columns.sort_by(|a, b| a.x.total_cmp(&b.x));
        }
    }

    // before[c][class] / after[c][class]: cheapest partial route of that class at column c.
    let n = columns.len();
    let mut before: Vec<Vec<Option<Step>>> = vec![vec![None; 27]; n];
    let mut after: Vec<Vec<Option<Step>>> = vec![vec![None; 27]; n];
    before[0][Class::START.index()] = Some(Step {
        cost: 0.0,
        before: Class::START.index(),
        vertical: Vertical::None,
        from: None,
    });
    let classes = all_classes();
    for c in 0..n {
        let options = columns[c].options(h);
        for &k in &classes {
            let Some(s) = before[c][k.index()] else {
                continue;
            };
            for &(v, cost) in &options {
                let next = vertical(k, v);
                let total = s.cost + cost;
                let slot = &mut after[c][next.index()];
                if slot.is_none_or(|o| total < o.cost) {
                    *slot = Some(Step {
                        cost: total,
                        before: k.index(),
                        vertical: v,
                        from: None,
                    });
                }
            }
        }
        if c + 1 == n {
            break;
        }
        let dx = columns[c + 1].x - columns[c].x;
        for &k in &classes {
            let Some(s) = after[c][k.index()] else {
                continue;
            };
            for fc in 0..=2u8 {
                for bc in 0..=2u8 {
                    if columns[c].depot && k.front == Deg::Zero && fc == 0 {
                        continue; // the depot must be on the route
                    }
                    let Some(next) = horizontal(k, fc, bc) else {
                        continue;
                    };
                    let total = s.cost + f64::from(fc + bc) * dx;
                    let slot = &mut before[c + 1][next.index()];
                    if slot.is_none_or(|o| total < o.cost) {
                        *slot = Some(Step {
                            cost: total,
                            before: next.index(),
                            vertical: Vertical::None,
                            from: Some((k.index(), fc, bc)),
                        });
                    }
                }
            }
        }
    }

    // A finished route: one component, every degree even, the depot on it.
    let last = n - 1;
    let done = classes
        .iter()
        .filter(|k| k.conn == Conn::One && k.front != Deg::Odd && k.back != Deg::Odd)
        .filter(|k| !columns[last].depot || k.front != Deg::Zero)
        .filter_map(|k| after[last][k.index()].map(|s| (k.index(), s.cost)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("a route through every aisle always exists");

    // Walk back through the choices to rebuild the multigraph, then tour it.
    let mut g = Multigraph::default();
    let (mut class, mut c) = (done.0, last);
    loop {
        let s = after[c][class].expect("reached");
        g.column(c, &columns[c], s.vertical);
        let b = before[c][s.before].expect("reached");
        match b.from {
            None => break,
            Some((prev, fc, bc)) => {
                g.cross(c - 1, c, fc, bc);
                class = prev;
                c -= 1;
            }
        }
    }
    let depot = columns.iter().position(|c| c.depot).expect("depot column");
    Route {
        length_m: done.1,
        order: g.tour(Node::Front(depot)),
    }
}

fn all_classes() -> Vec<Class> {
    let degs = [Deg::Zero, Deg::Even, Deg::Odd];
    let conns = [Conn::Empty, Conn::One, Conn::Two];
    let mut v = Vec::new();
    for f in degs {
        for b in degs {
            for conn in conns {
                v.push(Class {
                    front: f,
                    back: b,
                    conn,
                });
            }
        }
    }
    v
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Front(usize),
    Back(usize),
    Pick(usize),
}

/// The route's edges, each copy once.
#[derive(Debug, Default)]
struct Multigraph {
    edges: Vec<(Node, Node)>,
}

impl Multigraph {
    fn add(&mut self, a: Node, b: Node, copies: u8) {
        for _ in 0..copies {
            self.edges.push((a, b));
        }
    }

    /// A chain of nodes walked `copies` times.
    fn chain(&mut self, nodes: &[Node], copies: u8) {
        for pair in nodes.windows(2) {
            self.add(pair[0], pair[1], copies);
        }
    }

    fn column(&mut self, c: usize, col: &Column, v: Vertical) {
        let picks: Vec<Node> = col.picks.iter().map(|(_, i)| Node::Pick(*i)).collect();
        let with_front = |ps: &[Node]| [&[Node::Front(c)], ps].concat();
        let with_back = |ps: &[Node]| [ps, &[Node::Back(c)]].concat();
        match v {
            Vertical::None => {}
            Vertical::Through(n) => self.chain(&with_back(&with_front(&picks)), n),
            Vertical::Front => self.chain(&with_front(&picks), 2),
            Vertical::Back => self.chain(&with_back(&picks), 2),
            Vertical::Gap(k) => {
                self.chain(&with_front(&picks[..k]), 2);
                self.chain(&with_back(&picks[k..]), 2);
            }
        }
    }

    fn cross(&mut self, a: usize, b: usize, fc: u8, bc: u8) {
        self.add(Node::Front(a), Node::Front(b), fc);
        self.add(Node::Back(a), Node::Back(b), bc);
    }

    /// An Euler tour from `start` (Hierholzer), as picks in first-visit order.
    fn tour(&self, start: Node) -> Vec<usize> {
        let mut adj: std::collections::BTreeMap<Node, Vec<(Node, usize)>> = Default::default();
        for (i, (a, b)) in self.edges.iter().enumerate() {
            adj.entry(*a).or_default().push((*b, i));
            adj.entry(*b).or_default().push((*a, i));
        }
        let mut used = vec![false; self.edges.len()];
        let mut stack = vec![start];
        let mut circuit = Vec::new();
        while let Some(&v) = stack.last() {
            let next = adj.get_mut(&v).and_then(|es| {
                while let Some((u, e)) = es.pop() {
                    if !used[e] {
                        return Some((u, e));
                    }
                }
                None
            });
            match next {
                Some((u, e)) => {
                    used[e] = true;
                    stack.push(u);
                }
                None => circuit.push(stack.pop().expect("non-empty")),
            }
        }
        circuit.reverse();
        let mut seen = std::collections::BTreeSet::new();
        circuit
            .into_iter()
            .filter_map(|n| match n {
                Node::Pick(i) if seen.insert(i) => Some(i),
                _ => None,
            })
            .collect()
    }
}
