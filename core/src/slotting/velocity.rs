//! How fast each SKU moves: lines, units and volume per day from order history, weighted toward
//! recent days with a half-life; ABC classes by lines; a forecast for the days ahead with an
//! uplift on a named peak day.

use std::collections::BTreeMap;

use super::fluid::SkuDemand;

/// A calendar day, counted from 1970-01-01.
pub type Day = i64;

/// Reads `dd/mm/yyyy` or `yyyy-mm-dd`.
pub fn parse_day(text: &str) -> Option<Day> {
    let t = text.trim();
    let (y, m, d) = if let Some((d, rest)) = t.split_once('/') {
        let (m, y) = rest.split_once('/')?;
        (y, m, d)
    } else {
        let mut p = t.splitn(3, '-');
        (p.next()?, p.next()?, p.next()?)
    };
    let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let days_in = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d == 0 || d > days_in[m as usize - 1] {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> Day {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One order line of history.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Day ordered.
    pub day: Day,
    /// Order number.
    pub order: String,
    /// SKU code.
    pub sku: String,
    /// Units.
    pub units: f64,
}

/// A SKU's pace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Velocity {
    /// Lines (picks) per day.
    pub lines: f64,
    /// Units per day.
    pub units: f64,
    /// Volume per day (units × unit volume).
    pub volume: f64,
}

/// ABC class by share of lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// The SKUs taking the first 80 % of lines.
    A,
    /// The next 15 %.
    B,
    /// The rest.
    C,
}

/// The order lines of orders as received, each on the day (UTC) it was received.
pub fn order_lines<'a>(
    received: impl IntoIterator<Item = (crate::Millis, &'a floorctl_protocol::order::Order)>,
) -> Vec<Line> {
    received
        .into_iter()
        .flat_map(|(at, order)| {
            order.lines.iter().map(move |l| Line {
                day: (at / 86_400_000) as Day,
                order: order.id.to_string(),
                sku: l.sku.to_string(),
                units: f64::from(l.qty),
            })
        })
        .collect()
}

/// Velocity per SKU over `history`, each day weighted by ½^(age / half-life) where age counts
/// days back from the last day; a day without lines for a SKU counts as zero for it. Unit
/// volume per SKU from `unit_volume` (1 when absent).
pub fn velocities(
    history: &[Line],
    half_life_days: f64,
    unit_volume: &dyn Fn(&str) -> f64,
) -> BTreeMap<String, Velocity> {
    let (Some(first), Some(last)) = (
        history.iter().map(|l| l.day).min(),
        history.iter().map(|l| l.day).max(),
    ) else {
        return BTreeMap::new();
    };
    let weight = |day: Day| {
        if half_life_days.is_finite() && half_life_days > 0.0 {
            0.5f64.powf((last - day) as f64 / half_life_days)
        } else {
            1.0
        }
    };
    let total_weight: f64 = (first..=last).map(weight).sum();
    let mut out: BTreeMap<String, Velocity> = BTreeMap::new();
    for l in history {
        let w = weight(l.day) / total_weight;
        let v = out.entry(l.sku.clone()).or_default();
        v.lines += w;
        v.units += w * l.units;
    }
    for (sku, v) in &mut out {
        v.volume = v.units * unit_volume(sku);
    }
    out
}

/// ABC classes by lines: A until 80 % of all lines, B until 95 %, C after.
pub fn abc(velocity: &BTreeMap<String, Velocity>) -> BTreeMap<String, Class> {
    let mut ranked: Vec<(&String, f64)> = velocity.iter().map(|(s, v)| (s, v.lines)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let total: f64 = ranked.iter().map(|(_, l)| l).sum();
    let mut seen = 0.0;
    ranked
        .into_iter()
        .map(|(sku, lines)| {
            let before = seen / total.max(f64::MIN_POSITIVE);
            seen += lines;
            let class = if before < 0.80 {
                Class::A
            } else if before < 0.95 {
                Class::B
            } else {
                Class::C
            };
            (sku.clone(), class)
        })
        .collect()
}

/// A forecast day: `uplift` times the usual pace on `day` (a promotion, a holiday eve).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// The peak day.
    pub day: Day,
    /// Demand on it as a multiple of an ordinary day.
    pub uplift: f64,
}

/// Forecast units per SKU for each of `days`: the weighted pace, times the uplift on the peak.
pub fn forecast(
    velocity: &BTreeMap<String, Velocity>,
    days: std::ops::RangeInclusive<Day>,
    peak: Option<Peak>,
) -> BTreeMap<String, Vec<(Day, f64)>> {
    velocity
        .iter()
        .map(|(sku, v)| {
            let per_day = days
                .clone()
                .map(|d| {
                    let up = peak.filter(|p| p.day == d).map_or(1.0, |p| p.uplift);
                    (d, v.units * up)
                })
                .collect();
            (sku.clone(), per_day)
        })
        .collect()
}

/// The planner's view of each SKU: picks = lines per day, flow = volume per day.
pub fn demands(velocity: &BTreeMap<String, Velocity>) -> Vec<SkuDemand> {
    velocity
        .iter()
        .map(|(sku, v)| SkuDemand::new(sku, v.lines, v.volume))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(day: Day, sku: &str, units: f64) -> Line {
        Line {
            day,
            order: format!("o{day}"),
            sku: sku.into(),
            units,
        }
    }

    #[test]
    fn dates_are_read_in_both_forms_and_impossible_ones_refused() {
        assert_eq!(parse_day("01/01/1970"), Some(0));
        assert_eq!(parse_day("2017-01-31"), parse_day("31/01/2017"));
        assert_eq!(
            parse_day("01/03/2016").unwrap() - parse_day("28/02/2016").unwrap(),
            2
        );
        for bad in ["31/02/2017", "00/01/2017", "2017-13-01", "x", ""] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn without_a_half_life_the_pace_is_the_plain_daily_mean() {
        let h = [
            line(0, "a", 2.0),
            line(0, "a", 1.0),
            line(3, "a", 1.0),
            line(3, "b", 5.0),
        ];
        let v = velocities(&h, f64::INFINITY, &|sku| if sku == "b" { 2.0 } else { 1.0 });
        assert!(
            (v["a"].lines - 3.0 / 4.0).abs() < 1e-12,
            "3 lines over 4 days"
        );
        assert!((v["a"].units - 1.0).abs() < 1e-12);
        assert!((v["b"].volume - 5.0 * 2.0 / 4.0).abs() < 1e-12);
    }

    #[test]
    fn recent_days_weigh_more_with_a_half_life() {
        // Old sales of a, recent sales of b, the same count.
        let h = [
            line(0, "a", 1.0),
            line(0, "a", 1.0),
            line(9, "b", 1.0),
            line(9, "b", 1.0),
        ];
        let v = velocities(&h, 2.0, &|_| 1.0);
        assert!(v["b"].lines > 10.0 * v["a"].lines, "{v:?}");
    }

    #[test]
    fn abc_splits_lines_80_15_5_and_the_peak_day_is_uplifted() {
        let mut v = BTreeMap::new();
        for (sku, lines) in [("a", 80.0), ("b", 15.0), ("c", 5.0)] {
            v.insert(
                sku.to_string(),
                Velocity {
                    lines,
                    units: lines,
                    volume: lines,
                },
            );
        }
        let c = abc(&v);
        assert_eq!((c["a"], c["b"], c["c"]), (Class::A, Class::B, Class::C));
        let f = forecast(
            &v,
            10..=12,
            Some(Peak {
                day: 11,
                uplift: 3.0,
            }),
        );
        assert_eq!(f["b"], vec![(10, 15.0), (11, 45.0), (12, 15.0)]);
    }
}
