//! Waiting for the floor to get somewhere, failing with what was seen when it does not.

use std::time::Duration;

use floorctl::controller::Controller;
use floorctl_core::Summary;

/// Waits until `sorted` orders are in their chutes, or fails after `limit`.
pub async fn wait_sorted(c: &Controller, sorted: usize, limit: Duration) {
    let mut summary = c.summary();
    let reached = tokio::time::timeout(limit, summary.wait_for(|s| s.sorted >= sorted))
        .await
        .is_ok_and(|r| r.is_ok());
    let now = summary.borrow().clone();
    assert!(
        reached,
        "only {} of {sorted} orders sorted within {limit:?}: {now:?}",
        now.sorted
    );
}

/// Waits until `check` holds for the controller's summary, or fails with `what` after `limit`.
pub async fn wait_for(
    c: &Controller,
    what: &str,
    limit: Duration,
    check: impl Fn(&Summary) -> bool,
) -> Summary {
    let mut summary = c.summary();
    let reached = tokio::time::timeout(limit, summary.wait_for(|s| check(s)))
        .await
        .is_ok_and(|r| r.is_ok());
    let now = summary.borrow().clone();
    assert!(reached, "{what} not seen within {limit:?}: {now:?}");
    now
}

/// Waits until the summary satisfies `done`, failing after `secs` seconds with `what`.
pub async fn until_summary(
    controller: &Controller,
    secs: u64,
    what: &str,
    done: impl Fn(&Summary) -> bool,
) -> Summary {
    let mut rx = controller.summary();
    tokio::time::timeout(Duration::from_secs(secs), async {
        loop {
            let s = rx.borrow_and_update().clone();
            if done(&s) {
                return s;
            }
            rx.changed().await.unwrap();
        }
    })
    .await
    .unwrap_or_else(|_| panic!("not within {secs} s: {what}"))
}
