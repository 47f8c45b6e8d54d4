use super::*;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn visit() -> Visit {
    let member = |id: &str, d: &str, leader: bool| Member {
        inspector_id: id.into(),
        department: d.into(),
        leader,
    };
    let check = |d: &str, item: &str, code: &str| Check {
        department: d.into(),
        item: item.into(),
        code: code.into(),
        description: format!("{item} {code}"),
    };
    Visit {
        id: "T/91".into(),
        task_id: "T".into(),
        target_id: "91".into(),
        lead: "A".into(),
        team: vec![
            member("a1", "A", true),
            member("a2", "A", false),
            member("b1", "B", false),
        ],
        checks: vec![
            check("A", "A-1", "1"),
            check("A", "A-1", "2"),
            check("B", "B-1", "1"),
        ],
        assigned_on: day("2027-03-01"),
        schedule_by: Some(day("2027-03-08")),
        schedule_by_provisional: false,
        scheduled_for: None,
        method: None,
        announced: false,
        findings: Vec::new(),
        signature: None,
        confirmed: BTreeSet::new(),
        outcome: None,
        concluded_on: None,
        code: "C0DE".into(),
        verifications: Vec::new(),
        verified_count: 0,
        evidence: Vec::new(),
    }
}

fn finding(item: &str, code: &str, result: CheckResult, note: &str) -> Finding {
    Finding {
        department: String::new(),
        item: item.into(),
        code: code.into(),
        result,
        note: note.into(),
    }
}

fn field(r: Result<(), Refusal>) -> String {
    match r {
        Err(Refusal::Invalid { field, .. }) => field,
        other => panic!("expected a field violation, got {other:?}"),
    }
}

#[test]
fn a_visit_is_held_within_five_working_days_of_the_assignment() {
    let mut v = visit();
    assert_eq!(
        field(v.schedule(day("2027-03-09"), Method::OnSite, false, true)),
        "date"
    );
    assert_eq!(
        field(v.schedule(day("2027-02-28"), Method::OnSite, false, true)),
        "date"
    );
    assert_eq!(
        field(v.schedule(day("2027-03-06"), Method::OnSite, false, false)),
        "date",
        "not a working day"
    );
    v.schedule(day("2027-03-08"), Method::OnSite, false, true)
        .unwrap();
    assert_eq!(v.scheduled_for, Some(day("2027-03-08")));
}

#[test]
fn each_department_answers_every_check_point_of_its_own_items() {
    let mut v = visit();
    assert!(matches!(
        v.record_findings("A", vec![]),
        Err(Refusal::NotNow(_))
    ));
    v.schedule(day("2027-03-02"), Method::OnSite, true, true)
        .unwrap();
    assert_eq!(
        field(v.record_findings("A", vec![finding("A-1", "1", CheckResult::Compliant, "")])),
        "findings",
        "check point 2 unanswered"
    );
    assert_eq!(
        field(v.record_findings(
            "A",
            vec![
                finding("A-1", "1", CheckResult::Compliant, ""),
                finding("B-1", "1", CheckResult::Compliant, "")
            ]
        )),
        "findings[1]",
        "another department's item"
    );
    assert_eq!(
        field(v.record_findings(
            "A",
            vec![
                finding("A-1", "1", CheckResult::Problem, ""),
                finding("A-1", "2", CheckResult::Compliant, "")
            ]
        )),
        "findings[0].note"
    );
    assert_eq!(
        field(v.record_findings("C", vec![])),
        "id",
        "nobody of C on the team"
    );
    v.record_findings(
        "A",
        vec![
            finding("A-1", "1", CheckResult::Problem, "未公示年报"),
            finding("A-1", "2", CheckResult::Compliant, ""),
        ],
    )
    .unwrap();
    assert!(!v.findings_complete());
    assert!(v.problem_found("A") && !v.problem_found("B"));
}

#[test]
fn the_record_form_is_signed_or_refused_then_confirmed_by_every_member() {
    let mut v = visit();
    v.schedule(day("2027-03-02"), Method::OnSite, false, true)
        .unwrap();
    v.record_findings(
        "A",
        vec![
            finding("A-1", "1", CheckResult::Compliant, ""),
            finding("A-1", "2", CheckResult::Compliant, ""),
        ],
    )
    .unwrap();
    assert!(
        matches!(
            v.sign(Signature::Signed("张三".into())),
            Err(Refusal::NotNow(_))
        ),
        "B has not recorded"
    );
    v.record_findings(
        "B",
        vec![finding("B-1", "1", CheckResult::NotApplicable, "")],
    )
    .unwrap();
    assert_eq!(
        field(v.sign(Signature::Refused(" ".into()))),
        "refusal_note"
    );
    v.sign(Signature::Refused(
        "负责人拒绝签字，两名执法人员在场见证".into(),
    ))
    .unwrap();
    assert_eq!(
        field(v.confirm("A", &["b1".to_string()])),
        "inspector_ids[0]",
        "B confirms its own"
    );
    v.confirm("A", &["a1".to_string(), "a2".to_string()])
        .unwrap();
    assert!(
        matches!(
            v.conclude(Outcome::Inspected, day("2027-03-02")),
            Err(Refusal::NotNow(why)) if why.text().contains("b1")
        ),
        "b1 has not confirmed"
    );
    v.confirm("B", &["b1".to_string()]).unwrap();
    v.conclude(Outcome::Inspected, day("2027-03-02")).unwrap();
    assert!(matches!(
        v.record_findings("B", vec![]),
        Err(Refusal::NotNow(_))
    ));
}

#[test]
fn a_target_not_found_is_an_outcome() {
    let mut v = visit();
    assert!(matches!(
        v.conclude(Outcome::NotFound, day("2027-03-02")),
        Err(Refusal::NotNow(_))
    ));
    v.schedule(day("2027-03-02"), Method::OnSite, false, true)
        .unwrap();
    v.conclude(Outcome::NotFound, day("2027-03-02")).unwrap();
    assert_eq!(v.outcome, Some(Outcome::NotFound));
}

#[test]
fn new_findings_ask_for_the_signature_and_confirmations_again() {
    let mut v = visit();
    v.schedule(day("2027-03-02"), Method::OnSite, false, true)
        .unwrap();
    let a = || {
        vec![
            finding("A-1", "1", CheckResult::Compliant, ""),
            finding("A-1", "2", CheckResult::Compliant, ""),
        ]
    };
    v.record_findings("A", a()).unwrap();
    v.record_findings("B", vec![finding("B-1", "1", CheckResult::Compliant, "")])
        .unwrap();
    v.sign(Signature::Signed("李四".into())).unwrap();
    v.confirm("A", &["a1".to_string()]).unwrap();
    v.record_findings("A", a()).unwrap();
    assert!(v.signature.is_none() && v.confirmed.is_empty());
}

fn evidence(department: &str, item: &str, code: &str, sha: char) -> Evidence {
    Evidence {
        sha256: std::iter::repeat_n(sha, 64).collect(),
        storage_ref: format!("s3://evidence/T/91/{sha}.jpg"),
        media_type: "image/jpeg".into(),
        size_bytes: 48_213,
        description: "营业执照照片".into(),
        department: department.into(),
        item: item.into(),
        code: code.into(),
        added_by: "zhang.san".into(),
        added_at: 1,
    }
}

#[test]
fn evidence_is_kept_by_hash_and_reference_for_the_departments_own_points() {
    let mut v = visit();
    assert!(
        matches!(
            v.attach_evidence(evidence("A", "", "", 'a')),
            Err(Refusal::NotNow(_))
        ),
        "not before the visit is scheduled"
    );
    v.schedule(day("2027-03-03"), Method::OnSite, false, true)
        .unwrap();
    assert_eq!(v.attach_evidence(evidence("A", "A-1", "2", 'a')), Ok(true));
    assert_eq!(v.attach_evidence(evidence("B", "", "", 'b')), Ok(true));
    // The same file from the same department again changes nothing; from another department it is theirs too.
    assert_eq!(v.attach_evidence(evidence("A", "", "", 'a')), Ok(false));
    assert_eq!(v.attach_evidence(evidence("B", "B-1", "1", 'a')), Ok(true));
    assert_eq!(v.evidence.len(), 3);
    assert_eq!(v.evidence[0].code, "2");

    let refused = |v: &mut Visit, e: Evidence| field(v.attach_evidence(e).map(|_| ()));
    assert_eq!(refused(&mut v, evidence("C", "", "", 'c')), "visit_id");
    assert_eq!(
        refused(&mut v, evidence("A", "B-1", "", 'c')),
        "item_code",
        "B's item"
    );
    assert_eq!(refused(&mut v, evidence("A", "", "1", 'c')), "item_code");
    assert_eq!(
        refused(&mut v, evidence("A", "A-1", "9", 'c')),
        "check_code"
    );
    for bad in ["ABC", &"A".repeat(64), &"g".repeat(64)] {
        let mut e = evidence("A", "", "", 'c');
        e.sha256 = bad.to_string();
        assert_eq!(refused(&mut v, e), "sha256", "{bad}");
    }
    for bad in [
        "",
        "evidence/1.jpg",
        "://x",
        "s3://a b",
        &format!("s3://{}", "x".repeat(1100)),
    ] {
        let mut e = evidence("A", "", "", 'c');
        e.storage_ref = bad.to_string();
        assert_eq!(refused(&mut v, e), "storage_ref", "{bad}");
    }
    let mut e = evidence("A", "", "", 'c');
    e.media_type = "jpeg".into();
    assert_eq!(refused(&mut v, e), "media_type");
    let mut e = evidence("A", "", "", 'c');
    e.size_bytes = 0;
    assert_eq!(refused(&mut v, e), "size_bytes");
    let mut e = evidence("A", "", "", 'c');
    e.description = "长".repeat(501);
    assert_eq!(refused(&mut v, e), "description");
    assert_eq!(v.evidence.len(), 3, "nothing refused was kept");

    // Bounded: a visit keeps at most MAX_EVIDENCE pieces.
    for i in v.evidence.len()..MAX_EVIDENCE {
        let mut e = evidence("A", "", "", 'c');
        e.sha256 = format!("{i:064x}");
        assert_eq!(v.attach_evidence(e), Ok(true));
    }
    let mut e = evidence("A", "", "", 'c');
    e.sha256 = "f".repeat(64);
    assert_eq!(refused(&mut v, e), "sha256");

    v.outcome = Some(Outcome::Inspected);
    assert!(
        matches!(
            v.attach_evidence(evidence("A", "", "", 'd')),
            Err(Refusal::NotNow(_))
        ),
        "not on a concluded visit"
    );
}

#[test]
fn each_department_s_progress_is_counted_over_the_visits() {
    let mut first = visit();
    first.findings = vec![Finding {
        department: "A".into(),
        ..finding("A-1", "1", CheckResult::Compliant, "")
    }];
    first.signature = Some(Signature::Signed("法定代表人".into()));
    first.confirmed = ["a1".to_string(), "b1".to_string()].into();
    let mut second = visit();
    second.id = "T/92".into();
    second.team.retain(|m| m.department == "A");
    second.outcome = Some(Outcome::NotFound);
    let mut progress = BTreeMap::new();
    first.add_progress(&mut progress);
    second.add_progress(&mut progress);
    assert_eq!(
        progress["A"],
        Progress {
            visits: 2,
            seats: 4,
            findings_due: 2,
            findings_recorded: 1,
            signed: 1,
            confirmed: 1,
            concluded: 1,
        }
    );
    assert_eq!(
        progress["B"],
        Progress {
            visits: 1,
            seats: 1,
            findings_due: 1,
            findings_recorded: 0,
            signed: 1,
            confirmed: 1,
            concluded: 0,
        }
    );
}

#[test]
fn a_flood_of_code_checks_keeps_a_small_record() {
    let mut v = visit();
    for at in 1..=1000 {
        v.record_verification(at);
    }
    assert_eq!(v.times_verified(), 1000);
    assert_eq!(v.verifications.len(), super::KEPT_VERIFICATIONS);
    assert_eq!(v.verifications[..3], [1, 2, 3], "the first checks");
    assert_eq!(v.verifications.last(), Some(&1000), "and the latest");
    // A visit stored before the count was kept: its list counts.
    let mut old = visit();
    old.verifications = vec![5, 6];
    assert_eq!(old.times_verified(), 2);
    old.record_verification(7);
    assert_eq!((old.times_verified(), old.verifications.len()), (3, 3));
}
