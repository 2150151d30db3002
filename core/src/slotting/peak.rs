//! Peak pre-positioning: the moves that put a peak day's forecast demand forward before it
//! starts.

use std::collections::BTreeMap;

use crate::{Move, PickFace};

/// For each pick face, the units to bring forward so it holds the SKU's forecast peak-day
/// demand (never more than the face's maximum): forecast − on hand, when positive. Where the
/// units come from (reserve, or the DC when reserve lacks them) is decided when the moves are
/// queued.
pub fn peak_moves(
    faces: &[PickFace],
    on_hand: &dyn Fn(&str, &str) -> u32,
    forecast_units: &BTreeMap<String, f64>,
) -> Vec<Move> {
    faces
        .iter()
        .filter_map(|f| {
            let want = forecast_units
                .get(&f.sku)
                .map_or(0.0, |u| u.ceil())
                .min(f64::from(f.max)) as u32;
            let have = on_hand(&f.sku, &f.location);
            (want > have).then(|| Move {
                sku: f.sku.clone(),
                qty: want - have,
                to: f.location.clone(),
            })
        })
        .collect()
}

/// Pick faces for a forward-area plan: each SKU's allocated volume at its location becomes the
/// face's maximum in units (volume / unit volume), and its minimum is the units it sells in the
/// replenishment lead time (so a refill arrives before the face is empty), never above the
/// maximum.
pub fn faces_from_plan(
    allocations: &[(String, String, f64)],
    units_per_day: &dyn Fn(&str) -> f64,
    unit_volume: &dyn Fn(&str) -> f64,
    lead_time_days: f64,
) -> Vec<PickFace> {
    allocations
        .iter()
        .map(|(sku, location, volume)| {
            let max = (volume / unit_volume(sku).max(f64::MIN_POSITIVE))
                .floor()
                .max(1.0) as u32;
            let min = (units_per_day(sku) * lead_time_days).ceil().max(0.0) as u32;
            PickFace {
                location: location.clone(),
                sku: sku.clone(),
                min: min.min(max),
                max,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_face_holds_its_allocation_and_reorders_with_lead_time_to_spare() {
        let plan = [
            ("a".to_string(), "A-1".to_string(), 12.5),
            ("b".into(), "A-2".into(), 2.0),
        ];
        let faces = faces_from_plan(
            &plan,
            &|s| if s == "a" { 10.0 } else { 30.0 },
            &|s| if s == "a" { 0.5 } else { 1.0 },
            0.25,
        );
        assert_eq!(
            (faces[0].min, faces[0].max),
            (3, 25),
            "10 a day for a quarter day; 12.5 / 0.5"
        );
        assert_eq!(
            (faces[1].min, faces[1].max),
            (2, 2),
            "the minimum never above the space"
        );
    }

    #[test]
    fn each_face_is_brought_up_to_its_peak_demand_within_its_space() {
        let face = |l: &str, sku: &str, max| PickFace {
            location: l.into(),
            sku: sku.into(),
            min: 1,
            max,
        };
        let faces = [
            face("A-1", "a", 50),
            face("A-2", "b", 10),
            face("A-3", "c", 50),
        ];
        let forecast = BTreeMap::from([
            ("a".to_string(), 30.2),
            ("b".into(), 40.0),
            ("c".into(), 5.0),
        ]);
        let moves = peak_moves(&faces, &|sku, _| if sku == "c" { 9 } else { 4 }, &forecast);
        let got: Vec<(&str, u32)> = moves.iter().map(|m| (m.sku.as_str(), m.qty)).collect();
        assert_eq!(
            got,
            [("a", 27), ("b", 6)],
            "c already holds its peak demand"
        );
    }
}
