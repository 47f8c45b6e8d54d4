use super::*;
use suiji_platform::auth::{ROLE_PLANNING_EDITOR, ROLE_PLANNING_JUDICIAL};

const SCJG: &str = "610400-SCJG";
const STHJ: &str = "610400-STHJ";

fn who(department: &str, roles: &[&str]) -> Identity {
    Identity {
        subject: format!("user-of-{department}-{}", roles.join("+")),
        department: department.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        inspector: None,
    }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn item(code: &str, department: &str, cap: u32) -> CatalogItem {
    CatalogItem {
        code: code.into(),
        name: format!("item {code}"),
        department_code: department.into(),
        published: true,
        cap_basis_points: cap,
        methods: vec![Method::OnSite],
        target_kinds: vec![TargetKind::Enterprise],
    }
}

fn entry() -> Entry {
    Entry {
        key: "01".into(),
        task_name: "食品生产企业联合抽查".into(),
        task_type: TaskType::Directed,
        scope: Scope {
            kinds: vec![TargetKind::Enterprise],
            region_codes: vec!["610400".into()],
            ..Default::default()
        },
        method: Method::OnSite,
        ratio_basis_points: 300,
        quantity: 0,
        risk_ratios: vec![],
        lead_department_code: SCJG.into(),
        participants: vec![
            Participant {
                department_code: SCJG.into(),
                item_codes: vec!["SCJG-1".into()],
            },
            Participant {
                department_code: STHJ.into(),
                item_codes: vec!["STHJ-1".into()],
            },
        ],
        window_start: date("2027-03-01"),
        window_end: date("2027-06-30"),
        publish_drawn_list: true,
        witnessed_draw: false,
    }
}

fn content() -> PlanContent {
    PlanContent {
        name: "2027年咸阳市部门联合抽查计划".into(),
        year: 2027,
        entries: vec![entry()],
        remarks: String::new(),
    }
}

struct World {
    departments: BTreeSet<String>,
    items: HashMap<String, CatalogItem>,
}

impl World {
    fn new() -> Self {
        Self {
            departments: [SCJG, STHJ].into_iter().map(String::from).collect(),
            items: [item("SCJG-1", SCJG, 500), item("STHJ-1", STHJ, 500)]
                .into_iter()
                .map(|i| (i.code.clone(), i))
                .collect(),
        }
    }

    fn check(&self, c: &PlanContent) -> Result<(), Violations> {
        validate_content(
            c,
            &Known {
                departments: &self.departments,
                items: &self.items,
                regions: Regions::shipped(),
            },
        )
    }
}

fn fields(v: Violations) -> Vec<String> {
    v.iter().map(|x| x.field.clone()).collect()
}

#[test]
fn a_valid_joint_plan_passes() {
    World::new().check(&content()).unwrap();
    assert!(content().is_joint());
}

#[test]
fn ratio_over_an_items_cap_is_refused_naming_the_item() {
    let mut w = World::new();
    w.items.get_mut("STHJ-1").unwrap().cap_basis_points = 200;
    let err = w.check(&content()).unwrap_err();
    let v: Vec<_> = err.iter().cloned().collect();
    assert_eq!(v.len(), 1, "{err}");
    assert_eq!(v[0].field, "content.entries[0].ratio_basis_points");
    assert!(v[0].reason.contains("STHJ-1"), "{}", v[0].reason);
}

#[test]
fn unknown_departments_items_and_foreign_items_are_named() {
    let w = World::new();
    let mut c = content();
    c.entries[0].participants.push(Participant {
        department_code: "610400-NOPE".into(),
        item_codes: vec!["SCJG-1".into(), "GHOST".into()],
    });
    let f = fields(w.check(&c).unwrap_err());
    assert!(
        f.contains(&"content.entries[0].participants[2].department_code".to_string()),
        "{f:?}"
    );
    // SCJG-1 belongs to SCJG, not to the unknown department; GHOST is not in the catalog.
    assert!(
        f.contains(&"content.entries[0].participants[2].item_codes[0]".to_string()),
        "{f:?}"
    );
    assert!(
        f.contains(&"content.entries[0].participants[2].item_codes[1]".to_string()),
        "{f:?}"
    );
}

#[test]
fn unpublished_items_and_disallowed_methods_are_refused() {
    let mut w = World::new();
    w.items.get_mut("SCJG-1").unwrap().published = false;
    w.items.get_mut("STHJ-1").unwrap().methods = vec![Method::Written];
    let f = fields(w.check(&content()).unwrap_err());
    assert!(
        f.contains(&"content.entries[0].participants[0].item_codes[0]".to_string()),
        "{f:?}"
    );
    assert!(
        f.contains(&"content.entries[0].method".to_string()),
        "{f:?}"
    );
}

#[test]
fn entry_shape_rules() {
    let w = World::new();
    let mut c = content();
    c.entries[0].quantity = 50; // both ratio and quantity
    c.entries[0].window_end = date("2028-01-10"); // outside the year
    c.entries[0].lead_department_code = STHJ.into(); // fine: STHJ takes part
    c.entries.push(Entry {
        key: "01".into(),
        task_type: TaskType::Undirected,
        ..entry()
    });
    let f = fields(w.check(&c).unwrap_err());
    assert!(
        f.contains(&"content.entries[0].quantity".to_string()),
        "{f:?}"
    );
    assert!(
        f.contains(&"content.entries[0].window_start".to_string()),
        "{f:?}"
    );
    assert!(
        f.contains(&"content.entries[1].key".to_string()),
        "duplicate key: {f:?}"
    );
    assert!(
        f.contains(&"content.entries[1].scope".to_string()),
        "undirected with a scope: {f:?}"
    );
    assert!(!f.iter().any(|x| x.contains("lead_department")), "{f:?}");
}

#[test]
fn higher_risk_never_gets_a_lower_ratio() {
    let w = World::new();
    let mut c = content();
    c.entries[0].risk_ratios = vec![
        RiskRatio {
            level: Risk::High,
            basis_points: 3000,
        },
        RiskRatio {
            level: Risk::MediumHigh,
            basis_points: 1000,
        },
        RiskRatio {
            level: Risk::Medium,
            basis_points: 200,
        },
        RiskRatio {
            level: Risk::Low,
            basis_points: 100,
        },
    ];
    w.check(&c).unwrap();
    c.entries[0].risk_ratios[0].basis_points = 50;
    let f = fields(w.check(&c).unwrap_err());
    assert_eq!(f, vec!["content.entries[0].risk_ratios".to_string()]);
}

fn plan(state: PlanState) -> Plan {
    Plan {
        id: "PLAN-1".into(),
        department_code: SCJG.into(),
        year: 2027,
        state,
        effective_version: u32::from(state == PlanState::Published),
        latest_version: 1,
        revision: 1,
        created_by: "author".into(),
        submitted_by: String::new(),
        submitted_at: None,
        approved_at: None,
        published_at: None,
        approved_by: String::new(),
        late_submission: false,
        late_approval: false,
        return_reason: String::new(),
    }
}

fn ms(day: &str) -> i64 {
    date(day)
        .and_hms_opt(4, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
}

#[test]
fn lifecycle_with_deadlines_flagged_not_refused() {
    let editor = who(SCJG, &[ROLE_PLANNING_EDITOR]);
    let meeting = who("610400-FGW", &[ROLE_JOINT_MEETING]);
    let mut p = plan(PlanState::Draft);
    submit(&editor, &mut p, ms("2026-12-31")).unwrap();
    assert!(!p.late_submission);
    approve(&meeting, &mut p, ms("2027-02-01")).unwrap();
    assert!(p.late_approval, "approved after the end of January");
    publish(&editor, &mut p, ms("2027-02-02")).unwrap();
    assert_eq!((p.state, p.effective_version), (PlanState::Published, 1));

    let mut late = plan(PlanState::Draft);
    submit(&editor, &mut late, ms("2027-01-01")).unwrap();
    assert!(late.late_submission);
}

#[test]
fn approving_your_own_plan_or_without_the_role_is_denied() {
    let mut p = plan(PlanState::Submitted);
    let own = who(SCJG, &[ROLE_JOINT_MEETING, ROLE_PLANNING_EDITOR]);
    assert!(matches!(approve(&own, &mut p, 0), Err(Refusal::Denied(d)) if d.field == "id"));
    let editor = who("610400-FGW", &[ROLE_PLANNING_EDITOR]);
    assert!(
        matches!(approve(&editor, &mut p, 0), Err(Refusal::Denied(d)) if d.field == "authorization")
    );
    // The plan's author holding another department's joint-meeting token: refused as the same person, and the
    // refusal says so rather than blaming the department.
    let author = Identity {
        subject: "author".into(),
        ..who("610400-ZFB", &[ROLE_JOINT_MEETING])
    };
    match approve(&author, &mut p, 0) {
        Err(Refusal::Denied(d)) => {
            assert_eq!(d.field, "id");
            assert_eq!(d.reason.code(), "denied-four-eyes-drafted");
            let english = d.reason.text();
            assert!(
                english.contains("four-eyes") && english.contains("drafted"),
                "{english}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.state, PlanState::Submitted);
}

#[test]
fn publishing_an_unapproved_plan_is_not_now() {
    let editor = who(SCJG, &[ROLE_PLANNING_EDITOR]);
    for state in [PlanState::Draft, PlanState::Submitted] {
        let mut p = plan(state);
        assert!(
            matches!(publish(&editor, &mut p, 0), Err(Refusal::NotNow(_))),
            "{state:?}"
        );
    }
}

#[test]
fn amendments_need_both_filings_before_publication() {
    let editor = who(SCJG, &[ROLE_PLANNING_EDITOR]);
    let mut p = plan(PlanState::Published);
    let n = propose_amendment(&editor, &p, &content(), "新增一项抽查任务").unwrap();
    assert_eq!(n, 2);
    assert!(matches!(
        propose_amendment(&editor, &p, &content(), " "),
        Err(Refusal::Invalid(_))
    ));
    let mut v = Version {
        version: n,
        content: content(),
        reason: "新增".into(),
        amendment: Some(AmendmentState::Proposed),
        joint_meeting_filed_by: String::new(),
        judicial_filed_by: String::new(),
        created_at: 0,
        effective_at: None,
    };
    p.latest_version = n;
    assert!(matches!(
        propose_amendment(&editor, &p, &content(), "again"),
        Err(Refusal::NotNow(_))
    ));
    assert!(matches!(
        file_amendment(&editor, &p, &mut v),
        Err(Refusal::Denied(_))
    ));
    file_amendment(&who("610400-FGW", &[ROLE_JOINT_MEETING]), &p, &mut v).unwrap();
    let Err(Refusal::NotNow(n)) = publish_amendment(&editor, &mut p, &mut v.clone(), 5) else {
        panic!("published before the judicial filing");
    };
    assert!(n.0.text().contains("judicial"), "{}", n.0);
    file_amendment(&who("610400-SFJ", &[ROLE_PLANNING_JUDICIAL]), &p, &mut v).unwrap();
    assert_eq!(v.amendment, Some(AmendmentState::Filed));
    publish_amendment(&editor, &mut p, &mut v, 5).unwrap();
    assert_eq!((p.effective_version, v.effective_at), (2, Some(5)));
}

fn published_version() -> Version {
    Version {
        version: 1,
        content: content(),
        reason: String::new(),
        amendment: None,
        joint_meeting_filed_by: String::new(),
        judicial_filed_by: String::new(),
        created_at: 0,
        effective_at: Some(0),
    }
}

#[test]
fn a_task_comes_only_from_a_published_entry_and_only_narrows() {
    let lead = who(SCJG, &[ROLE_PLANNING_EDITOR]);
    let p = plan(PlanState::Published);
    let v = published_version();
    let regions = Regions::shipped();
    let request = TaskRequest {
        plan_id: p.id.clone(),
        entry_key: "01".into(),
        ..Default::default()
    };
    let t = plan_task(&lead, &p, &v, request.clone(), 0, regions).unwrap();
    assert_eq!(t.participants.len(), 2);
    assert_eq!(t.window_start, date("2027-03-01"));

    let missing = TaskRequest {
        entry_key: "99".into(),
        ..request.clone()
    };
    assert!(matches!(
        plan_task(&lead, &p, &v, missing, 0, regions),
        Err(Refusal::Invalid(_))
    ));
    let draft = plan(PlanState::Approved);
    assert!(matches!(
        plan_task(&lead, &draft, &v, request.clone(), 0, regions),
        Err(Refusal::NotNow(_))
    ));
    let other = who(STHJ, &[ROLE_PLANNING_EDITOR]);
    assert!(matches!(
        plan_task(&other, &p, &v, request.clone(), 0, regions),
        Err(Refusal::Denied(_))
    ));

    // A county of Xianyang narrows the entry's city; Xi'an widens it.
    let narrow = TaskRequest {
        scope: Some(Scope {
            kinds: vec![TargetKind::Enterprise],
            region_codes: vec!["610402".into()],
            ..Default::default()
        }),
        ..request.clone()
    };
    plan_task(&lead, &p, &v, narrow, 0, regions).unwrap();
    let wide = TaskRequest {
        scope: Some(Scope {
            kinds: vec![TargetKind::Enterprise],
            region_codes: vec!["610100".into()],
            ..Default::default()
        }),
        ..request.clone()
    };
    let Err(Refusal::Invalid(err)) = plan_task(&lead, &p, &v, wide, 0, regions) else {
        panic!("widened")
    };
    assert_eq!(fields(err), vec!["content.scope.region_codes".to_string()]);
}

#[test]
fn task_quantities_never_exceed_the_entry() {
    let lead = who(SCJG, &[ROLE_PLANNING_EDITOR]);
    let p = plan(PlanState::Published);
    let mut v = published_version();
    v.content.entries[0].ratio_basis_points = 0;
    v.content.entries[0].quantity = 100;
    let regions = Regions::shipped();
    let request = TaskRequest {
        plan_id: p.id.clone(),
        entry_key: "01".into(),
        ..Default::default()
    };
    assert_eq!(
        plan_task(&lead, &p, &v, request.clone(), 60, regions)
            .unwrap()
            .quantity,
        40
    );
    let over = TaskRequest {
        quantity: 41,
        ..request.clone()
    };
    assert!(matches!(
        plan_task(&lead, &p, &v, over, 60, regions),
        Err(Refusal::Invalid(_))
    ));
    assert!(matches!(
        plan_task(&lead, &p, &v, request, 100, regions),
        Err(Refusal::Invalid(_))
    ));
}

#[test]
fn launch_once_within_the_window_and_cancel_with_a_reason() {
    let lead = who(SCJG, &[ROLE_PLANNING_EDITOR]);
    let mut task = Task {
        id: "TASK-1".into(),
        content: plan_task(
            &lead,
            &plan(PlanState::Published),
            &published_version(),
            TaskRequest {
                plan_id: "PLAN-1".into(),
                entry_key: "01".into(),
                ..Default::default()
            },
            0,
            Regions::shipped(),
        )
        .unwrap(),
        plan_version: 1,
        year: 2027,
        entry: entry(),
        state: TaskState::Created,
        cancel_reason: String::new(),
        revision: 1,
        created_by: "x".into(),
        created_at: 0,
        launched_at: None,
        cancelled_at: None,
    };
    assert!(matches!(
        launch(&lead, &mut task.clone(), ms("2027-07-01")),
        Err(Refusal::NotNow(_))
    ));
    launch(&lead, &mut task, ms("2027-03-05")).unwrap();
    assert!(
        matches!(
            launch(&lead, &mut task, ms("2027-03-05")),
            Err(Refusal::NotNow(_))
        ),
        "launched twice"
    );
    assert!(matches!(
        cancel(&lead, &mut task, "", 0),
        Err(Refusal::Invalid(_))
    ));
    cancel(&lead, &mut task, "上级部署专项整治，本批次取消", 9).unwrap();
    assert_eq!(task.state, TaskState::Cancelled);
}

#[test]
fn coverage_names_uncovered_items_idle_departments_and_breaches() {
    let mut w = World::new();
    w.items.insert("SCJG-2".into(), item("SCJG-2", SCJG, 500));
    w.departments.insert("610400-WJW".into());
    let p = plan(PlanState::Published);
    let v = published_version();
    // The catalog lowered STHJ-1's cap after the plan was published.
    w.items.get_mut("STHJ-1").unwrap().cap_basis_points = 100;
    let c = coverage(&[(p, v)], &w.items, &w.departments, None);
    assert_eq!(c.uncovered, vec!["SCJG-2".to_string()]);
    assert_eq!(c.idle_departments, vec!["610400-WJW".to_string()]);
    assert_eq!(
        c.breaches,
        vec![("PLAN-1".into(), "01".into(), "STHJ-1".into(), 300, 100)]
    );
    let only = coverage(&[], &w.items, &w.departments, Some(STHJ));
    assert_eq!(
        (only.uncovered, only.idle_departments),
        (vec!["STHJ-1".to_string()], vec![STHJ.to_string()])
    );
}
