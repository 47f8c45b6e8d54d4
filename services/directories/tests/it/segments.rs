//! Target segments: a wide snapshot read from the packed segments lists exactly the ids the same filter finds
//! in the table, before and after the directory changes; the segments tile the key space and only those a
//! write touched are rebuilt; on both backends.

use suiji_directories::generate::{self, Spec};
use suiji_directories::segments;
use suiji_directories::store::TargetQuery;
use suiji_platform::db::Db;
use suiji_platform::testing::Backend;

/// Generated rows as CSV records (header first).
fn generated(count: u64) -> Vec<csv::StringRecord> {
    let mut out = Vec::new();
    generate::targets(
        &Spec {
            count,
            seed: 7,
            province: "610000".into(),
            departments: vec!["610400-SCJG".into(), "610400-STHJ".into()],
        },
        &mut out,
    )
    .unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(out.as_slice());
    reader.records().map(Result::unwrap).collect()
}

fn csv_of(records: &[&csv::StringRecord]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in records {
        w.write_record(*r).unwrap();
    }
    w.into_inner().unwrap()
}

/// The ids `query` finds in the table itself, in order.
async fn in_table(db: &Db, query: &TargetQuery) -> String {
    let (clause, values) = query.clause();
    let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM targets WHERE id > $1{clause} ORDER BY id"
    )))
    .bind(String::new());
    for v in values {
        q = q.bind(v);
    }
    let ids = q.fetch_all(db.pool()).await.unwrap();
    ids.iter().map(|id| format!("{id}\n")).collect()
}

/// A snapshot's ids as stored.
async fn snapshot_ids(db: &Db, query: &TargetQuery) -> String {
    let info = suiji_directories::snapshot::create(db, "tester", query, &Default::default())
        .await
        .unwrap();
    let mut ids = Vec::new();
    let mut chunks = suiji_directories::snapshot::chunks(db, &info.id, 2);
    while let Some(chunk) = chunks.recv().await {
        ids.extend(chunk.unwrap().0);
    }
    assert_eq!(
        info.digest,
        suiji_directories::snapshot::digest_of(&ids).unwrap()
    );
    String::from_utf8(ids).unwrap()
}

/// The segments' bounds and rows, in key order; checks that they tile the key space.
async fn tiling(db: &Db) -> Vec<(String, String, i64)> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT lo, hi, rows FROM target_segments ORDER BY lo")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(rows.first().map(|r| r.0.as_str()), Some(""), "{rows:?}");
    assert_eq!(rows.last().map(|r| r.1.as_str()), Some(""), "{rows:?}");
    for pair in rows.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "segments meet: {rows:?}");
    }
    rows
}

fn queries() -> Vec<TargetQuery> {
    let q = |f: &dyn Fn(&mut TargetQuery)| {
        let mut query = TargetQuery {
            region_prefixes: vec!["61".into()],
            ..Default::default()
        };
        f(&mut query);
        query
    };
    vec![
        TargetQuery::default(),
        q(&|_| {}),
        q(&|t| t.statuses = vec!["operating".into()]),
        q(&|t| t.kinds = vec!["enterprise".into(), "farmers_cooperative".into()]),
        q(&|t| t.risks = vec!["high".into(), "medium_high".into()]),
        q(&|t| t.departments = vec!["610400-STHJ".into()]),
        q(&|t| t.industry_prefixes = vec!["C".into(), "F5".into()]),
        TargetQuery {
            region_prefixes: vec!["62".into()],
            ..Default::default()
        },
    ]
}

async fn wide_snapshots_equal_the_table(backend: Backend) {
    let Some((isolated, db)) = crate::import::directory(backend).await else {
        return;
    };
    let records = generated(90);
    let (header, rows) = records.split_first().unwrap();
    let first: Vec<&csv::StringRecord> = std::iter::once(header).chain(&rows[..60]).collect();
    let (summary, rejected) = crate::import::run(&db, csv_of(&first)).await;
    assert_eq!((summary.accepted, rejected.len()), (60, 0), "{rejected:?}");

    let built = segments::refresh_sized(&db, 7).await.unwrap();
    assert_eq!((built.rows, built.written), (60, 9), "{built:?}");
    let before = tiling(&db).await;
    assert_eq!(before.len(), 9);
    assert_eq!(
        segments::refresh(&db).await.unwrap(),
        segments::Refreshed::default(),
        "nothing written, nothing rebuilt"
    );
    for query in queries() {
        assert_eq!(
            snapshot_ids(&db, &query).await,
            in_table(&db, &query).await,
            "{query:?}"
        );
    }

    // Thirty new targets and ten changed ones (closed, high risk): every snapshot follows.
    let status = header.iter().position(|c| c == "status").unwrap();
    let risk = header.iter().position(|c| c == "risk_level").unwrap();
    let changed: Vec<csv::StringRecord> = rows[..10]
        .iter()
        .map(|r| {
            let mut cells: Vec<&str> = r.iter().collect();
            cells[status] = "closed";
            cells[risk] = "high";
            csv::StringRecord::from(cells)
        })
        .collect();
    let second: Vec<&csv::StringRecord> = std::iter::once(header)
        .chain(&rows[60..])
        .chain(&changed)
        .collect();
    let (summary, rejected) = crate::import::run(&db, csv_of(&second)).await;
    assert_eq!((summary.accepted, rejected.len()), (40, 0), "{rejected:?}");
    for query in queries() {
        assert_eq!(
            snapshot_ids(&db, &query).await,
            in_table(&db, &query).await,
            "{query:?}"
        );
    }
    let after = tiling(&db).await;
    assert_eq!(after.iter().map(|r| r.2).sum::<i64>(), 90);

    // A write to one segment's range rebuilds that segment only.
    let id: String = sqlx::query_scalar("SELECT id FROM targets ORDER BY id LIMIT 1 OFFSET 45")
        .fetch_one(db.pool())
        .await
        .unwrap();
    segments::refresh_sized(&db, 7).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    sqlx::query("UPDATE targets SET risk = 'low' WHERE id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await
        .unwrap();
    segments::touch(&mut tx, &id, &id).await.unwrap();
    tx.commit().await.unwrap();
    let one = segments::refresh_sized(&db, 7).await.unwrap();
    assert_eq!(one.replaced, 1, "{one:?}");
    let low = TargetQuery {
        risks: vec!["low".into()],
        ..Default::default()
    };
    let ids = snapshot_ids(&db, &low).await;
    assert!(ids.contains(&format!("{id}\n")));
    assert_eq!(ids, in_table(&db, &low).await);
    tiling(&db).await;
    isolated.cleanup().await;
}

suiji_platform::on_both_backends!(wide_snapshots_equal_the_table);
