//! The console's server time on a province's year (PostgreSQL): `tasks` joint inspections in the inspection
//! service and `results` results in the publication service (published for the finished tasks, waiting on entry
//! and review for the last ones, as a year ends), a clerk of 610400-STHJ signed in to the console. Each round
//! calls, through the console's gRPC-Web forwarding with the person's session (cookie, CSRF check, token signed
//! for the call), what the browser asks for:
//!
//! - 工作台 (`/work`): the sagas waiting on the department (pages of 200 until 1,000 items of work), its results
//!   to enter and to review (500 each), its open transfers — all at once, as the page asks;
//! - a list page: the first page of the department's results and of its sagas (20 each, as the lists show).
//!
//! Prints p50 and p95 of each over the rounds (goal: p95 < 150 ms).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use prost::Message;
use suiji_api::inspection::v1 as insp;
use suiji_api::publication::v1 as pb;
use suiji_inspection::domain::saga::{Deadline, Saga};
use suiji_platform::db::Db;
use suiji_platform::testing::{self, Backend};
use tower::ServiceExt;

const LEAD: &str = "610400-SCJG";
const CLERK: &str = "610400-STHJ";
const PASSWORD: &str = "console bench password";
/// Of the tasks, the last this many are still under way: their results wait on entry or review.
const ACTIVE_SHARE: usize = 20;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Runs the benchmark: `tasks` sagas, `results` results, `rounds` measured rounds of each page.
pub async fn run(tasks: usize, results: usize, rounds: usize) -> anyhow::Result<()> {
    if !testing::require(Backend::Servers).await {
        return Ok(());
    }
    let isolated = testing::isolated(Backend::Servers).await;
    let bus = isolated.bus().await;
    let inspection = testing::start(
        &isolated,
        bus.clone(),
        suiji_inspection::NAME,
        &suiji_inspection::migrations(),
        |ctx| async move { suiji_inspection::start(&ctx).await },
    )
    .await;
    let publication = testing::start(
        &isolated,
        bus,
        suiji_publication::NAME,
        &suiji_publication::migrations(),
        |ctx| async move { suiji_publication::start(&ctx).await },
    )
    .await;

    let started = Instant::now();
    let sagas_db = Db::connect(&isolated.settings.database, suiji_inspection::NAME).await?;
    fill_sagas(&sagas_db, tasks).await?;
    let results_db = Db::connect(&isolated.settings.database, suiji_publication::NAME).await?;
    fill_results(&results_db, tasks, results).await?;
    println!(
        "console bench: {tasks} tasks and {results} results written in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let console_db = Db::connect(&isolated.settings.database, suiji_console::NAME).await?;
    console_db.migrate(&suiji_console::migrations()).await?;
    let nowhere = suiji_platform::grpc::channel("http://127.0.0.1:1")?;
    let services = suiji_console::Services {
        catalog: nowhere.clone(),
        directories: nowhere.clone(),
        planning: nowhere.clone(),
        draw: nowhere,
        inspection: suiji_platform::grpc::channel(&inspection.addr)?,
        publication: suiji_platform::grpc::channel(&publication.addr)?,
    };
    let console = suiji_console::Console::new(
        isolated.tokens(),
        console_db,
        services,
        isolated.settings.console.clone(),
    );
    console
        .accounts()
        .save(
            &suiji_console::Account {
                username: "clerk".into(),
                display_name: "李四".into(),
                department: CLERK.into(),
                roles: [
                    "inspection.coordinator",
                    "publication.entry",
                    "publication.reviewer",
                ]
                .map(String::from)
                .to_vec(),
                inspector_id: None,
                disabled: false,
            },
            PASSWORD,
        )
        .await?;
    let app = console.router();
    let session = Arc::new(sign_in(&app).await?);

    let work = {
        let (app, session) = (app.clone(), session.clone());
        move || {
            let (app, session) = (app.clone(), session.clone());
            async move { work_page(&app, &session).await }
        }
    };
    let list = {
        let (app, session) = (app.clone(), session.clone());
        move || {
            let (app, session) = (app.clone(), session.clone());
            async move { list_page(&app, &session).await }
        }
    };
    report("工作台", rounds, work).await?;
    // Where 工作台's time goes: each of its calls alone.
    for part in [Part::Sagas, Part::ToEnter, Part::ToReview, Part::Transfers] {
        let (app, session) = (app.clone(), session.clone());
        report(part.name(), rounds / 4, move || {
            let (app, session) = (app.clone(), session.clone());
            async move { work_part(&app, &session, part).await }
        })
        .await?;
    }
    report("list page", rounds, list).await?;
    Ok(())
}

/// Times `rounds` rounds of `page` after a few unmeasured ones, and prints p50 and p95.
async fn report<F, Fut>(name: &str, rounds: usize, page: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    for _ in 0..5 {
        page().await?;
    }
    let mut times = Vec::with_capacity(rounds);
    let mut items = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        items = page().await?;
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "console {name}: p50 {:.1} ms, p95 {:.1} ms over {rounds} rounds, {items} rows shown (goal p95 < 150 ms)",
        percentile(&times, 0.50).as_secs_f64() * 1000.0,
        percentile(&times, 0.95).as_secs_f64() * 1000.0,
    );
    Ok(())
}

/// The sagas: `tasks` launched joint inspections of the lead and the clerk's department, each waiting on the
/// clerk's answer.
async fn fill_sagas(db: &Db, tasks: usize) -> anyhow::Result<()> {
    let day = |s: &str| s.parse::<chrono::NaiveDate>().expect("a date");
    let mut tx = db.begin().await?;
    for i in 0..tasks {
        let task_id = format!("TASK-2027-{i:06}");
        let (saga, outcome) = Saga::launched(
            &task_id,
            &format!("2027年双随机联合抽查第 {i} 批"),
            2027,
            LEAD,
            vec![
                (LEAD.to_string(), vec!["SCJG-1".to_string()]),
                (CLERK.to_string(), vec!["STHJ-1".to_string()]),
            ],
            Ok(Deadline {
                step: "invite".into(),
                date: day("2027-03-04"),
                working_days: 3,
                from: Some(day("2027-03-01")),
                provisional: false,
            }),
            1_798_761_600_000,
        );
        let first = suiji_inspection::store::Entry {
            seq: 1,
            at: 1_798_761_600_000,
            actor: "planning".into(),
            kind: outcome.kind.into(),
            detail: outcome.detail,
            phase: saga.phase,
            applied: true,
            cause: format!("bench:{i}"),
        };
        suiji_inspection::store::insert(&mut tx, &saga, &first, &[]).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The results: `results` of `tasks` tasks, alternately of the lead and the clerk's department, in id order by
/// task; those of the last twentieth of the tasks are not entered yet or await review, the rest are published.
async fn fill_results(db: &Db, tasks: usize, results: usize) -> anyhow::Result<()> {
    use suiji_publication::domain::result::{Content, Disposal, Result as Res, State, Step};
    let day = |s: &str| s.parse::<chrono::NaiveDate>().expect("a date");
    let template = |state: State| Res {
        id: "@ID@".into(),
        task_id: "@TASK@".into(),
        task_name: "2027年双随机联合抽查".into(),
        visit_id: "@TASK@/@TARGET@".into(),
        target_id: "@TARGET@".into(),
        credit_code: "@TARGET@".into(),
        target_name: "咸阳市某某商贸有限公司".into(),
        department: "@DEPT@".into(),
        item: "ITEM-1".into(),
        item_name: "企业公示信息抽查".into(),
        inspection_type: "联合抽查".into(),
        inspection_date: day("2027-03-10"),
        visit_outcome: "inspected".into(),
        problem_found: false,
        problems: Vec::new(),
        suggested: vec!["1".into()],
        state,
        content: (state != State::NotEntered).then(|| Content {
            codes: vec!["1".into()],
            disposal: Disposal::None,
            disposal_department: String::new(),
            note: String::new(),
        }),
        table: "2019".into(),
        due: Some(day("2027-04-08")),
        due_provisional: false,
        due_from: Some(day("2027-03-10")),
        reason: String::new(),
        published_at: (state == State::Published).then_some(1_800_000_000_000),
        corrections: Vec::new(),
        withholding: None,
        history: vec![Step {
            at: 1_799_000_000_000,
            actor: "system:publication".into(),
            kind: "created".into(),
            detail: "".into(),
        }],
    };
    let per_task = results.div_ceil(tasks).max(1);
    let active_from = tasks - tasks / ACTIVE_SHARE;
    // One statement per state: the rows are made by the database from a template, the id, task, target and
    // department put in by number.
    for (state, from, to) in [
        (State::Published, 0, active_from),
        (
            State::NotEntered,
            active_from,
            tasks - tasks / (2 * ACTIVE_SHARE),
        ),
        (
            State::AwaitingReview,
            tasks - tasks / (2 * ACTIVE_SHARE),
            tasks,
        ),
    ] {
        let doc = serde_json::to_string(&template(state))?;
        let (first, last) = ((from * per_task) as i64, (to * per_task) as i64 - 1);
        sqlx::query(
            "INSERT INTO results (id, task_id, department, state, entered, problem, inspection_date, due_date, \
             version, doc, updated_at, due_provisional) \
             SELECT r.id, r.task, r.dept, $1, $2, 0, '2027-03-10', '2027-04-08', 1, \
             replace(replace(replace(replace($3, '@ID@', r.id), '@TASK@', r.task), '@TARGET@', r.target), '@DEPT@', r.dept), \
             0, 0 FROM (SELECT 'TASK-2027-' || lpad((g / $4)::text, 6, '0') || '/91610400' || lpad(g::text, 10, '0') \
             || '/' || (CASE WHEN g % 2 = 0 THEN $6 ELSE $7 END) || '/ITEM-1' AS id, \
             'TASK-2027-' || lpad((g / $4)::text, 6, '0') AS task, '91610400' || lpad(g::text, 10, '0') AS target, \
             CASE WHEN g % 2 = 0 THEN $6 ELSE $7 END AS dept FROM generate_series($5, $8) AS g) AS r",
        )
        .bind(state.as_str())
        .bind(i64::from(state.is_entered()))
        .bind(&doc)
        .bind(per_task as i64)
        .bind(first)
        .bind(LEAD)
        .bind(CLERK)
        .bind(last.min(results as i64 - 1))
        .execute(db.pool())
        .await?;
    }
    sqlx::query("ANALYZE results").execute(db.pool()).await?;
    Ok(())
}

/// A signed-in session: the cookie and the CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

async fn sign_in(app: &axum::Router) -> anyhow::Result<Session> {
    let request = Request::post("/console/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({ "username": "clerk", "password": PASSWORD }).to_string(),
        ))?;
    let response = app.clone().oneshot(request).await?;
    anyhow::ensure!(response.status() == StatusCode::OK, "sign-in refused");
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    let body = response.into_body().collect().await?.to_bytes();
    let me: serde_json::Value = serde_json::from_slice(&body)?;
    Ok(Session {
        cookie,
        csrf: me["csrf"].as_str().unwrap_or_default().to_string(),
    })
}

/// Calls `method` through the console as the browser does (gRPC-Web, binary) and decodes the answer.
async fn call<Req: Message, Resp: Message + Default>(
    app: &axum::Router,
    session: &Session,
    method: &str,
    message: &Req,
) -> anyhow::Result<Resp> {
    let payload = message.encode_to_vec();
    let mut frame = Vec::with_capacity(5 + payload.len());
    frame.push(0);
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(&payload);
    let request = Request::post(format!("/console/rpc/{method}"))
        .header(header::CONTENT_TYPE, "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header(header::ACCEPT_LANGUAGE, "zh-CN")
        .header(header::COOKIE, &session.cookie)
        .header("x-suiji-csrf", &session.csrf)
        .body(Body::from(frame))?;
    let response = app.clone().oneshot(request).await?;
    anyhow::ensure!(
        response.status() == StatusCode::OK,
        "{method}: HTTP {}",
        response.status()
    );
    let status = response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response.into_body().collect().await?.to_bytes();
    // Frames: data (flag 0) then trailers (flag 0x80), each a flag byte and a 4-byte length.
    let mut at = 0;
    let mut data = None;
    let mut trailers = String::new();
    while at + 5 <= body.len() {
        let flag = body[at];
        let len = u32::from_be_bytes(body[at + 1..at + 5].try_into()?) as usize;
        let part = &body[at + 5..at + 5 + len];
        if flag & 0x80 == 0 {
            data = Some(Resp::decode(part)?);
        } else {
            trailers = String::from_utf8_lossy(part).into_owned();
        }
        at += 5 + len;
    }
    let code = status.or_else(|| {
        trailers
            .lines()
            .find_map(|l| l.strip_prefix("grpc-status:").map(|v| v.trim().to_string()))
    });
    anyhow::ensure!(
        code.as_deref().unwrap_or("0") == "0",
        "{method}: grpc-status {code:?} {trailers}"
    );
    data.ok_or_else(|| anyhow::anyhow!("{method}: no message"))
}

const SAGAS: &str = "suiji.inspection.v1.InspectionService/ListSagas";
const TRANSFERS: &str = "suiji.inspection.v1.InspectionService/ListTransfers";
const RESULTS: &str = "suiji.publication.v1.PublicationService/ListResults";

/// One of the calls 工作台 makes.
#[derive(Clone, Copy)]
enum Part {
    Sagas,
    ToEnter,
    ToReview,
    Transfers,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Sagas => "工作台 · sagas waiting (pages of 200)",
            Part::ToEnter => "工作台 · results to enter (500)",
            Part::ToReview => "工作台 · results to review (500)",
            Part::Transfers => "工作台 · open transfers",
        }
    }
}

/// What 工作台 asks for, at once; the rows it gets.
async fn work_page(app: &axum::Router, session: &Session) -> anyhow::Result<usize> {
    let (s, e, r, t) = tokio::try_join!(
        work_part(app, session, Part::Sagas),
        work_part(app, session, Part::ToEnter),
        work_part(app, session, Part::ToReview),
        work_part(app, session, Part::Transfers),
    )?;
    Ok(s + e + r + t)
}

/// One of 工作台's calls; the rows it gets.
async fn work_part(app: &axum::Router, session: &Session, part: Part) -> anyhow::Result<usize> {
    let active = [
        insp::Phase::Inviting,
        insp::Phase::ReviewingTargets,
        insp::Phase::Scheduling,
        insp::Phase::Visiting,
        insp::Phase::Results,
        insp::Phase::FollowUp,
    ]
    .map(|p| p as i32)
    .to_vec();
    let sagas = async {
        let (mut rows, mut token) = (0, String::new());
        loop {
            let page: insp::ListSagasResponse = call(
                app,
                session,
                SAGAS,
                &insp::ListSagasRequest {
                    department_code: CLERK.into(),
                    phases: active.clone(),
                    page_size: 200,
                    page_token: token,
                    ..Default::default()
                },
            )
            .await?;
            rows += page.sagas.len();
            token = page.next_page_token;
            if token.is_empty() || rows >= 1000 {
                return anyhow::Ok(rows);
            }
        }
    };
    let transfers = async {
        let page: insp::ListTransfersResponse = call(
            app,
            session,
            TRANSFERS,
            &insp::ListTransfersRequest {
                to_department_code: CLERK.into(),
                open_only: true,
                page_size: 500,
                ..Default::default()
            },
        )
        .await?;
        anyhow::Ok(page.transfers.len())
    };
    match part {
        Part::Sagas => sagas.await,
        Part::ToEnter => {
            results(
                app,
                session,
                &[pb::ResultState::NotEntered, pb::ResultState::Returned],
                500,
            )
            .await
        }
        Part::ToReview => results(app, session, &[pb::ResultState::AwaitingReview], 500).await,
        Part::Transfers => transfers.await,
    }
}

/// The first `page_size` of the clerk's department's results in `states` (any state: none given); how many came.
async fn results(
    app: &axum::Router,
    session: &Session,
    states: &[pb::ResultState],
    page_size: u32,
) -> anyhow::Result<usize> {
    let page: pb::ListResultsResponse = call(
        app,
        session,
        RESULTS,
        &pb::ListResultsRequest {
            department_code: CLERK.into(),
            states: states.iter().map(|s| *s as i32).collect(),
            page_size,
            ..Default::default()
        },
    )
    .await?;
    Ok(page.results.len())
}

/// A list page's first page: the department's results and its sagas, 20 each.
async fn list_page(app: &axum::Router, session: &Session) -> anyhow::Result<usize> {
    let results = results(app, session, &[], 20);
    let sagas = async {
        let page: insp::ListSagasResponse = call(
            app,
            session,
            SAGAS,
            &insp::ListSagasRequest {
                department_code: CLERK.into(),
                page_size: 20,
                ..Default::default()
            },
        )
        .await?;
        anyhow::Ok(page.sagas.len())
    };
    let (r, s) = tokio::try_join!(results, sagas)?;
    Ok(r + s)
}
