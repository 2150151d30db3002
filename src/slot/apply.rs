//! `floorctl slot apply`: a forward-area plan (as `slot plan --out` writes it) made into pick
//! faces: each SKU at its location, its space in units as the face's maximum and the units it
//! sells in the replenishment lead time as its refill point.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use floorctl_core::slotting::peak::faces_from_plan;
use floorctl_core::PickFace;

use super::{number, SlotError, Table};

/// A SKU of a plan.
#[derive(Debug, Clone, PartialEq)]
struct Planned {
    sku: String,
    /// Picks per day.
    picks: f64,
    /// Volume per day.
    flow: f64,
    /// Forward space.
    volume: f64,
    unit_volume: f64,
    /// Where it goes, when the plan says.
    location: Option<String>,
}

fn read_plan(path: &Path) -> Result<Vec<Planned>, SlotError> {
    let t = Table::open(path)?;
    let (sku, flow, volume) = (t.column("sku")?, t.column("flow")?, t.column("volume")?);
    let (unit, location) = (t.optional("unit_volume"), t.optional("location"));
    let picks = t.optional("picks");
    t.rows(|r| {
        let text = |i: Option<usize>| {
            i.and_then(|i| r.get(i))
                .map(str::trim)
                .filter(|t| !t.is_empty())
        };
        let unit_volume = match unit {
            Some(i) if text(Some(i)).is_some() => number(r, i, "unit_volume")?,
            _ => 1.0,
        };
        let p = Planned {
            sku: text(Some(sku)).ok_or("no sku")?.to_string(),
            picks: match picks {
                Some(i) if text(Some(i)).is_some() => number(r, i, "picks")?,
                _ => 0.0,
            },
            flow: number(r, flow, "flow")?,
            volume: number(r, volume, "volume")?,
            unit_volume,
            location: text(location).map(str::to_string),
        };
        if p.flow < 0.0 || p.volume <= 0.0 || p.unit_volume <= 0.0 {
            return Err(format!(
                "{}: flow must be at least 0, volume and unit_volume above 0",
                p.sku
            ));
        }
        Ok(p)
    })
}

fn read_locations(path: &Path) -> Result<Vec<String>, SlotError> {
    let t = Table::open(path)?;
    let location = t.column("location")?;
    t.rows(|r| match r.get(location).map(str::trim) {
        Some(l) if !l.is_empty() => Ok(l.to_string()),
        _ => Err("no location".into()),
    })
}

/// The pick faces of the plan in `plan`: the SKUs without a location in the plan take the
/// free ones of `locations` (best first), the most picked first; the refill point covers
/// `lead_time_hours` of the SKU's sales.
pub fn faces(
    plan: &Path,
    locations: Option<&Path>,
    lead_time_hours: f64,
) -> Result<Vec<PickFace>, SlotError> {
    if !(lead_time_hours.is_finite() && (0.0..=24.0 * 14.0).contains(&lead_time_hours)) {
        return Err(SlotError::Options(format!(
            "--lead-time-hours {lead_time_hours}: use 0 to 336"
        )));
    }
    let planned = read_plan(plan)?;
    if planned.is_empty() {
        return Err(SlotError::Options(format!(
            "{} puts no SKU forward",
            plan.display()
        )));
    }
    let taken: BTreeSet<&str> = planned
        .iter()
        .filter_map(|p| p.location.as_deref())
        .collect();
    let free: Vec<String> = match locations {
        Some(path) => read_locations(path)?
            .into_iter()
            .filter(|l| !taken.contains(l.as_str()))
            .collect(),
        None => Vec::new(),
    };
    let without = planned.iter().filter(|p| p.location.is_none()).count();
    if without > free.len() {
        return Err(SlotError::Options(match locations {
            None => format!(
                "{} gives no location for {without} SKU(s): add a location column or give --locations FILE",
                plan.display()
            ),
            Some(path) => format!(
                "{} has {without} SKU(s) without a location and {} lists {} free location(s)",
                plan.display(),
                path.display(),
                free.len()
            ),
        }));
    }
    // The most picked SKUs take the first free locations.
    let mut by_picks: Vec<&Planned> = planned.iter().filter(|p| p.location.is_none()).collect();
    by_picks.sort_by(|a, b| b.picks.total_cmp(&a.picks));
    let given: BTreeMap<&str, String> = by_picks
        .into_iter()
        .map(|p| p.sku.as_str())
        .zip(free)
        .collect();
    let mut seen = BTreeSet::new();
    let mut doubled = Vec::new();
    let allocations: Vec<(String, String, f64)> = planned
        .iter()
        .map(|p| {
            let location = p
                .location
                .clone()
                .or_else(|| given.get(p.sku.as_str()).cloned())
                .unwrap_or_default();
            if !seen.insert(location.clone()) {
                doubled.push(location.clone());
            }
            (p.sku.clone(), location, p.volume)
        })
        .collect();
    if !doubled.is_empty() {
        return Err(SlotError::Options(format!(
            "{} puts two SKUs at {}",
            plan.display(),
            doubled.join(", ")
        )));
    }
    let per_sku = |sku: &str| planned.iter().find(|p| p.sku == sku);
    Ok(faces_from_plan(
        &allocations,
        &|sku| per_sku(sku).map_or(0.0, |p| p.flow / p.unit_volume),
        &|sku| per_sku(sku).map_or(1.0, |p| p.unit_volume),
        lead_time_hours / 24.0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_takes_free_locations_best_first_and_refills_within_the_lead_time() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("plan.csv");
        std::fs::write(
            &plan,
            "sku,picks,flow,volume,restocks,unit_volume,location\n\
             C,5,6,10,0.6,1,\n\
             B,20,12,40.5,0.3,1,Z-9\n\
             A,30,48,96,0.5,2,\n",
        )
        .unwrap();
        let locations = dir.path().join("forward.csv");
        std::fs::write(&locations, "location\nZ-9\nF-1\nF-2\nF-3\n").unwrap();
        let got = faces(&plan, Some(&locations), 6.0).unwrap();
        let got: Vec<(&str, &str, u32, u32)> = got
            .iter()
            .map(|f| (f.location.as_str(), f.sku.as_str(), f.min, f.max))
            .collect();
        assert_eq!(
            got,
            [("F-2", "C", 2, 10), ("Z-9", "B", 3, 40), ("F-1", "A", 6, 48)],
            "A, the most picked, takes F-1: 24 units a day, a quarter day's cover, 96 / 2 units of space; Z-9 is B's"
        );

        let few = dir.path().join("few.csv");
        std::fs::write(&few, "location\nF-1\n").unwrap();
        let err = faces(&plan, Some(&few), 6.0).unwrap_err().to_string();
        assert!(
            err.contains("2 SKU(s) without a location") && err.contains("1 free"),
            "{err}"
        );
        let err = faces(&plan, None, 6.0).unwrap_err().to_string();
        assert!(err.contains("--locations"), "{err}");
        std::fs::write(
            &plan,
            "sku,flow,volume,location\nA,1,1,F-1\nB,1,1,F-1\nC,-1,0,F-2\n",
        )
        .unwrap();
        let err = faces(&plan, None, 6.0).unwrap_err().to_string();
        assert!(err.contains("line 4") && err.contains("C:"), "{err}");
        std::fs::write(&plan, "sku,flow,volume,location\nA,1,1,F-1\nB,1,1,F-1\n").unwrap();
        let err = faces(&plan, None, 6.0).unwrap_err().to_string();
        assert!(err.contains("two SKUs at F-1"), "{err}");
    }
}
