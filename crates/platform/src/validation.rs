//! Field violations: what is wrong with an input, field by field, in plain words. Domain code collects them;
//! the gRPC layer turns them into `InvalidArgument` with a `BadRequest` detail. A reason made with [`msg`] is a
//! message of the catalogs (`crate::messages`): its English text is the description, and its Chinese text goes
//! with it for the console; a plain string is English only, until its rule gets a message.

use std::fmt;

use crate::messages::{self, Lang};

/// One field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Path of the field, e.g. `content.checklist[2].code`.
    pub field: String,
    /// The reason, in a full sentence (English).
    pub reason: String,
    /// The catalogs' message id of the reason, `""` for a plain English one.
    pub code: String,
    /// The message's arguments.
    pub args: Vec<(String, String)>,
}

impl Violation {
    /// The reason in `lang`, when it is a message of the catalogs: its arguments worded as every text's are
    /// (departments by the names this process knows, days as the language writes them).
    pub fn localized(&self, lang: Lang) -> Option<String> {
        if self.code.is_empty() {
            return None;
        }
        let text = messages::Text::Message {
            id: self.code.clone(),
            args: self.args.clone(),
        };
        Some(text.render_with(lang, &crate::departments::known_names()))
    }
}

/// Why a field is wrong: a message of the catalogs with its arguments ([`msg`]), or a plain English sentence.
pub type Reason = messages::Text;

pub use messages::msg;

/// Every violation found in one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A single violation.
    pub fn one(field: impl Into<String>, reason: impl Into<Reason>) -> Self {
        let mut v = Self::new();
        v.add(field, reason);
        v
    }

    /// Records a violation.
    pub fn add(&mut self, field: impl Into<String>, reason: impl Into<Reason>) {
        let reason = reason.into();
        self.0.push(Violation {
            field: field.into(),
            reason: reason.text(),
            code: reason.code().to_string(),
            args: reason.args().to_vec(),
        });
    }

    /// Records a violation when `bad` holds.
    pub fn check(&mut self, bad: bool, field: impl Into<String>, reason: impl Into<Reason>) {
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
    /// Why, as a message of the catalogs.
    pub reason: messages::Text,
}

impl Denied {
    /// Refused at `field` because of `reason`.
    pub fn new(field: impl Into<String>, reason: messages::Text) -> Self {
        Self {
            field: field.into(),
            reason,
        }
    }

    /// Refused for lack of `role`.
    pub fn role(role: &str) -> Self {
        Self::new("authorization", msg("denied-role").arg("role", role))
    }
}

/// Why a step is not possible in the current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotNow(pub messages::Text);
