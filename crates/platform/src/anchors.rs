//! Each service's audit chain anchored outside its own database. Soon after its start and then daily a service
//! announces its chain's head (`<service>.audit.anchored`: the position and hash of its last entry); every other service keeps
//! the heads it hears in its own `audit_anchors`, and the public results page lists them. Whoever holds one
//! service's database can rewrite an entry and hash the chain again, head included, and [`crate::audit::verify`]
//! then finds it whole; [`verify_against`] compares the chain with the heads the others keep, and names the entries
//! between the last head that still matches and the first that does not.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use suiji_api::events::v1::{AuditAnchored, Envelope};
use tokio_util::sync::CancellationToken;

use suiji_api::topics::AuditAnchored as Topic;

use crate::audit::Verification;
use crate::db::{Db, Tx, now_ms};
use crate::inbox::{HandleError, TxHandler, payload};
use crate::messages::msg;
use crate::outbox::{self, Event, Relay};

/// The binding that hears every service's announced head.
pub const ANCHORED: &str = Topic::BINDING;

/// The routing key of `service`'s announced head: under the service's own name, so the broker lets only the
/// service's own user publish it (docs/security.md).
pub fn anchored(service: &str) -> String {
    Topic::key(service)
}
/// How often a service announces its head (and once at its start).
pub const EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// How long after its start a service first announces its head.
const FIRST_AFTER: Duration = Duration::from_secs(1);
/// How often a service looks whether its head is due to be announced (a chain empty at start is anchored within
/// this once it has an entry).
pub const LOOK_EVERY: Duration = Duration::from_secs(60 * 60);

/// A head another service announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// The position of the last entry then.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
    /// When (epoch ms).
    pub at_ms: i64,
}

/// Announces `service`'s chain head through its outbox; `None` while its chain is empty.
pub async fn announce(db: &Db, service: &str) -> Result<Option<Anchor>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *tx)
        .await?;
    let (seq, hash): (i64, String) = (row.try_get("seq")?, row.try_get("hash")?);
    if seq == 0 {
        return Ok(None);
    }
    let at_ms = now_ms();
    let event = AuditAnchored {
        service: service.to_string(),
        seq,
        hash: hash.clone(),
        time: Some(prost_types::Timestamp {
            seconds: at_ms.div_euclid(1000),
            nanos: (at_ms.rem_euclid(1000) * 1_000_000) as i32,
        }),
    };
    outbox::enqueue(
        &mut tx,
        service,
        Event::under(&anchored(service), service, &event),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Anchor { seq, hash, at_ms }))
}

/// Announces the head soon after start (once the chain has an entry), then whenever it has moved and [`EVERY`]
/// has passed since the last announcement, looking every [`LOOK_EVERY`]; until `shutdown`.
pub async fn announce_daily(
    db: Db,
    service: &'static str,
    relay: Relay,
    shutdown: CancellationToken,
) {
    let mut wait = FIRST_AFTER;
    let mut last: Option<(i64, std::time::Instant)> = None;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = LOOK_EVERY;
        let due = match last {
            None => true,
            Some((_, at)) => at.elapsed() >= EVERY,
        };
        if !due {
            continue;
        }
        match head_seq(&db).await {
            Ok(seq) if seq == 0 || last.is_some_and(|(s, _)| s == seq) => continue,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "reading the audit chain's head failed");
                continue;
            }
        }
        match announce(&db, service).await {
            Ok(Some(anchor)) => {
                relay.notify();
                last = Some((anchor.seq, std::time::Instant::now()));
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "announcing the audit chain's head failed"),
        }
    }
}

async fn head_seq(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT seq FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await
}

/// Keeps the heads other services announce (a service's own are no anchor).
pub struct Keeper {
    /// The keeping service.
    pub service: &'static str,
}

#[async_trait]
impl TxHandler for Keeper {
    async fn handle(&self, tx: &mut Tx, envelope: &Envelope) -> Result<(), HandleError> {
        let head: AuditAnchored = payload(envelope)?;
        if head.service == self.service || head.service.is_empty() {
            return Ok(());
        }
        // A head counts only under its own service's routing key, which only that service may publish.
        if envelope.r#type != anchored(&head.service) {
            tracing::warn!(service = %head.service, key = %envelope.r#type, "a head under another service's key, not kept");
            return Ok(());
        }
        let at_ms = head
            .time
            .map(|t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000)
            .unwrap_or_else(now_ms);
        sqlx::query(
            "INSERT INTO audit_anchors (service, seq, hash, at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (service, seq) DO NOTHING",
        )
        .bind(&head.service)
        .bind(head.seq)
        .bind(&head.hash)
        .bind(at_ms)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// The heads of `service` that `db` keeps, in chain order.
pub async fn anchors_of(db: &Db, service: &str) -> Result<Vec<Anchor>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT seq, hash, at_ms FROM audit_anchors WHERE service = $1 ORDER BY seq")
            .bind(service)
            .fetch_all(db.pool())
            .await?;
    rows.iter().map(anchor_of).collect()
}

fn anchor_of(r: &sqlx::any::AnyRow) -> Result<Anchor, sqlx::Error> {
    Ok(Anchor {
        seq: r.try_get("seq")?,
        hash: r.try_get("hash")?,
        at_ms: r.try_get("at_ms")?,
    })
}

/// Every head `db` keeps, of every other service, newest first, at most `limit`: `(service, anchor)`.
pub async fn latest(db: &Db, limit: i64) -> Result<Vec<(String, Anchor)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT service, seq, hash, at_ms FROM audit_anchors ORDER BY at_ms DESC, service LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("service")?, anchor_of(r)?)))
        .collect()
}

/// Checks `db`'s chain as [`crate::audit::verify`] does, and each of `anchors` against the entry it names: the first
/// head that does not match breaks it, naming the entries after the last head that matched. A chain shorter than a
/// head is broken too (its end was removed).
pub async fn verify_against(db: &Db, anchors: &[Anchor]) -> Result<Verification, sqlx::Error> {
    // A link broken within the chain is named exactly; only a chain whole in itself is held to the heads.
    let own = crate::audit::verify(db).await?;
    let last = match &own {
        Verification::Broken { .. } => return Ok(own),
        Verification::Intact { entries, .. } => *entries,
    };
    // The chain is whole and numbered from 1 to `last`: each head is one lookup of the entry at its position.
    let mut anchors = anchors.to_vec();
    anchors.sort_by_key(|a| a.seq);
    let mut matched = 0i64;
    for anchor in &anchors {
        if anchor.seq > last {
            // A head beyond the chain's end: the entries after it were removed.
            return Ok(broken(matched.max(last), anchor));
        }
        let hash: Option<String> = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(anchor.seq)
            .fetch_optional(db.pool())
            .await?;
        if hash.as_deref() != Some(anchor.hash.as_str()) {
            return Ok(broken(matched, anchor));
        }
        matched = anchor.seq;
    }
    Ok(own)
}

fn broken(matched: i64, anchor: &Anchor) -> Verification {
    Verification::Broken {
        seq: matched + 1,
        reason: msg("audit-anchor")
            .arg("from", matched + 1)
            .arg("to", anchor.seq)
            .arg("day", crate::calendar::china_date(anchor.at_ms)),
    }
}
