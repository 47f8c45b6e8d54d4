//! `suiji dev` as a separate process: it prints every address, every service answers health SERVING, demo
//! data is loaded, SIGTERM stops it cleanly, and a second start finds the data where the first left it.

mod common;

use std::process::Command;

use common::{
    DEV_PORTS, SCJG, STHJ, Started, address, authed, demo_task_to_scheduling, free_port,
    hold_the_visits, launch_demo_task, reach, saga, schedule_all, start, terminate, token,
    token_of, until,
};

use suiji_api::catalog::v1 as pb;
use suiji_api::catalog::v1::catalog_service_client::CatalogServiceClient;

async fn public_items(addr: &str) -> Vec<String> {
    let mut client = CatalogServiceClient::connect(addr.to_string())
        .await
        .unwrap();
    let page = client
        .list_public_items(pb::ListPublicItemsRequest::default())
        .await
        .unwrap()
        .into_inner();
    page.items.into_iter().map(|i| i.code).collect()
}

/// Targets in the directory, counted through the API with a development token.
async fn demo_targets(addr: &str) -> usize {
    use suiji_api::directories::v1 as dir;
    let token = Command::new(env!("CARGO_BIN_EXE_suiji"))
        .args([
            "token",
            "--department",
            "610400-SCJG",
            "--role",
            "directories.editor",
        ])
        .env("SUIJI_AUTH__SIGNING_KEY", common::signing_key())
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap();
    let channel = suiji_platform::grpc::channel(addr).unwrap();
    let mut client = dir::directories_service_client::DirectoriesServiceClient::with_interceptor(
        channel,
        suiji_platform::grpc::Bearer::new(Some(token.trim())),
    );
    let mut count = 0;
    let mut page_token = String::new();
    loop {
        let page = client
            .list_targets(dir::ListTargetsRequest {
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        count += page.targets.len();
        if page.next_page_token.is_empty() {
            return count;
        }
        page_token = page.next_page_token;
    }
}

async fn public_plans(addr: &str) -> Vec<String> {
    use suiji_api::planning::v1 as plan;
    let channel = suiji_platform::grpc::channel(addr).unwrap();
    let mut client = plan::planning_service_client::PlanningServiceClient::new(channel);
    let page = client
        .list_public_plans(plan::ListPublicPlansRequest::default())
        .await
        .unwrap()
        .into_inner();
    page.plans.into_iter().map(|p| p.id).collect()
}

async fn health(addr: &str) -> i32 {
    let channel = suiji_platform::grpc::channel(addr).unwrap();
    let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
    client
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_serves_every_service_and_keeps_its_data() {
    let data = std::env::temp_dir().join(format!("suiji-dev-{}", uuid_like()));
    let port = free_port();

    let Started {
        dev: child,
        addresses,
        console,
        ..
    } = start(&data, port, true);
    assert_eq!(
        console,
        format!("http://127.0.0.1:{}/console", port + DEV_PORTS - 1),
        "the console after the services"
    );
    let names: Vec<&str> = addresses.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "catalog",
            "directories",
            "planning",
            "draw",
            "inspection",
            "publication"
        ],
        "one line per service"
    );
    for (_, addr) in &addresses {
        assert_eq!(
            health(addr).await,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
    }
    let first = public_items(&addresses[0].1).await;
    assert_eq!(first.len(), 4, "demo catalog loaded: {first:?}");
    assert_eq!(
        demo_targets(&addresses[1].1).await,
        2000,
        "demo directory loaded"
    );
    let plans = public_plans(&addresses[2].1).await;
    assert_eq!(plans.len(), 1, "the demo's joint plan is published");
    // Publication answers the public without a token: the code table, and a search that finds nothing yet.
    let codes = Command::new(env!("CARGO_BIN_EXE_suiji"))
        .args(["result", "codes", "--addr", &addresses[5].1])
        .output()
        .unwrap();
    let codes = String::from_utf8_lossy(&codes.stdout);
    assert!(
        codes.contains("table 2024-1") && codes.contains("未发现问题"),
        "{codes}"
    );
    terminate(child);

    let Started {
        dev: child,
        addresses,
        ..
    } = start(&data, port, true);
    assert_eq!(
        public_plans(&addresses[2].1).await,
        plans,
        "loading the demo twice adds no second plan"
    );
    assert_eq!(
        public_items(&addresses[0].1).await,
        first,
        "the second start finds the first one's data, unchanged"
    );
    // Each service announces its audit chain's head at its start; the others keep it, and the public page lists
    // what publication keeps.
    let anchors = format!("{}/public/anchors", addresses[5].1);
    until("the catalog's head is kept and listed", || async {
        let Ok(reply) = reqwest::get(&anchors).await else {
            return false;
        };
        let listed: serde_json::Value = reply.json().await.unwrap_or_default();
        listed["anchors"]
            .as_array()
            .is_some_and(|a| a.iter().any(|h| h["service"] == "catalog" && h["seq"] == 8))
    })
    .await;
    terminate(child);

    // The operator commands work on the same data: the audit trail holds, migrations are already applied.
    let url = format!("sqlite:{}", data.display());
    let verify = suiji(&["audit", "verify", "catalog"], &url);
    assert!(verify.status.success(), "{verify:?}");
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(
        out.starts_with("catalog: intact, 8 entries"),
        "4 demo items created and published: {out}"
    );
    assert!(
        !out.contains(", 0 heads kept"),
        "checked against the heads the other services kept: {out}"
    );
    let verify = suiji(&["audit", "verify", "directories"], &url);
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(
        out.starts_with("directories: intact, 4 entries"),
        "the demo imports: the targets, and each department's inspectors: {out}"
    );
    // Every imported row still gives the lists its import's entry committed to.
    assert!(verify.status.success(), "{verify:?}");
    assert!(
        out.contains(
            "directories: 2300 rows read; 4 imports and credit changes match their audit entries"
        ),
        "the demo's 2000 targets and 300 inspectors, checked against the 4 imports: {out}"
    );
    let verify = suiji(&["audit", "verify", "planning"], &url);
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(
        out.starts_with("planning: intact, 5 entries"),
        "the demo plan drafted, submitted, approved, published, and its task: {out}"
    );
    let migrate = suiji(&["migrate"], &url);
    let migrated = String::from_utf8_lossy(&migrate.stdout);
    assert!(migrate.status.success(), "{migrate:?}");
    assert!(
        migrated.contains("catalog      migrated") && migrated.contains("directories  migrated"),
        "{migrated}"
    );
    let _ = std::fs::remove_dir_all(&data);
}

fn suiji(args: &[&str], database_url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_suiji"))
        .args(args)
        .env("SUIJI_DATABASE__URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_suiji"))
        .args(["serve", "catalog"])
        .env(
            "SUIJI_JURISDICTION__GENERAL_RATIO_CAP_BASIS_POINTS",
            "twenty",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("jurisdiction.general_ratio_cap_basis_points"),
        "{err}"
    );
}

/// `suiji serve` without `--development` refuses what only a local run may use, naming the setting: development
/// tokens (the default), an empty audience, and a signing key in a service.
#[test]
fn serve_refuses_development_settings_naming_them() {
    let refused = |env: &[(&str, &str)], service: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_suiji"))
            .args(["serve", service])
            .envs(env.iter().copied())
            .env("SUIJI_DATABASE__URL", "sqlite::memory:")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{service} with {env:?} started");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    assert!(refused(&[], "catalog").contains("auth.dev_tokens"));
    assert!(refused(&[], "console").contains("auth.dev_tokens"));
    let off = ("SUIJI_AUTH__DEV_TOKENS", "false");
    assert!(refused(&[off, ("SUIJI_AUTH__AUDIENCE", " ")], "draw").contains("auth.audience"));
    let key = common::signing_key();
    let err = refused(&[off, ("SUIJI_AUTH__SIGNING_KEY", key)], "planning");
    assert!(err.contains("auth.signing_key"), "{err}");
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// The demo's joint task, from launch to closed, on the embedded default in one `suiji dev` process: STHJ confirms,
/// the lead approves the drawn targets, the teams are drawn, every visit is scheduled, the target of the first
/// checks the team's code on the 扫码入企 page in headless Chromium, the first is held (SCJG
/// finds a problem, the target refuses to sign, every member confirms), the others are not found; both
/// departments enter, approve and publish their results; the saga closes and the public finds the results.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joint_inspection_runs_end_to_end_in_dev() {
    use suiji_api::inspection::v1 as insp;
    use suiji_api::publication::v1 as publ;

    let data = std::env::temp_dir().join(format!("suiji-dev-{}", uuid_like()));
    let started = start(&data, free_port(), true);
    let Started {
        addresses, console, ..
    } = &started;
    let (addresses, console) = (addresses.clone(), console.clone());
    let addr = |name: &str| address(&addresses, name);
    let roles = "planning.editor,inspection.coordinator,publication.entry,publication.reviewer";
    let (scjg, sthj) = (token(SCJG, roles), token(STHJ, roles));
    let inspection = |t: &str| common::inspection(&addr("inspection"), t);
    let publication = |t: &str| suiji_publication::testkit::client(&addr("publication"), Some(t));
    let (mut lead, mut other) = (inspection(&scjg), inspection(&sthj));

    // Launch the demo task; STHJ confirms and the lead approves the drawn targets.
    let (task, scheduling) =
        demo_task_to_scheduling(&mut lead, &mut other, &addr("planning"), &scjg).await;
    let watcher = lead.clone();

    // The lead's coordinator opens the task in the workflow console, pauses and resumes it there, and tries a
    // bulk retry that its state refuses.
    if let Some(script) = suiji_platform::testing::browser_driver("console_page.mjs") {
        let before = saga(&watcher, &task).await.unwrap();
        let password = started.password("zhang.san");
        let seen = suiji_platform::testing::run_browser_driver(
            &script,
            &[&console, "zhang.san", &password, &task],
        );
        assert_eq!(seen["errors"].as_array().unwrap().len(), 0, "{seen}");
        assert_eq!(seen["refused"], "用户名或密码不正确", "{seen}");
        // 工作台: the task waits on the teams, the lead's coordinator among them, with the working days left.
        let work = seen["work"].as_array().unwrap();
        assert!(
            work.iter().any(|w| {
                let w = w.as_str().unwrap();
                w.contains("实施检查")
                    && (w.contains("个工作日") || w.contains("今天到期") || w.contains("无期限"))
            }),
            "{seen}"
        );
        let signed_in_as = seen["signedInAs"].as_str().unwrap();
        assert!(
            signed_in_as.contains("张三")
                && signed_in_as.contains("咸阳市市场监督管理局")
                && signed_in_as.contains(SCJG),
            "the person and their department by name: {seen}"
        );
        assert_eq!(seen["listed"], "scheduling", "{seen}");
        assert!(
            seen["calendarWarning"]
                .as_str()
                .unwrap()
                .contains("工作日历缺少 2027 年国务院放假通知"),
            "{seen}"
        );
        assert_eq!(seen["phase"], "scheduling", "{seen}");
        assert_eq!(
            seen["pushed"], true,
            "a second page on the task is told of the pause: {seen}"
        );
        assert_eq!(
            seen["timeline"].as_u64().unwrap(),
            before.history.len() as u64,
            "every step of the timeline: {seen}"
        );
        assert_eq!(
            seen["visits"].as_u64().unwrap(),
            scheduling.targets,
            "{seen}"
        );
        assert_eq!(
            seen["participants"].as_array().unwrap().len(),
            before.participants.len(),
            "{seen}"
        );
        assert_eq!(
            seen["afterPause"].as_u64().unwrap(),
            seen["timeline"].as_u64().unwrap() + 1,
            "the pause is on the timeline: {seen}"
        );
        assert_eq!(
            seen["afterResume"].as_u64().unwrap(),
            seen["timeline"].as_u64().unwrap() + 2,
            "{seen}"
        );
        assert_eq!(seen["needingAttention"], 0, "{seen}");
        let bulk = seen["bulk"].as_array().unwrap();
        assert_eq!(bulk.len(), 1, "{seen}");
        assert_eq!(
            bulk[0]["ok"], false,
            "nothing failed, so nothing to retry: {seen}"
        );
        // The draw record verifies, stored and as a downloaded file; the file with one digit of its seed changed
        // does not, and the page names where.
        assert_eq!(seen["verifiedStored"], "true", "{seen}");
        assert_eq!(seen["verifiedFile"]["match"], "true", "{seen}");
        assert_eq!(seen["recordChanged"], true, "{seen}");
        assert_eq!(seen["verifiedTampered"]["match"], "false", "{seen}");
        assert!(
            seen["verifiedTampered"]["title"]
                .as_str()
                .unwrap()
                .contains("第一处不符在“随机种子”"),
            "{seen}"
        );
        let after = saga(&watcher, &task).await.unwrap();
        assert!(!after.paused, "resumed: {after:?}");

        // Every page in both languages and at both widths: screenshots, accessibility, no English in Chinese.
        let pages = suiji_platform::testing::browser_driver("console_pages.mjs").unwrap();
        let seen = suiji_platform::testing::run_browser_driver(
            &pages,
            &[&console, "zhang.san", &password, &task],
        );
        assert_eq!(seen["errors"].as_array().unwrap().len(), 0, "{seen}");
        let shown = seen["pages"].as_object().unwrap();
        assert_eq!(
            shown.len(),
            23 * 2 * 2,
            "twenty-three pages, two languages, two widths: {seen}"
        );
        for (page, found) in shown {
            assert_eq!(
                found["violations"],
                serde_json::json!([]),
                "axe on {page}: {seen}"
            );
            assert_eq!(
                found["english"],
                serde_json::json!([]),
                "English on {page}: {seen}"
            );
            let shot = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../../target/console-screenshots/{page}.png"));
            assert!(shot.exists(), "{}", shot.display());
        }
        assert_ne!(
            seen["keyboard"]["menu"], "",
            "the menu is reached by keyboard: {seen}"
        );
        assert_eq!(after.phase, insp::Phase::Scheduling as i32);
        let actors: Vec<&str> = after.history[before.history.len()..]
            .iter()
            .map(|h| h.actor.as_str())
            .collect();
        assert!(
            actors.len() >= 2 && actors[..2].iter().all(|a| *a == actors[0] && !a.is_empty()),
            "the console's actions are the signed-in coordinator's: {actors:?}"
        );
    }

    // The visits: all scheduled, the first held, the others not found.
    let visits = schedule_all(&mut lead, &task).await;
    assert_eq!(visits.len() as u64, scheduling.targets);
    let first = &visits[0];
    // The target scans the team's QR code: the page it opens names the task, the items and the team.
    if let Some(script) = suiji_platform::testing::browser_driver("verify_page.mjs") {
        let seen = suiji_platform::testing::run_browser_driver(
            &script,
            &[&addr("inspection"), &first.verification_code],
        );
        assert_eq!(seen["errors"].as_array().unwrap().len(), 0, "{seen}");
        assert!(
            seen["verdict"].as_str().unwrap().contains("核验通过"),
            "{seen}"
        );
        let team = seen["team"].as_array().unwrap();
        assert_eq!(team.len(), first.team.len(), "{seen}");
        assert!(
            team.iter().any(|m| m.as_str().unwrap().contains("组长")),
            "{seen}"
        );
        assert!(
            team.iter().all(|m| m.as_str().unwrap().contains("有效")),
            "{seen}"
        );
        assert_eq!(
            seen["items"].as_array().unwrap().len(),
            first.checks.len(),
            "{seen}"
        );
    }
    hold_the_visits(&mut lead, &mut other, &addr("inspection"), &visits).await;
    reach(&watcher, &task, insp::Phase::Results).await;

    // Each department publishes its results; then the saga closes.
    for (t, department) in [(&scjg, SCJG), (&sthj, STHJ)] {
        let c = suiji_publication::testkit::client(&addr("publication"), Some(t));
        let reviewer = token_of(department, "publication.reviewer", "dev-reviewer");
        let r = suiji_publication::testkit::client(&addr("publication"), Some(&reviewer));
        let results = suiji_publication::testkit::results(&c, visits.len()).await;
        let problem = ("B", publ::Disposal::OrderedToCorrect, "");
        suiji_publication::testkit::publish_all(&c, &r, &results, |r| {
            suiji_publication::testkit::suggested(r, problem)
        })
        .await;
    }
    let closed = reach(&watcher, &task, insp::Phase::Closed).await;
    assert!(
        closed.history.iter().any(|h| h.kind == "results.final"),
        "{:#?}",
        closed.history
    );

    // The public finds the held visit's results by the target's credit code, with no token.
    let mut public = suiji_publication::testkit::client(&addr("publication"), None);
    let target = publication(&scjg)
        .list_results(publ::ListResultsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .results
        .into_iter()
        .find(|r| r.visit_id == first.id)
        .unwrap();
    let records = public
        .public_search(publ::PublicSearchRequest {
            query: target.credit_code.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .records;
    assert_eq!(records.len(), 2, "SCJG's and STHJ's results: {records:?}");
    assert!(
        records
            .iter()
            .any(|r| r.result == "未按规定公示应当公示的信息")
    );
    terminate(started.dev);
    let _ = std::fs::remove_dir_all(&data);
}

/// The demo's joint task driven through the workflow console in headless Chromium, as two coordinators would: STHJ
/// confirms the invitation, SCJG approves the drawn targets and schedules every visit; on the first both record
/// their findings, SCJG notes the target's refusal to sign, each member signs in and confirms for themselves (the lead
/// gives them accounts with their inspector ids) and SCJG concludes it; the others are not
/// found. The saga reaches the results phase, and its timeline names each coordinator for their steps. SCJG
/// transfers its problem to STHJ, which takes it up and closes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinators_run_a_joint_inspection_in_the_console() {
    use suiji_api::inspection::v1 as insp;
    use suiji_api::inspection::v1::inspection_service_client::InspectionServiceClient;
    let Some(script) = suiji_platform::testing::browser_driver("console_workflow.mjs") else {
        return;
    };
    let data = std::env::temp_dir().join(format!("suiji-dev-{}", uuid_like()));
    let started = start(&data, free_port(), true);
    let Started {
        addresses, console, ..
    } = &started;
    let (addresses, console) = (addresses.clone(), console.clone());
    let addr = |name: &str| address(&addresses, name);
    let roles = "planning.editor,inspection.coordinator";
    let as_subject = |department: &str, subject: &str| token_of(department, roles, subject);
    let lead = as_subject("610400-SCJG", "zhang.san");
    let task = launch_demo_task(&addr("planning"), &lead).await;
    let (c, b) = authed(&addr("inspection"), &lead);
    let inspection = InspectionServiceClient::with_interceptor(c, b);
    let saga = || {
        let (mut inspection, task) = (inspection.clone(), task.clone());
        async move {
            inspection
                .get_saga(insp::GetSagaRequest { task_id: task })
                .await
                .ok()
                .and_then(|r| r.into_inner().saga)
        }
    };
    until("the saga starts", || async { saga().await.is_some() }).await;

    let (li_si, zhang_san) = (started.password("li.si"), started.password("zhang.san"));
    let wang_wu = started.password("wang.wu");
    let seen = suiji_platform::testing::run_browser_driver(
        &script,
        &[
            &console,
            "li.si",
            &li_si,
            "zhang.san",
            &zhang_san,
            &task,
            "wang.wu",
            &wang_wu,
        ],
    );
    assert_eq!(seen["errors"].as_array().unwrap().len(), 0, "{seen}");
    assert_eq!(seen["invited"], "inviting", "{seen}");
    assert!(
        seen["participants"].as_array().unwrap().iter().any(|p| p
            .as_str()
            .unwrap()
            .contains("610400-STHJ")
            && p.as_str().unwrap().contains("已确认")
            && p.as_str().unwrap().contains("li.si")),
        "the answer shows with who gave it: {seen}"
    );
    assert_eq!(seen["phase"], "results", "{seen}");

    let after = saga().await.unwrap();
    assert_eq!(after.phase, insp::Phase::Results as i32, "{after:?}");
    assert_eq!(
        seen["reviewed"].as_str().unwrap(),
        after.targets.to_string(),
        "{seen}"
    );
    assert_eq!(
        seen["toSchedule"].as_u64().unwrap(),
        after.targets,
        "{seen}"
    );
    // The timeline the page showed when the saga reached the results phase, then three transfer steps.
    assert_eq!(
        seen["timeline"].as_array().unwrap().len() + 3,
        after.history.len(),
        "the page showed the whole timeline: {seen}"
    );
    let transfer_steps: Vec<(&str, &str)> = after
        .history
        .iter()
        .filter(|h| h.kind.starts_with("transfer."))
        .map(|h| (h.actor.as_str(), h.kind.as_str()))
        .collect();
    assert_eq!(
        transfer_steps,
        [
            ("zhang.san", "transfer.created"),
            ("li.si", "transfer.accepted"),
            ("li.si", "transfer.closed")
        ]
    );
    let by = |actor: &str| {
        after
            .history
            .iter()
            .filter(|h| h.actor == actor && !h.kind.starts_with("transfer."))
            .map(|h| h.kind.as_str())
            .collect::<Vec<_>>()
    };
    // The answer and the findings.
    assert_eq!(by("li.si").len(), 2, "STHJ's steps: {:?}", after.history);
    // The approval, one schedule and one conclusion per visit, and on the first the findings, the evidence and the
    // refusal.
    assert_eq!(
        by("zhang.san").len() as u64,
        1 + 2 * after.targets + 3,
        "SCJG's steps: {:?}",
        after.history
    );

    let mut visits = common::visits(&inspection, &task).await;
    // The review showed the drawn targets: one visit each.
    let drawn = seen["drawn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    for v in &visits {
        assert!(drawn.contains(&v.target_id), "{} in {drawn}", v.target_id);
    }
    let digest = seen["digest"].as_str().unwrap();
    assert!(
        digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
        "{digest}"
    );
    let first = visits.remove(0);
    assert_eq!(
        first.outcome,
        insp::VisitOutcome::Inspected as i32,
        "{first:?}"
    );
    assert!(first.refusal_note.contains("拒绝签字"), "{first:?}");
    assert!(first.team.iter().all(|m| m.confirmed), "{first:?}");
    // Each member's confirmation is on the timeline under the member's own account.
    let mut confirmed: Vec<String> = after
        .history
        .iter()
        .filter(|h| h.kind == "visit.confirmed")
        .map(|h| h.actor.clone())
        .collect();
    confirmed.sort();
    let mut members: Vec<String> = first
        .team
        .iter()
        .map(|m| format!("m-{}", m.inspector_id))
        .collect();
    members.sort();
    assert_eq!(confirmed, members, "{:?}", after.history);
    // The evidence: the hash the page computed of the file, and the reference given.
    use sha2::Digest;
    let photo = hex::encode(sha2::Sha256::digest(b"suiji evidence photo 1"));
    assert_eq!(seen["evidence"], serde_json::json!([photo]), "{seen}");
    assert_eq!(first.evidence.len(), 1, "{first:?}");
    let e = &first.evidence[0];
    assert_eq!(e.sha256, photo);
    assert_eq!(
        (e.storage_ref.as_str(), e.media_type.as_str(), e.size_bytes),
        ("s3://scjg-evidence/visit-1/photo-1.jpg", "image/jpeg", 22)
    );
    assert_eq!(
        (e.department_code.as_str(), e.added_by.as_str()),
        ("610400-SCJG", "zhang.san")
    );
    assert_eq!(first.findings.len(), first.checks.len(), "{first:?}");
    for f in &first.findings {
        let expected = if f.department_code == "610400-SCJG" {
            insp::CheckResult::Problem
        } else {
            insp::CheckResult::Compliant
        };
        assert_eq!(f.result, expected as i32, "{first:?}");
    }
    assert!(
        seen["signature"].as_str().unwrap().contains("拒签"),
        "{seen}"
    );
    assert_eq!(
        seen["checks"].as_array().unwrap().len(),
        first.checks.len(),
        "{seen}"
    );
    assert!(
        seen["team"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m.as_str().unwrap().contains("已确认")),
        "{seen}"
    );
    // No coordinator confirmed for the members: each signed in and confirmed as themselves.
    assert_eq!(seen["coordinatorConfirms"], false, "{seen}");
    assert_eq!(
        seen["members"].as_u64(),
        Some(first.team.len() as u64),
        "{seen}"
    );
    assert!(first.team.iter().all(|m| m.confirmed), "{first:?}");
    let transfers = inspection
        .clone()
        .list_transfers(insp::ListTransfersRequest {
            task_id: task.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .transfers;
    assert_eq!(transfers.len(), 1, "{transfers:?}");
    let t = &transfers[0];
    assert_eq!(t.state, insp::TransferState::Closed as i32, "{t:?}");
    assert_eq!(
        (
            t.from_department_code.as_str(),
            t.to_department_code.as_str()
        ),
        ("610400-SCJG", "610400-STHJ")
    );
    assert_eq!(t.outcome, "已立案查处", "{t:?}");
    assert!(
        seen["transfers"][0].as_str().unwrap().contains("已办结"),
        "{seen}"
    );
    // The results, as the console left them.
    assert_eq!(seen["sthjResult"], "awaiting_review", "{seen}");
    assert_eq!(
        seen["states"],
        serde_json::json!(["not_entered", "awaiting_review", "approved", "published"]),
        "{seen}"
    );
    assert_eq!(seen["corrected"], 1, "{seen}");
    // Four eyes: the coordinator who entered SCJG's result saw he may not approve it himself; his reviewer did.
    assert_eq!(seen["selfReview"]["disabled"], true, "{seen}");
    assert!(
        seen["selfReview"]["note"]
            .as_str()
            .unwrap()
            .contains("双人审核"),
        "{seen}"
    );
    use suiji_api::publication::v1 as publ;
    let reader = token_of(
        "610400-SCJG",
        "publication.entry,publication.joint-meeting",
        "reader",
    );
    let mut publication = suiji_publication::testkit::client(&addr("publication"), Some(&reader));
    let mut results = Vec::new();
    for department in ["610400-SCJG", "610400-STHJ"] {
        results.extend(
            publication
                .list_results(publ::ListResultsRequest {
                    task_id: task.clone(),
                    department_code: department.into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .results,
        );
    }
    let of = |department: &str| {
        results
            .iter()
            .find(|r| r.department_code == department)
            .unwrap_or_else(|| panic!("{department}'s result in {results:?}"))
    };
    let scjg = of("610400-SCJG");
    assert_eq!(scjg.state, publ::ResultState::Published as i32, "{scjg:?}");
    assert_eq!(scjg.corrections.len(), 1, "{scjg:?}");
    assert_eq!(scjg.corrections[0].reason, "原结果漏写整改期限");
    assert_eq!(scjg.content.as_ref().unwrap().note, "更正：补充整改期限");
    assert_eq!(
        of("610400-STHJ").state,
        publ::ResultState::AwaitingReview as i32
    );
    terminate(started.dev);
    let _ = std::fs::remove_dir_all(&data);
}

/// An editor and publisher drafts an item in the console: the service's violation of the missing name shows at the
/// name field, the draft is saved and published, edited again, and the versions compared; the catalog has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_publishes_a_catalog_item_in_the_console() {
    let Some(script) = suiji_platform::testing::browser_driver("console_catalog.mjs") else {
        return;
    };
    let data = std::env::temp_dir().join(format!("suiji-dev-{}", uuid_like()));
    let started = start(&data, free_port(), false);
    let password = started.password("zhang.san");
    let seen = suiji_platform::testing::run_browser_driver(
        &script,
        &[
            &started.console,
            "zhang.san",
            &password,
            "SX-SCJG-CONSOLE-1",
        ],
    );
    assert_eq!(seen["errors"].as_array().unwrap().len(), 0, "{seen}");
    assert_eq!(seen["nameError"]["label"], "事项名称", "{seen}");
    assert_eq!(
        seen["nameError"]["error"], "不能为空",
        "the violation is at the field, in Chinese: {seen}"
    );
    assert_eq!(seen["drafted"], "draft", "{seen}");
    assert_eq!(seen["changed"], serde_json::json!(["事项名称"]), "{seen}");
    assert!(
        seen["askedAgain"].as_str().unwrap().contains("登录已过期"),
        "{seen}"
    );
    assert_eq!(seen["kept"], "会话过期后仍保留的备注", "{seen}");
    let mut catalog = CatalogServiceClient::with_interceptor(
        suiji_platform::grpc::channel(&address(&started.addresses, "catalog")).unwrap(),
        suiji_platform::grpc::Bearer::new(Some(&started.token)),
    );
    let item = catalog
        .get_item(pb::GetItemRequest {
            code: "SX-SCJG-CONSOLE-1".into(),
            version: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .item
        .unwrap();
    assert_eq!(item.published_version, 1, "{item:?}");
    assert_eq!(item.department_code, SCJG);
    let draft = item.version.unwrap();
    assert_eq!(draft.version, 2);
    let content = draft.content.unwrap();
    assert_eq!(content.name, "企业年度报告和即时信息公示情况检查");
    assert_eq!(
        content.remarks, "会话过期后仍保留的备注",
        "saved after signing in again"
    );
    terminate(started.dev);
    let _ = std::fs::remove_dir_all(&data);
}

/// A clerk imports a GB18030 CSV saved with CRLF in the console: the page names the bad row by the line it has in
/// the file and its column, and the rejected rows come back as a GB18030 file with the reasons, under the upload's
/// name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerks_import_a_directory_in_the_console() {
    let Some(script) = suiji_platform::testing::browser_driver("console_import.mjs") else {
        return;
    };
    let data = std::env::temp_dir().join(format!("suiji-dev-{}", uuid_like()));
    let started = start(&data, free_port(), false);
    // The market regulator's clerk: the directory of targets is kept by the departments directories.target_sources
    // names.
    let (console, password) = (started.console.clone(), started.password("zhang.san"));
    let other = started.password("li.si");
    let text = "类型,统一社会信用代码,名称,行政区划\r\n企业,91350100M000100Y43,某商贸有限公司,610402\r\n\
                企业,914403001922038217,校验码错的店,610404\r\n";
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    let seen = suiji_platform::testing::run_browser_driver(
        &script,
        &[
            &console,
            "zhang.san",
            &password,
            "名录.csv",
            &hex::encode(&bytes),
            "li.si",
            &other,
        ],
    );
    assert_eq!(seen["errors"].as_array().unwrap().len(), 0, "{seen}");
    // The environmental bureau's clerk keeps no directory of targets: the page offers its inspectors only.
    for (lang, chosen, hint) in [
        (
            "zh-CN",
            "执法检查人员名录库",
            "检查对象名录库由部署指定的部门",
        ),
        (
            "en",
            "Inspectors directory",
            "The targets directory is imported by",
        ),
    ] {
        let o = &seen["other"][lang];
        assert_eq!(o["targetsOffered"], false, "{seen}");
        assert_eq!(o["chosen"], chosen, "{seen}");
        assert!(o["hint"].as_str().unwrap().starts_with(hint), "{seen}");
    }
    assert!(
        seen["summary"]
            .as_str()
            .unwrap()
            .contains("导入完成：读取 2 行，写入 1 行（新增 1 行，更新 0 行），拒绝 1 行"),
        "{seen}"
    );
    let rejections = seen["rejections"].as_array().unwrap();
    assert_eq!(rejections.len(), 1, "{seen}");
    assert_eq!(rejections[0][0], "3", "{seen}");
    assert_eq!(rejections[0][1], "B", "{seen}");
    assert_eq!(rejections[0][2], "credit_code", "{seen}");
    // Why, in the page's language: the service words the row report in Chinese for a Chinese page.
    let reason = rejections[0][3].as_str().unwrap();
    assert!(reason.starts_with("第 18 位：校验码应为"), "{seen}");
    assert_eq!(seen["downloadName"], "名录-被拒行.csv", "{seen}");
    let rejected = hex::decode(seen["rejected"].as_str().unwrap()).unwrap();
    let (back, _, malformed) = encoding_rs::GB18030.decode(&rejected);
    assert!(
        !malformed && std::str::from_utf8(&rejected).is_err(),
        "GB18030 as uploaded"
    );
    assert!(
        back.starts_with(
            "类型,统一社会信用代码,名称,行政区划,错误原因\r\n企业,914403001922038217,"
        ),
        "{back}"
    );
    assert!(
        back.contains(reason),
        "the file gives the same reason: {back}"
    );
    // The same file again on the English page: the same row, its reason in English.
    let english = seen["english"].as_array().unwrap();
    assert_eq!(english.len(), 1, "{seen}");
    assert_eq!(english[0][0], "3", "{seen}");
    let reason = english[0][3].as_str().unwrap();
    assert!(
        reason.starts_with("position 18: the check character should be"),
        "{seen}"
    );
    // The directory's export of what the page's filter selects: the imported target, under a Chinese name.
    let export_name = seen["exportName"].as_str().unwrap();
    assert!(
        export_name.starts_with("检查对象名录-") && export_name.ends_with(".csv"),
        "{seen}"
    );
    let exported: Vec<&str> = seen["exportedText"].as_str().unwrap().lines().collect();
    assert_eq!(exported.len(), 2, "the header and the one target: {seen}");
    assert!(
        exported[1].contains("91350100M000100Y43") && exported[1].contains("某商贸有限公司"),
        "{seen}"
    );
    terminate(started.dev);
    let _ = std::fs::remove_dir_all(&data);
}

/// A person signs in through the department's identity provider (the npm package `oidc-provider`, started here):
/// the console holds no signing key and offers only the provider; the services verify the provider's tokens with
/// its public keys and get their own from it by client credentials. The person's department and roles come from
/// the provider's access token, and a token signed with any other key — the development key included — is
/// refused by the services.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_through_the_departments_identity_provider() {
    let Some(script) = suiji_platform::testing::browser_driver("console_oidc.mjs") else {
        return;
    };
    let provider_script = script.with_file_name("oidc_provider.mjs");
    let (provider_port, base) = (free_port(), free_port());
    let console_port = base + 6;
    let redirect = format!("http://127.0.0.1:{console_port}/console/oidc/callback");
    let (console_secret, services_secret) = (uuid_like(), uuid_like());
    let mut provider = std::process::Command::new("node")
        .arg(&provider_script)
        .args([
            provider_port.to_string(),
            redirect.clone(),
            console_secret.clone(),
            services_secret.clone(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    {
        use std::io::BufRead;
        let mut ready = String::new();
        std::io::BufReader::new(provider.stdout.as_mut().unwrap())
            .read_line(&mut ready)
            .unwrap();
        assert_eq!(ready.trim(), "ready", "the provider starts");
    }
    let issuer = format!("http://127.0.0.1:{provider_port}");
    let data = std::env::temp_dir().join(format!("suiji-dev-{}", uuid_like()));
    let started = common::start_with(
        &data,
        base,
        false,
        &[
            ("SUIJI_AUTH__ISSUER", issuer.clone()),
            ("SUIJI_AUTH__AUDIENCE", "http://suiji.test/api".into()),
            ("SUIJI_AUTH__JWKS", format!("{issuer}/jwks")),
            ("SUIJI_AUTH__TOKEN_URL", format!("{issuer}/token")),
            ("SUIJI_AUTH__CLIENT_ID", "suiji-services".into()),
            ("SUIJI_AUTH__CLIENT_SECRET", services_secret),
            ("SUIJI_AUTH__DEV_TOKENS", "false".into()),
            ("SUIJI_CONSOLE__OIDC__ISSUER_URL", issuer.clone()),
            ("SUIJI_CONSOLE__OIDC__CLIENT_ID", "suiji-console".into()),
            ("SUIJI_CONSOLE__OIDC__CLIENT_SECRET", console_secret),
            ("SUIJI_CONSOLE__OIDC__REDIRECT_URL", redirect),
            (
                "SUIJI_CONSOLE__OIDC__RESOURCE",
                "http://suiji.test/api".into(),
            ),
            ("SUIJI_CONSOLE__OIDC__LABEL", "陕西省统一身份认证".into()),
        ],
    );
    assert!(
        started.accounts.is_empty(),
        "no local accounts with a provider"
    );
    assert!(started.token.is_empty(), "no token printed with a provider");
    let seen = suiji_platform::testing::run_browser_driver(&script, &[&started.console, "wang.wu"]);
    assert_eq!(seen["errors"].as_array().unwrap().len(), 0, "{seen}");
    assert_eq!(seen["button"], "使用陕西省统一身份认证登录", "{seen}");
    assert_eq!(
        seen["buttonEn"], "Sign in with 陕西省统一身份认证",
        "{seen}"
    );
    assert_eq!(
        seen["localForm"], false,
        "no password form without a signing key: {seen}"
    );
    assert_eq!(seen["forged"], "登录请求已失效，请重新登录", "{seen}");
    assert_eq!(seen["subject"], "wang.wu", "{seen}");
    assert_eq!(
        seen["department"], "610400-STHJ",
        "from the provider's access token: {seen}"
    );
    assert_eq!(
        seen["roles"],
        serde_json::json!(["catalog.editor", "inspection.coordinator"]),
        "{seen}"
    );
    assert!(
        seen["signedInAs"].as_str().unwrap().contains("王五"),
        "the ID token's name: {seen}"
    );
    assert_eq!(seen["saved"], "draft", "{seen}");
    assert_eq!(
        seen["own"], true,
        "filed under the token's department: {seen}"
    );
    assert_eq!(seen["toasts"].as_array().unwrap().len(), 0, "{seen}");
    assert_eq!(seen["after"], 401, "signed out: {seen}");

    // Attack: a token signed with a key of suiji's own (the development key, here) is not the provider's.
    let forged = common::token("610400-STHJ", "catalog.editor");
    assert!(!forged.is_empty());
    let mut catalog = CatalogServiceClient::with_interceptor(
        suiji_platform::grpc::channel(&address(&started.addresses, "catalog")).unwrap(),
        suiji_platform::grpc::Bearer::new(Some(&forged)),
    );
    let refused = catalog
        .list_items(pb::ListItemsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused:?}");
    assert!(refused.message().contains("no key"), "{refused:?}");

    terminate(started.dev);
    provider.kill().unwrap();
    let _ = provider.wait();
    let _ = std::fs::remove_dir_all(&data);
}

/// An annual plan goes from draft to a launched task in the console: the editor's half-filled draft shows the
/// planning service's violations at their fields; the joint meeting finds the submitted plan on 工作台, returns it
/// with a reason the editor then reads, and approves it when submitted again; the editor publishes it, creates the
/// entry's task and launches it. Neither sees the other's buttons; the planning service has the plan as approved by
/// the joint meeting's person. Then an amendment is proposed, filed by both bodies and published; and the audit page
/// shows every chain intact and the plan's entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_joint_meeting_approves_a_plan_in_the_console() {
    use suiji_api::planning::v1 as plan;
    let Some(script) = suiji_platform::testing::browser_driver("console_plans.mjs") else {
        return;
    };
    let data = std::env::temp_dir().join(format!("suiji-dev-{}", uuid_like()));
    let started = start(&data, free_port(), true);
    let password = started.password("zhang.san");
    let meeting_password = format!("m-{}", uuid_like());
    let seen = suiji_platform::testing::run_browser_driver(
        &script,
        &[
            &started.console,
            "zhang.san",
            &password,
            "zhao.liu",
            &meeting_password,
        ],
    );
    assert_eq!(seen["errors"].as_array().unwrap().len(), 0, "{seen}");
    assert_eq!(seen["accountCreated"], 204, "{seen}");
    let labels = |key: &str| -> Vec<String> {
        seen[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(labels("errorsAt"), ["实施期限"], "the window first: {seen}");
    assert_eq!(
        labels("errorsThen"),
        ["抽查比例或数量"],
        "then the ratio or quantity at its field: {seen}"
    );
    assert_eq!(
        labels("errorTexts"),
        ["请填写抽查比例或抽查数量", "参加部门至少确定一个检查事项"],
        "and the participant's missing items at its row, in Chinese from the planning service's catalog: {seen}"
    );
    assert_eq!(seen["drafted"], "DRAFT", "{seen}");
    let waiting = seen["waiting"].as_str().unwrap();
    assert!(
        waiting.contains("审议计划"),
        "on the joint meeting's 工作台: {seen}"
    );
    assert_eq!(seen["editorButtonsForMeeting"], 0, "{seen}");
    assert_eq!(seen["approveButtonsForEditor"], 0, "{seen}");
    assert!(
        seen["returned"]
            .as_str()
            .unwrap()
            .contains("请补充抽查对象的行业范围"),
        "{seen}"
    );
    let task = seen["task"].as_str().unwrap();
    assert!(task.starts_with("TASK-2027-"), "{seen}");

    // The planning service agrees: approved by the joint meeting's person, published, its task launched.
    let token = common::token("610400-SCJG", "planning.editor");
    let mut planning = plan::planning_service_client::PlanningServiceClient::with_interceptor(
        suiji_platform::grpc::channel(&address(&started.addresses, "planning")).unwrap(),
        suiji_platform::grpc::Bearer::new(Some(&token)),
    );
    let stored = planning
        .get_plan(plan::GetPlanRequest {
            id: seen["planId"].as_str().unwrap().into(),
            version: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(stored.state, plan::PlanState::Published as i32);
    assert_eq!(stored.approved_by, "zhao.liu", "{stored:?}");
    let launched = planning
        .get_task(plan::GetTaskRequest { id: task.into() })
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    assert_eq!(launched.state, plan::TaskState::Launched as i32);

    // The witnessed draw: the witness's name is asked for at its field, then the draw is made with the witness and
    // the string typed, both in the record.
    assert!(
        seen["witnessWork"]
            .as_str()
            .unwrap()
            .contains("各部门已答复，请在见证人在场时进行抽取"),
        "工作台 lists the witnessed draw: {seen}"
    );
    assert!(
        seen["witnessError"]
            .as_str()
            .unwrap()
            .contains("见证人姓名"),
        "{seen}"
    );
    let draw = suiji_api::draw::v1::draw_service_client::DrawServiceClient::with_interceptor(
        suiji_platform::grpc::channel(&address(&started.addresses, "draw")).unwrap(),
        suiji_platform::grpc::Bearer::new(Some(&token)),
    )
    .get_draw(suiji_api::draw::v1::GetDrawRequest {
        task_id: task.into(),
    })
    .await
    .unwrap()
    .into_inner()
    .draw
    .unwrap();
    assert!(draw.witnessed, "{draw:?}");
    assert_eq!(
        draw.state,
        suiji_api::draw::v1::DrawState::TargetsDrawn as i32,
        "{draw:?}"
    );
    let seed = draw.targets.unwrap().seed.unwrap();
    assert_eq!(seed.witness_entropy, "37-12-5-44");
    assert_eq!(
        seed.witnesses
            .iter()
            .map(|w| (w.name.as_str(), w.organisation.as_str()))
            .collect::<Vec<_>>(),
        [("王五", "市纪委监委派驻纪检监察组")]
    );
    assert!(
        seen["witnessed"].as_str().unwrap().contains("王五"),
        "the record on the page names the witness: {seen}"
    );

    // The amendment: its reason is required at its field; the editor has no filing button; both bodies filed it and
    // version 2 is in force, the first still readable.
    assert_eq!(seen["judicialCreated"], 204, "{seen}");
    assert_eq!(labels("amendErrors"), ["调整理由"], "{seen}");
    let proposed = seen["proposed"].as_str().unwrap();
    assert!(
        proposed.contains("上半年投诉集中") && proposed.contains("待备案"),
        "{seen}"
    );
    assert_eq!(seen["amendButtonsForEditor"], 0, "{seen}");
    assert_eq!(seen["versionInForce"], "2", "{seen}");
    assert!(
        seen["ratioInForce"].as_str().unwrap().contains("1.5%"),
        "the page shows the amended ratio: {seen}"
    );
    assert!(
        seen["olderShown"].as_str().unwrap().contains("第 1 版"),
        "{seen}"
    );
    // The plan read above is as the browser left it: amended.
    assert_eq!(stored.effective_version, 2, "{stored:?}");
    let version = stored.version.unwrap();
    assert_eq!(
        version.content.unwrap().entries[0].ratio_basis_points,
        150,
        "the new ratio is in force"
    );
    assert!(
        !version.joint_meeting_filed_by.is_empty() && !version.judicial_filed_by.is_empty(),
        "filed by both"
    );
    // 审计: the six chains hold, and the plan's entries name the people and their steps.
    assert_eq!(labels("intact").len(), 6, "{seen}");
    let audited = labels("audited").join("\n");
    for expected in ["plan.amendment.file", "plan.amendment.propose", "zhao.liu"] {
        assert!(audited.contains(expected), "{expected} in {audited}");
    }
    terminate(started.dev);
    let _ = std::fs::remove_dir_all(&data);
}

/// `make run`'s story: two of the demo plan's tasks taken through the departments' work, so the console has real
/// work for its demo accounts — the first task's market-regulation results published and the environment bureau's
/// waiting to be entered (li.si), the second task's drawn targets waiting on the lead's review (zhang.san). A second
/// start tells nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_story_leaves_work_for_each_person() {
    use suiji_api::inspection::v1 as insp;
    use suiji_api::publication::v1 as pubs;
    let data = std::env::temp_dir().join(format!("suiji-dev-{}", uuid_like()));
    let port = free_port();
    let started = common::start_args(&data, port, &["--demo", "--story"], &[]);
    let story = started
        .printed
        .iter()
        .find_map(|l| l.strip_prefix("demo story: "))
        .unwrap_or_else(|| panic!("{:?}", started.printed))
        .to_string();
    let task = |n: usize| {
        story
            .split_whitespace()
            .filter(|w| w.starts_with("TASK-"))
            .nth(n)
            .unwrap()
            .trim_end_matches(':')
            .to_string()
    };
    let (finished, waiting) = (task(0), task(1));
    let addr = |name: &str| address(&started.addresses, name);

    let lead = common::inspection(
        &addr("inspection"),
        &common::token(SCJG, "inspection.coordinator"),
    );
    let reviewing = saga(&lead, &waiting).await.unwrap();
    assert_eq!(
        reviewing.phase,
        insp::Phase::ReviewingTargets as i32,
        "{reviewing:?}"
    );
    assert!(
        reviewing
            .waiting
            .iter()
            .any(|w| w.department_code == SCJG && w.step == "review"),
        "on the lead's coordinator: {reviewing:?}"
    );
    let results = |department: &'static str| {
        let addr = addr("publication");
        let finished = finished.clone();
        async move {
            let token = common::token(department, "publication.entry");
            suiji_publication::testkit::client(&addr, Some(&token))
                .list_results(pubs::ListResultsRequest {
                    department_code: department.into(),
                    task_id: finished,
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .results
        }
    };
    let scjg = results(SCJG).await;
    assert!(!scjg.is_empty());
    assert!(
        scjg.iter()
            .all(|r| r.state == pubs::ResultState::Published as i32),
        "{scjg:?}"
    );
    let sthj = results(STHJ).await;
    assert!(!sthj.is_empty());
    assert!(
        sthj.iter()
            .all(|r| r.state == pubs::ResultState::NotEntered as i32),
        "waiting on li.si: {sthj:?}"
    );
    // The finished task's status matrix: every department's visits concluded, findings entered and confirmed.
    let progress = lead
        .clone()
        .get_progress(insp::GetProgressRequest {
            task_id: finished.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .departments;
    assert_eq!(progress.len(), 2, "{progress:?}");
    assert_eq!(progress[0].department_code, SCJG, "the lead first");
    assert!(
        progress.iter().all(|p| p.visits > 0
            && p.concluded == p.visits
            && p.signed == p.visits
            && p.findings_recorded == p.findings_due
            && p.confirmed == p.seats),
        "{progress:?}"
    );
    terminate(started.dev);

    // Told once: a second start finds the story told.
    let again = common::start_args(&data, port, &["--demo", "--story"], &[]);
    assert!(
        again
            .printed
            .iter()
            .any(|l| l.starts_with("demo story: the story was told before")),
        "{:?}",
        again.printed
    );
    terminate(again.dev);
    let _ = std::fs::remove_dir_all(&data);
}

/// `suiji grants` printed as an operator runs it: its SQL through the superuser into a fresh database, its
/// `rabbitmqctl` lines in a shell with a password put in. Every service and the console then has a role owning its
/// schema, and every service a broker user limited to its own routing keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printed_grants_run_as_printed() {
    use suiji_platform::testing::{self, Backend};
    if !testing::require(Backend::Servers).await {
        return;
    }
    let mut grantees = testing::Grantees::default();
    let isolated = testing::isolated(Backend::Servers).await;
    let url = isolated.settings.database.url.expose().to_string();
    let database = url.rsplit('/').next().unwrap().to_string();
    let namespace = isolated.settings.bus.namespace.clone();
    let prefix = format!("{namespace}_");
    let out = Command::new(env!("CARGO_BIN_EXE_suiji"))
        .args(["grants", "--database", &database, "--namespace", &namespace])
        .args(["--prefix", &prefix])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8(out.stdout).unwrap();
    let components = [
        "catalog",
        "directories",
        "planning",
        "draw",
        "inspection",
        "publication",
        "console",
    ];
    grantees.roles = components.iter().map(|c| format!("{prefix}{c}")).collect();
    grantees.users = components[..6]
        .iter()
        .map(|c| format!("{prefix}{c}"))
        .collect();
    let (sql, shell): (Vec<&str>, Vec<&str>) = printed
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .partition(|l| !l.starts_with("rabbitmqctl"));
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.join("\n")))
        .execute(&admin)
        .await
        .unwrap_or_else(|e| panic!("the printed SQL: {e}\n{printed}"));
    for c in components {
        let owner: String = sqlx::query_scalar(
            "SELECT r.rolname::text FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = $1",
        )
        .bind(c)
        .fetch_one(&admin)
        .await
        .unwrap();
        assert_eq!(owner, format!("{prefix}{c}"), "{c}'s schema");
    }
    admin.close().await;
    for line in shell {
        let line = line.replace("<password>", "secret");
        let status = Command::new("sh").args(["-c", &line]).output().unwrap();
        assert!(status.status.success(), "{line}: {status:?}");
    }
    let topics = Command::new("rabbitmqctl")
        .args([
            "-q",
            "list_user_topic_permissions",
            &format!("{prefix}inspection"),
        ])
        .output()
        .unwrap();
    let topics = String::from_utf8_lossy(&topics.stdout);
    assert!(
        topics.contains(&format!("{namespace}.events"))
            && topics.contains("^(inspection|draw\\.command)\\."),
        "{topics}"
    );
    isolated.cleanup().await;
    drop(grantees);
}
