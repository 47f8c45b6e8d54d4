//! Words of the domain that several services share, with their stable names: the kinds of inspection target.

use serde::{Deserialize, Serialize};

/// What a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// 企业.
    Enterprise,
    /// 个体工商户.
    IndividualBusiness,
    /// 农民专业合作社.
    FarmersCooperative,
    /// 事业单位.
    PublicInstitution,
    /// 社会组织.
    SocialOrganisation,
    /// 自然人.
    NaturalPerson,
    /// 项目.
    Project,
    /// 设施设备.
    Facility,
    /// 场所.
    Premises,
}

impl TargetKind {
    /// Every kind, in order.
    pub const ALL: [TargetKind; 9] = [
        TargetKind::Enterprise,
        TargetKind::IndividualBusiness,
        TargetKind::FarmersCooperative,
        TargetKind::PublicInstitution,
        TargetKind::SocialOrganisation,
        TargetKind::NaturalPerson,
        TargetKind::Project,
        TargetKind::Facility,
        TargetKind::Premises,
    ];

    /// Stable name, as stored and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enterprise => "enterprise",
            Self::IndividualBusiness => "individual_business",
            Self::FarmersCooperative => "farmers_cooperative",
            Self::PublicInstitution => "public_institution",
            Self::SocialOrganisation => "social_organisation",
            Self::NaturalPerson => "natural_person",
            Self::Project => "project",
            Self::Facility => "facility",
            Self::Premises => "premises",
        }
    }

    /// The Chinese name.
    pub fn chinese(self) -> &'static str {
        match self {
            Self::Enterprise => "企业",
            Self::IndividualBusiness => "个体工商户",
            Self::FarmersCooperative => "农民专业合作社",
            Self::PublicInstitution => "事业单位",
            Self::SocialOrganisation => "社会组织",
            Self::NaturalPerson => "自然人",
            Self::Project => "项目",
            Self::Facility => "设施设备",
            Self::Premises => "场所",
        }
    }

    /// From the stable or the Chinese name.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.chinese() == s)
    }

    /// The identifier prefix of kinds without a credit code; `None` for kinds identified by their credit code.
    pub fn id_prefix(self) -> Option<&'static str> {
        match self {
            Self::NaturalPerson => Some("P-"),
            Self::Project => Some("PRJ-"),
            Self::Facility => Some("FAC-"),
            Self::Premises => Some("PRM-"),
            _ => None,
        }
    }
}
