//! The catalog's use cases: each one reads, asks the domain, writes, records the audit entry and the event in
//! one transaction, then wakes the outbox relay.

use suiji_api::catalog::v1 as pb;
use suiji_api::topics;
use suiji_platform::audit::{self, AuditEvent, digest_of};
use suiji_platform::auth::Identity;
use suiji_platform::auth::ROLE_ADMIN;
use suiji_platform::db::{Db, Tx};
use suiji_platform::messages::msg;
use suiji_platform::outbox::{self, Event, Relay};
use suiji_platform::paging::{self, Page};
use suiji_platform::validation::Violations;

use crate::convert::item_pb;
use crate::domain::{self, Edit, Item, ItemContent, ItemState, Policy, Version, VersionState};
use crate::error::Error;
use crate::store::{self, ListFilter};

/// The catalog's use cases.
#[derive(Clone)]
pub struct Catalog {
    db: Db,
    relay: Relay,
    policy: Policy,
}

/// An item with the version a call is about.
pub type ItemView = (Item, Version);

impl Catalog {
    /// The use cases over `db`.
    pub fn new(db: Db, relay: Relay, policy: Policy) -> Self {
        Self { db, relay, policy }
    }

    async fn checked_content(
        &self,
        tx: &mut Tx,
        content: ItemContent,
    ) -> Result<ItemContent, Error> {
        let known = suiji_platform::departments::exists(tx, &content.department_code).await?;
        Ok(domain::validate_content(content, self.policy, |_| known)?)
    }

    async fn load(tx: &mut Tx, code: &str) -> Result<Item, Error> {
        store::get_item(tx, code)
            .await?
            .ok_or_else(|| Error::NotFound(msg("nf-item").arg("code", code)))
    }

    /// Loads an item the caller read at `expected_revision` (0: any).
    async fn load_current(tx: &mut Tx, code: &str, expected_revision: i64) -> Result<Item, Error> {
        let item = Self::load(tx, code).await?;
        domain::check_revision(&item, expected_revision)
            .map_err(|n| Error::Conflict(n.0.text()))?;
        Ok(item)
    }

    async fn version(
        tx: &mut sqlx::AnyConnection,
        code: &str,
        version: u32,
    ) -> Result<Version, Error> {
        store::get_version(tx, code, version).await?.ok_or_else(|| {
            Error::NotFound(
                msg("nf-item-version")
                    .arg("code", code)
                    .arg("version", version),
            )
        })
    }

    async fn finish(&self, tx: Tx) -> Result<(), Error> {
        tx.commit().await?;
        self.relay.notify();
        Ok(())
    }

    /// Drafts a new item.
    #[tracing::instrument(skip(self, who, content), fields(who = %who.subject))]
    pub async fn create(
        &self,
        who: &Identity,
        code: &str,
        content: ItemContent,
    ) -> Result<ItemView, Error> {
        let mut v = Violations::new();
        domain::validate_code(code, &mut v);
        v.into_result()?;
        let mut tx = self.db.begin().await?;
        let content = self.checked_content(&mut tx, content).await?;
        domain::may_edit(who, &content.department_code, "content.department_code")?;
        if store::get_item(&mut tx, code).await?.is_some() {
            return Err(Error::AlreadyExists(format!(
                "an item with code {code:?} already exists"
            )));
        }
        store::insert_item(&mut tx, code, &content, &who.subject).await?;
        audit_item(
            &mut tx,
            who,
            "item.create",
            code,
            String::new(),
            digest_of(&content),
            "version 1".into(),
        )
        .await?;
        let view = (
            Self::load(&mut tx, code).await?,
            Self::version(&mut tx, code, 1).await?,
        );
        self.finish(tx).await?;
        Ok(view)
    }

    /// Edits the draft, opening a new version when the item is published.
    #[tracing::instrument(skip(self, who, content), fields(who = %who.subject))]
    pub async fn update(
        &self,
        who: &Identity,
        code: &str,
        content: ItemContent,
        expected_revision: i64,
    ) -> Result<ItemView, Error> {
        let mut tx = self.db.begin().await?;
        let mut item = Self::load_current(&mut tx, code, expected_revision).await?;
        domain::may_edit(who, &item.department_code, "code")?;
        let content = self.checked_content(&mut tx, content).await?;
        let edit = domain::plan_edit(&item, &content.department_code)?;
        let before = Self::version(&mut tx, code, item.latest_version).await?;
        let number = match edit {
            Edit::ReplaceDraft(n) => {
                store::replace_draft(&mut tx, code, n, &content).await?;
                n
            }
            Edit::NewDraft(n) => {
                store::insert_version(&mut tx, code, n, &content, &who.subject).await?;
                item.latest_version = n;
                n
            }
        };
        item.revision += 1;
        store::update_item(&mut tx, &item, &content).await?;
        audit_item(
            &mut tx,
            who,
            "item.update",
            code,
            digest_of(&before.content),
            digest_of(&content),
            format!("version {number}"),
        )
        .await?;
        let view = (item, Self::version(&mut tx, code, number).await?);
        self.finish(tx).await?;
        Ok(view)
    }

    /// Publishes the draft.
    #[tracing::instrument(skip(self, who), fields(who = %who.subject))]
    pub async fn publish(
        &self,
        who: &Identity,
        code: &str,
        expected_revision: i64,
    ) -> Result<ItemView, Error> {
        let mut tx = self.db.begin().await?;
        let mut item = Self::load_current(&mut tx, code, expected_revision).await?;
        domain::may_publish(who, &item.department_code)?;
        let number = domain::plan_publish(&item)?;
        let previous = item.published_version;
        if previous > 0 {
            store::set_version_state(&mut tx, code, previous, VersionState::Superseded, None)
                .await?;
        }
        store::set_version_state(
            &mut tx,
            code,
            number,
            VersionState::Published,
            Some(&who.subject),
        )
        .await?;
        item.state = ItemState::Published;
        item.published_version = number;
        item.revision += 1;
        let version = Self::version(&mut tx, code, number).await?;
        store::update_item(&mut tx, &item, &version.content).await?;
        outbox::enqueue(
            &mut tx,
            "catalog",
            Event::new::<topics::ItemPublished>(
                code,
                &pb::ItemPublishedEvent {
                    item: Some(item_pb(&item, &version)),
                },
            ),
        )
        .await?;
        audit_item(
            &mut tx,
            who,
            "item.publish",
            code,
            String::new(),
            digest_of(&version.content),
            if previous > 0 {
                format!("version {number} in force, superseding version {previous}")
            } else {
                format!("version {number} in force")
            },
        )
        .await?;
        self.finish(tx).await?;
        Ok((item, version))
    }

    /// Retires a published item.
    #[tracing::instrument(skip(self, who), fields(who = %who.subject))]
    pub async fn retire(
        &self,
        who: &Identity,
        code: &str,
        reason: &str,
        expected_revision: i64,
    ) -> Result<ItemView, Error> {
        let mut tx = self.db.begin().await?;
        let mut item = Self::load_current(&mut tx, code, expected_revision).await?;
        domain::may_publish(who, &item.department_code)?;
        domain::plan_retire(&item, reason)?;
        store::set_version_state(
            &mut tx,
            code,
            item.published_version,
            VersionState::Retired,
            None,
        )
        .await?;
        item.state = ItemState::Retired;
        item.retire_reason = reason.trim().to_string();
        item.revision += 1;
        let version = Self::version(&mut tx, code, item.published_version).await?;
        let latest = Self::version(&mut tx, code, item.latest_version).await?;
        store::update_item(&mut tx, &item, &latest.content).await?;
        outbox::enqueue(
            &mut tx,
            "catalog",
            Event::new::<topics::ItemRetired>(
                code,
                &pb::ItemRetiredEvent {
                    item: Some(item_pb(&item, &version)),
                },
            ),
        )
        .await?;
        audit_item(
            &mut tx,
            who,
            "item.retire",
            code,
            digest_of(&version.content),
            String::new(),
            item.retire_reason.clone(),
        )
        .await?;
        self.finish(tx).await?;
        Ok((item, version))
    }

    /// One item with its latest version, or the version asked for (`0` = latest).
    pub async fn get(&self, code: &str, version: u32) -> Result<ItemView, Error> {
        let mut conn = self.db.pool().acquire().await?;
        match store::get_item_version(&mut conn, code, version).await? {
            None => Err(Error::NotFound(msg("nf-item").arg("code", code))),
            Some((_, None)) => Err(Error::NotFound(
                msg("nf-item-version")
                    .arg("code", code)
                    .arg("version", version),
            )),
            Some((item, Some(version))) => Ok((item, version)),
        }
    }

    /// Every version of an item.
    pub async fn versions(&self, code: &str) -> Result<Vec<Version>, Error> {
        let mut conn = self.db.pool().acquire().await?;
        let versions = store::list_versions(&mut conn, code).await?;
        if versions.is_empty() {
            return Err(Error::NotFound(msg("nf-item").arg("code", code)));
        }
        Ok(versions)
    }

    /// A page of items.
    pub async fn list(
        &self,
        filter: &ListFilter,
        page: &Page,
    ) -> Result<(Vec<ItemView>, String), Error> {
        let mut conn = self.db.pool().acquire().await?;
        let items = store::list_items(&mut conn, filter, page).await?;
        Ok(with_token(items, page))
    }

    /// A page of the public catalog.
    pub async fn list_public(
        &self,
        department: &str,
        page: &Page,
    ) -> Result<(Vec<ItemView>, String), Error> {
        let mut conn = self.db.pool().acquire().await?;
        let items = store::list_public(&mut conn, department, page).await?;
        Ok(with_token(items, page))
    }
}

impl Catalog {
    /// Announces every item in force again (`catalog.item.published`), a page per transaction; admin only.
    pub async fn announce(&self, who: &Identity) -> Result<u32, Error> {
        if !who.has_role(ROLE_ADMIN) {
            return Err(suiji_platform::validation::Denied::role(ROLE_ADMIN).into());
        }
        let mut page = Page {
            size: paging::MAX_PAGE_SIZE,
            after: String::new(),
        };
        let mut announced = 0u32;
        loop {
            let mut tx = self.db.begin().await?;
            let items = store::list_public(&mut tx, "", &page).await?;
            for (item, version) in &items {
                outbox::enqueue(
                    &mut tx,
                    "catalog",
                    Event::new::<topics::ItemPublished>(
                        &item.code,
                        &pb::ItemPublishedEvent {
                            item: Some(item_pb(item, version)),
                        },
                    ),
                )
                .await?;
            }
            announced += items.len() as u32;
            let last = items.last().map(|(i, _)| i.code.clone());
            if items.len() as i64 == page.size
                && let Some(last) = last
            {
                page.after = last;
                self.finish(tx).await?;
            } else {
                audit_item(
                    &mut tx,
                    who,
                    "catalog.announce",
                    "*",
                    String::new(),
                    String::new(),
                    format!("{announced} items announced"),
                )
                .await?;
                self.finish(tx).await?;
                return Ok(announced);
            }
        }
    }
}

/// Records a change of item `code` in the audit trail.
async fn audit_item(
    tx: &mut Tx,
    who: &Identity,
    action: &str,
    code: &str,
    before_digest: String,
    after_digest: String,
    detail: String,
) -> Result<(), Error> {
    let event = AuditEvent {
        action,
        entity: "item",
        entity_id: code,
        before_digest,
        after_digest,
        detail,
    };
    audit::append(tx, who, event).await?;
    Ok(())
}

fn with_token(items: Vec<ItemView>, page: &Page) -> (Vec<ItemView>, String) {
    let token = paging::next_token(&items, page, |(item, _)| &item.code);
    (items, token)
}
