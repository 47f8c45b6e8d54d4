//! The words every proto enum value is shown and typed as — `scheduling`, `published`, `on_site` — for the
//! console and the CLI alike: the value's name without its enum's prefix, in lower case. Never a proto name such
//! as `VERSION_STATE_PUBLISHED` in front of a person.

/// A proto enum whose values have words.
pub trait Named: Sized + Copy + PartialEq + TryFrom<i32> {
    /// The prefix of the values' names, e.g. `PHASE_`.
    const PREFIX: &'static str;
    /// The value that means "not set", never named.
    const UNSET: Self;
    /// The value's full proto name.
    fn full_name(self) -> &'static str;
    /// The value of a full proto name.
    fn from_full_name(name: &str) -> Option<Self>;
}

macro_rules! named {
    ($($t:ty => $prefix:literal),* $(,)?) => {$(
        impl Named for $t {
            const PREFIX: &'static str = $prefix;
            const UNSET: Self = <$t>::Unspecified;
            fn full_name(self) -> &'static str {
                self.as_str_name()
            }
            fn from_full_name(name: &str) -> Option<Self> {
                <$t>::from_str_name(name)
            }
        }
    )*};
}

named! {
    crate::catalog::v1::ItemState => "ITEM_STATE_",
    crate::catalog::v1::VersionState => "VERSION_STATE_",
    crate::catalog::v1::ItemCategory => "ITEM_CATEGORY_",
    crate::catalog::v1::InspectionMethod => "INSPECTION_METHOD_",
    crate::draw::v1::DrawState => "DRAW_STATE_",
    crate::draw::v1::ReplacementReason => "REPLACEMENT_REASON_",
    crate::planning::v1::PlanState => "PLAN_STATE_",
    crate::planning::v1::TaskType => "TASK_TYPE_",
    crate::planning::v1::AmendmentState => "AMENDMENT_STATE_",
    crate::planning::v1::TaskState => "TASK_STATE_",
    crate::publication::v1::ResultState => "RESULT_STATE_",
    crate::publication::v1::Disposal => "DISPOSAL_",
    crate::publication::v1::ReviewDecision => "REVIEW_DECISION_",
    crate::publication::v1::DeliveryState => "DELIVERY_STATE_",
    crate::inspection::v1::Phase => "PHASE_",
    crate::inspection::v1::InvitationState => "INVITATION_STATE_",
    crate::inspection::v1::Action => "ACTION_",
    crate::inspection::v1::VisitMethod => "VISIT_METHOD_",
    crate::inspection::v1::CheckResult => "CHECK_RESULT_",
    crate::inspection::v1::VisitOutcome => "VISIT_OUTCOME_",
    crate::inspection::v1::TransferKind => "TRANSFER_KIND_",
    crate::inspection::v1::TransferState => "TRANSFER_STATE_",
    crate::inspection::v1::TransferAnswer => "TRANSFER_ANSWER_",
    crate::types::v1::TargetKind => "TARGET_KIND_",
    crate::directories::v1::OperatingStatus => "OPERATING_STATUS_",
    crate::directories::v1::RiskLevel => "RISK_LEVEL_",
    crate::directories::v1::FileFormat => "FILE_FORMAT_",
    crate::directories::v1::InspectorStatus => "INSPECTOR_STATUS_",
    crate::directories::v1::RecusalState => "RECUSAL_STATE_",
    crate::directories::v1::DepartmentLevel => "DEPARTMENT_LEVEL_",
}

/// The word of `value` (`unknown(n)` for a number the API does not define).
pub fn name<T: Named>(value: i32) -> String {
    T::try_from(value)
        .map(|v| {
            let full = v.full_name();
            full.strip_prefix(T::PREFIX)
                .unwrap_or(full)
                .to_ascii_lowercase()
        })
        .unwrap_or_else(|_| format!("unknown({value})"))
}

/// Every value's word but the "not set" one, in the API's order.
pub fn names<T: Named>() -> Vec<String> {
    (1..)
        .map_while(|i| T::try_from(i).ok().map(|_| name::<T>(i)))
        .collect()
}

/// The value called `word` (never the "not set" one); `-` is read as `_`, as a shell user types it.
pub fn of<T: Named>(word: &str) -> Option<T> {
    T::from_full_name(&format!(
        "{}{}",
        T::PREFIX,
        word.replace('-', "_").to_ascii_uppercase()
    ))
    .filter(|v| *v != T::UNSET)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::v1::VersionState;
    use crate::inspection::v1::Phase;

    #[test]
    fn every_named_enum_has_words_without_its_prefix() {
        assert_eq!(
            name::<VersionState>(VersionState::Published as i32),
            "published"
        );
        assert_eq!(
            of::<Phase>("assigning-inspectors"),
            Some(Phase::AssigningInspectors)
        );
        assert_eq!(of::<Phase>("unspecified"), None);
        assert_eq!(name::<Phase>(999), "unknown(999)");
        // A prefix that does not match its enum would leave the proto name in front of a person.
        macro_rules! no_proto_names {
            ($($t:ty),*) => {$(
                for word in names::<$t>() {
                    let prefix = <$t>::PREFIX.to_ascii_lowercase();
                    assert!(!word.starts_with(&prefix), "{} keeps its prefix: {word}", stringify!($t));
                }
            )*};
        }
        no_proto_names!(
            crate::catalog::v1::ItemState,
            VersionState,
            crate::catalog::v1::ItemCategory,
            crate::draw::v1::DrawState,
            crate::planning::v1::PlanState,
            crate::planning::v1::TaskState,
            crate::planning::v1::AmendmentState,
            crate::publication::v1::ResultState,
            crate::publication::v1::DeliveryState,
            Phase,
            crate::directories::v1::RiskLevel
        );
    }
}
