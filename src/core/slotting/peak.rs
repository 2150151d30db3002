//! Peak pre-positioning: the moves that put a peak day's forecast demand forward before it
//! starts.

use std::collections::BTreeMap;

use crate::core::{Move, PickFace};

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

#[cfg(test)]
mod tests {
    use super::*;

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
