//! Conversions between the protobuf messages of `suiji.catalog.v1` and the domain types.

use suiji_api::catalog::v1 as pb;
use suiji_platform::validation::{Violations, msg};

use crate::domain::{
    Category, CheckPoint, Item, ItemContent, ItemState, Method, SubItem, TargetKind, Version,
    VersionState,
};

use suiji_platform::grpc::timestamp as ts;

/// A target kind from its protobuf value.
pub fn target_kind(v: i32) -> Option<TargetKind> {
    Some(match pb::TargetKind::try_from(v).ok()? {
        pb::TargetKind::Enterprise => TargetKind::Enterprise,
        pb::TargetKind::IndividualBusiness => TargetKind::IndividualBusiness,
        pb::TargetKind::FarmersCooperative => TargetKind::FarmersCooperative,
        pb::TargetKind::PublicInstitution => TargetKind::PublicInstitution,
        pb::TargetKind::SocialOrganisation => TargetKind::SocialOrganisation,
        pb::TargetKind::NaturalPerson => TargetKind::NaturalPerson,
        pb::TargetKind::Project => TargetKind::Project,
        pb::TargetKind::Facility => TargetKind::Facility,
        pb::TargetKind::Premises => TargetKind::Premises,
        pb::TargetKind::Unspecified => return None,
    })
}

fn target_kind_pb(k: TargetKind) -> pb::TargetKind {
    match k {
        TargetKind::Enterprise => pb::TargetKind::Enterprise,
        TargetKind::IndividualBusiness => pb::TargetKind::IndividualBusiness,
        TargetKind::FarmersCooperative => pb::TargetKind::FarmersCooperative,
        TargetKind::PublicInstitution => pb::TargetKind::PublicInstitution,
        TargetKind::SocialOrganisation => pb::TargetKind::SocialOrganisation,
        TargetKind::NaturalPerson => pb::TargetKind::NaturalPerson,
        TargetKind::Project => pb::TargetKind::Project,
        TargetKind::Facility => pb::TargetKind::Facility,
        TargetKind::Premises => pb::TargetKind::Premises,
    }
}

/// A category from its protobuf value.
pub fn category(v: i32) -> Option<Category> {
    match pb::ItemCategory::try_from(v).ok()? {
        pb::ItemCategory::Key => Some(Category::Key),
        pb::ItemCategory::General => Some(Category::General),
        pb::ItemCategory::Unspecified => None,
    }
}

/// An item state from its protobuf value.
pub fn item_state(v: i32) -> Option<ItemState> {
    match pb::ItemState::try_from(v).ok()? {
        pb::ItemState::Draft => Some(ItemState::Draft),
        pb::ItemState::Published => Some(ItemState::Published),
        pb::ItemState::Retired => Some(ItemState::Retired),
        pb::ItemState::Unspecified => None,
    }
}

fn method(v: i32) -> Option<Method> {
    match pb::InspectionMethod::try_from(v).ok()? {
        pb::InspectionMethod::OnSite => Some(Method::OnSite),
        pb::InspectionMethod::Written => Some(Method::Written),
        pb::InspectionMethod::OnlineMonitoring => Some(Method::OnlineMonitoring),
        pb::InspectionMethod::ThirdParty => Some(Method::ThirdParty),
        pb::InspectionMethod::Unspecified => None,
    }
}

fn method_pb(m: Method) -> pb::InspectionMethod {
    match m {
        Method::OnSite => pb::InspectionMethod::OnSite,
        Method::Written => pb::InspectionMethod::Written,
        Method::OnlineMonitoring => pb::InspectionMethod::OnlineMonitoring,
        Method::ThirdParty => pb::InspectionMethod::ThirdParty,
    }
}

/// Content from a request; enum values that are unset or unknown become violations.
pub fn content_from(c: Option<pb::ItemContent>) -> Result<ItemContent, Violations> {
    let Some(c) = c else {
        return Err(Violations::one("content", msg("required")));
    };
    let mut v = Violations::new();
    let mut kinds = Vec::new();
    for (i, k) in c.target_kinds.iter().enumerate() {
        match target_kind(*k) {
            Some(k) => kinds.push(k),
            None => v.add(
                format!("content.target_kinds[{i}]"),
                msg("not-a-target-kind").arg("value", k),
            ),
        }
    }
    let mut methods = Vec::new();
    for (i, m) in c.methods.iter().enumerate() {
        match method(*m) {
            Some(m) => methods.push(m),
            None => v.add(
                format!("content.methods[{i}]"),
                msg("not-a-method").arg("value", m),
            ),
        }
    }
    let cat = category(c.category);
    v.check(cat.is_none(), "content.category", msg("key-or-general"));
    v.into_result()?;
    Ok(ItemContent {
        name: c.name,
        sub_items: c
            .sub_items
            .into_iter()
            .map(|s| SubItem {
                code: s.code,
                name: s.name,
            })
            .collect(),
        legal_basis: c.legal_basis,
        department_code: c.department_code,
        target_kinds: kinds,
        category: cat.expect("checked above"),
        ratio_cap_basis_points: c.ratio_cap_basis_points,
        frequency_per_year: c.frequency_per_year,
        methods,
        inspector_qualifications: c.inspector_qualifications,
        requires_expert: c.requires_expert,
        checklist: c
            .checklist
            .into_iter()
            .map(|p| CheckPoint {
                code: p.code,
                description: p.description,
                basis: p.basis,
            })
            .collect(),
        remarks: c.remarks,
    })
}

/// Content as a message.
pub fn content_pb(c: &ItemContent) -> pb::ItemContent {
    pb::ItemContent {
        name: c.name.clone(),
        sub_items: c
            .sub_items
            .iter()
            .map(|s| pb::SubItem {
                code: s.code.clone(),
                name: s.name.clone(),
            })
            .collect(),
        legal_basis: c.legal_basis.clone(),
        department_code: c.department_code.clone(),
        target_kinds: c
            .target_kinds
            .iter()
            .map(|k| target_kind_pb(*k) as i32)
            .collect(),
        category: match c.category {
            Category::Key => pb::ItemCategory::Key,
            Category::General => pb::ItemCategory::General,
        } as i32,
        ratio_cap_basis_points: c.ratio_cap_basis_points,
        frequency_per_year: c.frequency_per_year,
        methods: c.methods.iter().map(|m| method_pb(*m) as i32).collect(),
        inspector_qualifications: c.inspector_qualifications.clone(),
        requires_expert: c.requires_expert,
        checklist: c
            .checklist
            .iter()
            .map(|p| pb::CheckPoint {
                code: p.code.clone(),
                description: p.description.clone(),
                basis: p.basis.clone(),
            })
            .collect(),
        remarks: c.remarks.clone(),
    }
}

/// A version as a message.
pub fn version_pb(v: &Version) -> pb::ItemVersion {
    pb::ItemVersion {
        version: v.version,
        state: match v.state {
            VersionState::Draft => pb::VersionState::Draft,
            VersionState::Published => pb::VersionState::Published,
            VersionState::Superseded => pb::VersionState::Superseded,
            VersionState::Retired => pb::VersionState::Retired,
        } as i32,
        content: Some(content_pb(&v.content)),
        created_time: Some(ts(v.created_at_ms)),
        published_time: v.published_at_ms.map(ts),
        published_by: v.published_by.clone(),
    }
}

/// An item with one of its versions as a message.
pub fn item_pb(item: &Item, version: &Version) -> pb::Item {
    pb::Item {
        code: item.code.clone(),
        department_code: item.department_code.clone(),
        state: match item.state {
            ItemState::Draft => pb::ItemState::Draft,
            ItemState::Published => pb::ItemState::Published,
            ItemState::Retired => pb::ItemState::Retired,
        } as i32,
        version: Some(version_pb(version)),
        published_version: item.published_version,
        revision: item.revision,
        retire_reason: item.retire_reason.clone(),
    }
}
