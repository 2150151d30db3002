//! Each adapter says where its connection stands (connecting, connected, lost and trying
//! again, stopped): the controller's MQTT connection and every PLC link, as the dashboard and
//! the metrics show them.

mod common;

use std::time::{Duration, Instant};

use floorctl::config::Broker;
use floorctl::controller::{Controller, Handle};
use floorctl::link_state::LinkState;

/// Waits until the broker link and every PLC link are in `want`.
async fn links_reach(h: &Handle, want: LinkState, limit: Duration) {
    let started = Instant::now();
    loop {
        let broker = *h.broker().borrow();
        let plcs: Vec<LinkState> = h.plc_status().values().map(|p| p.link).collect();
        if broker == want && !plcs.is_empty() && plcs.iter().all(|l| *l == want) {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "links not {want:?} within {limit:?}: broker {broker:?}, PLCs {plcs:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A loopback address nothing listens on.
fn closed_port() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_and_plc_links_say_connected_lost_and_stopped() {
    let f = common::floor(21).await;
    let controller = f.controller().await;
    let h = controller.handle();
    links_reach(&h, LinkState::Connected, Duration::from_secs(10)).await;
    controller.shutdown(Duration::from_secs(5)).await;
    links_reach(&h, LinkState::Stopped, Duration::from_secs(5)).await;

    // Nothing answers at the broker's or the PLCs' addresses: each link says it is trying again.
    let mut config = common::config(&f, &f.db);
    let nowhere = closed_port();
    config.broker = Broker::External {
        host: nowhere.ip().to_string(),
        port: nowhere.port(),
        credentials: None,
    };
    for plc in &mut config.plcs {
        plc.address = closed_port();
    }
    let controller = Controller::start(config).await.unwrap();
    let h = controller.handle();
    links_reach(&h, LinkState::BackingOff, Duration::from_secs(10)).await;
    controller.shutdown(Duration::from_secs(5)).await;
}
