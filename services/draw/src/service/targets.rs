//! The targets: the task's scope snapshotted in the directories minus the exclusions, drawn by stratum, and
//! locked once the lead has reviewed them.

use super::*;

impl Draws {
    /// The scope of the snapshot: the task's, with closed and revoked targets left out unless the scope names
    /// statuses itself, and the items' target kinds when it names none.
    pub(super) fn scope_of(launch: &Launch) -> dir::TargetFilter {
        let content = launch.task.content.clone().unwrap_or_default();
        let entry = launch.task.entry.clone().unwrap_or_default();
        let mut scope = content.scope.or(entry.scope).unwrap_or_default();
        if scope.statuses.is_empty() {
            scope.statuses = vec![
                dir::OperatingStatus::Operating as i32,
                dir::OperatingStatus::Liquidating as i32,
            ];
        }
        if scope.kinds.is_empty() {
            let kinds: BTreeSet<i32> = launch
                .items
                .iter()
                .filter_map(|i| i.version.as_ref()?.content.as_ref())
                .flat_map(|c| c.target_kinds.iter().copied())
                .collect();
            scope.kinds = kinds.into_iter().collect();
        }
        scope
    }

    pub(super) fn amount_of(launch: &Launch) -> Amount {
        let content = launch.task.content.clone().unwrap_or_default();
        let entry = launch.task.entry.clone().unwrap_or_default();
        if content.quantity > 0 {
            Amount::Quantity(u64::from(content.quantity))
        } else {
            Amount::Ratio {
                base_basis_points: entry.ratio_basis_points,
                per_stratum: entry
                    .risk_ratios
                    .iter()
                    .map(|r| (risk_name(r.level).to_string(), r.basis_points))
                    .collect(),
            }
        }
    }

    pub(super) async fn lead_level(&self, lead: &str) -> Result<i32, Error> {
        let mut conn = self.db.pool().acquire().await?;
        let found = suiji_platform::departments::find(&mut conn, lead).await?;
        Ok(found
            .and_then(|(_, level)| suiji_api::named::of::<dir::DepartmentLevel>(&level))
            .unwrap_or(dir::DepartmentLevel::Unspecified) as i32)
    }

    /// Draws the targets of `task_id` (once): a snapshot of the scope minus the exclusions, strata by risk,
    /// quantities by the task's rules within the items' caps, the seed from the committed secret and the
    /// witnesses' entropy.
    pub async fn draw_targets(
        &self,
        who: &Identity,
        task_id: &str,
        entropy: &str,
        witnesses: Vec<Witness>,
    ) -> Result<Record, Error> {
        check_witnesses(entropy, &witnesses)?;
        let (mut record, launch) = self.load(task_id).await?;
        require_lead(who, &record)?;
        if record.witnessed {
            // A witnessed draw is made with its witnesses, who each add entropy.
            let mut v = Violations::new();
            v.check(
                witnesses.is_empty(),
                "witnesses",
                msg("draw-witnesses-required"),
            );
            v.check(
                entropy.trim().is_empty(),
                "witness_entropy",
                msg("draw-witness-entropy-required"),
            );
            v.into_result()?;
        }
        if record.state != State::Committed {
            return Err(wrong_state(&record, "draw_targets"));
        }
        let scope = Self::scope_of(&launch);
        let exclusions = dir::Exclusions {
            as_of: today().to_string(),
            max_per_year: MAX_PER_YEAR,
            lead_level: self.lead_level(&record.lead_department).await?,
            annual_caps: launch
                .annual
                .iter()
                .filter(|c| record.departments.contains(&c.department_code))
                .map(|c| dir::DepartmentCap {
                    department_code: c.department_code.clone(),
                    max_per_target: c.max_per_target,
                })
                .collect(),
        };
        let mut directories = self.directories().await?;
        let snapshot = directories
            .create_target_snapshot(dir::CreateTargetSnapshotRequest {
                filter: Some(scope.clone()),
                exclusions: Some(exclusions),
            })
            .await
            .map_err(|s| upstream("the snapshot", s))?
            .into_inner()
            .snapshot
            .ok_or_else(|| Error::Internal("directories returned no snapshot".into()))?;
        directories
            .pin_snapshot(dir::PinSnapshotRequest {
                id: snapshot.id.clone(),
                holder: format!("draw:{task_id}"),
            })
            .await
            .map_err(|s| upstream("the pin", s))?;
        let counts: BTreeMap<String, u64> = snapshot
            .strata
            .iter()
            .filter(|s| s.count > 0)
            .map(|s| (risk_name(s.risk_level).to_string(), s.count))
            .collect();
        let amount = Self::amount_of(&launch);
        let cap = launch.caps.iter().copied().min().unwrap_or(10_000);
        let planned = record::plan_strata(&counts, &amount, cap);
        let secret = {
            let mut conn = self.db.pool().acquire().await?;
            store::secret(&mut conn, task_id, "targets").await?
        };
        let seed = record::seed_of(&secret, entropy, task_id, &snapshot.digest)
            .map_err(Error::Internal)?;
        let picks = record::positions(seed, &planned).map_err(|e| NotNow(e.to_string().into()))?;
        // The directories pick the drawn positions from the snapshot they hold: a province's ten million
        // candidates stay there (anyone verifying the record reads them all, and the digest with them).
        let picked = directories
            .pick_from_snapshot(dir::PickFromSnapshotRequest {
                id: snapshot.id.clone(),
                strata: picks
                    .iter()
                    .map(|(name, positions)| dir::StratumPositions {
                        risk_level: risk_level(name) as i32,
                        positions: positions.clone(),
                    })
                    .collect(),
            })
            .await
            .map_err(|s| upstream("the drawn positions", s))?
            .into_inner()
            .strata;
        // Each level as asked, counted as when the snapshot was made.
        let differs = picked.len() != picks.len()
            || picked.iter().zip(&picks).any(|(s, (name, _))| {
                risk_name(s.risk_level) != name || counts.get(name) != Some(&s.count)
            });
        if differs {
            let read: Vec<(&str, u64)> = picked
                .iter()
                .map(|s| (risk_name(s.risk_level), s.count))
                .collect();
            return Err(Error::Internal(format!(
                "snapshot {} counted {read:?} when picked from, {counts:?} when made",
                snapshot.id
            )));
        }
        let picked: Vec<Option<String>> = picked
            .into_iter()
            .flat_map(|s| s.ids.into_iter().map(Some))
            .collect();
        let strata = record::target_strata(&planned, picked).map_err(Error::Internal)?;
        let t = &mut record.targets;
        t.result_digest = algorithm::ids_digest(
            strata
                .iter()
                .flat_map(|s| s.drawn.iter().map(String::as_str)),
        );
        t.strata = strata;
        t.seed = SeedRecord {
            commitment: t.seed.commitment.clone(),
            server_secret: secret,
            witness_entropy: entropy.to_string(),
            witnesses,
            snapshot_digest: snapshot.digest.clone(),
            seed: hex::encode(seed),
            drawn_at: now_ms(),
            drawn_by: who.subject.clone(),
        };
        t.snapshot_id = snapshot.id.clone();
        t.scope = Scope {
            kinds: scope.kinds.iter().map(|k| kind_name(*k)).collect(),
            region_codes: scope.region_codes.clone(),
            industry_prefixes: scope.industry_prefixes.clone(),
            departments: scope.departments.clone(),
            statuses: scope.statuses.iter().map(|s| status_name(*s)).collect(),
        };
        t.candidates = snapshot.count;
        t.exclusions = snapshot
            .excluded
            .iter()
            .map(|e| (e.rule.clone(), e.count))
            .collect();
        t.amount = Some(amount);
        t.cap_basis_points = cap;
        record.state = State::TargetsDrawn;
        let drawn: u64 = record.targets.strata.iter().map(|s| s.take).sum();
        let detail = format!(
            "{drawn} of {} candidates, snapshot {}, result {}",
            snapshot.count, snapshot.id, record.targets.result_digest
        );
        let tx = self.db.begin().await?;
        let event = Event::new::<topics::TargetsDrawn>(
            task_id,
            &pb::TargetsDrawnEvent {
                draw: Some(draw_pb(&record)),
            },
        );
        self.save(tx, who, &mut record, "draw.targets", detail, event)
            .await?;
        Ok(record)
    }

    /// Locks the drawn targets for good and commits the team secret.
    pub async fn lock(
        &self,
        who: &Identity,
        task_id: &str,
        expected_revision: i64,
    ) -> Result<Record, Error> {
        let (mut record, _) = self.load(task_id).await?;
        require_lead(who, &record)?;
        if record.state != State::TargetsDrawn {
            return Err(wrong_state(&record, "lock"));
        }
        if expected_revision != 0 && expected_revision != record.revision {
            return Err(Error::Conflict(format!(
                "the draw is at revision {}, not {expected_revision}: review it again",
                record.revision
            )));
        }
        let secret = random_secret()?;
        record.targets.locked_at = now_ms();
        record.targets.locked_by = who.subject.clone();
        record.teams = Some(TeamDraw {
            seed: SeedRecord {
                commitment: algorithm::commitment(&secret),
                ..Default::default()
            },
            ..Default::default()
        });
        record.state = State::TargetsLocked;
        let mut tx = self.db.begin().await?;
        store::put_secret(&mut tx, task_id, "teams", &hex::encode(secret)).await?;
        let event = Event::new::<topics::TargetsLocked>(
            task_id,
            &pb::TargetsLockedEvent {
                draw: Some(draw_pb(&record)),
            },
        );
        let detail = format!("result {}", record.targets.result_digest);
        self.save(tx, who, &mut record, "draw.lock", detail, event)
            .await?;
        Ok(record)
    }
}
