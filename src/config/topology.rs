//! How a site's machines connect: pick-zone conveyors, merges, sorters and the chutes of each
//! sorter, checked as a graph; every problem says the line of the site file it is on.

use std::collections::{BTreeMap, BTreeSet};

use floorctl_core::SorterChutes;
use serde::Deserialize;
use toml::Spanned;

/// A merge: where conveyors join on their way to a sorter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeFile {
    /// Its id.
    pub id: Spanned<String>,
    /// The sorter, merge or conveyor it feeds.
    pub feeds: Spanned<String>,
}

/// A conveyor as the topology sees it.
pub(super) struct ConveyorNode<'a> {
    pub(super) id: &'a str,
    pub(super) feeds: Option<&'a Spanned<String>>,
}

/// A sorter as the topology sees it.
pub(super) struct SorterNode<'a> {
    pub(super) id: &'a str,
    /// Chutes its map has.
    pub(super) chutes: u16,
    /// Its first chute in the site's numbering, when the site file gives it.
    pub(super) first_chute: Option<u16>,
    /// Its own exception chute, when the site file gives it.
    pub(super) exception_chute: Option<u16>,
    /// Whether the site file says it feeds something (a mistake).
    pub(super) feeds: Option<&'a Spanned<String>>,
}

/// What the topology yields: the conveyors pickers put totes on (nothing feeds them) and each
/// sorter's chutes (empty: every sorter has every chute).
pub(super) struct Topology {
    pub(super) entries: Vec<String>,
    pub(super) sorters: BTreeMap<String, SorterChutes>,
    /// Each sorter with the conveyors whose totes reach it.
    pub(super) lines: BTreeMap<String, Vec<String>>,
}

/// The site file's text, to say on which line something is.
pub(super) struct Lines<'a>(pub(super) &'a str);

impl Lines<'_> {
    /// The line of a byte offset, from 1.
    pub(super) fn at(&self, offset: usize) -> usize {
        let end = offset.min(self.0.len());
        self.0.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    /// The line of a spanned value.
    fn of<T>(&self, s: &Spanned<T>) -> usize {
        self.at(s.span().start)
    }

    /// The line of the `[[plc]]` entry whose `id` is `id` (0 when not found).
    fn of_plc(&self, id: &str) -> usize {
        let quoted = format!("\"{id}\"");
        self.0
            .lines()
            .position(|l| {
                let l = l.trim_start();
                l.strip_prefix("id")
                    .map(str::trim_start)
                    .and_then(|l| l.strip_prefix('='))
                    .is_some_and(|v| v.trim_start().starts_with(&quoted))
            })
            .map_or(0, |i| i + 1)
    }
}

/// The site file's lanes, each with where it is written.
pub(super) type Lanes = BTreeMap<String, Spanned<Vec<u16>>>;

/// The site file's chutes: its lanes, which lanes its cut-offs and rules use (each said with
/// whose it is: `cut-off 11:00`), and its exception and inbound chutes.
pub(super) struct SiteChutes<'a> {
    pub(super) lanes: &'a Lanes,
    pub(super) used: &'a [(String, &'a str)],
    pub(super) exception_chute: u16,
    pub(super) inbound_chute: Option<u16>,
}

/// Checks the graph (conveyors → merges → sorters) and the chutes (lanes, exception and inbound
/// chutes against each sorter's), adding each problem with its line to `problems`.
pub(super) fn topology(
    lines: &Lines,
    conveyors: &[ConveyorNode],
    sorters: &[SorterNode],
    merges: &[MergeFile],
    site: &SiteChutes,
    problems: &mut Vec<String>,
) -> Topology {
    let mut say = |line: usize, text: String| {
        problems.push(if line > 0 {
            format!("line {line}: {text}")
        } else {
            text
        })
    };
    // Where each node's totes go next.
    let mut next: BTreeMap<&str, (&str, usize)> = BTreeMap::new();
    let sorter_ids: BTreeSet<&str> = sorters.iter().map(|s| s.id).collect();
    let mut known: BTreeSet<&str> = sorter_ids.clone();
    known.extend(conveyors.iter().map(|c| c.id));
    for m in merges {
        if !known.insert(m.id.get_ref()) {
            say(
                lines.of(&m.id),
                format!(
                    "merge id `{}` is used twice or is a PLC's id",
                    m.id.get_ref()
                ),
            );
        }
    }
    for s in sorters {
        if let Some(f) = s.feeds {
            say(
                lines.of(f),
                format!(
                    "sorter `{}` cannot feed `{}`: a sorter's totes leave by its chutes",
                    s.id,
                    f.get_ref()
                ),
            );
        }
    }
    let only_sorter = (sorters.len() == 1).then(|| sorters[0].id);
    for c in conveyors {
        match (c.feeds, only_sorter) {
            (Some(f), _) => {
                next.insert(c.id, (f.get_ref(), lines.of(f)));
            }
            (None, Some(s)) => {
                next.insert(c.id, (s, lines.of_plc(c.id)));
            }
            (None, None) if sorters.len() > 1 => say(
                lines.of_plc(c.id),
                format!(
                    "conveyor `{}` does not say where its totes go; with several sorters set \
                     feeds = the sorter, merge or conveyor it feeds",
                    c.id
                ),
            ),
            (None, None) => {}
        }
    }
    for m in merges {
        next.insert(m.id.get_ref(), (m.feeds.get_ref(), lines.of(&m.feeds)));
    }
    for (from, (to, line)) in &next {
        if !known.contains(to) {
            say(
                *line,
                format!(
                    "`{from}` feeds `{to}`, which is no sorter, merge or conveyor of this site"
                ),
            );
        }
    }
    // Follow each conveyor's totes to their sorter.
    let mut fed: BTreeSet<&str> = BTreeSet::new();
    let mut lines_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let fed_by_something: BTreeSet<&str> = next.values().map(|(to, _)| *to).collect();
    for c in conveyors {
        let mut path = vec![c.id];
        let mut at = c.id;
        while let Some((to, _)) = next.get(at) {
            if path.contains(to) {
                path.push(to);
                say(
                    next.get(c.id).map_or(0, |n| n.1),
                    format!(
                        "conveyor `{}` leads round a loop ({}); its totes would never reach a sorter",
                        c.id,
                        path.join(" → ")
                    ),
                );
                break;
            }
            path.push(to);
            at = to;
            if sorter_ids.contains(at) {
                fed.insert(at);
                lines_of
                    .entry(at.to_string())
                    .or_default()
                    .push(c.id.to_string());
                break;
            }
        }
    }
    for m in merges {
        if !fed_by_something.contains(m.id.get_ref().as_str()) {
            say(
                lines.of(&m.id),
                format!("merge `{}` is fed by no conveyor", m.id.get_ref()),
            );
        }
    }
    for s in sorters {
        if !fed.contains(s.id) {
            say(
                lines.of_plc(s.id),
                format!(
                    "sorter `{}` is fed by no conveyor; name it in the feeds of the conveyor or \
                     merge that brings it totes",
                    s.id
                ),
            );
        }
    }
    let entries: Vec<String> = conveyors
        .iter()
        .filter(|c| !fed_by_something.contains(c.id))
        .map(|c| c.id.to_string())
        .collect();
    if !conveyors.is_empty() && entries.is_empty() {
        say(
            0,
            "every conveyor is fed by another: none is left for pickers to put totes on".into(),
        );
    }
    let chutes = sorter_chutes(lines, sorters, site.exception_chute, &mut say);
    lane_problems(lines, site, &chutes, sorters, &mut say);
    Topology {
        entries,
        sorters: chutes,
        lines: lines_of,
    }
}

/// Each sorter's chutes in the site's numbering, when the site file numbers them (a
/// `first_chute` or `exception_chute` on some sorter); else empty, every sorter with every chute.
fn sorter_chutes(
    lines: &Lines,
    sorters: &[SorterNode],
    exception_chute: u16,
    say: &mut impl FnMut(usize, String),
) -> BTreeMap<String, SorterChutes> {
    let numbered = sorters
        .iter()
        .any(|s| s.first_chute.is_some() || s.exception_chute.is_some());
    let mut out = BTreeMap::new();
    if !numbered {
        for s in sorters {
            if s.chutes > 0 && !(1..=s.chutes).contains(&exception_chute) {
                say(
                    lines.of_plc(s.id),
                    format!(
                        "exception_chute {exception_chute} is not a chute of sorter `{}` (1..={})",
                        s.id, s.chutes
                    ),
                );
            }
        }
        return out;
    }
    for s in sorters {
        let first = s.first_chute.unwrap_or(1);
        let Some(last) = first
            .checked_add(s.chutes.saturating_sub(1))
            .filter(|_| first > 0)
        else {
            say(
                lines.of_plc(s.id),
                format!(
                    "sorter `{}`: first_chute {first} leaves no room for its {} chutes",
                    s.id, s.chutes
                ),
            );
            continue;
        };
        let exception = s.exception_chute.unwrap_or(exception_chute);
        if !(first..=last).contains(&exception) {
            say(
                lines.of_plc(s.id),
                format!(
                    "sorter `{}`: exception chute {exception} is not one of its chutes \
                     ({first}..={last}); set its exception_chute",
                    s.id
                ),
            );
        }
        for (other, o) in &out {
            let o: &SorterChutes = o;
            if first <= o.last && o.first <= last {
                say(
                    lines.of_plc(s.id),
                    format!(
                        "sorter `{}`'s chutes {first}..={last} overlap sorter `{other}`'s {}..={}; \
                         set first_chute so that each chute has a number of its own",
                        s.id, o.first, o.last
                    ),
                );
            }
        }
        out.insert(
            s.id.to_string(),
            SorterChutes {
                first,
                last,
                exception,
            },
        );
    }
    out
}

/// Every lane's chutes exist on some sorter, serve one lane, and are no exception or inbound
/// chute; with numbered sorters, each cut-off's lane has a chute on every sorter.
fn lane_problems(
    lines: &Lines,
    site: &SiteChutes,
    chutes: &BTreeMap<String, SorterChutes>,
    sorters: &[SorterNode],
    say: &mut impl FnMut(usize, String),
) {
    let SiteChutes {
        lanes,
        used: lanes_used,
        exception_chute,
        inbound_chute,
    } = *site;
    let ranges: Vec<(&str, u16, u16)> = if chutes.is_empty() {
        sorters.iter().map(|s| (s.id, 1, s.chutes)).collect()
    } else {
        chutes
            .iter()
            .map(|(id, c)| (id.as_str(), c.first, c.last))
            .collect()
    };
    let described = ranges
        .iter()
        .map(|(id, a, b)| format!("{id} {a}..={b}"))
        .collect::<Vec<_>>()
        .join(", ");
    let exceptions: BTreeSet<u16> = if chutes.is_empty() {
        BTreeSet::from([exception_chute])
    } else {
        chutes.values().map(|c| c.exception).collect()
    };
    let mut lane_of: BTreeMap<u16, &str> = BTreeMap::new();
    // In the order they are written, so that a chute listed twice is said where it comes again.
    let mut written: Vec<(&String, &Spanned<Vec<u16>>)> = lanes.iter().collect();
    written.sort_by_key(|(_, cs)| cs.span().start);
    for (lane, cs) in written {
        let line = lines.of(cs);
        if cs.get_ref().is_empty() {
            say(
                line,
                format!("lane `{lane}` has no chutes; list at least one"),
            );
        }
        for c in cs.get_ref() {
            if !ranges.is_empty() && !ranges.iter().any(|(_, a, b)| (a..=b).contains(&c)) {
                say(
                    line,
                    format!("lane `{lane}`: chute {c} is no sorter's chute ({described})"),
                );
            }
            if exceptions.contains(c) {
                say(
                    line,
                    format!(
                        "lane `{lane}` holds chute {c}, an exception chute; exceptions need a \
                         chute of their own"
                    ),
                );
            }
            if inbound_chute == Some(*c) {
                say(
                    line,
                    format!(
                        "lane `{lane}` holds chute {c}, the inbound chute; transfers from the \
                         DC need a chute of their own"
                    ),
                );
            }
            if let Some(other) = lane_of.insert(*c, lane) {
                if other != lane {
                    say(
                        line,
                        format!(
                            "chute {c} is in lanes `{other}` and `{lane}`; a chute serves one lane"
                        ),
                    );
                }
            }
        }
    }
    if let Some(c) = inbound_chute {
        if !ranges.is_empty() && !ranges.iter().any(|(_, a, b)| (*a..=*b).contains(&c)) {
            say(
                0,
                format!("inbound_chute {c} is no sorter's chute ({described})"),
            );
        }
    }
    if chutes.is_empty() {
        return;
    }
    for (whose, lane) in lanes_used {
        let Some(cs) = lanes.get(*lane) else {
            continue;
        };
        for (sorter, c) in chutes {
            if !cs.get_ref().iter().any(|x| (c.first..=c.last).contains(x)) {
                say(
                    lines.of(cs),
                    format!(
                        "lane `{lane}` ({whose}) has no chute on sorter `{sorter}`: its totes \
                         reaching `{sorter}` could only go to the exception chute"
                    ),
                );
            }
        }
    }
}
