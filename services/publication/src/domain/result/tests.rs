use super::*;

fn table() -> CodeTable {
    CodeTable::shipped()
}

fn result(outcome: &str, problem: bool) -> Result {
    Result {
        id: "T/X/D/I".into(),
        task_id: "T".into(),
        task_name: "task".into(),
        visit_id: "T/X".into(),
        target_id: "X".into(),
        credit_code: "91610400MA6X00000A".into(),
        target_name: "咸阳某公司".into(),
        department: "D".into(),
        item: "I".into(),
        item_name: "item".into(),
        inspection_type: "双随机抽查".into(),
        inspection_date: NaiveDate::from_ymd_opt(2027, 3, 3).unwrap(),
        visit_outcome: outcome.into(),
        problem_found: problem,
        problems: if problem {
            vec!["P1: no licence shown".into()]
        } else {
            Vec::new()
        },
        suggested: Result::suggest(&table(), outcome, problem),
        state: State::NotEntered,
        content: None,
        table: String::new(),
        due: NaiveDate::from_ymd_opt(2027, 3, 31),
        due_provisional: false,
        due_from: NaiveDate::from_ymd_opt(2027, 3, 3),
        reason: String::new(),
        published_at: None,
        corrections: Vec::new(),
        history: Vec::new(),
        withholding: None,
    }
}

fn content(codes: &[&str], disposal: Disposal) -> Content {
    Content {
        codes: codes.iter().map(|c| c.to_string()).collect(),
        disposal,
        disposal_department: String::new(),
        note: String::new(),
    }
}

fn known(_: &str) -> bool {
    true
}

fn fields(e: Error) -> Vec<String> {
    match e {
        Error::Invalid(v) => v
            .iter()
            .map(|x| format!("{}: {}", x.field, x.reason))
            .collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[test]
fn suggestions_follow_the_visit() {
    let t = table();
    assert_eq!(Result::suggest(&t, "inspected", false), vec!["1"]);
    assert!(Result::suggest(&t, "inspected", true).is_empty());
    assert_eq!(Result::suggest(&t, "not_found", false), vec!["6"]);
    assert_eq!(Result::suggest(&t, "closed", false), vec!["7"]);
}

#[test]
fn a_result_goes_from_entry_through_review_to_publication() {
    let mut r = result("inspected", false);
    r.enter(content(&["1"], Disposal::None), &table(), known, "clerk", 1)
        .unwrap();
    assert_eq!(r.state, State::AwaitingReview);
    assert_eq!(r.table, "2024-1");
    r.review(Decision::Approve, "", "reviewer", 2).unwrap();
    assert_eq!(r.state, State::Approved);
    assert!(r.publish("reviewer", 3).unwrap());
    assert_eq!(r.state, State::Published);
    assert_eq!(r.published_at, Some(3));
    assert!(
        !r.publish("reviewer", 4).unwrap(),
        "a second publish changes nothing"
    );
    let kinds: Vec<&str> = r.history.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, ["entered", "approved", "published"]);
}

#[test]
fn an_unapproved_result_is_not_published() {
    let mut r = result("inspected", false);
    assert!(matches!(r.publish("x", 1), Err(Error::NotNow(_))));
    r.enter(content(&["1"], Disposal::None), &table(), known, "clerk", 1)
        .unwrap();
    assert!(matches!(r.publish("x", 2), Err(Error::NotNow(_))));
    assert_eq!(r.state, State::AwaitingReview);
}

#[test]
fn returned_entries_are_edited_and_rejected_ones_entered_anew() {
    let mut r = result("inspected", true);
    let e = content(&["E"], Disposal::OrderedToCorrect);
    r.enter(e.clone(), &table(), known, "clerk", 1).unwrap();
    assert!(
        fields(r.review(Decision::Return, " ", "rev", 2).unwrap_err())[0].starts_with("reason")
    );
    r.review(Decision::Return, "say which licence", "rev", 2)
        .unwrap();
    assert_eq!(r.state, State::Returned);
    assert_eq!(
        r.content.as_ref(),
        Some(&e),
        "a returned entry is kept for editing"
    );
    assert!(r.state.is_entered());
    r.enter(e, &table(), known, "clerk", 3).unwrap();
    r.review(Decision::Reject, "wrong target", "rev", 4)
        .unwrap();
    assert_eq!(r.state, State::Rejected);
    assert!(r.content.is_none());
    assert!(!r.state.is_entered());
    assert!(matches!(
        r.review(Decision::Approve, "", "rev", 5),
        Err(Error::NotNow(_))
    ));
}

#[test]
fn codes_are_checked_against_the_table_and_the_visit() {
    let r = result("inspected", true);
    let t = table();
    let errs = fields(
        r.check(&content(&["1"], Disposal::None), &t, known, "content")
            .unwrap_err()
            .into(),
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("content.codes[0]") && e.contains("found a problem")),
        "{errs:?}"
    );
    let errs = fields(
        r.check(
            &content(&["Q", "A"], Disposal::CaseOpened),
            &t,
            known,
            "content",
        )
        .unwrap_err()
        .into(),
    );
    assert!(
        errs[0].contains("\"Q\" is not in result code table 2024-1"),
        "{errs:?}"
    );
    assert!(errs[1].contains("retired"), "{errs:?}");
    let errs = fields(
        r.check(
            &content(&["B", "B"], Disposal::CaseOpened),
            &t,
            known,
            "content",
        )
        .unwrap_err()
        .into(),
    );
    assert!(errs[0].contains("twice"), "{errs:?}");
    let errs = fields(
        r.check(&content(&["B"], Disposal::None), &t, known, "content")
            .unwrap_err()
            .into(),
    );
    assert!(errs[0].starts_with("content.disposal:"), "{errs:?}");
    let errs = fields(
        r.check(
            &content(&["B"], Disposal::Transferred),
            &t,
            known,
            "content",
        )
        .unwrap_err()
        .into(),
    );
    assert!(
        errs[0].starts_with("content.disposal_department_code"),
        "{errs:?}"
    );
    let mut transfer = content(&["B"], Disposal::Transferred);
    transfer.disposal_department = "NOPE".into();
    let errs = fields(
        r.check(&transfer, &t, |d| d != "NOPE", "content")
            .unwrap_err()
            .into(),
    );
    assert!(errs[0].contains("not a known department"), "{errs:?}");
    r.check(&transfer, &t, known, "content").unwrap();

    let clean = result("inspected", false);
    let errs = fields(
        clean
            .check(
                &content(&["1", "E"], Disposal::OrderedToCorrect),
                &t,
                known,
                "content",
            )
            .unwrap_err()
            .into(),
    );
    assert!(errs.iter().any(|e| e.contains("stands alone")), "{errs:?}");
    let errs = fields(
        clean
            .check(&content(&["1"], Disposal::CaseOpened), &t, known, "content")
            .unwrap_err()
            .into(),
    );
    assert!(errs[0].contains("nothing to follow up"), "{errs:?}");
    let gone = result("not_found", false);
    let errs = fields(
        gone.check(&content(&["1"], Disposal::None), &t, known, "content")
            .unwrap_err()
            .into(),
    );
    assert!(errs[0].contains("not found"), "{errs:?}");
    gone.check(&content(&["6"], Disposal::Notified), &t, known, "content")
        .map(|_| ())
        .unwrap_or_else(|v| assert!(v.iter().all(|x| x.field.contains("department")), "{v:?}"));
}

#[test]
fn withholding_needs_a_reason_and_an_entry_and_is_final() {
    let mut r = result("inspected", false);
    assert!(matches!(
        r.request_withholding("secret", "clerk", 1),
        Err(Error::NotNow(_))
    ));
    r.enter(content(&["1"], Disposal::None), &table(), known, "clerk", 1)
        .unwrap();
    assert!(
        matches!(r.withhold("", "head", 2), Err(Error::NotNow(_))),
        "the head withholds what was asked for, not on his own"
    );
    assert!(fields(r.request_withholding("  ", "clerk", 2).unwrap_err())[0].starts_with("reason"));
    r.request_withholding("an ongoing case", "clerk", 2)
        .unwrap();
    assert!(matches!(
        r.request_withholding("again", "clerk", 2),
        Err(Error::NotNow(_))
    ));
    r.review(Decision::Approve, "", "rev", 3).unwrap();
    assert!(
        matches!(r.publish("rev", 3), Err(Error::NotNow(_))),
        "not published while the head decides"
    );
    r.withhold("", "head", 4).unwrap();
    assert_eq!(r.state, State::Withheld);
    assert_eq!(r.reason, "an ongoing case", "the clerk's reason");
    assert!(r.withholding.is_none());
    assert!(r.content.is_some(), "archived with what was found");
    assert!(matches!(r.publish("x", 5), Err(Error::NotNow(_))));
    assert!(matches!(
        r.enter(content(&["1"], Disposal::None), &table(), known, "c", 5),
        Err(Error::NotNow(_))
    ));
    assert!(!r.overdue(NaiveDate::from_ymd_opt(2028, 1, 1).unwrap()));
}

#[test]
fn who_asks_to_withhold_does_not_decide_and_a_decline_lets_it_go_on() {
    let mut r = result("inspected", false);
    r.enter(content(&["1"], Disposal::None), &table(), known, "clerk", 1)
        .unwrap();
    r.request_withholding("a secret", "head", 2).unwrap();
    assert!(
        matches!(r.withhold("", "head", 3), Err(Error::Denied(_))),
        "four eyes: the head asked, another decides"
    );
    assert!(matches!(
        r.decline_withholding("no", "head", 3),
        Err(Error::Denied(_))
    ));
    let mut r = result("inspected", false);
    r.enter(content(&["1"], Disposal::None), &table(), known, "clerk", 1)
        .unwrap();
    r.request_withholding("a secret", "clerk", 2).unwrap();
    assert!(fields(r.decline_withholding(" ", "head", 3).unwrap_err())[0].starts_with("reason"));
    r.decline_withholding("nothing secret in it", "head", 3)
        .unwrap();
    assert!(r.withholding.is_none());
    r.review(Decision::Approve, "", "rev", 4).unwrap();
    assert!(r.publish("rev", 5).unwrap());
}

#[test]
fn who_entered_a_result_does_not_review_it() {
    let mut r = result("inspected", false);
    r.enter(content(&["1"], Disposal::None), &table(), known, "clerk", 1)
        .unwrap();
    for decision in [Decision::Approve, Decision::Return, Decision::Reject] {
        assert!(
            matches!(r.review(decision, "why", "clerk", 2), Err(Error::Denied(_))),
            "{decision:?}"
        );
    }
    r.review(Decision::Return, "fix it", "rev", 2).unwrap();
    r.enter(content(&["1"], Disposal::None), &table(), known, "rev", 3)
        .unwrap();
    assert!(
        matches!(
            r.review(Decision::Approve, "", "rev", 4),
            Err(Error::Denied(_))
        ),
        "the last entry decides who may not review"
    );
    r.review(Decision::Approve, "", "clerk", 4).unwrap();
}

#[test]
fn a_published_result_is_corrected_never_edited() {
    let mut r = result("inspected", true);
    let first = content(&["E"], Disposal::OrderedToCorrect);
    r.enter(first.clone(), &table(), known, "clerk", 1).unwrap();
    r.review(Decision::Approve, "", "rev", 2).unwrap();
    r.publish("rev", 3).unwrap();
    assert!(matches!(
        r.enter(first.clone(), &table(), known, "clerk", 4),
        Err(Error::NotNow(_))
    ));
    assert!(matches!(
        r.request_withholding("late", "clerk", 4),
        Err(Error::NotNow(_))
    ));
    assert!(
        fields(
            r.correct(first.clone(), "same", &table(), known, "head", 5)
                .unwrap_err()
        )[0]
        .starts_with("content")
    );
    let second = content(&["B", "C"], Disposal::CaseOpened);
    assert!(
        fields(
            r.correct(second.clone(), "", &table(), known, "head", 5)
                .unwrap_err()
        )[0]
        .starts_with("reason")
    );
    r.correct(
        second.clone(),
        "the filing was false",
        &table(),
        known,
        "head",
        5,
    )
    .unwrap();
    assert_eq!(r.state, State::Published);
    assert_eq!(r.content.as_ref(), Some(&second));
    assert_eq!(r.corrections.len(), 1);
    assert_eq!(r.corrections[0].previous, first);
    assert_eq!(r.corrections[0].at, 5);
    assert_eq!(
        r.published_at,
        Some(3),
        "the first publication stays on record"
    );
    assert_eq!(
        r.credit_kinds(&table()),
        vec!["abnormal_operations", "false_disclosure", "case_opened"]
    );
}

#[test]
fn overdue_is_past_the_due_day_and_not_done_with() {
    let mut r = result("inspected", false);
    let due = r.due.unwrap();
    assert!(!r.overdue(due));
    assert!(r.overdue(due.succ_opt().unwrap()));
    r.due = None;
    assert!(
        !r.overdue(due.succ_opt().unwrap()),
        "unknown while the calendar does not cover it"
    );
}
