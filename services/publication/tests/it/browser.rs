//! The public results page in headless Chromium (playwright-core, `/usr/bin/chromium`): a credit code shows its
//! published results with the correction note; nothing withheld or unpublished is visible.

use suiji_api::publication::v1 as pb;
use suiji_platform::testing::{self, Backend};

use crate::{SCJG, STHJ, Setup, content, publish, results};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_page_shows_published_results_and_corrections_only() {
    suiji_platform::clock::pin_for_test("2031-06-01");
    let Some(script) = testing::browser_driver("public_page.mjs") else {
        return;
    };
    let Some(s) = Setup::start(Backend::Embedded).await else {
        return;
    };
    let today = suiji_platform::calendar::today().to_string();
    s.conclude(
        "T9",
        0,
        &today,
        "inspected",
        &[(SCJG, "SCJG-1", false), (STHJ, "STHJ-1", false)],
    )
    .await;
    s.conclude("T9", 1, &today, "inspected", &[(SCJG, "SCJG-1", false)])
        .await;
    let listed = results(&mut s.entry(SCJG), SCJG, 2).await;
    let id = |target: usize| format!("T9/{}/{SCJG}/SCJG-1", s.targets[target].id);
    // Far ahead, on the provisional calendar: 20 working days from Sunday 1 June 2031, 端午 (the 24th) not counted.
    assert!(
        listed
            .iter()
            .all(|r| r.due_date == "2031-06-30" && r.due_date_provisional),
        "{listed:?}"
    );
    publish(&s, SCJG, &id(0), &["1"], pb::Disposal::None).await;
    s.head(SCJG)
        .correct_result(pb::CorrectResultRequest {
            id: id(0),
            content: content(&["B"], pb::Disposal::OrderedToCorrect),
            reason: "复核发现未按规定公示年度报告".into(),
            expected_revision: 0,
        })
        .await
        .unwrap();
    s.entry(SCJG)
        .enter_result(pb::EnterResultRequest {
            id: id(1),
            content: content(&["1"], pb::Disposal::None),
            expected_revision: 0,
        })
        .await
        .unwrap();
    s.entry(SCJG)
        .request_withholding(pb::RequestWithholdingRequest {
            id: id(1),
            reason: "涉及国家秘密".into(),
            expected_revision: 0,
        })
        .await
        .unwrap();
    s.head(SCJG)
        .withhold_result(pb::WithholdResultRequest {
            id: id(1),
            reason: String::new(),
            expected_revision: 0,
        })
        .await
        .unwrap();

    let seen = testing::run_browser_driver(
        &script,
        &[
            &s.publication.addr,
            &s.targets[0].credit_code,
            &s.targets[1].credit_code,
        ],
    );
    assert_eq!(seen["title"], "双随机抽查结果公示 · suiji");
    assert_eq!(seen["errors"].as_array().unwrap().len(), 0, "{seen}");
    let first = &seen["seen"][0];
    let rows = first["rows"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        1,
        "only SCJG's published result, not STHJ's unentered one: {first}"
    );
    assert_eq!(rows[0]["id"], id(0));
    let text = rows[0]["text"].as_str().unwrap();
    assert!(text.contains(&s.targets[0].credit_code), "{text}");
    assert!(text.contains("咸阳市市场监督管理局"), "{text}");
    assert!(
        text.contains("未按规定公示应当公示的信息"),
        "the corrected result: {text}"
    );
    assert!(
        text.contains("更正") && text.contains("原结果：未发现问题"),
        "the correction note: {text}"
    );
    assert!(text.contains("复核发现未按规定公示年度报告"), "{text}");
    let second = &seen["seen"][1];
    assert_eq!(
        second["rows"].as_array().unwrap().len(),
        0,
        "withheld is not shown: {second}"
    );
    assert_eq!(second["status"], "没有已公示的检查结果。");
    s.stop().await;
}
