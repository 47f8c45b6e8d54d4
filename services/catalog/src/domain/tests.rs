//! Tests of the catalog's rules.

use super::*;

const SHAANXI: Policy = Policy {
    general_cap_basis_points: 200,
};

pub(crate) fn content(department: &str) -> ItemContent {
    ItemContent {
        name: "食品生产企业监督检查".into(),
        sub_items: vec![SubItem {
            code: "1".into(),
            name: "生产环境条件".into(),
        }],
        legal_basis: vec!["《中华人民共和国食品安全法》第一百一十条".into()],
        department_code: department.into(),
        target_kinds: vec![TargetKind::Enterprise],
        category: Category::General,
        ratio_cap_basis_points: 0,
        frequency_per_year: 1,
        methods: vec![Method::OnSite],
        inspector_qualifications: vec!["food-safety".into()],
        requires_expert: false,
        checklist: vec![CheckPoint {
            code: "1.1".into(),
            description: "许可证是否有效".into(),
            basis: String::new(),
        }],
        remarks: String::new(),
    }
}

fn known(code: &str) -> bool {
    code.starts_with("610")
}

fn fields(v: &Violations) -> Vec<String> {
    v.iter().map(|x| x.field.clone()).collect()
}

fn identity(department: &str, roles: &[&str]) -> Identity {
    Identity {
        subject: "u".into(),
        department: department.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        inspector: None,
    }
}

fn item(state: ItemState, latest: u32, published: u32) -> Item {
    Item {
        code: "X".into(),
        department_code: "610400-SCJG".into(),
        state,
        latest_version: latest,
        published_version: published,
        revision: 3,
        retire_reason: String::new(),
    }
}

#[test]
fn a_general_item_takes_the_jurisdiction_cap_by_default() {
    let c = validate_content(content("610400-SCJG"), SHAANXI, known).unwrap();
    assert_eq!(c.ratio_cap_basis_points, 200);
    let guangyuan = Policy {
        general_cap_basis_points: 500,
    };
    assert_eq!(
        validate_content(content("610400-SCJG"), guangyuan, known)
            .unwrap()
            .ratio_cap_basis_points,
        500
    );
}

#[test]
fn a_general_item_over_the_cap_is_refused_with_the_numbers() {
    let mut c = content("610400-SCJG");
    c.ratio_cap_basis_points = 300;
    let v = validate_content(c.clone(), SHAANXI, known).unwrap_err();
    assert_eq!(fields(&v), vec!["content.ratio_cap_basis_points"]);
    assert!(
        v.to_string().contains("3.00%") && v.to_string().contains("2.00%"),
        "{v}"
    );
    // The same item fits Guangyuan's 5%.
    assert!(
        validate_content(
            c,
            Policy {
                general_cap_basis_points: 500
            },
            known
        )
        .is_ok()
    );
}

#[test]
fn a_key_item_must_carry_an_explicit_cap() {
    let mut c = content("610400-SCJG");
    c.category = Category::Key;
    let v = validate_content(c.clone(), SHAANXI, known).unwrap_err();
    assert_eq!(fields(&v), vec!["content.ratio_cap_basis_points"]);
    c.ratio_cap_basis_points = 3000; // 30%: above the general cap, allowed for key items
    assert_eq!(
        validate_content(c.clone(), SHAANXI, known)
            .unwrap()
            .ratio_cap_basis_points,
        3000
    );
    c.ratio_cap_basis_points = 10_001;
    assert!(validate_content(c, SHAANXI, known).is_err());
}

#[test]
fn every_missing_part_is_named() {
    let mut c = content("");
    c.name = "  ".into();
    c.legal_basis = vec![" ".into()];
    c.target_kinds.clear();
    c.methods.clear();
    c.frequency_per_year = 0;
    c.checklist.clear();
    let v = validate_content(c, SHAANXI, known).unwrap_err();
    assert_eq!(
        fields(&v),
        vec![
            "content.name",
            "content.legal_basis",
            "content.department_code",
            "content.target_kinds",
            "content.frequency_per_year",
            "content.methods",
            "content.checklist"
        ]
    );
}

#[test]
fn unknown_departments_and_duplicate_codes_are_refused() {
    let mut c = content("999999-NOPE");
    c.checklist.push(c.checklist[0].clone());
    c.target_kinds.push(TargetKind::Enterprise);
    let v = validate_content(c, SHAANXI, known).unwrap_err();
    assert_eq!(
        fields(&v),
        vec![
            "content.department_code",
            "content.target_kinds",
            "content.checklist[1].code"
        ]
    );
    assert!(v.to_string().contains("unknown department"), "{v}");
}

#[test]
fn codes_are_checked() {
    for (code, ok) in [
        ("SX-SCJG-001", true),
        ("", false),
        ("has space", false),
        (&"x".repeat(65), false),
    ] {
        let mut v = Violations::new();
        validate_code(code, &mut v);
        assert_eq!(v.is_empty(), ok, "{code:?}");
    }
}

#[test]
fn only_the_owning_department_with_the_role_edits() {
    let editor = identity("610400-SCJG", &[ROLE_CATALOG_EDITOR]);
    assert!(may_edit(&editor, "610400-SCJG", "content.department_code").is_ok());
    let other = identity(
        "610400-STHJ",
        &[ROLE_CATALOG_EDITOR, ROLE_CATALOG_PUBLISHER],
    );
    let denied = may_edit(&other, "610400-SCJG", "content.department_code").unwrap_err();
    assert_eq!(denied.field, "content.department_code");
    let denied = may_publish(&editor, "610400-SCJG").unwrap_err();
    assert_eq!(denied.field, "authorization");
    assert!(
        may_publish(
            &identity("610400-SCJG", &[ROLE_CATALOG_PUBLISHER]),
            "610400-SCJG"
        )
        .is_ok()
    );
}

#[test]
fn editing_a_published_item_opens_the_next_version() {
    assert_eq!(
        plan_edit(&item(ItemState::Draft, 1, 0), "610400-SCJG"),
        Ok(Edit::ReplaceDraft(1))
    );
    assert_eq!(
        plan_edit(&item(ItemState::Published, 1, 1), "610400-SCJG"),
        Ok(Edit::NewDraft(2))
    );
    assert_eq!(
        plan_edit(&item(ItemState::Published, 2, 1), "610400-SCJG"),
        Ok(Edit::ReplaceDraft(2))
    );
    assert!(matches!(
        plan_edit(&item(ItemState::Retired, 2, 2), "610400-SCJG"),
        Err(Ok(_))
    ));
    assert!(matches!(
        plan_edit(&item(ItemState::Draft, 1, 0), "610400-STHJ"),
        Err(Err(_))
    ));
}

#[test]
fn publishing_needs_a_draft_and_retiring_needs_a_publication_and_a_reason() {
    assert_eq!(plan_publish(&item(ItemState::Draft, 1, 0)), Ok(1));
    assert_eq!(plan_publish(&item(ItemState::Published, 2, 1)), Ok(2));
    assert!(plan_publish(&item(ItemState::Published, 1, 1)).is_err());
    assert!(plan_publish(&item(ItemState::Retired, 1, 1)).is_err());
    assert!(plan_retire(&item(ItemState::Published, 1, 1), "法律废止").is_ok());
    assert!(matches!(
        plan_retire(&item(ItemState::Published, 1, 1), " "),
        Err(Err(_))
    ));
    assert!(matches!(
        plan_retire(&item(ItemState::Draft, 1, 0), "x"),
        Err(Ok(_))
    ));
    assert!(matches!(
        plan_retire(&item(ItemState::Retired, 1, 1), "x"),
        Err(Ok(_))
    ));
}

#[test]
fn a_stale_revision_is_refused() {
    let i = item(ItemState::Draft, 1, 0);
    assert!(check_revision(&i, 0).is_ok());
    assert!(check_revision(&i, 3).is_ok());
    assert!(check_revision(&i, 2).is_err());
}
