//! Results from the visit to the public record, with every refusal the rules call for; deadlines, reports, the
//! daily export and the connector's signed deliveries and dead letters.

use std::time::Duration;
use suiji_platform::auth::{ROLE_DEPARTMENT_HEAD, ROLE_RESULT_ENTRY};

use suiji_api::publication::v1 as pb;
use suiji_platform::audit::{Verification, verify};
use suiji_platform::grpc::violations_of;
use suiji_platform::on_both_backends;
use suiji_platform::testing::{Backend, eventually};
use suiji_publication::connector::signature;
use tonic::Code;

use crate::{Client, SCJG, STHJ, Setup, content, http_get, publish, results};

on_both_backends!(
    results_from_entry_to_the_public,
    deadlines_reports_and_the_connector
);

fn field_of(status: &tonic::Status) -> String {
    violations_of(status)
        .first()
        .map(|(f, _)| f.clone())
        .unwrap_or_else(|| panic!("no field violation in {status:?}"))
}

async fn results_from_entry_to_the_public(backend: Backend) {
    // A Sunday in December: the 20 working days run into 2027, a year the shipped notices do not cover.
    suiji_platform::clock::pin_for_test("2026-12-20");
    let Some(s) = Setup::start(backend).await else {
        return;
    };
    let today = suiji_platform::calendar::today().to_string();
    assert_eq!(today, "2026-12-20");
    let joint = [(SCJG, "SCJG-1", false), (STHJ, "STHJ-1", false)];
    s.conclude("T1", 0, &today, "inspected", &joint).await;
    // The same visit sent again makes no second result.
    s.conclude("T1", 0, &today, "inspected", &joint).await;
    s.conclude("T1", 1, &today, "inspected", &[(SCJG, "SCJG-1", true)])
        .await;
    s.conclude("T1", 2, &today, "not_found", &[(SCJG, "SCJG-1", false)])
        .await;
    let mut entry = s.entry(SCJG);
    let listed = results(&mut entry, SCJG, 3).await;
    assert_eq!(results(&mut s.entry(STHJ), STHJ, 1).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        results(&mut entry, SCJG, 3).await.len(),
        3,
        "no duplicate from the re-sent visit"
    );
    let id = |target: usize| format!("T1/{}/{SCJG}/SCJG-1", s.targets[target].id);
    let first = listed
        .iter()
        .find(|r| r.id == id(0))
        .expect("target 0's result");
    assert_eq!(first.credit_code, s.targets[0].credit_code);
    assert_eq!(first.target_name, s.targets[0].name);
    assert_eq!(first.suggested_codes, vec!["1"]);
    assert_eq!(first.inspection_type, "部门联合双随机抽查");
    assert_eq!(first.department_name, "咸阳市市场监督管理局");
    assert_eq!(first.state, pb::ResultState::NotEntered as i32);
    // 2026-12-21..31 are 9 working days, 2027-01-01 is 元旦, 11 more from 4 January: provisional, since 2027's
    // adjusted working days are not known until its notice.
    assert_eq!(
        (first.due_date.as_str(), first.due_date_provisional),
        ("2027-01-18", true),
        "due 20 working days after the visit, provisionally"
    );

    // The operators load 2027's notice (here one whose 元旦 runs to Monday 4 January): a department cannot reload
    // the calendar; an admin can, and the due date is counted again, final now, its move in the history.
    let notice = "[[year]]\nyear = 2027\nnotice = \"国务院办公厅关于2027年部分节假日安排的通知\"\n\
                  holidays = [\"2027-01-01\", \"2027-01-02\", \"2027-01-03\", \"2027-01-04\"]\nworkdays = []\n";
    std::fs::write(&s.calendar_file, notice).unwrap();
    let refused = s
        .calendar(SCJG, &["publication.head"])
        .reload_calendar(suiji_api::admin::v1::ReloadCalendarRequest {})
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let before = s
        .calendar(SCJG, &[])
        .get_calendar(suiji_api::admin::v1::GetCalendarRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(before.notices_wanted, vec![2027], "wanted from 1 October");
    let reloaded = s
        .calendar(SCJG, &["admin"])
        .reload_calendar(suiji_api::admin::v1::ReloadCalendarRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        reloaded.deadlines_recounted, 4,
        "every result of the three visits"
    );
    let calendar = reloaded.calendar.unwrap();
    assert!(calendar.notices_wanted.is_empty());
    assert!(
        calendar
            .years
            .iter()
            .any(|y| y.year == 2027 && !y.provisional && y.notice.contains("2027"))
    );
    let listed = results(&mut entry, SCJG, 3).await;
    let first = listed.iter().find(|r| r.id == id(0)).unwrap();
    assert_eq!(
        (first.due_date.as_str(), first.due_date_provisional),
        ("2027-01-19", false)
    );
    let got = entry
        .get_result(pb::GetResultRequest { id: id(0) })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    // The console's 工作台 asks how many working days are left until each deadline.
    let left = s
        .calendar(SCJG, &[])
        .count_working_days(suiji_api::admin::v1::CountWorkingDaysRequest {
            dates: [
                "2027-01-19",
                "2026-12-20",
                "2026-12-21",
                "2026-12-18",
                "2026-12-16",
            ]
            .map(String::from)
            .to_vec(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(left.today, "2026-12-20");
    assert_eq!(
        left.working_days,
        [20, 0, 1, -1, -2],
        "the due date is the 20th working day; a past Friday is overdue by one on Sunday"
    );
    let bad = s
        .calendar(SCJG, &[])
        .count_working_days(suiji_api::admin::v1::CountWorkingDaysRequest {
            dates: vec!["2027-01-19".into(), "19/01/2027".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&bad), "dates[1]");
    let moved = got.history.last().unwrap();
    assert_eq!(moved.kind, "due.recounted");
    assert!(
        moved.detail.contains("18 January 2027") && moved.detail.contains("19 January 2027"),
        "{}",
        moved.detail
    );
    // A second reload finds nothing provisional left.
    let again = s
        .calendar(SCJG, &["admin"])
        .reload_calendar(suiji_api::admin::v1::ReloadCalendarRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.deadlines_recounted, 0);
    let gone = listed.iter().find(|r| r.id == id(2)).unwrap();
    assert_eq!(gone.suggested_codes, vec!["6"]);

    // Each department enters its own results only, with the role.
    let e = s
        .entry(STHJ)
        .enter_result(pb::EnterResultRequest {
            id: id(0),
            content: content(&["1"], pb::Disposal::None),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    let e = s
        .reviewer(SCJG)
        .enter_result(pb::EnterResultRequest {
            id: id(0),
            content: content(&["1"], pb::Disposal::None),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // Codes are checked against the table and the visit's findings.
    let e = entry
        .enter_result(pb::EnterResultRequest {
            id: id(1),
            content: content(&["1"], pb::Disposal::None),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(field_of(&e), "content.codes[0]");
    assert!(violations_of(&e)[0].1.contains("found a problem"), "{e:?}");
    let e = entry
        .enter_result(pb::EnterResultRequest {
            id: id(0),
            content: content(&["Z9"], pb::Disposal::None),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "content.codes[0]");
    // An unentered or unapproved result is not published.
    let out = s
        .reviewer(SCJG)
        .publish_results(pb::PublishResultsRequest { ids: vec![id(0)] })
        .await
        .unwrap()
        .into_inner();
    assert!(!out.outcomes[0].published);
    assert!(
        out.outcomes[0].error.contains("approved"),
        "{:?}",
        out.outcomes[0]
    );

    // Entered, returned with a reason, entered again, approved, published.
    let entered = entry
        .enter_result(pb::EnterResultRequest {
            id: id(0),
            content: content(&["1"], pb::Disposal::None),
            expected_revision: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_eq!(entered.state, pb::ResultState::AwaitingReview as i32);
    let e = s
        .reviewer(SCJG)
        .review_result(pb::ReviewResultRequest {
            id: id(0),
            decision: pb::ReviewDecision::Return as i32,
            reason: String::new(),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "reason");
    let e = s
        .reviewer(SCJG)
        .review_result(pb::ReviewResultRequest {
            id: id(0),
            decision: pb::ReviewDecision::Approve as i32,
            reason: String::new(),
            expected_revision: entered.revision - 1,
        })
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Code::Aborted,
        "a stale revision is refused: {e:?}"
    );
    let returned = s
        .reviewer(SCJG)
        .review_result(pb::ReviewResultRequest {
            id: id(0),
            decision: pb::ReviewDecision::Return as i32,
            reason: "写明检查的年度报告年份".into(),
            expected_revision: entered.revision,
        })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_eq!(returned.state, pb::ResultState::Returned as i32);
    publish(&s, SCJG, &id(0), &["1"], pb::Disposal::None).await;
    let got = entry
        .get_result(pb::GetResultRequest { id: id(0) })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_eq!(got.state, pb::ResultState::Published as i32);
    let steps: Vec<&str> = got.history.iter().map(|h| h.kind.as_str()).collect();
    assert_eq!(
        steps,
        [
            "created",
            "due.recounted",
            "entered",
            "returned",
            "re-entered",
            "approved",
            "published"
        ]
    );
    // A published result is never edited.
    let e = entry
        .enter_result(pb::EnterResultRequest {
            id: id(0),
            content: content(&["E"], pb::Disposal::OrderedToCorrect),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);

    // A problem: published, and a credit record follows from code B.
    publish(&s, SCJG, &id(1), &["B"], pb::Disposal::OrderedToCorrect).await;
    // Withheld: only the head, only with a reason; archived, never public.
    let e = entry
        .enter_result(pb::EnterResultRequest {
            id: id(2),
            content: content(&["6"], pb::Disposal::Notified),
            expected_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "content.disposal_department_code");
    entry
        .enter_result(pb::EnterResultRequest {
            id: id(2),
            content: Some(pb::Content {
                codes: vec!["6".into()],
                disposal: pb::Disposal::Notified as i32,
                disposal_department_code: STHJ.into(),
                note: String::new(),
            }),
            expected_revision: 0,
        })
        .await
        .unwrap();
    // Withholding: the person entering it asks with the reason, the head agrees (经办人说明理由、主要负责人同意).
    let withhold = |note: &str| pb::WithholdResultRequest {
        id: id(2),
        reason: note.into(),
        expected_revision: 0,
    };
    let ask = |reason: &str| pb::RequestWithholdingRequest {
        id: id(2),
        reason: reason.into(),
        expected_revision: 0,
    };
    let e = s
        .reviewer(SCJG)
        .withhold_result(withhold("案件调查中"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = s
        .head(SCJG)
        .withhold_result(withhold(""))
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Code::FailedPrecondition,
        "the head withholds what someone asked for: {e:?}"
    );
    let e = s
        .entry(STHJ)
        .request_withholding(ask("案件调查中"))
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Code::PermissionDenied,
        "another department's clerk"
    );
    let e = entry.request_withholding(ask(" ")).await.unwrap_err();
    assert_eq!(field_of(&e), "reason");
    let asked = entry
        .request_withholding(ask("案件调查中，公示将影响调查"))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    let request = asked.withholding_request.unwrap();
    assert_eq!(request.reason, "案件调查中，公示将影响调查");
    // What waits on the head, as 工作台 asks for it: this one request, and nothing once it is decided.
    let waiting = |c: Client| async move {
        c.clone()
            .list_results(pb::ListResultsRequest {
                withholding_requested: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .results
            .into_iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(waiting(s.head(SCJG)).await, vec![id(2)]);
    // Migration 1006 finds the requests made before it by this pattern in the stored document.
    let by_pattern: Vec<String> =
        sqlx::query_scalar("SELECT id FROM results WHERE doc LIKE '%\"withholding\":{%'")
            .fetch_all(s.publication.ctx.db.pool())
            .await
            .unwrap();
    assert_eq!(by_pattern, vec![id(2)]);
    assert!(
        waiting(s.head(STHJ)).await.is_empty(),
        "another department's"
    );
    // The head's own request is not the head's to grant.
    let both = s.client(SCJG, &[ROLE_RESULT_ENTRY, ROLE_DEPARTMENT_HEAD]);
    let e = both
        .clone()
        .decline_withholding(pb::DeclineWithholdingRequest {
            id: id(2),
            reason: "可以公示".into(),
            expected_revision: 0,
        })
        .await;
    assert!(e.is_ok(), "another person's request is declined: {e:?}");
    assert!(
        waiting(s.head(SCJG)).await.is_empty(),
        "declined: no longer waiting"
    );
    both.clone()
        .request_withholding(ask("涉及国家秘密"))
        .await
        .unwrap();
    let e = both
        .clone()
        .withhold_result(withhold(""))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "four eyes: {e:?}");
    let withheld = s
        .head(SCJG)
        .withhold_result(withhold("同意"))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_eq!(withheld.state, pb::ResultState::Withheld as i32);
    assert!(
        waiting(s.head(SCJG)).await.is_empty(),
        "granted: no longer waiting"
    );
    assert_eq!(withheld.reason, "涉及国家秘密");
    assert!(withheld.withholding_request.is_none());
    assert!(withheld.content.is_some(), "archived with what was found");

    // Corrections: the head's sign-off with a reason; the original is kept.
    let correct = |reason: &str| pb::CorrectResultRequest {
        id: id(0),
        content: content(&["E"], pb::Disposal::OrderedToCorrect),
        reason: reason.into(),
        expected_revision: 0,
    };
    let e = s
        .reviewer(SCJG)
        .correct_result(correct("复核"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = s.head(SCJG).correct_result(correct("")).await.unwrap_err();
    assert_eq!(field_of(&e), "reason");
    let corrected = s
        .head(SCJG)
        .correct_result(correct("复核发现未公示即时信息，已责令改正"))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_eq!(corrected.corrections.len(), 1);
    assert_eq!(
        corrected.corrections[0].previous.as_ref().unwrap().codes,
        vec!["1"]
    );

    // The public sees published records only, with the correction.
    let mut public = s.public();
    let search = |q: &str| pb::PublicSearchRequest {
        query: q.into(),
        ..Default::default()
    };
    let records = public
        .public_search(search(&s.targets[0].credit_code))
        .await
        .unwrap()
        .into_inner()
        .records;
    assert_eq!(
        records.len(),
        1,
        "STHJ's unentered result is not public: {records:?}"
    );
    let r = &records[0];
    assert_eq!(r.authority, "咸阳市市场监督管理局");
    assert_eq!(r.result, "发现问题经责令已改正");
    assert_eq!(r.item, "SCJG-1 检查");
    assert_eq!(r.corrections.len(), 1);
    assert_eq!(r.corrections[0].previous_result, "未发现问题");
    assert!(
        public
            .public_search(search(&s.targets[2].credit_code))
            .await
            .unwrap()
            .into_inner()
            .records
            .is_empty(),
        "a withheld result is not public"
    );
    let name_part: String = s.targets[1].name.chars().take(4).collect();
    let by_name = public
        .public_search(search(&name_part))
        .await
        .unwrap()
        .into_inner()
        .records;
    assert!(
        by_name
            .iter()
            .any(|r| r.credit_code == s.targets[1].credit_code),
        "{by_name:?}"
    );
    let e = public.public_search(search("某")).await.unwrap_err();
    assert_eq!(field_of(&e), "query");

    // The same over plain HTTP: the JSON feed and the page.
    let (status, body) = http_get(
        &s,
        &format!("/public/results?q={}", s.targets[0].credit_code),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let feed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(feed["records"].as_array().unwrap().len(), 1);
    assert_eq!(
        feed["records"][0]["corrections"][0]["previous_result"],
        "未发现问题"
    );
    let (status, body) = http_get(&s, "/public/results?q=x").await;
    assert_eq!(status, 400);
    assert!(body.contains("\"field\":\"q\""), "{body}");
    let (status, page) = http_get(&s, "/public").await;
    assert_eq!(status, 200);
    assert!(page.contains("双随机抽查结果公示"));

    // Events for the other services, and a credit record from code B.
    let probe = s.probe.clone();
    assert!(
        eventually(Duration::from_secs(10), || {
            let probe = probe.clone();
            async move {
                probe.of_type("publication.result.published").len() == 2
                    && probe.of_type("publication.result.corrected").len() == 1
                    && probe.of_type("publication.credit.recorded").len() == 1
            }
        })
        .await,
        "published ×2, corrected, one credit record: {:?}",
        s.probe
            .seen()
            .iter()
            .map(|e| e.r#type.clone())
            .collect::<Vec<_>>()
    );
    let credit: pb::CreditRecordedEvent = s.probe.of_type("publication.credit.recorded")[0]
        .payload
        .as_ref()
        .unwrap()
        .to_msg()
        .unwrap();
    assert_eq!(credit.kind, "abnormal_operations");
    assert_eq!(credit.credit_code, s.targets[1].credit_code);
    // The directories put the target on the abnormal-operations list from it.
    assert!(
        !s.targets[1].abnormal,
        "the generated target starts off the list"
    );
    let directories = s.world.directories_client();
    let target = s.targets[1].id.clone();
    assert!(
        eventually(Duration::from_secs(10), || {
            let mut d = directories.clone();
            let id = target.clone();
            async move {
                d.get_target(suiji_api::directories::v1::GetTargetRequest {
                    id,
                    ..Default::default()
                })
                .await
                .is_ok_and(|t| t.into_inner().target.is_some_and(|t| t.abnormal))
            }
        })
        .await,
        "the credit record raises the target's abnormal flag"
    );

    // Every change is on the hash-chained audit trail.
    match verify(&s.publication.ctx.db).await.unwrap() {
        // Target 0: entered, returned, entered, approved, published, corrected; target 1: entered, approved,
        // published; target 2: entered, asked to withhold, declined, asked again, withheld. Refused calls leave
        // nothing.
        Verification::Intact { entries, .. } => assert_eq!(entries, 14),
        other => panic!("audit trail broken: {other:?}"),
    }
    s.stop().await;
}

async fn deadlines_reports_and_the_connector(backend: Backend) {
    // A Wednesday inside a year whose notice is loaded: January's visit is overdue, today's is not.
    suiji_platform::clock::pin_for_test("2026-06-10");
    let Some(s) = Setup::start(backend).await else {
        return;
    };
    let today = suiji_platform::calendar::today();
    let year = chrono::Datelike::year(&today);
    let january = format!("{year}-01-05");
    s.conclude("T2", 3, &january, "inspected", &[(SCJG, "SCJG-1", false)])
        .await;
    s.conclude(
        "T2",
        0,
        &today.to_string(),
        "inspected",
        &[(SCJG, "SCJG-1", true)],
    )
    .await;
    let mut entry = s.entry(SCJG);
    results(&mut entry, SCJG, 2).await;
    let late = format!("T2/{}/{SCJG}/SCJG-1", s.targets[3].id);
    let fresh = format!("T2/{}/{SCJG}/SCJG-1", s.targets[0].id);

    let overdue = entry
        .list_results(pb::ListResultsRequest {
            overdue_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].id, late);
    assert!(overdue[0].overdue);
    assert_eq!(
        (
            overdue[0].due_date.as_str(),
            overdue[0].due_date_provisional
        ),
        ("2026-02-02", false),
        "20 working days from Monday 5 January, on the 2026 notice"
    );
    let e = s
        .entry(STHJ)
        .list_results(pb::ListResultsRequest {
            department_code: SCJG.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Code::PermissionDenied,
        "another department's results are not listed"
    );

    // A refusal to cooperate with a case opened: two credit records, signed deliveries, and dead letters from the
    // receiver that answers 503.
    publish(&s, SCJG, &fresh, &["8"], pb::Disposal::CaseOpened).await;
    let received = s.received.clone();
    assert!(
        eventually(Duration::from_secs(20), || {
            let received = received.clone();
            async move {
                let r = received.lock().unwrap();
                r.iter().filter(|x| x.path == "/hook").count() == 3
                    && r.iter().filter(|x| x.path == "/broken").count() >= 4
            }
        })
        .await,
        "the hook got the publication and two credit records, the broken one was tried twice each: {:?}",
        s.received.lock().unwrap()
    );
    let hooks: Vec<_> = s
        .received
        .lock()
        .unwrap()
        .iter()
        .filter(|x| x.path == "/hook")
        .cloned()
        .collect();
    let mut kinds: Vec<&str> = hooks.iter().map(|h| h.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["credit.recorded", "credit.recorded", "result.published"]
    );
    for h in &hooks {
        let t: i64 = h.signature["t=".len()..h.signature.find(',').unwrap()]
            .parse()
            .unwrap();
        assert_eq!(
            h.signature,
            signature(crate::HOOK_SECRET.as_bytes(), t, &h.body),
            "signed"
        );
        assert_ne!(h.signature, signature(b"other", t, &h.body));
    }
    assert!(hooks.iter().any(|h| h.body.contains("refused_inspection")));
    assert!(hooks.iter().any(|h| h.body.contains("case_opened")));

    let mut admin = s.client(SCJG, &["admin"]);
    let dead = |admin: &mut crate::Client| {
        let mut admin = admin.clone();
        async move {
            admin
                .list_deliveries(pb::ListDeliveriesRequest {
                    state: pb::DeliveryState::Dead as i32,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .deliveries
        }
    };
    let a = admin.clone();
    assert!(
        eventually(Duration::from_secs(20), || {
            let mut a = a.clone();
            async move { dead(&mut a).await.len() == 2 }
        })
        .await,
        "both credit records to the broken receiver are dead letters"
    );
    let letters = dead(&mut admin).await;
    assert!(
        letters
            .iter()
            .all(|d| d.connector == "broken" && d.attempts == 2)
    );
    assert!(letters[0].last_error.contains("503"), "{:?}", letters[0]);
    let e = entry
        .list_deliveries(pb::ListDeliveriesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let broken = || {
        s.received
            .lock()
            .unwrap()
            .iter()
            .filter(|x| x.path == "/broken")
            .count()
    };
    let before = broken();
    let queued = admin
        .retry_deliveries(pb::RetryDeliveriesRequest {
            ids: vec![letters[0].id.clone()],
        })
        .await
        .unwrap()
        .into_inner()
        .queued;
    assert_eq!(queued, 1);
    assert!(
        eventually(Duration::from_secs(10), || {
            let n = broken();
            async move { n > before }
        })
        .await,
        "a retried dead letter is sent again"
    );

    // Lists by state: each state's results in id order, a state asked twice given once, paged by the last id,
    // narrowed to a task (docs/adr/0002-results-by-state.md).
    let by_state =
        |states: &[pb::ResultState], task_id: &str, page_size: u32, page_token: String| {
            let mut entry = entry.clone();
            let request = pb::ListResultsRequest {
                states: states.iter().map(|s| *s as i32).collect(),
                task_id: task_id.into(),
                page_size,
                page_token,
                ..Default::default()
            };
            async move { entry.list_results(request).await.unwrap().into_inner() }
        };
    let all = by_state(&[], "", 100, String::new()).await.results;
    assert_eq!(all.len(), 2);
    use pb::ResultState::{NotEntered, Published, Returned};
    let waiting = by_state(&[NotEntered, Returned], "", 100, String::new())
        .await
        .results;
    let expected: Vec<&str> = all
        .iter()
        .filter(|r| r.state == NotEntered as i32)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(expected.len(), 1, "one of the two is published: {all:?}");
    assert_eq!(
        waiting.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        expected
    );
    let both = [Published, NotEntered, NotEntered, Returned];
    let first = by_state(&both, "T2", 1, String::new()).await;
    assert_eq!(first.results.len(), 1);
    assert!(!first.next_page_token.is_empty());
    let second = by_state(&both, "T2", 1, first.next_page_token).await;
    let paged: Vec<&str> = first
        .results
        .iter()
        .chain(&second.results)
        .map(|r| r.id.as_str())
        .collect();
    let in_order: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(paged, in_order, "every result once, in id order");
    assert!(
        by_state(&both, "T-none", 10, String::new())
            .await
            .results
            .is_empty()
    );

    // Reports: the year and the first quarter, overdue counted on today.
    let report = entry
        .report(pb::ReportRequest {
            year: year as u32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let scjg = report
        .rows
        .iter()
        .find(|r| r.department_code == SCJG)
        .unwrap();
    assert_eq!(
        (
            scjg.results,
            scjg.entered,
            scjg.published,
            scjg.overdue,
            scjg.problems
        ),
        (2, 1, 1, 1, 1)
    );
    assert_eq!(scjg.entry_rate_basis_points, 5000);
    assert_eq!(scjg.publication_rate_basis_points, 5000);
    let total = report.rows.last().unwrap();
    assert_eq!(
        (total.department_name.as_str(), total.results),
        ("联席会议", 2)
    );
    let q1 = entry
        .report(pb::ReportRequest {
            year: year as u32,
            quarter: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(q1.period, format!("{year}-Q1"));
    assert_eq!(q1.rows.last().unwrap().results, 1);
    let e = entry
        .report(pb::ReportRequest {
            year: year as u32,
            quarter: 5,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "quarter");
    // One task's status, department by department, whatever its dates; a task without results has only the
    // (empty) total.
    let task = |task_id: &str| pb::ReportRequest {
        task_id: task_id.into(),
        ..Default::default()
    };
    let t2 = entry.report(task("T2")).await.unwrap().into_inner();
    assert_eq!(t2.period, "T2");
    let by_department: Vec<(&str, u64, u64, u64)> = t2
        .rows
        .iter()
        .map(|r| {
            (
                r.department_code.as_str(),
                r.results,
                r.entered,
                r.published,
            )
        })
        .collect();
    assert_eq!(by_department, vec![(SCJG, 2, 1, 1), ("", 2, 1, 1)]);
    let none = entry.report(task("T-none")).await.unwrap().into_inner();
    assert_eq!(none.rows.len(), 1);
    assert_eq!(none.rows[0].results, 0);

    // The daily export: BOM, header, the day's published record.
    let mut stream = entry
        .export_published(pb::ExportPublishedRequest {
            day: suiji_platform::calendar::china_date(suiji_platform::db::now_ms()).to_string(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut file = Vec::new();
    while let Some(chunk) = stream.message().await.unwrap() {
        file.extend(chunk.chunk);
    }
    let text = String::from_utf8(file).unwrap();
    assert!(text.starts_with("\u{feff}统一社会信用代码,名称"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains(&s.targets[0].credit_code));
    assert!(text.contains("不配合检查情节严重"));

    // The daily file of the day before is written once into the export directory, whole.
    let yesterday = suiji_platform::calendar::china_date(suiji_platform::db::now_ms())
        .pred_opt()
        .unwrap();
    let file = s.export_dir.join(format!("published-{yesterday}.csv"));
    let path = file.clone();
    assert!(
        eventually(Duration::from_secs(10), || {
            let path = path.clone();
            async move { path.exists() }
        })
        .await,
        "{} is written",
        file.display()
    );
    let daily = std::fs::read_to_string(&file).unwrap();
    assert!(
        daily.starts_with("\u{feff}统一社会信用代码,名称"),
        "{daily}"
    );
    assert_eq!(
        daily.lines().count(),
        1,
        "nothing was published yesterday: {daily}"
    );
    let partial: Vec<_> = std::fs::read_dir(&s.export_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(partial.is_empty(), "no half-written file is left");

    // A visit on a day no calendar year covers (before 2004): no due date can be counted. The result says why in
    // its history, and the report counts it apart, never an empty field in silence.
    s.conclude(
        "T3",
        2,
        "2003-06-02",
        "inspected",
        &[(SCJG, "SCJG-1", false)],
    )
    .await;
    let id = format!("T3/{}/{SCJG}/SCJG-1", s.targets[2].id);
    let undated = eventually(Duration::from_secs(10), || {
        let mut entry = entry.clone();
        let id = id.clone();
        async move { entry.get_result(pb::GetResultRequest { id }).await.is_ok() }
    })
    .await;
    assert!(undated, "the result is created");
    let r = entry
        .get_result(pb::GetResultRequest { id })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_eq!((r.due_date.as_str(), r.due_date_provisional), ("", false));
    let why = r
        .history
        .iter()
        .find(|h| h.kind == "due_uncounted")
        .expect("the history says why");
    assert!(why.detail.contains("2003"), "{}", why.detail);
    let report = entry
        .report(pb::ReportRequest {
            year: 2003,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.rows.last().unwrap().undated, 1);
    s.stop().await;
}
