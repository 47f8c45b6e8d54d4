//! The public search (一公开): published results by credit code or by name, for anyone.

use super::*;

impl Publications {
    /// Published records of a credit code, or of names containing `query`.
    pub async fn search(
        &self,
        query: &str,
        page: &Page,
    ) -> Result<(Vec<PublicRecord>, String), Error> {
        let query = query.trim();
        let by_code = is_identifier(query);
        if !by_code && query.chars().count() < 2 {
            return Err(Violations::one("query", msg("search-query")).into());
        }
        let mut conn = self.db.pool().acquire().await?;
        let rows = store::search_public(&mut conn, query, by_code, page).await?;
        let token = suiji_platform::paging::next_token(&rows, page, |(k, _)| k);
        Ok((rows.into_iter().map(|(_, r)| r).collect(), token))
    }
}

/// A credit code or another identifier the directories give (ASCII letters, digits and dashes), not a name.
fn is_identifier(q: &str) -> bool {
    q.len() >= 8 && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The gRPC form of a public record.
pub fn public_pb(r: &PublicRecord) -> pb::PublicRecord {
    pb::PublicRecord {
        id: r.id.clone(),
        credit_code: r.credit_code.clone(),
        target_name: r.target_name.clone(),
        task_name: r.task_name.clone(),
        authority: r.authority.clone(),
        inspection_type: r.inspection_type.clone(),
        inspection_date: r.inspection_date.clone(),
        item: r.item.clone(),
        result: r.result.clone(),
        published_time: Some(suiji_platform::grpc::timestamp(r.published_at)),
        corrections: r
            .corrections
            .iter()
            .map(|c| pb::PublicCorrection {
                time: Some(suiji_platform::grpc::timestamp(c.at)),
                previous_result: c.previous_result.clone(),
                reason: c.reason.clone(),
            })
            .collect(),
    }
}
