//! Bulk import of targets: good rows land, bad rows are named by line, column and reason, nothing is
//! half-written; on both backends.

use suiji_directories::generate::{self, TargetSpec};
use suiji_directories::import::{Rejection, Report, Summary, import_targets};
use suiji_platform::db::Db;
use suiji_platform::testing::{self, Backend, Isolated};
use tokio::sync::mpsc;

async fn directory(backend: Backend) -> Option<(Isolated, Db)> {
    suiji_platform::telemetry::init_for_tests();
    if !testing::require(backend).await {
        return None;
    }
    let isolated = testing::isolated(backend).await;
    let db = Db::connect(&isolated.settings.database, suiji_directories::NAME)
        .await
        .unwrap();
    db.migrate(&suiji_directories::migrations()).await.unwrap();
    suiji_platform::departments::seed(&db, "").await.unwrap();
    Some((isolated, db))
}

async fn run(db: &Db, bytes: Vec<u8>) -> (Summary, Vec<Rejection>) {
    let (tx, mut rx) = mpsc::channel(1024);
    let collector = tokio::spawn(async move {
        let mut rejections = Vec::new();
        while let Some(report) = rx.recv().await {
            if let Report::Rejected(r) = report {
                rejections.push(r);
            }
        }
        rejections
    });
    let summary = import_targets(db, "tester", "test.csv", std::io::Cursor::new(bytes), tx)
        .await
        .unwrap();
    (summary, collector.await.unwrap())
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

const HEADER: &str =
    "kind,credit_code,name,region_code,industry_code,departments,risk_level,abnormal";

async fn good_rows_land_and_bad_rows_are_named(backend: Backend) {
    let Some((isolated, db)) = directory(backend).await else {
        return;
    };
    let long_name = "长".repeat(201);
    let file = format!(
        "{HEADER}\n\
         enterprise,91350100M000100Y43,咸阳某食品有限公司,610402,1311,610400-SCJG,high,0\n\
         enterprise,91350100M000100Y4X,校验码错误公司,610402,1311,,low,0\n\
         individual_business,914403001922038216,未知地区店,999999,F52,,low,0\n\
         enterprise,91350100M000100Y43,重复行公司,610402,,,low,0\n\
         enterprise,91110000802100433B,{long_name},610402,,,low,0\n\
         enterprise,9144030071526726XG,好公司,610400,C13,610400-STHJ;610400-SCJG,medium,是\n\
         enterprise,914403001922038216,截断"
    );
    let (summary, rejections) = run(&db, file.into_bytes()).await;
    assert_eq!(
        (summary.rows_read, summary.accepted, summary.rejected),
        (7, 2, 5),
        "{rejections:?}"
    );
    assert_eq!(summary.rows_read, summary.accepted + summary.rejected);
    let named: Vec<(u64, &str)> = rejections
        .iter()
        .map(|r| (r.line, r.field.as_str()))
        .collect();
    assert_eq!(
        named,
        vec![
            (3, "credit_code"),
            (4, "region_code"),
            (5, "id"),
            (6, "name"),
            (8, "")
        ]
    );
    assert!(
        rejections[0].reason.contains("position 18"),
        "{}",
        rejections[0].reason
    );
    assert!(
        rejections[2].reason.contains("duplicate of line 2"),
        "{}",
        rejections[2].reason
    );
    assert!(
        rejections[4].reason.contains("truncated"),
        "{}",
        rejections[4].reason
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM targets").await, 2);
    let departments: String =
        sqlx::query_scalar("SELECT departments FROM targets WHERE id = '9144030071526726XG'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(departments, ",610400-STHJ,610400-SCJG,");
    let name: String =
        sqlx::query_scalar("SELECT name FROM targets WHERE id = '91350100M000100Y43'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(
        name, "咸阳某食品有限公司",
        "the first of two rows with one id wins; the second is refused"
    );
    db.close().await;
    isolated.cleanup().await;
}

async fn gbk_files_with_chinese_headers_import(backend: Backend) {
    let Some((isolated, db)) = directory(backend).await else {
        return;
    };
    let text = "类型,统一社会信用代码,名称,行政区划,风险等级\n企业,91350100M000100Y43,秦都区某商贸有限公司,610402,较高风险\n";
    let (bytes, _, _) = encoding_rs::GBK.encode(text);
    let (summary, rejections) = run(&db, bytes.into_owned()).await;
    assert_eq!(
        (summary.accepted, summary.rejected),
        (1, 0),
        "{rejections:?}"
    );
    let (name, risk): (String, String) = sqlx::query_as("SELECT name, risk FROM targets")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(
        (name.as_str(), risk.as_str()),
        ("秦都区某商贸有限公司", "medium_high")
    );

    // Bytes that are neither UTF-8 nor GB18030 reject their row, not the file.
    let mut bytes =
        format!("{HEADER}\nenterprise,91350100M000100Y43,好,610402,,,low,0\n").into_bytes();
    bytes.extend_from_slice(b"enterprise,914403001922038216,\xff\xff,610402,,,low,0\n");
    let (summary, rejections) = run(&db, bytes).await;
    assert_eq!((summary.accepted, summary.rejected), (1, 1));
    assert_eq!(rejections[0].line, 3);
    assert!(
        rejections[0].reason.contains("not valid"),
        "{}",
        rejections[0].reason
    );
    db.close().await;
    isolated.cleanup().await;
}

async fn reimport_updates_and_duplicates_across_batches_are_found(backend: Backend) {
    let Some((isolated, db)) = directory(backend).await else {
        return;
    };
    let mut file = Vec::new();
    let spec = TargetSpec {
        count: 20_500,
        seed: 3,
        province: "610000".into(),
        departments: vec!["610400-SCJG".into()],
    };
    generate::targets(&spec, &mut file).unwrap();
    let text = String::from_utf8(file).unwrap();
    // The repeat of line 2 comes after the first batch is committed, so the database finds it.
    const { assert!(20_500 > suiji_directories::import::BATCH) };
    let second_line = text.lines().nth(1).unwrap().to_string();
    let with_duplicate = format!("{text}{second_line}\n");
    let (summary, rejections) = run(&db, with_duplicate.into_bytes()).await;
    assert_eq!(
        (
            summary.rows_read,
            summary.accepted,
            summary.created,
            summary.rejected
        ),
        (20_501, 20_500, 20_500, 1)
    );
    assert_eq!(
        rejections,
        vec![Rejection {
            line: 20_502,
            field: "id".into(),
            reason: format!(
                "duplicate of line 2: {} appears twice in the file",
                rejections[0]
                    .reason
                    .split(": ")
                    .nth(1)
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
            ),
        }]
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM targets").await, 20_500);

    // Importing the same file again updates every row and creates none.
    let (summary, _) = run(&db, text.into_bytes()).await;
    assert_eq!(
        (summary.accepted, summary.created, summary.rejected),
        (20_500, 0, 0)
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM targets").await, 20_500);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM imports WHERE finished_at IS NOT NULL"
        )
        .await,
        2
    );
    db.close().await;
    isolated.cleanup().await;
}

async fn a_bad_header_rejects_the_file_at_line_1(backend: Backend) {
    let Some((isolated, db)) = directory(backend).await else {
        return;
    };
    let (summary, rejections) = run(&db, b"kind,name,colour\nenterprise,x,red\n".to_vec()).await;
    assert_eq!((summary.accepted, rejections.len()), (0, 1));
    assert_eq!(rejections[0].line, 1);
    assert!(
        rejections[0].reason.contains("unknown column \"colour\""),
        "{}",
        rejections[0].reason
    );
    let (_, rejections) = run(&db, Vec::new()).await;
    assert!(rejections[0].reason.contains("empty"));
    db.close().await;
    isolated.cleanup().await;
}

macro_rules! on_both_backends {
    ($($name:ident),*) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                super::$name(suiji_platform::testing::Backend::Embedded).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(suiji_platform::testing::Backend::Servers).await
            }
        }
    )*};
}

on_both_backends!(
    good_rows_land_and_bad_rows_are_named,
    gbk_files_with_chinese_headers_import,
    reimport_updates_and_duplicates_across_batches_are_found,
    a_bad_header_rejects_the_file_at_line_1
);
