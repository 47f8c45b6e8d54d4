//! Transfers (移送): a problem found is handed to the department responsible or to the judicial organs, and
//! followed until the receiver closes it.

use super::*;

impl Sagas {
    /// Puts a transfer's change on its saga's timeline, with the task's open transfers after it (which may close
    /// the follow-up).
    pub(super) async fn transfer_timeline(
        &self,
        tx: &mut Tx,
        task_id: &str,
        kind: &'static str,
        detail: Text,
        actor: &str,
        cause: &str,
    ) -> Result<(), Error> {
        let open = store::open_transfers(tx, task_id).await?;
        let input = Input::Transfer { kind, detail, open };
        self.apply_in(tx, task_id, input, actor, cause)
            .await?
            .map(|_| ())
            .map_err(refused)
    }

    /// The caller's department sends a problem it found on a concluded visit to `to` for follow-up.
    pub async fn create_transfer(
        &self,
        who: &Identity,
        visit_id: &str,
        item: &str,
        to: &str,
        kind: transfer::Kind,
        note: &str,
    ) -> Result<StoredTransfer, Error> {
        require_role(who, "visit_id")?;
        let to = to.trim();
        let mut tx = self.db.begin().await?;
        let Some(stored) = store::get_visit(&mut tx, visit_id).await? else {
            return Err(Error::NotFound(msg("nf-visit").arg("visit", visit_id)));
        };
        let v = &stored.visit;
        on_team(who, v)?;
        if v.outcome != Some(visit::Outcome::Inspected) {
            return Err(NotNow(msg("nn-transfer-not-inspected").arg("visit", visit_id)).into());
        }
        let problems: Vec<String> = v
            .findings
            .iter()
            .filter(|f| {
                f.department == who.department
                    && f.item == item
                    && f.result == visit::CheckResult::Problem
            })
            .map(|f| format!("{}: {}", f.code, f.note))
            .collect();
        let mut violations = Violations::new();
        violations.check(
            problems.is_empty(),
            "item_code",
            msg("transfer-no-problem")
                .arg("dept", &who.department)
                .arg("item", item),
        );
        if to.is_empty() || to == who.department {
            violations.add("to_department_code", msg("transfer-receiver"));
        } else if kind == transfer::Kind::Department
            && !suiji_platform::departments::exists(&mut tx, to).await?
        {
            violations.add(
                "to_department_code",
                msg("result-unknown-department").arg("code", to),
            );
        }
        violations.into_result()?;
        let now = now_ms();
        let mut problem = problems.join("; ");
        if !note.trim().is_empty() {
            problem = format!("{problem} — {}", note.trim());
        }
        let t = Transfer::open(
            format!(
                "{visit_id}/{}/{item}/{}",
                who.department,
                &uuid::Uuid::now_v7().simple().to_string()[20..]
            ),
            transfer::Route {
                task_id: &v.task_id,
                visit_id,
                target_id: &v.target_id,
                item,
                from: &who.department,
                to,
            },
            kind,
            problem,
            &who.subject,
            msg("tr-created").arg("to_dept", to),
            now,
        );
        store::insert_transfer(&mut tx, &t, now).await?;
        let cause = format!("grpc:{}", uuid::Uuid::now_v7());
        let detail = msg(match kind {
            transfer::Kind::Department => "tl-transfer-created",
            transfer::Kind::Judicial => "tl-transfer-judicial",
        })
        .arg("transfer", &t.id)
        .arg("from_dept", &t.from)
        .arg("to_dept", to);
        self.transfer_timeline(
            &mut tx,
            &t.task_id,
            "transfer.created",
            detail,
            &who.subject,
            &cause,
        )
        .await?;
        tx.commit().await?;
        self.relay.notify();
        Ok(StoredTransfer {
            transfer: t,
            version: 1,
        })
    }

    /// Changes transfer `id` by `change` and records it on the saga's timeline, in one transaction.
    pub async fn change_transfer(
        &self,
        who: &Identity,
        id: &str,
        kind: &'static str,
        change: impl Fn(&mut Transfer) -> Result<Text, Refusal>,
    ) -> Result<StoredTransfer, Error> {
        require_role(who, "id")?;
        let mut attempt = 0;
        loop {
            let mut tx = self.db.begin().await?;
            let Some(mut stored) = store::get_transfer(&mut tx, id).await? else {
                return Err(Error::NotFound(msg("nf-transfer").arg("transfer", id)));
            };
            let detail = change(&mut stored.transfer).map_err(refused)?;
            let now = now_ms();
            let cause = format!("grpc:{}", uuid::Uuid::now_v7());
            let t = &stored.transfer;
            let result = async {
                store::update_transfer(&mut tx, t, stored.version, now).await?;
                self.transfer_timeline(
                    &mut tx,
                    &t.task_id,
                    kind,
                    detail.clone().arg("transfer", id),
                    &who.subject,
                    &cause,
                )
                .await
            }
            .await;
            match result {
                Err(Error::Conflict(_)) if attempt < CONFLICT_RETRIES => attempt += 1,
                Err(e) => return Err(e),
                Ok(()) => {
                    tx.commit().await?;
                    self.relay.notify();
                    stored.version += 1;
                    return Ok(stored);
                }
            }
        }
    }

    /// A page of transfers of a task or sent to a department. Those who oversee read every one, a task's lead
    /// the task's; anyone else the transfers their department sent or received.
    pub async fn transfers(
        &self,
        who: &Identity,
        task_id: &str,
        to_department: &str,
        open_only: bool,
        page: &Page,
    ) -> Result<Vec<StoredTransfer>, Error> {
        if task_id.is_empty() && to_department.is_empty() {
            return Err(Violations::one("task_id", msg("transfers-filter")).into());
        }
        let leads = !task_id.is_empty()
            && !who.oversees()
            && self.load(task_id).await?.saga.lead == who.department;
        let party = if who.oversees() || leads {
            ""
        } else {
            who.department.as_str()
        };
        if !party.is_empty() && !to_department.is_empty() && to_department != party {
            return Err(Denied::new(
                "to_department_code",
                msg("denied-own-transfers").arg("dept", party),
            )
            .into());
        }
        let mut conn = self.db.pool().acquire().await?;
        store::list_transfers(&mut conn, task_id, to_department, party, open_only, page).await
    }
}
