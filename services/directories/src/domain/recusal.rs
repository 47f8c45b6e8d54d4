//! Recusal requests (回避申请): a target asks that a named inspector not inspect it; the head of the
//! inspector's department decides, once.

use suiji_platform::auth::Identity;
use suiji_platform::auth::ROLE_DEPARTMENT_HEAD;
use suiji_platform::validation::{Denied, NotNow, Violations, msg};

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecusalState {
    /// Waiting for the department head.
    Pending,
    /// Accepted.
    Accepted,
    /// Rejected.
    Rejected,
}

impl RecusalState {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }

    /// From the stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "accepted" => Self::Accepted,
            "rejected" => Self::Rejected,
            _ => return None,
        })
    }
}

/// Why a decision cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The input is wrong.
    Invalid(Violations),
    /// The caller may not decide.
    Denied(Denied),
    /// Already decided.
    NotNow(NotNow),
}

/// Checks a new request's reason.
pub fn check_request(reason: &str) -> Result<(), Violations> {
    let mut v = Violations::new();
    v.check(reason.trim().is_empty(), "reason", msg("recusal-why"));
    v.check(
        reason.chars().count() > 500,
        "reason",
        msg("at-most-chars").arg("max", 500),
    );
    v.into_result()
}

/// Decides a request: only the head of the inspector's department, only once, and a rejection says why.
pub fn decide(
    state: RecusalState,
    who: &Identity,
    inspector_department: &str,
    accept: bool,
    reason: &str,
) -> Result<RecusalState, Refusal> {
    if who.department != inspector_department || !who.has_role(ROLE_DEPARTMENT_HEAD) {
        return Err(Refusal::Denied(Denied::new(
            "authorization",
            msg("denied-recusal-head")
                .arg("role", ROLE_DEPARTMENT_HEAD)
                .arg("dept", inspector_department),
        )));
    }
    if state != RecusalState::Pending {
        return Err(Refusal::NotNow(NotNow(
            msg("nn-recusal-decided").arg("recusal_state", state.as_str()),
        )));
    }
    if !accept && reason.trim().is_empty() {
        return Err(Refusal::Invalid(Violations::one(
            "reason",
            msg("recusal-reject-why"),
        )));
    }
    Ok(if accept {
        RecusalState::Accepted
    } else {
        RecusalState::Rejected
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(department: &str) -> Identity {
        Identity {
            subject: "h".into(),
            department: department.into(),
            roles: vec![ROLE_DEPARTMENT_HEAD.into()],
            inspector: None,
        }
    }

    #[test]
    fn the_head_of_the_inspectors_department_decides_once() {
        let scjg = head("610400-SCJG");
        assert_eq!(
            decide(RecusalState::Pending, &scjg, "610400-SCJG", true, ""),
            Ok(RecusalState::Accepted)
        );
        assert_eq!(
            decide(
                RecusalState::Pending,
                &scjg,
                "610400-SCJG",
                false,
                "无利害关系"
            ),
            Ok(RecusalState::Rejected)
        );
        assert!(matches!(
            decide(RecusalState::Accepted, &scjg, "610400-SCJG", false, "x"),
            Err(Refusal::NotNow(_))
        ));
        assert!(matches!(
            decide(RecusalState::Pending, &scjg, "610400-SCJG", false, " "),
            Err(Refusal::Invalid(_))
        ));
        assert!(matches!(
            decide(
                RecusalState::Pending,
                &head("610400-STHJ"),
                "610400-SCJG",
                true,
                ""
            ),
            Err(Refusal::Denied(_))
        ));
        let clerk = Identity {
            roles: vec![],
            ..scjg
        };
        assert!(matches!(
            decide(RecusalState::Pending, &clerk, "610400-SCJG", true, ""),
            Err(Refusal::Denied(_))
        ));
    }

    #[test]
    fn a_request_states_its_reason() {
        assert!(check_request("与该检查人员存在亲属关系").is_ok());
        assert!(check_request("  ").is_err());
    }
}
