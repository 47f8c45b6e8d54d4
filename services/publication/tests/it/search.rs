//! The public search by name against a plain reading of every record: records published before the name index
//! existed (filled by the migration) and after it (written with the record) are found by any part of their name,
//! ASCII letters in either case, `%`, `_` and `\` taken literally, page by page, newest first.

use sqlx::migrate::Migrator;
use suiji_platform::db::{Db, Migrations};
use suiji_platform::paging::Page;
use suiji_platform::testing::{self, Backend};
use suiji_publication::domain::public::PublicRecord;
use suiji_publication::store;

suiji_platform::on_both_backends!(names_are_found_through_the_index);

/// The migrations before the name index, as a database published before it had them.
fn before_the_index() -> Migrations {
    let older = |m: &'static Migrator| -> &'static Migrator {
        let kept = m.iter().filter(|m| m.version < 1005).cloned().collect();
        Box::leak(Box::new(Migrator::with_migrations(kept)))
    };
    let all = suiji_publication::migrations();
    Migrations {
        postgres: older(all.postgres),
        sqlite: older(all.sqlite),
    }
}

/// `n` names from a few parts: common ones (有限公司, 商贸), rarer ones, ASCII in both cases, and the characters
/// LIKE treats specially.
fn names(n: usize) -> Vec<String> {
    let places = ["西安", "咸阳", "宝鸡", "渭南", "汉中"];
    let words = [
        "长安", "秦川", "Abc", "华为", "50%", "a_b", "x\\y", "丝路", "大唐", "QinChuan",
    ];
    let trades = ["商贸", "科技", "食品", "餐饮", "建材", "医药", "物流"];
    let forms = ["有限公司", "有限责任公司", "个体工商户", "合作社"];
    (0..n)
        .map(|i| {
            format!(
                "{}{}{}{}",
                places[i % places.len()],
                words[(i / 3) % words.len()],
                trades[(i * 7 / 5) % trades.len()],
                forms[(i / 11) % forms.len()]
            )
        })
        .collect()
}

fn record(i: usize, name: &str) -> PublicRecord {
    PublicRecord {
        id: format!("TASK-{:02}/T{i:04}/SCJG/1", i % 17),
        credit_code: format!("91610400MA{i:08}"),
        target_name: name.to_string(),
        task_name: "联合抽查".into(),
        authority: "咸阳市市场监督管理局".into(),
        inspection_type: "双随机抽查".into(),
        inspection_date: format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
        item: "事项".into(),
        result: "未发现问题".into(),
        published_at: 0,
        corrections: Vec::new(),
    }
}

async fn names_are_found_through_the_index(backend: Backend) {
    if !testing::require(backend).await {
        return;
    }
    let isolated = testing::isolated(backend).await;
    let db = Db::connect(&isolated.settings.database, suiji_publication::NAME)
        .await
        .unwrap();
    db.migrate(&before_the_index()).await.unwrap();
    let all = names(420);
    let sort_key = |r: &PublicRecord| format!("{}|{}", r.inspection_date, r.id);
    // The first half published before the index, as the old code wrote them.
    for (i, name) in all.iter().enumerate().take(210) {
        let r = record(i, name);
        sqlx::query(
            "INSERT INTO public_records (result_id, credit_code, target_name, sort_key, published_day, doc) \
             VALUES ($1, $2, $3, $4, '2026-12-01', $5)",
        )
        .bind(&r.id)
        .bind(&r.credit_code)
        .bind(&r.target_name)
        .bind(sort_key(&r))
        .bind(serde_json::to_string(&r).unwrap())
        .execute(db.pool())
        .await
        .unwrap();
    }
    db.migrate(&suiji_publication::migrations()).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    for (i, name) in all.iter().enumerate().skip(210) {
        store::put_public(&mut tx, &record(i, name), "2026-12-02", None)
            .await
            .unwrap();
    }
    // A correction rewrites the record, not its place in the index.
    let mut corrected = record(300, &all[300]);
    corrected.result = "发现问题经责令已改正".into();
    store::put_public(&mut tx, &corrected, "2026-12-02", Some((1, "2026-12-03")))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let queries = [
        "有限公司",
        "西安长安",
        "abc",
        "ABC商贸",
        "qinchuan",
        "50%",
        "0%",
        "0%商",
        "a_b",
        "a_",
        "x\\y",
        "\\y",
        "华为科技有限",
        "宝鸡丝路物流个体工商户",
        "不存在",
        "商贸合作社",
        "限责",
        "a%",
    ];
    for q in queries {
        let folded = q.to_ascii_lowercase();
        let mut expected: Vec<(String, String)> = all
            .iter()
            .enumerate()
            .map(|(i, n)| (sort_key(&record(i, n)), n.clone()))
            .filter(|(_, n)| n.to_ascii_lowercase().contains(&folded))
            .collect();
        expected.sort_by(|a, b| b.0.cmp(&a.0));
        let mut found: Vec<(String, String)> = Vec::new();
        let mut page = Page {
            size: 7,
            after: String::new(),
        };
        loop {
            let mut conn = db.pool().acquire().await.unwrap();
            let rows = store::search_public(&mut conn, q, false, &page)
                .await
                .unwrap();
            let full = rows.len() as i64 == page.size;
            found.extend(rows.into_iter().map(|(k, r)| (k, r.target_name)));
            if !full {
                break;
            }
            page.after = found.last().unwrap().0.clone();
        }
        assert_eq!(found, expected, "query {q:?}");
    }
    let mut conn = db.pool().acquire().await.unwrap();
    let page = Page {
        size: 50,
        after: String::new(),
    };
    let hit = store::search_public(&mut conn, &all[300], false, &page)
        .await
        .unwrap();
    assert!(
        hit.iter()
            .any(|(_, r)| r.id == corrected.id && r.result == corrected.result),
        "{hit:?}"
    );
    drop(conn);
    db.pool().close().await;
    isolated.cleanup().await;
}
