//! Tasks: a batch of a published plan entry, planned within the entry's scope and ratio, launched or cancelled.

use super::*;

/// What a lead department asks for one task.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskRequest {
    /// Plan.
    pub plan_id: String,
    /// Entry.
    pub entry_key: String,
    /// Name; empty: the entry's.
    pub name: String,
    /// Window; `None`: the entry's.
    pub window: Option<(NaiveDate, NaiveDate)>,
    /// Participants; empty: the entry's.
    pub participants: Vec<Participant>,
    /// Scope; `None`: the entry's.
    pub scope: Option<Scope>,
    /// Quantity; 0: from the entry.
    pub quantity: u32,
}

/// A task's settings with the entry's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskContent {
    /// Plan.
    pub plan_id: String,
    /// Entry key.
    pub entry_key: String,
    /// Name.
    pub name: String,
    /// First day.
    pub window_start: NaiveDate,
    /// Last day.
    pub window_end: NaiveDate,
    /// Participants.
    pub participants: Vec<Participant>,
    /// Scope.
    pub scope: Scope,
    /// Quantity; 0 when the entry's ratio decides.
    pub quantity: u32,
}

/// A task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Id.
    pub id: String,
    /// Settings.
    pub content: TaskContent,
    /// Plan version read.
    pub plan_version: u32,
    /// Plan year.
    pub year: u32,
    /// Entry as it stood.
    pub entry: Entry,
    /// State.
    pub state: TaskState,
    /// Cancel reason.
    pub cancel_reason: String,
    /// Revision.
    pub revision: i64,
    /// Creator.
    pub created_by: String,
    /// Times (ms).
    pub created_at: i64,
    /// Launched.
    pub launched_at: Option<i64>,
    /// Cancelled.
    pub cancelled_at: Option<i64>,
}

impl Task {
    /// Lead department.
    pub fn lead(&self) -> &str {
        &self.entry.lead_department_code
    }

    /// Lead and participants.
    pub fn departments(&self) -> BTreeSet<&str> {
        self.content
            .participants
            .iter()
            .map(|p| p.department_code.as_str())
            .chain([self.lead()])
            .collect()
    }
}

pub(super) fn within(
    task: &[String],
    entry: &[String],
    contains: impl Fn(&str, &str) -> bool,
) -> bool {
    entry.is_empty()
        || (!task.is_empty() && task.iter().all(|t| entry.iter().any(|e| contains(e, t))))
}

pub(super) fn subset<T: PartialEq>(task: &[T], entry: &[T]) -> bool {
    entry.is_empty() || (!task.is_empty() && task.iter().all(|t| entry.contains(t)))
}

/// Builds a task from the entry of a published plan: only the entry's lead, only narrowing, and never more
/// targets than the entry has left (`taken`: quantities of the entry's other live tasks).
pub fn plan_task(
    who: &Identity,
    plan: &Plan,
    version: &Version,
    request: TaskRequest,
    taken: u64,
    regions: &Regions,
) -> Result<TaskContent, Refusal> {
    if plan.state != PlanState::Published {
        return Err(not_now(
            msg("nn-plan-tasks")
                .arg("plan", &plan.id)
                .arg("plan_state", plan.state.as_str()),
        )
        .into());
    }
    let Some(entry) = version.content.entry(&request.entry_key) else {
        return Err(Violations::one(
            "content.entry_key",
            msg("no-entry")
                .arg("plan", &plan.id)
                .arg("version", version.version)
                .arg("entry", &request.entry_key),
        )
        .into());
    };
    may_edit(who, &entry.lead_department_code, "content.entry_key")?;
    let mut v = Violations::new();
    let name = if request.name.trim().is_empty() {
        entry.task_name.clone()
    } else {
        check_text(&mut v, "content.name", &request.name, true);
        request.name.trim().to_string()
    };
    let (window_start, window_end) = request
        .window
        .unwrap_or((entry.window_start, entry.window_end));
    v.check(
        window_start < entry.window_start || window_end > entry.window_end,
        "content.window_start",
        msg("task-window")
            .arg("start_day", entry.window_start)
            .arg("end_day", entry.window_end),
    );
    v.check(
        window_end < window_start,
        "content.window_end",
        msg("plan-window-order"),
    );
    let participants = if request.participants.is_empty() {
        entry.participants.clone()
    } else {
        for (i, p) in request.participants.iter().enumerate() {
            let f = format!("content.participants[{i}]");
            match entry
                .participants
                .iter()
                .find(|e| e.department_code == p.department_code)
            {
                None => v.add(
                    format!("{f}.department_code"),
                    msg("task-department-not-in-entry")
                        .arg("dept", &p.department_code)
                        .arg("entry", &entry.key),
                ),
                Some(e) => {
                    v.check(
                        p.item_codes.is_empty(),
                        format!("{f}.item_codes"),
                        msg("plan-items-none"),
                    );
                    for (j, code) in p.item_codes.iter().enumerate() {
                        v.check(
                            !e.item_codes.contains(code),
                            format!("{f}.item_codes[{j}]"),
                            msg("task-item-not-in-entry")
                                .arg("item", code)
                                .arg("entry", &entry.key),
                        );
                    }
                }
            }
        }
        v.check(
            !request
                .participants
                .iter()
                .any(|p| p.department_code == entry.lead_department_code),
            "content.participants",
            msg("task-lead-takes-part").arg("dept", &entry.lead_department_code),
        );
        request.participants
    };
    let scope = match request.scope {
        None => entry.scope.clone(),
        Some(s) => {
            let e = &entry.scope;
            let checks = [
                (subset(&s.kinds, &e.kinds), "kinds"),
                (
                    within(&s.region_codes, &e.region_codes, |e, t| {
                        regions.prefix(e).is_some_and(|p| t.starts_with(p))
                    }),
                    "region_codes",
                ),
                (
                    within(&s.industry_prefixes, &e.industry_prefixes, |e, t| {
                        t.starts_with(e)
                    }),
                    "industry_prefixes",
                ),
                (subset(&s.departments, &e.departments), "departments"),
                (subset(&s.risk_levels, &e.risk_levels), "risk_levels"),
                (subset(&s.statuses, &e.statuses), "statuses"),
            ];
            for (ok, field) in checks {
                v.check(
                    !ok,
                    format!("content.scope.{field}"),
                    msg("task-narrows").arg("entry", &entry.key),
                );
            }
            s
        }
    };
    let quantity = if entry.quantity > 0 {
        let left = u64::from(entry.quantity).saturating_sub(taken);
        if left == 0 {
            v.add(
                "content.quantity",
                msg("entry-used-up")
                    .arg("entry", &entry.key)
                    .arg("quantity", entry.quantity),
            );
        }
        if request.quantity == 0 {
            left as u32
        } else {
            v.check(
                u64::from(request.quantity) > left,
                "content.quantity",
                msg("entry-left")
                    .arg("left", left)
                    .arg("entry", &entry.key)
                    .arg("quantity", entry.quantity),
            );
            request.quantity
        }
    } else {
        request.quantity
    };
    v.into_result()?;
    Ok(TaskContent {
        plan_id: plan.id.clone(),
        entry_key: entry.key.clone(),
        name,
        window_start,
        window_end,
        participants,
        scope,
        quantity,
    })
}

/// Launches a created task, before its window has passed.
pub fn launch(who: &Identity, task: &mut Task, now_ms: i64) -> Result<(), Refusal> {
    may_edit(who, task.lead(), "id")?;
    if task.state != TaskState::Created {
        return Err(not_now(
            msg("nn-task-launch")
                .arg("task", &task.id)
                .arg("task_state", task.state.as_str()),
        )
        .into());
    }
    let today = china_date(now_ms);
    if today > task.content.window_end {
        return Err(not_now(
            msg("nn-task-window-ended")
                .arg("task", &task.id)
                .arg("end_day", task.content.window_end),
        )
        .into());
    }
    task.state = TaskState::Launched;
    task.launched_at = Some(now_ms);
    Ok(())
}

/// Cancels a task with a reason.
pub fn cancel(who: &Identity, task: &mut Task, reason: &str, now_ms: i64) -> Result<(), Refusal> {
    may_edit(who, task.lead(), "id")?;
    let mut v = Violations::new();
    check_text(&mut v, "reason", reason, true);
    v.into_result()?;
    if task.state == TaskState::Cancelled {
        return Err(not_now(msg("nn-task-cancelled").arg("task", &task.id)).into());
    }
    task.state = TaskState::Cancelled;
    task.cancel_reason = reason.trim().to_string();
    task.cancelled_at = Some(now_ms);
    Ok(())
}
