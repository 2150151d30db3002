//! The fluid model of a fast-pick area (Bartholdi & Hackman, *Warehouse & Distribution Science*,
//! the fast-pick area chapter): stock is a fluid, each SKU's space is a volume, restocks per
//! period are flow / volume. Which SKUs go forward, and how much space each gets.

use std::fmt;

/// One SKU as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SkuDemand {
    /// SKU code.
    pub sku: String,
    /// Picks (order lines) per period.
    pub picks: f64,
    /// Volume flowing out per period (units × unit volume).
    pub flow: f64,
    /// Least space it may get forward, when it goes forward.
    pub min: f64,
    /// Most space it may get forward.
    pub max: f64,
}

impl SkuDemand {
    /// A SKU without space bounds.
    pub fn new(sku: &str, picks: f64, flow: f64) -> SkuDemand {
        SkuDemand {
            sku: sku.into(),
            picks,
            flow,
            min: 0.0,
            max: f64::INFINITY,
        }
    }
}

/// How forward space is shared among the SKUs chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    /// By the square root of flow: the fewest restocks for the space.
    Optimal,
    /// The same space for each.
    EqualSpace,
    /// Space in proportion to flow: each is restocked equally often.
    EqualTime,
}

impl Allocation {
    /// The allocation of a CLI name.
    pub fn from_name(name: &str) -> Option<Allocation> {
        match name {
            "optimal" => Some(Allocation::Optimal),
            "equal-space" => Some(Allocation::EqualSpace),
            "equal-time" => Some(Allocation::EqualTime),
            _ => None,
        }
    }
}

impl fmt::Display for Allocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Allocation::Optimal => "optimal",
            Allocation::EqualSpace => "equal-space",
            Allocation::EqualTime => "equal-time",
        })
    }
}

/// Space given to one SKU forward.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// Index of the SKU in the input.
    pub index: usize,
    /// Volume of forward space.
    pub volume: f64,
    /// Restocks per period: flow / volume.
    pub restocks: f64,
}

/// A forward-area plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The SKUs forward with their space, in rank order.
    pub slots: Vec<Slot>,
    /// Restocks per period, all SKUs forward together.
    pub restocks: f64,
    /// Picks per period served forward.
    pub picks_forward: f64,
    /// s · picks forward − c_r · restocks: the saving of the plan per period.
    pub benefit: f64,
}

/// Costs of the forward area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Costs {
    /// Forward volume.
    pub volume: f64,
    /// Saving per pick served forward rather than from reserve.
    pub saving_per_pick: f64,
    /// Cost of one restock.
    pub restock_cost: f64,
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// A number that cannot be planned with.
    #[error("SKU `{sku}`: {what}")]
    Bad {
        /// SKU.
        sku: String,
        /// What is wrong.
        what: String,
    },
    /// The costs cannot be planned with.
    #[error("{0}")]
    Costs(String),
}

/// Shares `volume` among `chosen` (indices into `skus`) by `rule`, honouring each SKU's min and
/// max: a SKU whose share falls outside its bounds is clamped to the bound and the rest is shared
/// again among the others by the same rule. Returns (index, volume) in the order given.
pub fn allocate(
    skus: &[SkuDemand],
    chosen: &[usize],
    volume: f64,
    rule: Allocation,
) -> Vec<(usize, f64)> {
    let weight = |i: usize| match rule {
        Allocation::Optimal => skus[i].flow.sqrt(),
        Allocation::EqualSpace => 1.0,
        Allocation::EqualTime => skus[i].flow,
    };
    let mut fixed: Vec<Option<f64>> = vec![None; chosen.len()];
    loop {
        let left = volume - fixed.iter().flatten().sum::<f64>();
        let free: f64 = chosen
            .iter()
            .zip(&fixed)
            .filter(|(_, f)| f.is_none())
            .map(|(i, _)| weight(*i))
            .sum();
        let share = |i: usize| {
            if free > 0.0 {
                left.max(0.0) * weight(i) / free
            } else {
                0.0
            }
        };
        // Clamp the worst violation first, then share again: SKUs pinned at a bound stay there.
        let mut changed = false;
        for (k, &i) in chosen.iter().enumerate() {
            if fixed[k].is_some() {
                continue;
            }
            let v = share(i);
            let s = &skus[i];
            if v < s.min {
                fixed[k] = Some(s.min);
                changed = true;
            } else if v > s.max {
                fixed[k] = Some(s.max);
                changed = true;
            }
        }
        if !changed {
            return chosen
                .iter()
                .zip(&fixed)
                .map(|(&i, f)| (i, f.unwrap_or_else(|| share(i))))
                .collect();
        }
    }
}

/// Checks the inputs: finite, non-negative numbers, min ≤ max.
pub fn check(skus: &[SkuDemand], costs: &Costs) -> Result<(), PlanError> {
    if !(costs.volume.is_finite() && costs.volume > 0.0) {
        return Err(PlanError::Costs(format!(
            "forward volume {} must be above 0",
            costs.volume
        )));
    }
    if !(costs.saving_per_pick.is_finite() && costs.saving_per_pick >= 0.0) {
        return Err(PlanError::Costs("saving per pick must be 0 or more".into()));
    }
    if !(costs.restock_cost.is_finite() && costs.restock_cost >= 0.0) {
        return Err(PlanError::Costs("restock cost must be 0 or more".into()));
    }
    for s in skus {
        let bad = |what: &str| {
            Err(PlanError::Bad {
                sku: s.sku.clone(),
                what: what.into(),
            })
        };
        if !(s.picks.is_finite() && s.picks >= 0.0) {
            return bad("picks must be a number of 0 or more");
        }
        if !(s.flow.is_finite() && s.flow >= 0.0) {
            return bad("flow must be a number of 0 or more");
        }
        if !(s.min >= 0.0 && s.min <= s.max) || s.min.is_nan() || s.max.is_nan() {
            return bad("min must be 0 or more and not above max");
        }
    }
    Ok(())
}

/// The plan for `chosen` SKUs sharing the forward volume by `rule`.
pub fn plan_for(skus: &[SkuDemand], chosen: &[usize], costs: &Costs, rule: Allocation) -> Plan {
    let slots: Vec<Slot> = allocate(skus, chosen, costs.volume, rule)
        .into_iter()
        .map(|(index, volume)| Slot {
            index,
            volume,
            restocks: restocks(skus[index].flow, volume),
        })
        .collect();
    let restocks: f64 = slots.iter().map(|s| s.restocks).sum();
    let picks_forward: f64 = slots.iter().map(|s| skus[s.index].picks).sum();
    Plan {
        benefit: costs.saving_per_pick * picks_forward - costs.restock_cost * restocks,
        slots,
        restocks,
        picks_forward,
    }
}

fn restocks(flow: f64, volume: f64) -> f64 {
    if flow == 0.0 {
        0.0
    } else if volume > 0.0 {
        flow / volume
    } else {
        f64::INFINITY
    }
}

/// Chooses which SKUs go forward and sizes them by `rule`: SKUs ranked by picks / √flow (a SKU
/// with no flow first), and the count k that maximises s·Σp − c_r·(Σ√f)²/V taken (the optimal
/// allocation's benefit, which has this closed form). The plan is then made with each SKU's
/// bounds; SKUs whose min does not fit are left out.
pub fn plan(skus: &[SkuDemand], costs: &Costs, rule: Allocation) -> Result<Plan, PlanError> {
    check(skus, costs)?;
    let mut ranked: Vec<usize> = (0..skus.len()).filter(|&i| skus[i].picks > 0.0).collect();
    let key = |i: usize| {
        let f = skus[i].flow.sqrt();
        if f == 0.0 {
            f64::INFINITY
        } else {
            skus[i].picks / f
        }
    };
    ranked.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
    let (mut picks, mut roots) = (0.0, 0.0);
    let mut best = (0.0, 0usize);
    for (k, &i) in ranked.iter().enumerate() {
        picks += skus[i].picks;
        roots += skus[i].flow.sqrt();
        let benefit =
            costs.saving_per_pick * picks - costs.restock_cost * roots * roots / costs.volume;
        if benefit > best.0 {
            best = (benefit, k + 1);
        }
    }
    let mut chosen: Vec<usize> = ranked[..best.1].to_vec();
    // Minimums that do not fit: drop the lowest-ranked SKUs until they do.
    while chosen.iter().map(|&i| skus[i].min).sum::<f64>() > costs.volume {
        chosen.pop();
    }
    Ok(plan_for(skus, &chosen, costs, rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Vec<SkuDemand> {
        vec![
            SkuDemand::new("a", 1.0, 26.0),
            SkuDemand::new("b", 1.0, 3.0),
            SkuDemand::new("c", 1.0, 1.0),
        ]
    }

    fn one_unit() -> Costs {
        Costs {
            volume: 1.0,
            saving_per_pick: 0.0,
            restock_cost: 1.0,
        }
    }

    #[test]
    fn flows_26_3_and_1_in_one_unit_give_90_90_and_the_square_of_the_root_sum() {
        let skus = three();
        let all = [0, 1, 2];
        let r = |rule| plan_for(&skus, &all, &one_unit(), rule).restocks;
        assert!((r(Allocation::EqualSpace) - 90.0).abs() < 1e-9);
        assert!((r(Allocation::EqualTime) - 90.0).abs() < 1e-9);
        let root_sum = 26f64.sqrt() + 3f64.sqrt() + 1.0;
        assert!((r(Allocation::Optimal) - root_sum * root_sum).abs() < 1e-9);
        assert!((r(Allocation::Optimal) - 61.33).abs() < 0.01);
    }

    #[test]
    fn the_square_root_rule_never_restocks_more_than_the_others() {
        let skus: Vec<SkuDemand> = (1..30)
            .map(|i| SkuDemand::new(&format!("s{i}"), 1.0, f64::from(i * i % 17 + 1)))
            .collect();
        let all: Vec<usize> = (0..skus.len()).collect();
        let costs = Costs {
            volume: 7.0,
            ..one_unit()
        };
        let opt = plan_for(&skus, &all, &costs, Allocation::Optimal).restocks;
        for rule in [Allocation::EqualSpace, Allocation::EqualTime] {
            assert!(opt <= plan_for(&skus, &all, &costs, rule).restocks + 1e-9);
        }
        let total: f64 = allocate(&skus, &all, 7.0, Allocation::Optimal)
            .iter()
            .map(|(_, v)| v)
            .sum();
        assert!((total - 7.0).abs() < 1e-9, "all the space is used");
    }

    #[test]
    fn bounds_are_honoured_and_the_rest_shared_by_the_same_rule() {
        let mut skus = three();
        skus[0].max = 0.5; // would get √26/(√26+√3+1) ≈ 0.65
        skus[2].min = 0.2; // would get 1/(…) ≈ 0.13
        let v = allocate(&skus, &[0, 1, 2], 1.0, Allocation::Optimal);
        assert!((v[0].1 - 0.5).abs() < 1e-12);
        assert!((v[2].1 - 0.2).abs() < 1e-12);
        assert!((v[1].1 - 0.3).abs() < 1e-12, "the rest goes to b: {v:?}");
    }

    #[test]
    fn the_count_taken_maximises_the_benefit() {
        // Picks make a SKU worth having forward; flow makes it costly to keep there.
        let skus = vec![
            SkuDemand::new("busy-small", 100.0, 1.0),
            SkuDemand::new("busy-bulky", 100.0, 400.0),
            SkuDemand::new("rare", 1.0, 1.0),
            SkuDemand::new("dead", 0.0, 0.0),
        ];
        let costs = Costs {
            volume: 10.0,
            saving_per_pick: 1.0,
            restock_cost: 1.0,
        };
        let p = plan(&skus, &costs, Allocation::Optimal).unwrap();
        let names: Vec<&str> = p.slots.iter().map(|s| skus[s.index].sku.as_str()).collect();
        // Every prefix of the ranking, by brute force: the plan's count is the best.
        let mut ranked = [0usize, 2, 1];
        ranked.sort_by(|&a, &b| {
            (skus[b].picks / skus[b].flow.sqrt()).total_cmp(&(skus[a].picks / skus[a].flow.sqrt()))
        });
        let best = (0..=ranked.len())
            .map(|k| plan_for(&skus, &ranked[..k], &costs, Allocation::Optimal).benefit)
            .fold(f64::MIN, f64::max);
        assert!(
            (p.benefit - best).abs() < 1e-9,
            "{names:?}: {} vs {best}",
            p.benefit
        );
        assert!(!names.contains(&"dead"));
        assert!(names.contains(&"busy-small"));
    }

    #[test]
    fn impossible_numbers_are_refused() {
        let mut skus = three();
        skus[1].flow = -1.0;
        assert!(plan(&skus, &one_unit(), Allocation::Optimal)
            .unwrap_err()
            .to_string()
            .contains("`b`: flow"));
        let bad = Costs {
            volume: 0.0,
            ..one_unit()
        };
        assert!(plan(&three(), &bad, Allocation::Optimal).is_err());
    }
}
