//! Routing: hand-computed routes, and every policy against brute force on small instances.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;

/// 5 aisles 10 m long, 3 m apart, 2 m cross-aisles (12 m between centre lines), depot at aisle 1.
fn small() -> Warehouse {
    Warehouse {
        aisles: 5,
        aisle_length_m: 10.0,
        aisle_pitch_m: 3.0,
        cross_aisle_width_m: 2.0,
        depot_m: 0.0,
        slots: Default::default(),
    }
}

fn pick(aisle: u32, position_m: f64) -> Pick {
    Pick { aisle, position_m }
}

fn length(w: &Warehouse, picks: &[Pick], policy: Policy) -> f64 {
    w.route(picks, policy).unwrap().length_m
}

#[test]
fn hand_computed_routes() {
    let w = small();
    let picks = [pick(1, 3.0), pick(3, 9.0), pick(3, 2.0)];
    // Return: up aisle 1 to 3 m and back (6), up aisle 3 to 9 m and back (18), the front
    // cross-aisle from aisle 1 to aisle 3 and back (12).
    assert_eq!(
        length(&w, &picks, Policy::Return),
        2.0 * 3.0 + 2.0 * 9.0 + 2.0 * 6.0
    );
    // S-shape: up aisle 1 (12), across the back (6), down aisle 3 (12), home (6).
    assert_eq!(length(&w, &picks, Policy::SShape), 36.0);
    // Optimal: return in aisle 1 (6) then aisle 3 from the front (18) and the cross-aisle both ways (12).
    assert_eq!(length(&w, &picks, Policy::Optimal), 36.0);
    let one = [pick(4, 5.0)];
    for p in Policy::ALL {
        assert_eq!(length(&w, &one, p), 2.0 * 9.0 + 2.0 * 5.0, "{p}");
    }
    assert_eq!(length(&w, &[], Policy::Optimal), 0.0);
}

#[test]
fn picks_outside_the_layout_are_refused_with_the_reason() {
    let w = small();
    let err = w.route(&[pick(6, 3.0)], Policy::Return).unwrap_err();
    assert!(
        err.to_string().contains("aisle 6 is not one of 1 to 5"),
        "{err}"
    );
    let err = w.route(&[pick(2, 11.5)], Policy::Return).unwrap_err();
    assert!(
        err.to_string().contains("outside the aisle's racks"),
        "{err}"
    );
    let bad = Warehouse {
        aisle_pitch_m: 0.0,
        ..small()
    };
    assert!(bad.route(&[pick(1, 3.0)], Policy::Optimal).is_err());
}

/// The shortest tour through every pick from the depot, by trying every order.
fn brute_force(w: &Warehouse, picks: &[Pick]) -> f64 {
    let stops: Vec<Stop> = picks.iter().map(|p| w.stop(*p)).collect();
    let mut idx: Vec<usize> = (0..stops.len()).collect();
    let mut best = f64::INFINITY;
    permute(&mut idx, 0, &mut |order| {
        let mut at = w.depot();
        let mut d = 0.0;
        for &i in order {
            d += w.distance(at, stops[i]);
            at = stops[i];
        }
        d += w.distance(at, w.depot());
        best = best.min(d);
    });
    best
}

fn permute(v: &mut Vec<usize>, k: usize, f: &mut impl FnMut(&[usize])) {
    if k == v.len() {
        f(v);
        return;
    }
    for i in k..v.len() {
        v.swap(k, i);
        permute(v, k + 1, f);
        v.swap(k, i);
    }
}

/// The length of visiting the picks in `order` by shortest paths.
fn walk(w: &Warehouse, picks: &[Pick], order: &[usize]) -> f64 {
    let mut at = w.depot();
    let mut d = 0.0;
    for &i in order {
        let s = w.stop(picks[i]);
        d += w.distance(at, s);
        at = s;
    }
    d + w.distance(at, w.depot())
}

fn random_case(rng: &mut SmallRng, max_picks: usize) -> (Warehouse, Vec<Pick>) {
    let aisles = rng.gen_range(1..=8);
    let w = Warehouse {
        aisles,
        aisle_length_m: rng.gen_range(5..=30) as f64,
        aisle_pitch_m: rng.gen_range(2..=6) as f64,
        cross_aisle_width_m: rng.gen_range(0..=3) as f64,
        depot_m: 0.0,
        slots: Default::default(),
    };
    let depot_m = match rng.gen_range(0..3) {
        0 => 0.0,
        1 => w.x(rng.gen_range(1..=aisles)),
        _ => rng.gen_range(0.0..=w.x(aisles)),
    };
    let w = Warehouse { depot_m, ..w };
    let n = rng.gen_range(1..=max_picks);
    let lo = w.cross_aisle_width_m / 2.0;
    let picks = (0..n)
        .map(|_| {
            pick(
                rng.gen_range(1..=aisles),
                lo + rng.gen_range(0..=w.aisle_length_m as u32) as f64,
            )
        })
        .collect();
    (w, picks)
}

#[test]
fn the_optimum_equals_brute_force_and_is_never_longer_than_a_heuristic() {
    let mut rng = SmallRng::seed_from_u64(7);
    for case in 0..1500 {
        let (w, picks) = random_case(&mut rng, 7);
        let best = brute_force(&w, &picks);
        let opt = w.route(&picks, Policy::Optimal).unwrap();
        assert!(
            (opt.length_m - best).abs() < 1e-6,
            "case {case}: optimal {} vs brute force {best}: {w:?} {picks:?}",
            opt.length_m
        );
        let mut order = opt.order.clone();
        order.sort_unstable();
        assert_eq!(
            order,
            (0..picks.len()).collect::<Vec<_>>(),
            "case {case}: every pick once"
        );
        assert!(
            walk(&w, &picks, &opt.order) <= opt.length_m + 1e-6,
            "case {case}: the visiting order walks no longer than the route"
        );
        for p in Policy::ALL {
            let r = w.route(&picks, p).unwrap();
            assert!(
                r.length_m + 1e-6 >= opt.length_m,
                "case {case}: {p} {} shorter than optimal {}",
                r.length_m,
                opt.length_m
            );
            let mut order = r.order.clone();
            order.sort_unstable();
            assert_eq!(
                order,
                (0..picks.len()).collect::<Vec<_>>(),
                "case {case}: {p} visits every pick once"
            );
        }
    }
}

#[test]
fn larger_orders_are_routed_and_the_optimum_stays_shortest() {
    let mut rng = SmallRng::seed_from_u64(11);
    for _ in 0..300 {
        let (w, picks) = random_case(&mut rng, 40);
        let opt = w.route(&picks, Policy::Optimal).unwrap().length_m;
        for p in Policy::ALL {
            assert!(w.route(&picks, p).unwrap().length_m + 1e-6 >= opt, "{p}");
        }
    }
}

#[test]
fn layout_and_picks_files_report_every_problem() {
    let text = "aisles = 0\naisle_length_m = -1\naisle_pitch_m = 3\ncross_aisle_width_m = 2\n";
    let p = Warehouse::parse(text).unwrap_err();
    assert!(p.iter().any(|p| p.contains("aisles is 0")), "{p:?}");
    assert!(
        p.iter().any(|p| p.contains("aisle_length_m is -1")),
        "{p:?}"
    );
    let text = "aisles = 2\naisle_length_m = 10\naisle_pitch_m = 3\ncross_aisle_width_m = 2\n[slots]\nA-01 = { aisle = 1, position_m = 4.0 }\nZ-99 = { aisle = 9, position_m = 4.0 }\n";
    let p = Warehouse::parse(text).unwrap_err();
    assert_eq!(p, vec!["slot Z-99: aisle 9 is not one of 1 to 2"]);

    let picks = parse_picks("aisle,position_m\n1,2.5\n3, 4\n").unwrap();
    assert_eq!(picks, vec![pick(1, 2.5), pick(3, 4.0)]);
    let p = parse_picks("position_m,aisle\nx,1\n2.0,\n").unwrap_err();
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].starts_with("line 2:"), "{p:?}");
    assert!(parse_picks("a,b\n1,2\n").unwrap_err()[0].contains("must name `aisle`"));
}
