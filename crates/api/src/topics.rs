//! Every routing key on the bus, declared once with the message it carries.
//!
//! A service sends an event as `Event::new::<topics::TaskLaunched>(…, &payload)`: the payload's type is the
//! topic's, or it does not compile. A consumer declares what it hears with [`heard!`], an enum with one variant per
//! topic; its queue is bound to exactly those keys ([`Heard::KEYS`]) and it handles them with an exhaustive
//! `match`, so a key added to what it hears and not handled does not compile, and a misspelt topic is an unknown
//! name. A delivery under a key the enum does not name is counted and logged by the inbox, never dropped in
//! silence.

use crate::{catalog, directories, draw, events, inspection, planning, publication};

/// A routing key and the message it carries.
pub trait Topic {
    /// The routing key, `<service>.<entity>.<verb>`.
    const KEY: &'static str;
    /// The message under that key.
    type Payload: prost::Message + prost::Name + Default;
}

macro_rules! topics {
    ($($(#[$doc:meta])* $name:ident = $key:literal => $payload:ty;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl Topic for $name {
                const KEY: &'static str = $key;
                type Payload = $payload;
            }
        )*
        /// Every routing key declared here (the audit anchors' family apart).
        pub const ALL: &[&str] = &[$($key),*];
    };
}

topics! {
    /// A catalog item's version was published.
    ItemPublished = "catalog.item.published" => catalog::v1::ItemPublishedEvent;
    /// A catalog item was retired.
    ItemRetired = "catalog.item.retired" => catalog::v1::ItemRetiredEvent;

    /// A department was created or changed (every service keeps a copy of the departments).
    DepartmentUpserted = "directories.department.upserted" => directories::v1::DepartmentUpsertedEvent;
    /// A file of targets was imported.
    TargetsImported = "directories.target.imported" => directories::v1::ImportedEvent;
    /// A file of inspectors was imported.
    InspectorsImported = "directories.inspector.imported" => directories::v1::ImportedEvent;
    /// A recusal request was decided by the head of the inspector's department.
    RecusalDecided = "directories.recusal.decided" => directories::v1::RecusalDecidedEvent;

    /// An annual plan was published.
    PlanPublished = "planning.plan.published" => planning::v1::PlanPublishedEvent;
    /// A plan's amendment was published.
    PlanAmended = "planning.plan.amended" => planning::v1::PlanPublishedEvent;
    /// A department set its annual cap per target.
    CapSet = "planning.cap.set" => planning::v1::AnnualCapSetEvent;
    /// A task was launched: its saga starts and its draw's secret is committed.
    TaskLaunched = "planning.task.launched" => planning::v1::TaskLaunchedEvent;
    /// A task was cancelled.
    TaskCancelled = "planning.task.cancelled" => planning::v1::TaskCancelledEvent;

    /// A draw's secret was committed (its SHA-256 is public from now on).
    DrawCommitted = "draw.commitment.published" => draw::v1::DrawCommittedEvent;
    /// A task's targets were drawn.
    TargetsDrawn = "draw.targets.drawn" => draw::v1::TargetsDrawnEvent;
    /// A task's drawn targets were locked.
    TargetsLocked = "draw.targets.locked" => draw::v1::TargetsLockedEvent;
    /// A task's teams were drawn (read with the draw's `ListTeams`).
    TeamsDrawn = "draw.teams.drawn" => draw::v1::TeamsDrawnEvent;
    /// A drawn inspector was replaced.
    InspectorReplaced = "draw.inspector.replaced" => draw::v1::InspectorReplacedEvent;
    /// A command to the draw failed.
    DrawFailed = "draw.command.failed" => draw::v1::DrawFailedEvent;
    /// The saga asks the draw for a task's targets.
    DrawTargets = "draw.command.draw_targets" => draw::v1::DrawTargetsCommand;
    /// The saga asks the draw to lock a task's targets.
    LockDraw = "draw.command.lock" => draw::v1::LockDrawCommand;
    /// The saga asks the draw for a task's teams.
    DrawInspectors = "draw.command.draw_inspectors" => draw::v1::DrawInspectorsCommand;
    /// A drawn inspector is to be replaced.
    ReplaceInspector = "draw.command.replace_inspector" => draw::v1::ReplaceInspectorCommand;

    /// A visit concluded: the target's history, the end of the team's assignments, the results to enter.
    VisitConcluded = "inspection.visit.concluded" => inspection::v1::VisitConcludedEvent;
    /// Inspectors left visits not yet held (their department withdrew).
    AssignmentReleased = "inspection.assignment.released" => inspection::v1::AssignmentReleasedEvent;
    /// A saga's phase, attention, departments or pause changed.
    SagaChanged = "inspection.saga.changed" => inspection::v1::SagaChangedEvent;

    /// A result was published.
    ResultPublished = "publication.result.published" => publication::v1::ResultPublishedEvent;
    /// A published result was corrected.
    ResultCorrected = "publication.result.corrected" => publication::v1::ResultPublishedEvent;
    /// Every result of a task is published or withheld.
    TaskCompleted = "publication.task.completed" => publication::v1::TaskCompletedEvent;
    /// A result made a credit record.
    CreditRecorded = "publication.credit.recorded" => publication::v1::CreditRecordedEvent;
}

/// The audit anchors: each service announces its chain's head under `<service>.audit.anchored`.
pub struct AuditAnchored;

impl AuditAnchored {
    /// The binding that hears every service's anchor.
    pub const BINDING: &'static str = "*.audit.anchored";

    /// The key `service` announces its head under.
    pub fn key(service: &str) -> String {
        format!("{service}.audit.anchored")
    }
}

/// The message every audit anchor carries.
pub type AuditAnchoredPayload = events::v1::AuditAnchored;

/// What a consumer hears: one variant per topic, made with [`heard!`].
pub trait Heard: Sized {
    /// The routing keys its queue is bound to.
    const KEYS: &'static [&'static str];
    /// The message under `key`, decoded; `None` when `key` is none of [`Heard::KEYS`].
    fn decode(key: &str, payload: &prost_types::Any) -> Option<Result<Self, prost::DecodeError>>;
    /// The message under `key` from its encoded bytes alone (a job's payload, say); `None` as for
    /// [`Heard::decode`].
    fn decode_value(key: &str, value: &[u8]) -> Option<Result<Self, prost::DecodeError>>;
}

/// Declares what a consumer hears: `heard! { pub enum Heard { TaskLaunched, TargetsDrawn } }` makes an enum
/// whose variants carry each topic's payload, with [`Heard`] implemented for it.
#[macro_export]
macro_rules! heard {
    ($(#[$doc:meta])* $vis:vis enum $name:ident { $($topic:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug)]
        $vis enum $name {
            $(
                #[doc = concat!("`", stringify!($topic), "`")]
                $topic(<$crate::topics::$topic as $crate::topics::Topic>::Payload),
            )+
        }

        impl $name {
            /// The routing keys its queue is bound to.
            pub const KEYS: &'static [&'static str] = <Self as $crate::topics::Heard>::KEYS;
        }

        impl $crate::topics::Heard for $name {
            const KEYS: &'static [&'static str] =
                &[$(<$crate::topics::$topic as $crate::topics::Topic>::KEY),+];

            fn decode(
                key: &str,
                payload: &$crate::__private::prost_types::Any,
            ) -> Option<Result<Self, $crate::__private::prost::DecodeError>> {
                $(
                    if key == <$crate::topics::$topic as $crate::topics::Topic>::KEY {
                        return Some(payload.to_msg().map(Self::$topic));
                    }
                )+
                None
            }

            fn decode_value(
                key: &str,
                value: &[u8],
            ) -> Option<Result<Self, $crate::__private::prost::DecodeError>> {
                $(
                    if key == <$crate::topics::$topic as $crate::topics::Topic>::KEY {
                        return Some(
                            <<$crate::topics::$topic as $crate::topics::Topic>::Payload as
                                $crate::__private::prost::Message>::decode(value)
                            .map(Self::$topic),
                        );
                    }
                )+
                None
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::heard! {
        /// A consumer of two topics.
        #[allow(dead_code)]
        enum Two { TaskLaunched, TargetsDrawn }
    }

    #[test]
    fn keys_are_declared_once_and_decode_to_their_variant() {
        let mut keys = ALL.to_vec();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), ALL.len(), "a routing key declared twice");
        for key in ALL {
            let parts: Vec<&str> = key.split('.').collect();
            assert_eq!(parts.len(), 3, "{key} is not <service>.<entity>.<verb>");
        }
        assert_eq!(Two::KEYS, ["planning.task.launched", "draw.targets.drawn"]);
        let launched = planning::v1::TaskLaunchedEvent {
            task: Some(planning::v1::Task {
                id: "TASK-2027-1".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let any = prost_types::Any::from_msg(&launched).unwrap();
        match Two::decode("planning.task.launched", &any) {
            Some(Ok(Two::TaskLaunched(e))) => assert_eq!(e.task.unwrap().id, "TASK-2027-1"),
            other => panic!("{other:?}"),
        }
        // A key the consumer does not hear is not decoded; a payload of another type is an error.
        assert!(Two::decode("planning.task.cancelled", &any).is_none());
        assert!(matches!(
            Two::decode_value("planning.task.launched", &any.value),
            Some(Ok(Two::TaskLaunched(_)))
        ));
        assert!(matches!(
            Two::decode("draw.targets.drawn", &any),
            Some(Err(_))
        ));
        assert_eq!(AuditAnchored::key("draw"), "draw.audit.anchored");
    }
}
