//! A short network day: a DC and two forward warehouses, each a simulated floor with a
//! `floorctl run` process of its own on one PostgreSQL server. The forward warehouses ask the DC
//! for their faces' stock; the DC sorts each transfer tote to its destination's lane; each is
//! received against its transfer. The first forward warehouse's owner is killed half-way and
//! its standby takes over. (`floorctl-bench network` is the full-size run.)

mod common;

use std::path::Path;

use floorctl_bench::network::{scenario, NetworkBenchOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dc_and_two_forward_warehouses_run_a_short_day_with_a_failover() {
    let Some(url) = common::peer("FLOORCTL_TEST_POSTGRES", "PostgreSQL (a postgres:// URL)") else {
        return;
    };
    let opts = NetworkBenchOptions::short(&url, 2, 30);
    // The scenario itself fails on an order not sorted, a transfer received twice or into the
    // wrong lane, or a controller that does not stop cleanly.
    let figures = scenario(&opts, Path::new(env!("CARGO_BIN_EXE_floorctl")))
        .await
        .unwrap();
    println!("{figures:#}");
    let t = &figures["transfers"];
    assert!(
        t["asked"].as_u64().unwrap() > 0,
        "the faces were filled from the DC"
    );
    assert_eq!(t["received"], t["asked"], "every transfer received");
    assert_eq!(t["dc_totes_in_destination_lane"], t["received"]);
    let took = figures["failover"]["standby_owned_site_after_s"]
        .as_f64()
        .unwrap();
    assert!(took < 10.0, "fail-over took {took} s");
    assert_eq!(figures["orders"], 60);
}
