//! Follow-up transfers (移送): a problem found on a visit goes to the department responsible for it (谁管辖、谁负责),
//! or a suspected crime to the judicial organs, and is tracked until the receiver closes it: open → accepted →
//! closed; a receiver that is not responsible declines with a reason and the sender routes it elsewhere.

use serde::{Deserialize, Serialize};
use suiji_platform::messages::{Text, msg};

use super::saga::Refusal;

/// Where a transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// To the department responsible for the matter.
    Department,
    /// A suspected crime, to the judicial organs (public security, procuratorate).
    Judicial,
}

/// Where a transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Sent, not yet taken up.
    Open,
    /// Taken up by the receiver.
    Accepted,
    /// Declined by the receiver: the sender routes it elsewhere.
    Declined,
    /// Dealt with; the receiver's outcome is recorded.
    Closed,
}

impl State {
    /// Its name in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Accepted => "accepted",
            State::Declined => "declined",
            State::Closed => "closed",
        }
    }
}

/// One step of a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Epoch ms.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub kind: String,
    /// Details (a sentence, in transfers stored before the catalogs).
    pub detail: Text,
}

/// A transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// `VISIT/FROM/ITEM/n`.
    pub id: String,
    /// Task.
    pub task_id: String,
    /// Visit.
    pub visit_id: String,
    /// Target.
    pub target_id: String,
    /// Catalog item the problem was found on.
    pub item: String,
    /// The department that found it.
    pub from: String,
    /// The receiver.
    pub to: String,
    /// Kind.
    pub kind: Kind,
    /// What was found.
    pub problem: String,
    /// State.
    pub state: State,
    /// The receiver's outcome, or why it declined.
    pub outcome: String,
    /// Every step.
    pub history: Vec<Step>,
}

/// A receiver's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Takes it up.
    Accept,
    /// Not responsible.
    Decline,
    /// Dealt with.
    Close,
}

/// Where a new transfer comes from and goes.
pub struct Route<'a> {
    /// Task.
    pub task_id: &'a str,
    /// Visit.
    pub visit_id: &'a str,
    /// Target.
    pub target_id: &'a str,
    /// Item.
    pub item: &'a str,
    /// The department that found the problem.
    pub from: &'a str,
    /// The receiver.
    pub to: &'a str,
}

impl Transfer {
    /// A transfer sent now by `actor`, open.
    pub fn open(
        id: String,
        route: Route<'_>,
        kind: Kind,
        problem: String,
        actor: &str,
        detail: Text,
        now: i64,
    ) -> Self {
        let mut t = Self {
            id,
            task_id: route.task_id.to_string(),
            visit_id: route.visit_id.to_string(),
            target_id: route.target_id.to_string(),
            item: route.item.to_string(),
            from: route.from.to_string(),
            to: route.to.to_string(),
            kind,
            problem,
            state: State::Open,
            outcome: String::new(),
            history: Vec::new(),
        };
        t.step(now, actor, "created", detail);
        t
    }

    /// Whether it still needs someone to act.
    pub fn is_open(&self) -> bool {
        self.state != State::Closed
    }

    fn step(&mut self, at: i64, actor: &str, kind: &str, detail: Text) {
        self.history.push(Step {
            at,
            actor: actor.to_string(),
            kind: kind.to_string(),
            detail,
        });
    }

    /// The receiver (`department`) answers.
    pub fn answer(
        &mut self,
        department: &str,
        answer: Answer,
        note: &str,
        actor: &str,
        now: i64,
    ) -> Result<(), Refusal> {
        if department != self.to {
            return Err(Refusal::denied(
                "id",
                msg("transfer-only-receiver").arg("dept", &self.to),
            ));
        }
        let note = note.trim();
        let (from, to, kind) = match answer {
            Answer::Accept => (&[State::Open][..], State::Accepted, "accepted"),
            Answer::Decline => (
                &[State::Open, State::Accepted][..],
                State::Declined,
                "declined",
            ),
            Answer::Close => (&[State::Open, State::Accepted][..], State::Closed, "closed"),
        };
        if !from.contains(&self.state) {
            return Err(Refusal::NotNow(
                msg("nn-transfer-state").arg("transfer_state", self.state.as_str()),
            ));
        }
        if answer != Answer::Accept && note.is_empty() {
            return Err(Refusal::invalid(
                "note",
                msg(match answer {
                    Answer::Decline => "transfer-decline-why",
                    _ => "transfer-close-what",
                }),
            ));
        }
        self.state = to;
        if answer != Answer::Accept {
            self.outcome = note.to_string();
        }
        self.step(now, actor, kind, Text::Plain(note.to_string()));
        Ok(())
    }

    /// The sender (`department`) routes a declined transfer to another receiver.
    pub fn reroute(
        &mut self,
        department: &str,
        to: &str,
        actor: &str,
        now: i64,
    ) -> Result<(), Refusal> {
        if department != self.from {
            return Err(Refusal::denied(
                "id",
                msg("transfer-only-sender").arg("dept", &self.from),
            ));
        }
        if self.state != State::Declined {
            return Err(Refusal::NotNow(
                msg("nn-reroute-declined-only").arg("transfer_state", self.state.as_str()),
            ));
        }
        if to.trim().is_empty() || to == self.to {
            return Err(Refusal::invalid(
                "to_department_code",
                msg("transfer-other-receiver").arg("dept", &self.to),
            ));
        }
        let before = std::mem::replace(&mut self.to, to.to_string());
        self.state = State::Open;
        self.outcome.clear();
        self.step(
            now,
            actor,
            "rerouted",
            msg("tr-rerouted")
                .arg("from_dept", before)
                .arg("to_dept", to),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer() -> Transfer {
        Transfer {
            id: "T/X/A/I/1".into(),
            task_id: "T".into(),
            visit_id: "T/X".into(),
            target_id: "X".into(),
            item: "I".into(),
            from: "A".into(),
            to: "B".into(),
            kind: Kind::Department,
            problem: "1: 无证经营".into(),
            state: State::Open,
            outcome: String::new(),
            history: Vec::new(),
        }
    }

    #[test]
    fn the_receiver_accepts_and_closes_with_an_outcome() {
        let mut t = transfer();
        assert!(matches!(
            t.answer("A", Answer::Accept, "", "a", 1),
            Err(Refusal::Denied { .. })
        ));
        t.answer("B", Answer::Accept, "", "b", 1).unwrap();
        assert!(matches!(
            t.answer("B", Answer::Accept, "", "b", 2),
            Err(Refusal::NotNow(_))
        ));
        assert!(matches!(
            t.answer("B", Answer::Close, " ", "b", 2),
            Err(Refusal::Invalid { field, .. }) if field == "note"
        ));
        t.answer("B", Answer::Close, "已立案查处", "b", 3).unwrap();
        assert_eq!(t.state, State::Closed);
        assert!(!t.is_open());
        assert_eq!(t.outcome, "已立案查处");
        assert!(matches!(
            t.answer("B", Answer::Decline, "x", "b", 4),
            Err(Refusal::NotNow(_))
        ));
    }

    #[test]
    fn a_declined_transfer_is_routed_elsewhere_by_its_sender() {
        let mut t = transfer();
        assert!(matches!(
            t.reroute("A", "C", "a", 1),
            Err(Refusal::NotNow(_))
        ));
        t.answer("B", Answer::Decline, "不属本部门职责", "b", 1)
            .unwrap();
        assert!(t.is_open(), "declined still needs the sender");
        assert!(matches!(
            t.reroute("B", "C", "b", 2),
            Err(Refusal::Denied { .. })
        ));
        assert!(matches!(
            t.reroute("A", "B", "a", 2),
            Err(Refusal::Invalid { .. })
        ));
        t.reroute("A", "C", "a", 2).unwrap();
        assert_eq!((t.state, t.to.as_str()), (State::Open, "C"));
        let kinds: Vec<&str> = t.history.iter().map(|h| h.kind.as_str()).collect();
        assert_eq!(kinds, ["declined", "rerouted"]);
    }
}
