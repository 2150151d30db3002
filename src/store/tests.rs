use super::*;
use std::path::PathBuf;

use floorctl_core::{OrderStatus, Record, ToteStatus};
use floorctl_protocol::order::{Order, OrderLine};

fn order_event(id: &str) -> Event {
    Event::OrderReceived {
        order: Order {
            id: id.into(),
            cutoff: "11:00".into(),
            priority: Default::default(),
            destination: None,
            lines: vec![OrderLine {
                sku: "S".into(),
                qty: 1,
                location: "A".into(),
            }],
        },
    }
}

/// The databases the storage tests run on: a SQLite file, and a schema of its own on the
/// PostgreSQL server in `FLOORCTL_TEST_POSTGRES` (skipped with a reason when unset, unless
/// `CI` is set).
async fn databases(dir: &Path) -> Vec<Database> {
    let mut all = vec![Database::Sqlite(dir.join("floor.db"))];
    match std::env::var("FLOORCTL_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => all.push(fresh_schema(&url, "store").await.unwrap()),
        _ if std::env::var_os("CI").is_some() => {
            panic!("FLOORCTL_TEST_POSTGRES is not set: CI must provide PostgreSQL")
        }
        _ => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipped on PostgreSQL: set FLOORCTL_TEST_POSTGRES to a postgres:// URL"
            );
        }
    }
    all
}

#[tokio::test]
async fn journal_and_rows_survive_reopening_on_both_stores() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        journal_and_rows_survive_reopening(&db).await;
        accounts_and_audit_are_kept(&db).await;
    }
}

async fn accounts_and_audit_are_kept(db: &Database) {
    let store = Store::connect(db).await.unwrap();
    store.set_user("sue", "viewer", "h1", 1).await.unwrap();
    store.set_user("sue", "supervisor", "h2", 2).await.unwrap();
    assert_eq!(
        store.user("sue").await.unwrap(),
        Some(("supervisor".into(), "h2".into())),
        "{db}"
    );
    assert_eq!(store.user("tom").await.unwrap(), None);
    for (at, action) in [(5, "first"), (6, "second")] {
        let entry = AuditEntry {
            at,
            user: "sue".into(),
            action: action.into(),
            outcome: "done".into(),
            said: (at == 6).then(|| serde_json::json!({"action": {"code": "second"}})),
        };
        store.audit(&entry).await.unwrap();
    }
    let log = store.audit_log(2).await.unwrap();
    assert_eq!(
        log[0].said,
        Some(serde_json::json!({"action": {"code": "second"}}))
    );
    assert_eq!(log[1].said, None, "{db}");
    let log = store.audit_log(1).await.unwrap();
    assert_eq!(
        (log.len(), log[0].action.as_str(), log[0].at),
        (1, "second", 6)
    );
    store.close().await;
}

async fn journal_and_rows_survive_reopening(db: &Database) {
    let store = Store::connect(db).await.unwrap();
    let rec = Record::Order {
        id: "o1".into(),
        cutoff: "11:00".into(),
        status: OrderStatus::Released,
        tote: None,
        picked: 0,
    };
    store
        .append(10, &order_event("o1"), std::slice::from_ref(&rec))
        .await
        .unwrap();
    let tote = Record::Tote {
        id: 4,
        order: "o1".into(),
        status: ToteStatus::Sorted,
        chute: Some(2),
    };
    store
        .append(20, &order_event("o2"), std::slice::from_ref(&tote))
        .await
        .unwrap();
    store.close().await;

    let store = Store::connect(db).await.unwrap();
    let journal = store.journal().await.unwrap();
    assert_eq!(journal.len(), 2, "{db}");
    assert!(journal[0].seq < journal[1].seq);
    assert_eq!(journal[0].event, order_event("o1"));
    assert_eq!(journal[1].at, 20);
    assert_eq!(
        store.totes().await.unwrap(),
        vec![(4, "o1".into(), "sorted".into(), Some(2))]
    );
    let transfer = Record::Transfer {
        id: 1,
        sku: "S".into(),
        qty: 6,
        face: "A-01".into(),
    };
    store
        .append(30, &order_event("o3"), std::slice::from_ref(&transfer))
        .await
        .unwrap();
    assert_eq!(
        store.transfers().await.unwrap(),
        vec![(1, "S".into(), 6, "A-01".into(), "requested".into())],
        "a transfer order to the DC is kept"
    );
    store.close().await;
}

#[tokio::test]
async fn a_column_of_another_type_than_expected_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("floor.db")).await.unwrap();
    // SQLite keeps what it is given: a chute written as words by some other program.
    sqlx::query(
        "INSERT INTO totes (id, order_id, status, chute, updated_ms) VALUES (1, 'O1', 'sorted', 'left', 0)",
    )
    .execute(&store.pool)
    .await
    .unwrap();
    let err = store.totes().await.unwrap_err();
    assert!(matches!(err, StoreError::Query(_)), "{err}");
    store.close().await;
}

#[tokio::test]
async fn a_directory_that_does_not_exist_is_a_clear_error() {
    let err = Store::open(Path::new("/nonexistent/dir/floor.db"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/dir/floor.db"),
        "{err}"
    );
}

#[test]
fn a_postgres_url_is_shown_without_its_password_and_queries_are_numbered() {
    let db = Database::parse(
        "postgres://floor:s3cret@db.example:5432/site",
        Path::new("/etc"),
    );
    assert_eq!(db.to_string(), "postgres://floor@db.example:5432/site");
    assert!(!format!("{db:?}").contains("s3cret"));
    assert_eq!(
        Database::parse("floorctl.db", Path::new("/srv")),
        Database::Sqlite(PathBuf::from("/srv/floorctl.db"))
    );
    assert_eq!(
        sqlite_url(Path::new("/a b/x?#%.db")),
        "sqlite:///a b/x%3F%23%25.db?mode=rwc"
    );
}

#[tokio::test]
async fn published_events_are_numbered_without_gaps_with_their_journal_entries_on_both_stores() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        outbox_is_written_with_the_journal(&db).await;
    }
}

async fn outbox_is_written_with_the_journal(db: &Database) {
    use floorctl_core::{Published, PublishedKind};
    let store = Store::connect(db).await.unwrap();
    let publish = |kind, order: &str| Published {
        kind,
        order: Some(order.into()),
        data: serde_json::json!({ "order": order }),
    };
    let (a, b) = (order_event("o1"), order_event("o2"));
    let first = [
        publish(PublishedKind::OrderReceived, "o1"),
        publish(PublishedKind::OrderReleased, "o1"),
    ];
    let second = [publish(PublishedKind::OrderReceived, "o2")];
    store
        .append_all(&[(10, &a, &[], &first), (10, &b, &[], &[])])
        .await
        .unwrap();
    store.append_all(&[(20, &b, &[], &second)]).await.unwrap();
    let all = store.published_after(0, 100, &[]).await.unwrap();
    let seqs: Vec<i64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3], "{db}");
    assert_eq!(all[1].kind, "order.released");
    assert_eq!(all[2].order.as_deref(), Some("o2"));
    assert_eq!(all[2].at, 20);
    assert_eq!(store.last_published().await.unwrap(), 3);
    let received = store
        .published_after(1, 100, &["order.received".to_string()])
        .await
        .unwrap();
    assert_eq!(
        received.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![3],
        "{db}"
    );
    assert_eq!(store.published_after(0, 2, &[]).await.unwrap().len(), 2);
    // Orders said late are listed apart.
    let row = |id: &str| Record::Order {
        id: id.into(),
        cutoff: "11:00".into(),
        status: OrderStatus::Released,
        tote: None,
        picked: 0,
    };
    let late = [publish(PublishedKind::OrderLate, "o2")];
    let (r1, r2) = ([row("o1")], [row("o2")]);
    store
        .append_all(&[(40, &a, &r1, &[]), (40, &b, &r2, &late)])
        .await
        .unwrap();
    let ids = |page: Vec<(String, String, String, Option<u32>, u32)>| -> Vec<String> {
        page.into_iter().map(|r| r.0).collect()
    };
    let late_ones = store
        .orders_page(None, None, Some(true), None, 10)
        .await
        .unwrap();
    assert_eq!(ids(late_ones), ["o2"], "{db}");
    let on_time = store
        .orders_page(None, None, Some(false), None, 10)
        .await
        .unwrap();
    assert_eq!(ids(on_time), ["o1"], "{db}");
    let about = store.published_about("o2").await.unwrap();
    let kinds: Vec<&str> = about.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["order.received", "order.late"], "{db}");
    store.close().await;
    // Reopened, numbering goes on from the last.
    let store = Store::connect(db).await.unwrap();
    store.append_all(&[(30, &a, &[], &second)]).await.unwrap();
    assert_eq!(store.last_published().await.unwrap(), 5, "{db}");
    store.close().await;
}

/// An owner frozen in the middle of a journal commit holds the lease row it checked: the
/// server ends that transaction once it has waited a lease, so a standby can still take the
/// site, and the frozen owner's commit is refused.
#[tokio::test]
async fn a_standby_takes_a_site_whose_owner_froze_inside_a_commit() {
    let dir = tempfile::tempdir().unwrap();
    let Some(Database::Postgres(url)) = databases(dir.path()).await.into_iter().nth(1) else {
        return;
    };
    let url = url.split('?').next().unwrap().to_string();
    let network = format!("frozen_{:012x}", rand::random::<u64>() >> 16);
    let db = Database::Postgres(url);
    let owner = Store::connect_site(&db, &network, "s").await.unwrap();
    let standby = Store::connect_site(&db, &network, "s").await.unwrap();
    let lease = owner
        .take_lease("s", "owner", 1_000)
        .await
        .unwrap()
        .unwrap();
    owner.fence(&lease);
    // Frozen just after checking the fence: the transaction stays open, nothing more is sent.
    let mut frozen = owner.pool.begin().await.unwrap();
    owner.check_fence(&mut frozen).await.unwrap();

    let since = std::time::Instant::now();
    let taken = loop {
        let attempt = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            standby.take_lease("s", "standby", 1_000),
        )
        .await
        .expect("the standby's takeover waited 20 s on the frozen owner's lock");
        if let Some(l) = attempt.unwrap() {
            break l;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(taken.token > lease.token);
    println!(
        "the standby took the site {:?} after the owner froze",
        since.elapsed()
    );
    // Woken, the frozen owner's commit does not land, and its next write is fenced.
    assert!(
        frozen.commit().await.is_err(),
        "the frozen transaction was ended"
    );
    let err = owner
        .append_all(&[(1, &order_event("late"), &[], &[])])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Fenced { .. }), "{err}");
}

#[tokio::test]
async fn the_alarm_history_is_searched_by_source_or_text_on_both_stores() {
    use floorctl_core::{Published, PublishedKind};
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let store = Store::connect(&db).await.unwrap();
        let alarm = |kind, source: &str, text: &str| Published {
            kind,
            order: None,
            data: serde_json::json!({ "source": source, "text": text }),
        };
        let raised = [
            alarm(
                PublishedKind::AlarmRaised,
                "cv1",
                "zone 2 faulted: line held",
            ),
            alarm(
                PublishedKind::AlarmRaised,
                "sorter1",
                "sorter1 is aborted (50% of …)",
            ),
        ];
        let cleared = [alarm(
            PublishedKind::AlarmCleared,
            "cv1",
            "zone 2 faulted: line held",
        )];
        let (a, b) = (order_event("o1"), order_event("o2"));
        store
            .append_all(&[(10, &a, &[], &raised), (20, &b, &[], &cleared)])
            .await
            .unwrap();
        let found = |q: &'static str| {
            let store = store.clone();
            async move {
                store
                    .alarm_history(q, 10)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|e| (e.kind, e.data["source"].as_str().unwrap_or("").to_string()))
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            found("ZONE 2").await,
            [
                ("alarm.cleared".to_string(), "cv1".to_string()),
                ("alarm.raised".to_string(), "cv1".to_string())
            ],
            "{db}"
        );
        assert_eq!(found("50%").await.len(), 1, "{db}: % is a character");
        assert_eq!(found("5_%").await.len(), 0, "{db}: _ is a character");
        assert_eq!(found("").await.len(), 3, "{db}");
        store.close().await;
    }
}
