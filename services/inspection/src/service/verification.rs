//! 扫码入企: a target checks the code a team shows, and sees the task, the items and the team's names and
//! certificates; each check is recorded on the visit.

use super::*;

/// What a target sees when it checks a visit's code.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The visit.
    pub visit: Visit,
    /// Task name.
    pub task_name: String,
    /// The team, with what the directories hold on each member.
    pub team: Vec<(visit::Member, Option<suiji_api::directories::v1::Inspector>)>,
}

impl Sagas {
    /// Where the public verification page is.
    pub fn public_url(&self) -> &str {
        &self.settings.public_url
    }

    /// A target checks the code a team showed: the visit, unless unknown or concluded (`Ok(None)`), with its
    /// team's names and certificates; the check is recorded on the visit.
    pub async fn verify_code(&self, code: &str) -> Result<Option<Verified>, Error> {
        let code = code.trim().to_uppercase();
        if code.is_empty() {
            return Err(Violations::one("code", msg("required")).into());
        }
        let mut tx = self.db.begin().await?;
        let Some(mut stored) = store::visit_by_code(&mut tx, &code).await? else {
            return Ok(None);
        };
        if stored.visit.outcome.is_some() {
            return Ok(None);
        }
        let now = now_ms();
        stored.visit.record_verification(now);
        store::update_visit(&mut tx, &stored.visit, stored.version, now).await?;
        let saga = store::get(&mut tx, &stored.visit.task_id).await?;
        tx.commit().await?;
        let token = self
            .tokens
            .service_token(crate::NAME)
            .await
            .map_err(|e| Error::Internal(format!("a token to call another service: {e}")))?;
        let mut client = DirectoriesServiceClient::with_interceptor(
            self.directories.clone(),
            Bearer::new(Some(&token)),
        );
        // The team's departments' inspectors, in one list (none to ask for when the team is empty).
        let mut known = std::collections::HashMap::new();
        let departments = stored.visit.departments();
        let mut page_token = String::new();
        while !departments.is_empty() {
            let page = client
                .list_inspectors(suiji_api::directories::v1::ListInspectorsRequest {
                    department_codes: departments.clone(),
                    page_size: 500,
                    page_token,
                    ..Default::default()
                })
                .await
                .map_err(|s| Error::Internal(format!("the directories: {s}")))?
                .into_inner();
            for i in page.inspectors {
                if stored.visit.team.iter().any(|m| m.inspector_id == i.id) {
                    known.insert(i.id.clone(), i);
                }
            }
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        Ok(Some(Verified {
            task_name: saga.map(|s| s.saga.task_name).unwrap_or_default(),
            team: stored
                .visit
                .team
                .iter()
                .map(|m| (m.clone(), known.remove(&m.inspector_id)))
                .collect(),
            visit: stored.visit,
        }))
    }
}

/// A visit's code (扫码入企): 64 bits from the operating system's generator, as 16 upper-case hex digits — not
/// guessable, short enough to type.
pub(super) fn visit_code() -> Result<String, Error> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02X}")).collect())
}

#[cfg(test)]
mod code_tests {
    use super::visit_code;

    /// Every one of the 16 digits is random: none is fixed (a UUID's version digit was, leaving 60 bits).
    #[test]
    fn visit_codes_carry_64_random_bits() {
        let codes: Vec<String> = (0..4000).map(|_| visit_code().unwrap()).collect();
        assert!(codes.iter().all(|c| {
            c.len() == 16
                && c.chars()
                    .all(|d| d.is_ascii_hexdigit() && !d.is_ascii_lowercase())
        }));
        for position in 0..16 {
            let digits: std::collections::BTreeSet<u8> =
                codes.iter().map(|c| c.as_bytes()[position]).collect();
            assert_eq!(
                digits.len(),
                16,
                "every digit appears at position {position}"
            );
        }
        let distinct: std::collections::BTreeSet<&String> = codes.iter().collect();
        assert_eq!(distinct.len(), codes.len());
    }
}
