//! Bulk import of targets: good rows land, bad rows are named by line, column and reason, nothing is
//! half-written; on both backends.

use suiji_directories::domain::target::Target;
use suiji_directories::generate::{self, Spec};
use suiji_directories::import::{Rejection, Report, Sizes, Summary, import, import_all};
use suiji_platform::db::Db;
use suiji_platform::messages::msg;
use suiji_platform::testing::{self, Backend, Isolated};
use tokio::sync::mpsc;

pub(crate) async fn directory(backend: Backend) -> Option<(Isolated, Db)> {
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

pub(crate) async fn run(db: &Db, bytes: Vec<u8>) -> (Summary, Vec<Rejection>) {
    run_as(db, bytes, suiji_directories::import::Format::Csv)
        .await
        .unwrap()
}

pub(crate) async fn run_as(
    db: &Db,
    bytes: Vec<u8>,
    format: suiji_directories::import::Format,
) -> Result<(Summary, Vec<Rejection>), suiji_directories::import::ImportError> {
    run_sized(db, bytes, format, Sizes::default()).await
}

/// Imports targets from `bytes`, cutting the work by `sizes`; the summary and every rejection reported.
async fn run_sized(
    db: &Db,
    bytes: Vec<u8>,
    format: suiji_directories::import::Format,
    sizes: Sizes,
) -> Result<(Summary, Vec<Rejection>), suiji_directories::import::ImportError> {
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
    let summary = import::<Target>(
        db,
        suiji_directories::import::Actor {
            subject: "tester",
            scope: None,
        },
        "test.csv",
        format,
        std::io::Cursor::new(bytes),
        tx,
        sizes,
    )
    .await;
    let rejections = collector.await.unwrap();
    Ok((summary?, rejections))
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
        rejections[0].reason.text().contains("position 18"),
        "{}",
        rejections[0].reason
    );
    assert!(
        rejections[2].reason.text().contains("duplicate of line 2"),
        "{}",
        rejections[2].reason
    );
    assert!(
        rejections[4].reason.text().contains("truncated"),
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
        rejections[0].reason.text().contains("not valid"),
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
    let spec = Spec {
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
    let reason = rejections[0].reason.text();
    let id = reason
        .split(": ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert_eq!(
        rejections,
        vec![Rejection {
            line: 20_502,
            field: "id".into(),
            column: rejections[0].column.clone(),
            reason: msg("import-duplicate").arg("first", 2).arg("id", id),
        }]
    );
    assert_eq!(
        reason,
        format!("duplicate of line 2: {id} appears twice in the file")
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
        rejections[0]
            .reason
            .text()
            .contains("unknown column \"colour\""),
        "{}",
        rejections[0].reason
    );
    let (_, rejections) = run(&db, Vec::new()).await;
    assert!(rejections[0].reason.text().contains("empty"));
    db.close().await;
    isolated.cleanup().await;
}

async fn xlsx_workbooks_import(backend: Backend) {
    let Some((isolated, db)) = directory(backend).await else {
        return;
    };
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, h) in [
        "类型",
        "统一社会信用代码",
        "名称",
        "行政区划",
        "风险等级",
        "重点关注",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let rows: [(&str, &str, &str, f64, &str); 3] = [
        (
            "企业",
            "91350100M000100Y43",
            "表格里的公司",
            610402.0,
            "高风险",
        ),
        ("企业", "91350100M000100Y4X", "校验码错", 610402.0, "低风险"),
        (
            "个体工商户",
            "914403001922038216",
            "表格里的店",
            610404.0,
            "",
        ),
    ];
    for (i, (kind, code, name, region, risk)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, *kind).unwrap();
        sheet.write_string(r, 1, *code).unwrap();
        sheet.write_string(r, 2, *name).unwrap();
        // Region codes typed as numbers, as spreadsheets do.
        sheet.write_number(r, 3, *region).unwrap();
        if !risk.is_empty() {
            sheet.write_string(r, 4, *risk).unwrap();
        }
    }
    sheet.write_boolean(1, 5, true).unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let (summary, rejections) = run_as(&db, bytes, suiji_directories::import::Format::Xlsx)
        .await
        .unwrap();
    assert_eq!(
        (summary.rows_read, summary.accepted, summary.rejected),
        (3, 2, 1),
        "{rejections:?}"
    );
    assert_eq!(
        (rejections[0].line, rejections[0].field.as_str()),
        (3, "credit_code"),
        "sheet row numbers"
    );
    let (region, risk, key_focus): (String, String, i64) = sqlx::query_as(
        "SELECT region_code, risk, key_focus FROM targets WHERE id = '91350100M000100Y43'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(
        (region.as_str(), risk.as_str(), key_focus),
        ("610402", "high", 1)
    );

    // Something that is not a workbook is refused as a whole at line 1, and nothing is written.
    let (summary, rejections) = run_as(
        &db,
        b"PK not really a zip".to_vec(),
        suiji_directories::import::Format::Xlsx,
    )
    .await
    .unwrap();
    assert_eq!((summary.rows_read, summary.accepted), (0, 0));
    assert_eq!(
        (rejections[0].line, rejections[0].reason.code()),
        (1, "import-workbook-unreadable"),
        "{rejections:?}"
    );
    assert!(
        rejections[0].reason.text().contains("XLSX"),
        "{rejections:?}"
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM targets").await, 2);
    db.close().await;
    isolated.cleanup().await;
}

async fn inspectors_import_with_their_own_rules(backend: Backend) {
    let Some((isolated, db)) = directory(backend).await else {
        return;
    };
    let file = "编号,姓名,所属部门,执法证号,执法证有效期至,资格,专家,行政区划,状态\n\
                XY-0001,李四,610400-SCJG,61040012345,2027-06-30,food-safety;market-regulation,是,610400,在岗\n\
                XY-0002,王五,610400-NOPE,61040012346,2027-06-30,,否,610400,\n\
                XY-0003,赵六,610400-SCJG,,30/06/2027,,,610400,休假\n\
                XY-0001,李四重复,610400-SCJG,61040012347,2028-01-01,,,610400,\n\
                XY-0004,孙七,610400-STHJ,61040099999,2026-12-31,environment,,610404,retired\n";
    let (tx, mut rx) = mpsc::channel(64);
    let collector = tokio::spawn(async move {
        let mut rejections = Vec::new();
        while let Some(report) = rx.recv().await {
            if let Report::Rejected(r) = report {
                rejections.push(r);
            }
        }
        rejections
    });
    let summary =
        suiji_directories::import::import_all::<suiji_directories::domain::inspector::Inspector>(
            &db,
            "tester",
            "inspectors.csv",
            suiji_directories::import::Format::Csv,
            std::io::Cursor::new(file.as_bytes().to_vec()),
            tx,
        )
        .await
        .unwrap();
    let rejections = collector.await.unwrap();
    assert_eq!(
        (summary.rows_read, summary.accepted, summary.rejected),
        (5, 2, 3),
        "{rejections:?}"
    );
    let named: Vec<(u64, &str)> = rejections
        .iter()
        .map(|r| (r.line, r.field.as_str()))
        .collect();
    assert_eq!(
        named,
        vec![
            (3, "department"),
            (4, "certificate_no"),
            (4, "certificate_expires"),
            (5, "id")
        ]
    );
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT id, qualifications, certificate_expires, expert FROM inspectors ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            (
                "XY-0001".into(),
                ",food-safety,market-regulation,".into(),
                "2027-06-30".into(),
                1
            ),
            (
                "XY-0004".into(),
                ",environment,".into(),
                "2026-12-31".into(),
                0
            )
        ]
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM imports WHERE what = 'inspectors'"
        )
        .await,
        1
    );
    db.close().await;
    isolated.cleanup().await;
}

/// Small runs and chunks, so that a modest file goes through every part of the PostgreSQL path: rows spilled
/// to many sorted runs and merged, a duplicate far from its first line found in the merge, chunks dealt to both
/// writers, and a second import of known and new ids, whose chunks hit known ids and are merged instead.
async fn imports_sorted_on_disk_and_written_in_chunks(backend: Backend) {
    use suiji_directories::import::Format;
    let Some((isolated, db)) = directory(backend).await else {
        return;
    };
    let sizes = Sizes {
        sort_run: 500,
        chunk: 700,
    };
    let generated = |seed, count| {
        let mut file = Vec::new();
        let spec = Spec {
            count,
            seed,
            province: "610000".into(),
            departments: vec!["610400-SCJG".into()],
        };
        generate::targets(&spec, &mut file).unwrap();
        String::from_utf8(file).unwrap()
    };
    let sized = |text: String| {
        let db = db.clone();
        async move {
            run_sized(&db, text.into_bytes(), Format::Csv, sizes)
                .await
                .unwrap()
        }
    };
    let text = generated(7, 12_000);
    let lines: Vec<&str> = text.lines().collect();
    // Line 5's id again at the end of the file: in another run, found when the runs are merged.
    let (summary, rejections) = sized(format!("{text}{}\n", lines[4])).await;
    assert_eq!(
        (
            summary.rows_read,
            summary.accepted,
            summary.created,
            summary.rejected
        ),
        (12_001, 12_000, 12_000, 1)
    );
    assert_eq!(rejections.len(), 1);
    assert_eq!(
        (rejections[0].line, rejections[0].field.as_str()),
        (12_002, "id")
    );
    assert!(
        rejections[0]
            .reason
            .text()
            .starts_with("duplicate of line 5: "),
        "{}",
        rejections[0].reason
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM targets").await, 12_000);
    let first_import = summary.import_id.clone();

    // Half the known ids again, with new ones between them in key order.
    let fresh = generated(8, 3_000);
    let again = format!(
        "{}\n{}\n{}",
        lines[0],
        lines[6_001..].join("\n"),
        fresh.lines().skip(1).collect::<Vec<_>>().join("\n")
    );
    let (summary, rejections) = sized(again).await;
    assert_eq!(rejections, vec![]);
    assert_eq!(
        (summary.accepted, summary.created, summary.rejected),
        (9_000, 3_000, 0)
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM targets").await, 15_000);
    let by_import: Vec<(String, i64)> = sqlx::query_as(
        "SELECT import_id, COUNT(*) FROM targets GROUP BY import_id ORDER BY COUNT(*)",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(
        by_import,
        vec![(first_import, 6_000), (summary.import_id.clone(), 9_000)]
    );
    db.close().await;
    isolated.cleanup().await;
}

/// Rows are checked on several threads, a run at a time; the rejections still come in the file's order, whether
/// a row is refused by its checks or cannot be read at all, and every good row lands.
async fn rejections_come_in_file_order_from_every_checker(backend: Backend) {
    let Some((isolated, db)) = directory(backend).await else {
        return;
    };
    let mut file = Vec::new();
    let spec = Spec {
        count: 9_000,
        seed: 5,
        province: "610000".into(),
        departments: vec!["610400-SCJG".into()],
    };
    generate::targets(&spec, &mut file).unwrap();
    let text = String::from_utf8(file).unwrap();
    let mut bytes = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let number = i as u64 + 1;
        if number.is_multiple_of(997) {
            // A row cut short: its checks refuse it.
            bytes.extend_from_slice(b"enterprise,x\n");
            bad.push(number);
        } else if number.is_multiple_of(1_499) {
            // Bytes that are not UTF-8: the reader refuses it before any check.
            bytes.extend_from_slice(b"enterprise,\xff\xfe\n");
            bad.push(number);
        } else {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
    }
    bad.sort_unstable();
    let (summary, rejections) = run(&db, bytes).await;
    let lines: Vec<u64> = rejections.iter().map(|r| r.line).collect();
    let mut distinct = lines.clone();
    distinct.dedup();
    assert_eq!(distinct, bad, "{rejections:?}");
    assert!(lines.is_sorted(), "{lines:?}");
    assert_eq!(
        (summary.rows_read, summary.rejected, summary.accepted),
        (9_000, bad.len() as u64, 9_000 - bad.len() as u64)
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM targets").await,
        9_000 - bad.len() as i64
    );
    db.close().await;
    isolated.cleanup().await;
}

/// The schema of `targets` as a migrated database has it: its indexes and constraints.
async fn targets_schema(db: &Db) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT indexname::text, indexdef FROM pg_indexes WHERE tablename = 'targets' \
         UNION ALL SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid = 'targets'::regclass ORDER BY 1, 2",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
}

/// An import into the empty table on PostgreSQL loads a copy without indexes and swaps it in: afterwards the
/// table has the same indexes and constraints as before, under the same names, and no copy is left. A second
/// first load waits for none (it writes into the table itself), and rows that reach the table during a first
/// load are kept, the loaded ones merged into them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_load_swaps_in_a_table_like_the_migrated_one() {
    use suiji_directories::first_load;
    use suiji_directories::store::TARGETS;
    let Some((isolated, db)) = directory(Backend::Servers).await else {
        return;
    };
    let pg = db.postgres().unwrap().clone();
    let migrated = targets_schema(&db).await;
    assert!(
        migrated.iter().any(|(name, _)| name == "targets_region"),
        "{migrated:?}"
    );
    let mut file = Vec::new();
    let spec = Spec {
        count: 2_000,
        seed: 11,
        province: "610000".into(),
        departments: vec!["610400-SCJG".into()],
    };
    generate::targets(&spec, &mut file).unwrap();
    let relation = "SELECT 'targets'::regclass::oid::bigint";
    let before = count(&db, relation).await;
    let (summary, rejections) = run(&db, file).await;
    assert_eq!(rejections, vec![]);
    assert_eq!((summary.accepted, summary.created), (2_000, 2_000));
    assert_ne!(
        count(&db, relation).await,
        before,
        "the loaded copy took the table's place"
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM targets").await, 2_000);
    assert_eq!(targets_schema(&db).await, migrated);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM pg_class WHERE relname LIKE 'targets_loading%'"
        )
        .await,
        0
    );
    // The loaded range is marked for the snapshots' segments, and the key is a key.
    assert!(count(&db, "SELECT COUNT(*) FROM target_segments_stale").await >= 1);
    let again = sqlx::query("INSERT INTO targets SELECT * FROM targets LIMIT 1")
        .execute(db.pool())
        .await;
    assert!(suiji_platform::db::is_unique_violation(&again.unwrap_err()));

    // The table emptied again; a first load begins, and a second one is refused while it runs.
    sqlx::query("CREATE TABLE kept AS SELECT * FROM targets")
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM targets")
        .execute(db.pool())
        .await
        .unwrap();
    let load = first_load::begin(&pg, &TARGETS).await.unwrap().unwrap();
    assert!(first_load::begin(&pg, &TARGETS).await.unwrap().is_none());
    let loaded = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {} SELECT * FROM kept WHERE id > (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY id) FROM kept)",
        load.into
    )))
    .execute(db.pool())
    .await
    .unwrap()
    .rows_affected();
    assert!(loaded > 900 && loaded < 1_100, "{loaded}");
    // Meanwhile another writer puts the other half into the table itself.
    sqlx::query(
        "INSERT INTO targets SELECT * FROM kept WHERE id NOT IN (SELECT id FROM targets_loading)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let merged = load.finish(&pg, loaded, 1).await.unwrap().unwrap();
    assert_eq!((merged.created, merged.updated), (loaded, 0));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM targets").await, 2_000);
    assert_eq!(targets_schema(&db).await, migrated);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM pg_class WHERE relname LIKE 'targets_loading%'"
        )
        .await,
        0
    );
    // The lock went with the load: the next first load of the empty table may begin.
    sqlx::query("DELETE FROM targets")
        .execute(db.pool())
        .await
        .unwrap();
    let next = first_load::begin(&pg, &TARGETS).await.unwrap();
    assert!(next.is_some());
    db.close().await;
    isolated.cleanup().await;
}

suiji_platform::on_both_backends!(
    good_rows_land_and_bad_rows_are_named,
    rejections_come_in_file_order_from_every_checker,
    imports_sorted_on_disk_and_written_in_chunks,
    gbk_files_with_chinese_headers_import,
    reimport_updates_and_duplicates_across_batches_are_found,
    a_bad_header_rejects_the_file_at_line_1,
    xlsx_workbooks_import,
    inspectors_import_with_their_own_rules
);

/// An upload that breaks off mid-file ends the import with an error (not a made-up row rejection); every
/// complete row before the break is committed, and the import stays recorded as unfinished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_that_breaks_off_stops_the_import() {
    let Some((isolated, db)) = directory(Backend::Embedded).await else {
        return;
    };
    // More than the encoding sniffer reads up front, so the break comes while rows are being parsed.
    let mut file = Vec::new();
    let spec = Spec {
        count: 1000,
        seed: 5,
        province: "610000".into(),
        departments: vec![],
    };
    generate::targets(&spec, &mut file).unwrap();
    assert!(file.len() > 64 * 1024);
    let text = String::from_utf8(file).unwrap();
    let broken = tokio_util::io::StreamReader::new(futures::stream::iter(vec![
        Ok(bytes::Bytes::from(text)),
        Err(std::io::Error::other("connection reset")),
    ]));
    let (tx, mut rx) = mpsc::channel(16);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let result = import_all::<suiji_directories::domain::target::Target>(
        &db,
        "tester",
        "t.csv",
        suiji_directories::import::Format::Csv,
        broken,
        tx,
    )
    .await;
    assert!(result.unwrap_err().to_string().contains("connection reset"));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM targets").await, 1000);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM imports WHERE finished_at IS NULL"
        )
        .await,
        1
    );
    db.close().await;
    isolated.cleanup().await;
}

/// A workbook rebuilt from `bytes` with each part `change` returns changed and `extra` parts added.
fn rebuilt(
    bytes: &[u8],
    change: impl Fn(&str, Vec<u8>) -> Vec<u8>,
    extra: &[(&str, Vec<u8>)],
) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut from = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut to = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..from.len() {
        let mut part = from.by_index(i).unwrap();
        let name = part.name().unwrap().to_string();
        let mut content = Vec::new();
        part.read_to_end(&mut content).unwrap();
        to.start_file(name.as_str(), options).unwrap();
        to.write_all(&change(&name, content)).unwrap();
    }
    for (name, content) in extra {
        to.start_file(*name, options).unwrap();
        to.write_all(content).unwrap();
    }
    to.finish().unwrap().into_inner()
}

/// Files made to take the service down — a zip bomb, a workbook whose shared strings claim more entries than any
/// memory holds, a CSV field of 100 MB — each end in a clear rejection at line 1 or at the row, nothing of theirs
/// written; and the next import goes through in the same process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_files_end_in_a_clear_error_and_the_service_stays_up() {
    use suiji_directories::import::Format;
    let Some((isolated, db)) = directory(Backend::Embedded).await else {
        return;
    };
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, h) in ["类型", "统一社会信用代码", "名称", "行政区划"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in ["企业", "91350100M000100Y43", "表格里的公司", "610402"]
        .iter()
        .enumerate()
    {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    let good = workbook.save_to_buffer().unwrap();

    // A part of 64 MiB of zeros, packed about a thousand times.
    let bomb = rebuilt(
        &good,
        |_, c| c,
        &[("xl/media/image1.bin", vec![0u8; 64 << 20])],
    );
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let (summary, rejections) = run_as(&db, bomb, Format::Xlsx).await.unwrap();
    assert_eq!(summary.accepted, 0);
    assert_eq!(rejections.len(), 1, "{rejections:?}");
    assert_eq!(rejections[0].line, 1);
    assert_eq!(rejections[0].reason.code(), "import-workbook-ratio");

    // Shared strings that claim a trillion entries: calamine would reserve memory for every one.
    let lying = rebuilt(
        &good,
        |name, content| {
            if !name.ends_with("sharedStrings.xml") {
                return content;
            }
            let text = String::from_utf8(content).unwrap();
            let at = text.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
            let end = at + text[at..].find('"').unwrap();
            format!("{}1000000000000{}", &text[..at], &text[end..]).into_bytes()
        },
        &[],
    );
    let (summary, rejections) = run_as(&db, lying, Format::Xlsx).await.unwrap();
    assert_eq!(summary.accepted, 0);
    assert_eq!(
        rejections[0].reason.code(),
        "import-workbook-strings",
        "{rejections:?}"
    );

    // One quoted field of 100 MB: refused at its row once it passes the longest a row may be, not read whole.
    let mut csv =
        b"kind,credit_code,name,region_code\nenterprise,91110000802100433B,ok,610402\n".to_vec();
    csv.extend_from_slice(b"enterprise,9144030071526726XA,\"");
    csv.resize(csv.len() + (100 << 20), b'a');
    csv.extend_from_slice(b"\",610402\n");
    let (summary, rejections) = run(&db, csv).await;
    assert_eq!(
        (summary.rows_read, summary.accepted),
        (2, 1),
        "{rejections:?}"
    );
    assert_eq!(rejections.len(), 1, "{rejections:?}");
    assert_eq!(
        (rejections[0].line, rejections[0].reason.code()),
        (3, "import-record-too-long")
    );

    // The process is still here, and the good workbook imports.
    let (summary, rejections) = run_as(&db, good, Format::Xlsx).await.unwrap();
    assert_eq!(summary.accepted, 1, "{rejections:?}");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM targets WHERE id = '91350100M000100Y43'"
        )
        .await,
        1
    );
    db.close().await;
    isolated.cleanup().await;
}
