//! Field violations: what is wrong with an input, field by field, in plain words. Domain code collects them;
//! the gRPC layer turns them into `InvalidArgument` with a `BadRequest` detail.

use std::fmt;

/// One field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Path of the field, e.g. `content.checklist[2].code`.
    pub field: String,
    /// The reason, in a full sentence.
    pub reason: String,
}

/// Every violation found in one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A single violation.
    pub fn one(field: impl Into<String>, reason: impl Into<String>) -> Self {
        let mut v = Self::new();
        v.add(field, reason);
        v
    }

    /// Records a violation.
    pub fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(Violation {
            field: field.into(),
            reason: reason.into(),
        });
    }

    /// Records a violation when `bad` holds.
    pub fn check(&mut self, bad: bool, field: impl Into<String>, reason: impl Into<String>) {
        if bad {
            self.add(field, reason);
        }
    }

    /// Whether nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The violations.
    pub fn iter(&self) -> impl Iterator<Item = &Violation> {
        self.0.iter()
    }

    /// `Ok(())` when empty.
    pub fn into_result(self) -> Result<(), Violations> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|v| format!("{}: {}", v.field, v.reason))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

/// Why a caller may not do something, naming the deciding field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The field (or `authorization` for roles) that decided.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// Why a step is not possible in the current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotNow(pub String);
