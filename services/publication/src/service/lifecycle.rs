//! A result's life: entered by the department that inspected, reviewed by another person (four eyes), published,
//! withheld with the head's approval, or corrected (never edited).

use super::*;

impl Publications {
    /// Enters a result and submits it for review.
    pub async fn enter(
        &self,
        who: &Identity,
        id: &str,
        content: Content,
        expected: i64,
    ) -> Result<Stored, Error> {
        let table = self.tables.current();
        let receives = self.may_receive(&content.disposal_department).await?;
        self.change(who, id, expected, ROLE_RESULT_ENTRY, "enter", |r, now| {
            r.enter(content.clone(), table, |_| receives, &who.subject, now)?;
            Ok(Announce::Nothing)
        })
        .await
    }

    /// Approves, returns or rejects a result.
    pub async fn review(
        &self,
        who: &Identity,
        id: &str,
        decision: Decision,
        reason: &str,
        expected: i64,
    ) -> Result<Stored, Error> {
        self.change(
            who,
            id,
            expected,
            ROLE_RESULT_REVIEWER,
            "review",
            |r, now| {
                r.review(decision, reason, &who.subject, now)?;
                Ok(Announce::Nothing)
            },
        )
        .await
    }

    /// Publishes approved results, up to [`PUBLISH_BATCH`] in one transaction: a result that may not be published
    /// is reported and the others go ahead; when the database refuses the batch, each is tried on its own.
    pub async fn publish(&self, who: &Identity, ids: &[String]) -> Vec<Result<(), Error>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(PUBLISH_BATCH) {
            match self.publish_batch(who, chunk).await {
                Ok(outcomes) => out.extend(outcomes),
                Err(error) => {
                    tracing::info!(%error, "a publication batch is tried one result at a time");
                    for id in chunk {
                        out.push(
                            self.change(
                                who,
                                id,
                                0,
                                ROLE_RESULT_REVIEWER,
                                "publish",
                                publish_one(who),
                            )
                            .await
                            .map(|_| ()),
                        );
                    }
                }
            }
        }
        out
    }

    pub(super) async fn publish_batch(
        &self,
        who: &Identity,
        ids: &[String],
    ) -> Result<Vec<Result<(), Error>>, Error> {
        let mut tx = self.db.begin().await?;
        let mut authority = None;
        let mut outcomes = Vec::with_capacity(ids.len());
        let mut audits = Vec::with_capacity(ids.len());
        for id in ids {
            match self
                .change_in(
                    &mut tx,
                    who,
                    id,
                    0,
                    ROLE_RESULT_REVIEWER,
                    "publish",
                    &mut authority,
                    publish_one(who),
                )
                .await
            {
                Ok((_, audit)) => {
                    audits.extend(audit);
                    outcomes.push(Ok(()));
                }
                // The database refused a statement: the transaction is spent.
                Err(e @ (Error::Internal(_) | Error::Conflict(_) | Error::AlreadyExists(_))) => {
                    return Err(e);
                }
                Err(refused) => outcomes.push(Err(refused)),
            }
        }
        append_audit(&mut tx, who, audits).await?;
        tx.commit().await?;
        self.relay.notify();
        Ok(outcomes)
    }

    /// Asks the head to withhold a result (the person entering it, with the reason).
    pub async fn request_withholding(
        &self,
        who: &Identity,
        id: &str,
        reason: &str,
        expected: i64,
    ) -> Result<Stored, Error> {
        self.change(
            who,
            id,
            expected,
            ROLE_RESULT_ENTRY,
            "withhold.request",
            |r, now| {
                r.request_withholding(reason, &who.subject, now)?;
                Ok(Announce::Nothing)
            },
        )
        .await
    }

    /// Withholds a result as another person asked (the head), with an optional note.
    pub async fn withhold(
        &self,
        who: &Identity,
        id: &str,
        note: &str,
        expected: i64,
    ) -> Result<Stored, Error> {
        self.change(
            who,
            id,
            expected,
            ROLE_DEPARTMENT_HEAD,
            "withhold",
            |r, now| {
                r.withhold(note, &who.subject, now)?;
                Ok(Announce::Nothing)
            },
        )
        .await
    }

    /// Declines a request to withhold a result (the head), with the reason.
    pub async fn decline_withholding(
        &self,
        who: &Identity,
        id: &str,
        reason: &str,
        expected: i64,
    ) -> Result<Stored, Error> {
        self.change(
            who,
            id,
            expected,
            ROLE_DEPARTMENT_HEAD,
            "withhold.decline",
            |r, now| {
                r.decline_withholding(reason, &who.subject, now)?;
                Ok(Announce::Nothing)
            },
        )
        .await
    }

    /// Corrects a published result (the head).
    pub async fn correct(
        &self,
        who: &Identity,
        id: &str,
        content: Content,
        reason: &str,
        expected: i64,
    ) -> Result<Stored, Error> {
        let table = self.tables.current();
        let receives = self.may_receive(&content.disposal_department).await?;
        self.change(
            who,
            id,
            expected,
            ROLE_DEPARTMENT_HEAD,
            "correct",
            |r, now| {
                r.correct(
                    content.clone(),
                    reason,
                    table,
                    |_| receives,
                    &who.subject,
                    now,
                )?;
                Ok(Announce::Corrected)
            },
        )
        .await
    }
}

/// The change that publishes a result (a second publish changes nothing and announces nothing).
fn publish_one(who: &Identity) -> impl Fn(&mut Res, i64) -> Result<Announce, Error> + '_ {
    move |r, now| {
        if r.publish(&who.subject, now)? {
            Ok(Announce::Published)
        } else {
            Ok(Announce::Nothing)
        }
    }
}
