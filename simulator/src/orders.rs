//! A seeded order book: the same seed gives the same orders.

use floorctl_protocol::order::{Order, OrderLine};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// `count` orders spread over `cutoffs` in turn, each of one to four lines.
pub fn generate(seed: u64, count: usize, cutoffs: &[String]) -> Vec<Order> {
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..count)
        .map(|i| {
            let lines = (0..rng.gen_range(1..=4))
                .map(|_| {
                    let sku = rng.gen_range(1..=200u32);
                    OrderLine {
                        sku: format!("SKU{sku:04}"),
                        qty: rng.gen_range(1..=3),
                        location: format!("A{:02}-{:02}", sku % 12 + 1, sku / 12 + 1),
                    }
                })
                .collect();
            Order {
                id: format!("ORD{:05}", i + 1),
                cutoff: cutoffs[i % cutoffs.len()].clone(),
                priority: Default::default(),
                destination: None,
                lines,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_orders() {
        let c = vec!["11:00".to_string(), "17:00".to_string()];
        assert_eq!(generate(7, 20, &c), generate(7, 20, &c));
        assert_ne!(generate(7, 20, &c), generate(8, 20, &c));
        assert_eq!(
            generate(7, 20, &c)
                .iter()
                .filter(|o| o.cutoff == "17:00")
                .count(),
            10
        );
    }
}
