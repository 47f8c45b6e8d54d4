//! Deliveries to outside credit systems: each published result, correction and credit record queued for the
//! configured webhooks in the transaction that made it; dead letters listed and sent again.

use super::*;

impl Publications {
    pub(super) async fn deliver(
        &self,
        tx: &mut Tx,
        kind: &str,
        result_id: &str,
        body: &str,
        now: i64,
    ) -> Result<(), Error> {
        for c in &self.settings.connectors {
            if c.kinds.is_empty() || c.kinds.iter().any(|k| k == kind) {
                store::enqueue_delivery(tx, &c.name, kind, result_id, body, now).await?;
            }
        }
        Ok(())
    }

    /// A page of deliveries.
    pub async fn deliveries(
        &self,
        who: &Identity,
        state: Option<&str>,
        page: &Page,
    ) -> Result<Vec<store::Delivery>, Error> {
        require_admin(who)?;
        let mut conn = self.db.pool().acquire().await?;
        store::list_deliveries(&mut conn, state, page).await
    }

    /// Queues dead letters again.
    pub async fn retry_deliveries(&self, who: &Identity, ids: &[String]) -> Result<u64, Error> {
        require_admin(who)?;
        let mut conn = self.db.pool().acquire().await?;
        store::retry_dead(&mut conn, ids, now_ms()).await
    }
}
