//! The public search by name on PostgreSQL: `records` public records (five results for each of `records / 5`
//! targets, names made of a city, two characters of a pool, a trade and a legal form, as real names are), then
//! `callers` members of the public searching over gRPC for `seconds`. Prints p50/p99 for each kind of query and
//! for all of them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use suiji_api::publication::v1 as pb;
use suiji_api::publication::v1::publication_service_client::PublicationServiceClient;
use suiji_platform::grpc::{Bearer, channel};
use suiji_platform::testing::{self, Backend};
use suiji_publication::domain::public::PublicRecord;

const PLACES: [&str; 10] = [
    "西安", "咸阳", "宝鸡", "渭南", "延安", "汉中", "榆林", "安康", "商洛", "铜川",
];
const TRADES: [&str; 12] = [
    "商贸", "科技", "食品", "餐饮", "建材", "医药", "物流", "电子", "机械", "化工", "服装", "农业",
];
const FORMS: [&str; 4] = ["有限公司", "有限责任公司", "个体工商户", "农民专业合作社"];
/// The two characters after the city (the 字号) are taken from 2,000 CJK characters: real names draw on the
/// three thousand or so in common use, so most pairs of them are rare.
fn pool() -> String {
    (0..2000u32)
        .filter_map(|i| char::from_u32(0x4E00 + i * 10))
        .collect()
}
const RESULTS_PER_TARGET: i64 = 5;

/// A kind of query: the text typed, from a number.
type Query = Box<dyn Fn(i64) -> String + Send + Sync>;

/// The name of target `t`, as the SQL below makes it.
fn name(t: i64) -> String {
    let pool: Vec<char> = pool().chars().collect();
    let n = pool.len() as i64;
    format!(
        "{}{}{}{}{}",
        PLACES[(t % 10) as usize],
        pool[((t * 7919) % n) as usize],
        pool[((t * 104_729 / 7) % n) as usize],
        TRADES[((t / 10) % 12) as usize],
        FORMS[((t / 120) % 4) as usize]
    )
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Runs the benchmark.
pub async fn run(
    records: i64,
    callers: usize,
    seconds: u64,
    keep: bool,
    reuse: Option<&str>,
) -> anyhow::Result<()> {
    if !testing::require(Backend::Servers).await {
        return Ok(());
    }
    let mut isolated = match reuse {
        Some(name) => testing::reuse(name).await,
        None => testing::isolated(Backend::Servers).await,
    };
    let mut settings = (*isolated.settings).clone();
    // The callers stand for the public at many addresses.
    settings.grpc.limits.public_per_second = 1_000_000;
    settings.grpc.limits.public_burst = 1_000_000;
    let publication = testing::start_with(
        Arc::new(settings),
        isolated.bus().await,
        suiji_publication::NAME,
        &suiji_publication::migrations(),
        |ctx| async move { suiji_publication::start(&ctx).await },
    )
    .await;
    let db = publication.ctx.db.clone();
    if reuse.is_none() {
        let started = Instant::now();
        let template = serde_json::to_string(&PublicRecord {
            id: "@ID@".into(),
            credit_code: "@CODE@".into(),
            target_name: "@NAME@".into(),
            task_name: "基准联合抽查".into(),
            authority: "咸阳市市场监督管理局".into(),
            inspection_type: "双随机抽查".into(),
            inspection_date: "@DATE@".into(),
            item: "基准事项".into(),
            result: "未发现问题".into(),
            published_at: 1_800_000_000_000,
            corrections: Vec::new(),
        })?;
        let array = |parts: &[&str]| format!("(ARRAY['{}'])", parts.join("','"));
        // The database makes the rows: target t = g / 5, its name as `name(t)` makes it.
        let sql = format!(
            "INSERT INTO public_records (result_id, credit_code, target_name, sort_key, published_day, doc, name_key) \
             SELECT id, code, nm, dt || '|' || id, '2026-12-01', \
             replace(replace(replace(replace($1, '@ID@', id), '@CODE@', code), '@NAME@', nm), '@DATE@', dt), nm \
             FROM (SELECT 'TASK-2026-' || lpad((g / 1000)::text, 6, '0') || '/T' || lpad(t::text, 8, '0') || '/SCJG/' \
             || (g % {RESULTS_PER_TARGET}) AS id, '91610400' || lpad(t::text, 10, '0') AS code, \
             {places}[1 + t % 10] || substr($2, 1 + ((t * 7919) % length($2))::int, 1) \
             || substr($2, 1 + ((t * 104729 / 7) % length($2))::int, 1) || {trades}[1 + (t / 10) % 12] \
             || {forms}[1 + (t / 120) % 4] AS nm, \
             '2026-' || lpad((1 + g % 12)::text, 2, '0') || '-' || lpad((1 + g % 28)::text, 2, '0') AS dt \
             FROM (SELECT g, g / {RESULTS_PER_TARGET} AS t FROM generate_series(0, $3 - 1) AS g) AS s) AS r",
            places = array(&PLACES),
            trades = array(&TRADES),
            forms = array(&FORMS),
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&template)
            .bind(pool())
            .bind(records)
            .execute(db.pool())
            .await?;
        // The pairs as migration 1005 fills them for records published before it.
        sqlx::query(
            "INSERT INTO public_name_grams (gram, sort_key, name_key) SELECT DISTINCT substr(name_key, i, 2), \
             sort_key, name_key FROM public_records, generate_series(1, length(name_key) - 1) AS i",
        )
        .execute(db.pool())
        .await?;
        // As autovacuum leaves them in steady state: statistics, and the visibility map that lets the pairs' index
        // be read without the table.
        sqlx::query("VACUUM ANALYZE public_records")
            .execute(db.pool())
            .await?;
        sqlx::query("VACUUM ANALYZE public_name_grams")
            .execute(db.pool())
            .await?;
        let pairs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM public_name_grams")
            .fetch_one(db.pool())
            .await?;
        println!(
            "public search: {records} public records of {} targets and {pairs} name pairs made in {:.1} s",
            records / RESULTS_PER_TARGET,
            started.elapsed().as_secs_f64()
        );
    }
    // What the public types: a whole name, a city and the two characters after it, two characters alone, a
    // trade (one record in twelve), a trade and a form together, and a name no record has.
    let targets = records / RESULTS_PER_TARGET;
    let pool: Vec<char> = pool().chars().collect();
    let kinds: [(&str, Query); 6] = [
        ("a whole name", Box::new(move |t| name(t % targets))),
        (
            "city and two characters",
            Box::new(move |t| name(t % targets).chars().take(4).collect()),
        ),
        (
            "two characters",
            Box::new(move |t| {
                let n = pool.len() as i64;
                format!(
                    "{}{}",
                    pool[((t * 7919) % n) as usize],
                    pool[((t * 104_729 / 7) % n) as usize]
                )
            }),
        ),
        ("a trade", Box::new(|t| TRADES[(t % 12) as usize].into())),
        (
            "a trade and a form",
            Box::new(|t| {
                format!(
                    "{}{}",
                    TRADES[(t % 12) as usize],
                    FORMS[((t / 12) % 4) as usize]
                )
            }),
        ),
        ("no such name", Box::new(|t| format!("无此企业{t}号"))),
    ];
    let kinds = Arc::new(kinds);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for worker in 0..callers {
        let mut public = PublicationServiceClient::with_interceptor(
            channel(&publication.addr)?,
            Bearer::new(None),
        );
        let kinds = kinds.clone();
        workers.push(tokio::spawn(async move {
            let mut seen: Vec<Vec<Duration>> = vec![Vec::new(); kinds.len()];
            let mut found = 0usize;
            let mut n = worker as i64 * 7919;
            while Instant::now() < deadline {
                n = (n + 104_729) % 1_000_000_007;
                let k = (n % kinds.len() as i64) as usize;
                let query = (kinds[k].1)(n / 7);
                let start = Instant::now();
                let r = public
                    .public_search(pb::PublicSearchRequest {
                        query,
                        ..Default::default()
                    })
                    .await?;
                seen[k].push(start.elapsed());
                found += r.into_inner().records.len();
            }
            Ok::<_, tonic::Status>((seen, found))
        }));
    }
    let mut by_kind: Vec<Vec<Duration>> = vec![Vec::new(); kinds.len()];
    let mut found = 0;
    for w in workers {
        let (seen, f) = w.await??;
        for (all, mine) in by_kind.iter_mut().zip(seen) {
            all.extend(mine);
        }
        found += f;
    }
    let mut all: Vec<Duration> = by_kind.iter().flatten().copied().collect();
    all.sort();
    println!(
        "public search by name at {records} public records ({callers} callers, {seconds} s): {} queries, {:.0}/s, \
         p50 {:.1} ms, p99 {:.1} ms (goal < 20 ms; {found} records returned)",
        all.len(),
        all.len() as f64 / seconds as f64,
        percentile(&all, 0.50),
        percentile(&all, 0.99),
    );
    for ((label, _), mut l) in kinds.iter().zip(by_kind) {
        l.sort();
        println!(
            "  {label}: {} queries, p50 {:.1} ms, p99 {:.1} ms",
            l.len(),
            percentile(&l, 0.50),
            percentile(&l, 0.99)
        );
    }
    publication.stop().await;
    if keep && let Some(name) = isolated.keep_database() {
        println!("public search: database {name} kept");
    }
    isolated.cleanup().await;
    Ok(())
}
