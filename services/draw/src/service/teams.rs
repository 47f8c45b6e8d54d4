//! The teams: each department's eligible inspectors drawn per locked target, the lead department's inspector
//! leading; read back a page at a time.

use super::*;

impl Draws {
    /// A page of the teams of `task_id` (by target id, after `after`), only those with a seat of `department` or
    /// of `inspector` when given; without credentials, only when the list is public.
    pub async fn teams(
        &self,
        who: Option<&Identity>,
        task_id: &str,
        department: &str,
        inspector: &str,
        page_size: i32,
        after: &str,
    ) -> Result<Vec<TeamRecord>, Error> {
        let record = {
            let mut conn = self.db.pool().acquire().await?;
            let revision = store::revision(&mut conn, task_id)
                .await?
                .ok_or_else(|| Error::NotFound(msg("nf-draw").arg("task", task_id)))?;
            let cached = self
                .teams
                .lock()
                .expect("teams cache")
                .iter()
                .find(|(t, r, _)| t == task_id && *r == revision)
                .map(|(_, _, record)| record.clone());
            match cached {
                Some(record) => record,
                None => {
                    let (record, _) = store::get(&mut conn, task_id)
                        .await?
                        .ok_or_else(|| Error::NotFound(msg("nf-draw").arg("task", task_id)))?;
                    let record = Arc::new(record);
                    let mut cache = self.teams.lock().expect("teams cache");
                    cache.retain(|(t, _, _)| t != task_id);
                    if cache.len() >= CACHED_RECORDS {
                        cache.remove(0);
                    }
                    cache.push((task_id.to_string(), record.revision, record.clone()));
                    record
                }
            }
        };
        if !record.lists_readable_by(who) {
            return Err(match who {
                None => Error::Unauthenticated,
                Some(_) => Denied::new(
                    "task_id",
                    msg("denied-draw-lists").arg("depts", record.departments.join(",")),
                )
                .into(),
            });
        }
        let size = Self::teams_page_size(page_size);
        let Some(d) = &record.teams else {
            return Ok(Vec::new());
        };
        let from = d
            .teams
            .partition_point(|t| t.target_id.as_bytes() <= after.as_bytes());
        let sits = |t: &TeamRecord| {
            t.drawn.iter().chain(&t.current).any(|s| {
                (department.is_empty() || &*s.department == department)
                    && (inspector.is_empty() || &*s.inspector_id == inspector)
            })
        };
        Ok(d.teams[from..]
            .iter()
            .filter(|t| sits(t))
            .take(size)
            .cloned()
            .collect())
    }

    /// Teams a `ListTeams` page holds when asked for `page_size`.
    pub fn teams_page_size(page_size: i32) -> usize {
        match page_size {
            n if n <= 0 => DEFAULT_TEAMS_PAGE,
            n => (n as usize).min(MAX_TEAMS_PAGE),
        }
    }

    /// Every inspector of each `wanted` department eligible on `day`, with all of that department's
    /// qualifications; one list (by id) for them all, in the order of `wanted`.
    pub(super) async fn eligible(
        &self,
        directories: &mut Directories,
        wanted: &[(&str, &[String])],
        day: NaiveDate,
    ) -> Result<Vec<Vec<dir::Inspector>>, Error> {
        let mut out: Vec<Vec<dir::Inspector>> = vec![Vec::new(); wanted.len()];
        // One department's list is narrowed by its first qualification in the directories already.
        let qualification = match wanted {
            [(_, quals)] => quals.first().cloned().unwrap_or_default(),
            _ => String::new(),
        };
        let mut token = String::new();
        loop {
            let page = directories
                .list_inspectors(dir::ListInspectorsRequest {
                    department_codes: wanted.iter().map(|(d, _)| d.to_string()).collect(),
                    qualification: qualification.clone(),
                    eligible_on: day.to_string(),
                    page_size: 500,
                    page_token: token,
                    ..Default::default()
                })
                .await
                .map_err(|s| upstream("the inspectors", s))?
                .into_inner();
            for inspector in page.inspectors {
                let Some(at) = wanted
                    .iter()
                    .position(|(d, _)| *d == inspector.department_code)
                else {
                    continue;
                };
                if wanted[at]
                    .1
                    .iter()
                    .all(|q| inspector.qualifications.contains(q))
                {
                    out[at].push(inspector);
                }
            }
            if page.next_page_token.is_empty() {
                return Ok(out);
            }
            token = page.next_page_token;
        }
    }

    /// What a department's items ask of its inspectors: qualifications and an expert.
    pub(super) fn requirements(
        record: &Record,
        launch: &Launch,
        department: &str,
    ) -> (Vec<String>, bool) {
        let codes = record.items.get(department).cloned().unwrap_or_default();
        let mut qualifications = BTreeSet::new();
        let mut expert = false;
        for item in &launch.items {
            if !codes.contains(&item.code) {
                continue;
            }
            if let Some(c) = item.version.as_ref().and_then(|v| v.content.as_ref()) {
                qualifications.extend(c.inspector_qualifications.iter().cloned());
                expert |= c.requires_expert;
            }
        }
        (qualifications.into_iter().collect(), expert)
    }

    pub(super) fn seats(&self, department: &str) -> u32 {
        self.settings
            .seats
            .get(department)
            .copied()
            .unwrap_or(self.settings.seats_per_department)
            .max(1)
    }

    /// Draws a team for every locked target.
    pub async fn draw_inspectors(
        &self,
        who: &Identity,
        task_id: &str,
        entropy: &str,
        witnesses: Vec<Witness>,
        eligible_on: Option<NaiveDate>,
        only: &[String],
    ) -> Result<Record, Error> {
        check_witnesses(entropy, &witnesses)?;
        let (mut record, launch) = self.load(task_id).await?;
        require_lead(who, &record)?;
        if record.state != State::TargetsLocked {
            return Err(wrong_state(&record, "draw_inspectors"));
        }
        let mut violations = Violations::default();
        for (i, d) in only.iter().enumerate() {
            if !record.departments.contains(d) {
                violations.add(
                    format!("departments[{i}]"),
                    msg("draw-not-in-task").arg("dept", d).arg("task", task_id),
                );
            }
        }
        if !only.is_empty() && !only.contains(&record.lead_department) {
            violations.add(
                "departments",
                msg("draw-lead-included").arg("dept", &record.lead_department),
            );
        }
        violations.into_result()?;
        let sending: Vec<String> = record
            .departments
            .iter()
            .filter(|d| only.is_empty() || only.contains(d))
            .cloned()
            .collect();
        let day = eligible_on.unwrap_or_else(today);
        let team_size: u32 = sending.iter().map(|d| self.seats(d)).sum();
        if team_size < self.settings.min_team_size {
            return Err(NotNow(
                msg("nn-team-too-small")
                    .arg("size", team_size)
                    .arg("min", self.settings.min_team_size),
            )
            .into());
        }
        let targets = record.targets.locked_list();
        let target_set: HashSet<&str> = targets.iter().map(String::as_str).collect();
        let mut directories = self.directories().await?;
        let mut pools = Vec::new();
        let mut qualifications = BTreeMap::new();
        let mut exclusions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut members: HashSet<String> = HashSet::new();
        // Every department's pool, in one list.
        let wanted: Vec<(Vec<String>, bool)> = sending
            .iter()
            .map(|d| Self::requirements(&record, &launch, d))
            .collect();
        let asked: Vec<(&str, &[String])> = sending
            .iter()
            .zip(&wanted)
            .map(|(department, (quals, _))| (department.as_str(), quals.as_slice()))
            .collect();
        let found = self.eligible(&mut directories, &asked, day).await?;
        for ((department, (quals, needs_expert)), inspectors) in
            sending.iter().zip(wanted).zip(found)
        {
            for i in &inspectors {
                members.insert(i.id.clone());
                for t in &i.recusals {
                    if target_set.contains(t.as_str()) {
                        exclusions
                            .entry(t.clone())
                            .or_default()
                            .insert(i.id.clone());
                    }
                }
            }
            pools.push(DepartmentSeats {
                department: department.clone(),
                seats: self.seats(department),
                needs_expert,
                pool: inspectors
                    .iter()
                    .map(|i| Candidate {
                        id: i.id.clone(),
                        expert: i.expert,
                        load: i.workload,
                    })
                    .collect(),
            });
            qualifications.insert(department.clone(), quals);
        }
        let accepted = directories
            .list_recusals(dir::ListRecusalsRequest {
                state: dir::RecusalState::Accepted as i32,
                ..Default::default()
            })
            .await
            .map_err(|s| upstream("the recusals", s))?
            .into_inner()
            .recusals;
        for r in accepted {
            if target_set.contains(r.target_id.as_str()) && members.contains(&r.inspector_id) {
                exclusions
                    .entry(r.target_id)
                    .or_default()
                    .insert(r.inspector_id);
            }
        }
        let exclusions: BTreeMap<String, Vec<String>> = exclusions
            .into_iter()
            .map(|(t, s)| (t, s.into_iter().collect()))
            .collect();
        for p in &mut pools {
            p.pool.sort_by(|a, b| a.id.cmp(&b.id));
        }
        let digest = algorithm::pool_digest(&pools);
        let secret = {
            let mut conn = self.db.pool().acquire().await?;
            store::secret(&mut conn, task_id, "teams").await?
        };
        let seed = record::seed_of(&secret, entropy, task_id, &digest).map_err(Error::Internal)?;
        let teams =
            algorithm::draw_teams(seed, &record.lead_department, &targets, &pools, &exclusions)
                .map_err(|e| match e {
                    DrawError::Shortage { .. } | DrawError::TooMany { .. } => {
                        Error::from(NotNow(msg("nn-teams-cannot").then(e.to_string().into())))
                    }
                })?;
        let d = record.teams.get_or_insert_with(TeamDraw::default);
        d.seed = SeedRecord {
            commitment: d.seed.commitment.clone(),
            server_secret: secret,
            witness_entropy: entropy.to_string(),
            witnesses,
            snapshot_digest: digest,
            seed: hex::encode(seed),
            drawn_at: now_ms(),
            drawn_by: who.subject.clone(),
        };
        d.result_digest = algorithm::teams_digest(&teams);
        d.teams = teams
            .into_iter()
            .map(|(target_id, seats)| TeamRecord {
                target_id,
                current: seats.clone(),
                drawn: seats,
            })
            .collect();
        d.pools = pools;
        d.qualifications = qualifications;
        d.exclusions = exclusions;
        record.state = State::TeamsDrawn;
        let detail = format!("{} teams, result {}", d.teams.len(), d.result_digest);
        let seats = {
            let mut seats: BTreeMap<&str, u32> = BTreeMap::new();
            for seat in d.teams.iter().flat_map(|t| &t.drawn) {
                *seats.entry(&*seat.inspector_id).or_default() += 1;
            }
            seats
                .into_iter()
                .map(|(id, seats)| pb::InspectorSeats {
                    inspector_id: id.to_string(),
                    seats,
                })
                .collect()
        };
        // The locked list went out with `draw.targets.locked`; this event names the teams' count and seats.
        let mut draw = draw_pb(&record);
        without_target_lists(&mut draw);
        let event = Event::new::<topics::TeamsDrawn>(
            task_id,
            &pb::TeamsDrawnEvent {
                draw: Some(draw),
                seats,
            },
        );
        let tx = self.db.begin().await?;
        self.save(tx, who, &mut record, "draw.teams", detail, event)
            .await?;
        Ok(record)
    }
}
