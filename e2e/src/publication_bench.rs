//! The publication benchmark on PostgreSQL and RabbitMQ: concluded visits arrive on the bus (ten items of two
//! departments each), their results are entered and approved over gRPC, then published over gRPC in batches while
//! the public searches by credit code at the same time. Prints results created, entered and published per second
//! and the public query's p50/p99 under that load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use suiji_api::directories::v1 as dir;
use suiji_api::inspection::v1 as insp;
use suiji_api::publication::v1 as pb;
use suiji_api::publication::v1::publication_service_client::PublicationServiceClient;
use suiji_draw::testkit::{self, World};
use suiji_platform::grpc::{Bearer, channel};
use suiji_platform::outbox::{self, Event};
use suiji_platform::testing::{self, Backend};

type Client =
    PublicationServiceClient<tonic::codegen::InterceptedService<tonic::transport::Channel, Bearer>>;

const DEPARTMENTS: [&str; 2] = [testkit::SCJG, testkit::STHJ];
const ITEMS_PER_DEPARTMENT: usize = 5;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Runs the benchmark with `results` results (a multiple of ten) and `clients` concurrent callers.
pub async fn run(results: usize, clients: usize) -> anyhow::Result<()> {
    if !testing::require(Backend::Servers).await {
        return Ok(());
    }
    let visits = results.div_ceil(DEPARTMENTS.len() * ITEMS_PER_DEPARTMENT);
    let w = World::start_in(testing::isolated(Backend::Servers).await).await;
    let mut directories = w.directories_client();
    testkit::import_targets(&mut directories, visits as u64, 11, &DEPARTMENTS).await;
    let mut targets: Vec<(String, String)> = Vec::with_capacity(visits);
    let mut page_token = String::new();
    loop {
        let page = directories
            .list_targets(dir::ListTargetsRequest {
                page_size: 500,
                page_token,
                ..Default::default()
            })
            .await?
            .into_inner();
        targets.extend(page.targets.into_iter().map(|t| {
            // The public finds a target without a credit code by its identifier.
            let code = if t.credit_code.is_empty() {
                t.id.clone()
            } else {
                t.credit_code
            };
            (t.id, code)
        }));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let mut settings = (*w.isolated.settings).clone();
    settings.services.directories = w.directories.addr.clone();
    // The searchers stand for the public at many addresses: from this one address they are not held to the limit of
    // one address's calls without a token.
    settings.grpc.limits.public_per_second = 1_000_000;
    settings.grpc.limits.public_burst = 1_000_000;
    let publication = testing::start_with(
        Arc::new(settings),
        w.isolated.bus().await,
        suiji_publication::NAME,
        &suiji_publication::migrations(),
        |ctx| async move { suiji_publication::start(&ctx).await },
    )
    .await;

    // Visits concluded today, put on the bus through the directories' outbox as the inspection would.
    let today = suiji_platform::calendar::today().to_string();
    let started = Instant::now();
    for chunk in targets.chunks(1000) {
        let mut tx = w.directories.ctx.db.begin().await?;
        for (id, _) in chunk {
            let event = insp::VisitConcludedEvent {
                task_id: "TASK-BENCH".into(),
                visit_id: format!("TASK-BENCH/{id}"),
                target_id: id.clone(),
                visit_date: today.clone(),
                outcome: "inspected".into(),
                task_name: "基准联合抽查".into(),
                lead_department_code: DEPARTMENTS[0].into(),
                concluded_date: today.clone(),
                outcomes: DEPARTMENTS
                    .iter()
                    .map(|d| insp::DepartmentOutcome {
                        department_code: d.to_string(),
                        problem_found: false,
                        items: (1..=ITEMS_PER_DEPARTMENT)
                            .map(|i| insp::ItemOutcome {
                                item_code: format!("{}-{i}", &d[7..]),
                                item_name: format!("基准事项 {i}"),
                                ..Default::default()
                            })
                            .collect(),
                    })
                    .collect(),
                inspector_ids: Vec::new(),
            };
            outbox::enqueue(
                &mut tx,
                "inspection",
                Event::new::<suiji_api::topics::VisitConcluded>("TASK-BENCH", &event),
            )
            .await?;
        }
        tx.commit().await?;
        w.directories.ctx.relay.notify();
    }
    let db = publication.ctx.db.clone();
    let total = visits * DEPARTMENTS.len() * ITEMS_PER_DEPARTMENT;
    loop {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM results")
            .fetch_one(db.pool())
            .await?;
        if n as usize >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let created = started.elapsed();
    println!(
        "publication: {total} results from {visits} concluded visits over RabbitMQ (one directories lookup per \
         visit) in {:.1} s: {:.0} results/s",
        created.as_secs_f64(),
        total as f64 / created.as_secs_f64()
    );

    let client = |department: &str, roles: &[&str]| -> anyhow::Result<Client> {
        let token = w.isolated.token(department, roles);
        Ok(PublicationServiceClient::with_interceptor(
            channel(&publication.addr)?,
            Bearer::new(Some(&token)),
        ))
    };
    let ids: Vec<(String, &str)> = targets
        .iter()
        .flat_map(|(id, _)| {
            DEPARTMENTS.iter().flat_map(move |d| {
                (1..=ITEMS_PER_DEPARTMENT)
                    .map(move |i| (format!("TASK-BENCH/{id}/{d}/{}-{i}", &d[7..]), *d))
            })
        })
        .collect();
    let ids = Arc::new(ids);

    // Entry and approval, each result by its own department: entered by one person, approved by another (four
    // eyes).
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..clients {
        let ids = ids.clone();
        let people = |role: &str| -> anyhow::Result<Vec<Client>> {
            DEPARTMENTS.iter().map(|d| client(d, &[role])).collect()
        };
        let (entries, reviewers) = (
            people("publication.entry")?,
            people("publication.reviewer")?,
        );
        tasks.push(tokio::spawn(async move {
            for (id, d) in ids.iter().skip(worker).step_by(clients) {
                let at = DEPARTMENTS.iter().position(|x| x == d).unwrap();
                let (mut c, mut r) = (entries[at].clone(), reviewers[at].clone());
                c.enter_result(pb::EnterResultRequest {
                    id: id.clone(),
                    content: Some(pb::Content {
                        codes: vec!["1".into()],
                        disposal: pb::Disposal::None as i32,
                        ..Default::default()
                    }),
                    expected_revision: 0,
                })
                .await?;
                r.review_result(pb::ReviewResultRequest {
                    id: id.clone(),
                    decision: pb::ReviewDecision::Approve as i32,
                    ..Default::default()
                })
                .await?;
            }
            Ok::<_, tonic::Status>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let entered = started.elapsed();
    println!(
        "publication: {total} results entered and approved over gRPC ({clients} callers, two calls each) in {:.1} s: \
         {:.0} results/s",
        entered.as_secs_f64(),
        total as f64 / entered.as_secs_f64()
    );

    // Publication in batches of 100 per department, while the public searches by credit code. Publishers and
    // searchers share the service's 16 database connections, half each.
    let publishing = Arc::new(AtomicBool::new(true));
    let mut searchers = Vec::new();
    let searchers_n = clients.min(8);
    for worker in 0..searchers_n {
        let mut public = PublicationServiceClient::with_interceptor(
            channel(&publication.addr)?,
            Bearer::new(None),
        );
        let codes: Vec<String> = targets.iter().map(|(_, c)| c.clone()).collect();
        let publishing = publishing.clone();
        searchers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut found = 0usize;
            let mut n = worker * 7919;
            while publishing.load(Ordering::Relaxed) {
                n = (n + 104_729) % codes.len();
                let start = Instant::now();
                let r = public
                    .public_search(pb::PublicSearchRequest {
                        query: codes[n].clone(),
                        ..Default::default()
                    })
                    .await?;
                latencies.push(start.elapsed());
                found += r.into_inner().records.len();
            }
            Ok::<_, tonic::Status>((latencies, found))
        }));
    }
    let started = Instant::now();
    let mut publishers = Vec::new();
    let batches: Vec<Vec<String>> = ids
        .chunks(100)
        .map(|c| c.iter().map(|(id, _)| id.clone()).collect())
        .collect();
    let batches = Arc::new(batches);
    let publishers_n = clients.min(8);
    for worker in 0..publishers_n {
        let batches = batches.clone();
        let reviewers: Vec<Client> = DEPARTMENTS
            .iter()
            .map(|d| client(d, &["publication.reviewer"]))
            .collect::<anyhow::Result<_>>()?;
        publishers.push(tokio::spawn(async move {
            let mut published = 0usize;
            for batch in batches.iter().skip(worker).step_by(publishers_n) {
                for (i, d) in DEPARTMENTS.iter().enumerate() {
                    let mine: Vec<String> =
                        batch.iter().filter(|id| id.contains(d)).cloned().collect();
                    if mine.is_empty() {
                        continue;
                    }
                    let out = reviewers[i]
                        .clone()
                        .publish_results(pb::PublishResultsRequest { ids: mine })
                        .await?
                        .into_inner();
                    published += out.outcomes.iter().filter(|o| o.published).count();
                }
            }
            Ok::<_, tonic::Status>(published)
        }));
    }
    let mut published = 0;
    for p in publishers {
        published += p.await??;
    }
    let publish_time = started.elapsed();
    publishing.store(false, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut found = 0;
    for s in searchers {
        let (l, f) = s.await??;
        latencies.extend(l);
        found += f;
    }
    latencies.sort();
    println!(
        "publication: {published} results published over gRPC (PublishResults of 100, {publishers_n} callers; \
         public record, events, audit) in {:.1} s: {:.0} results/s",
        publish_time.as_secs_f64(),
        published as f64 / publish_time.as_secs_f64()
    );
    println!(
        "publication: public search by credit code under that load ({searchers_n} callers): {} queries, {:.0}/s, \
         p50 {:.1} ms, p99 {:.1} ms ({found} records returned)",
        latencies.len(),
        latencies.len() as f64 / publish_time.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
    );
    publication.stop().await;
    w.stop().await;
    Ok(())
}
