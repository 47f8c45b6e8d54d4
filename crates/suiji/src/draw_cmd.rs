//! `suiji draw …`: the draw for people, and `suiji draw verify`, which re-runs a draw record offline, with no
//! server, exactly as docs/draw-v1.md §9 says.

use std::fmt;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use suiji_api::draw::v1 as pb;
use suiji_api::draw::v1::draw_service_client::DrawServiceClient;
use suiji_draw::record::{Check, Record, TargetVerifier, verify_teams};
use suiji_platform::grpc::{Bearer, channel};

use crate::catalog_cmd::show_status;

/// Arguments of `suiji draw`.
#[derive(Args)]
pub struct DrawArgs {
    /// Address of the draw service.
    #[arg(
        long,
        global = true,
        env = "SUIJI_DRAW_ADDR",
        default_value = "http://127.0.0.1:50054"
    )]
    addr: String,
    /// Bearer token; the public calls (get, export, verify) work without one.
    #[arg(long, global = true, env = "SUIJI_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: DrawCommand,
}

#[derive(Subcommand)]
enum DrawCommand {
    /// Show a task's draw record (public view without a token).
    Get {
        /// Task id.
        task: String,
    },
    /// Draw a task's targets (lead department, role draw.operator).
    Targets {
        /// Task id.
        task: String,
        /// Entropy the witnesses add now.
        #[arg(long, default_value = "")]
        entropy: String,
        /// A witness, `NAME@ORGANISATION`; repeat for several.
        #[arg(long = "witness")]
        witnesses: Vec<String>,
    },
    /// Lock the drawn targets for good.
    Lock {
        /// Task id.
        task: String,
        /// The revision reviewed (0: do not check).
        #[arg(long, default_value_t = 0)]
        revision: i64,
    },
    /// Draw the inspection teams.
    Inspectors {
        /// Task id.
        task: String,
        /// Entropy the witnesses add now.
        #[arg(long, default_value = "")]
        entropy: String,
        /// A witness, `NAME@ORGANISATION`.
        #[arg(long = "witness")]
        witnesses: Vec<String>,
        /// Only these departments send inspectors (the lead among them); default: every participant.
        #[arg(long = "department", value_delimiter = ',')]
        departments: Vec<String>,
    },
    /// Replace a drawn inspector (department head): job-change, conflict, health or recusal.
    Replace {
        /// Task id.
        task: String,
        /// Target.
        #[arg(long)]
        target: String,
        /// Inspector to replace.
        #[arg(long)]
        inspector: String,
        /// Why: job-change, conflict, health, recusal.
        #[arg(long)]
        reason: String,
        /// Details.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Write the record file (JSON, with every candidate when you may see them).
    Export {
        /// Task id.
        task: String,
        /// Output file; standard output without.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Re-run a record file offline and say MATCH, or show the first difference. SNAPSHOT, when the record
    /// file has no candidates, holds them one per line as `ID<TAB>STRATUM`, in snapshot order.
    Verify {
        /// The record file (`suiji draw export`).
        record: PathBuf,
        /// The candidates, if the record file does not include them.
        snapshot: Option<PathBuf>,
    },
}

fn witnesses(list: &[String]) -> anyhow::Result<Vec<pb::Witness>> {
    list.iter()
        .map(|w| {
            let (name, organisation) = w
                .split_once('@')
                .with_context(|| format!("witness {w:?}: write NAME@ORGANISATION"))?;
            Ok(pb::Witness {
                name: name.trim().into(),
                organisation: organisation.trim().into(),
            })
        })
        .collect()
}

fn print_draw(d: &pb::Draw) {
    let state = suiji_api::named::name::<pb::DrawState>(d.state);
    println!(
        "{}  {}  {}  lead {}  ({})",
        d.task_id, d.task_name, state, d.lead_department_code, d.algorithm
    );
    if let Some(t) = &d.targets {
        let seed = t.seed.clone().unwrap_or_default();
        println!("  targets: commitment {}", seed.commitment);
        if !seed.seed.is_empty() {
            println!(
                "    snapshot {} ({} candidates, digest {}), seed {}",
                t.snapshot_id, t.candidates, seed.snapshot_digest, seed.seed
            );
            for e in &t.exclusions {
                println!("    excluded {}: {}", e.rule, e.count);
            }
            for s in &t.strata {
                println!(
                    "    {:<12} {} of {}  {}",
                    s.name,
                    s.take,
                    s.candidates,
                    s.drawn.join(" ")
                );
            }
            println!("    result digest {}", t.result_digest);
        }
    }
}

type Client = DrawServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>,
>;

/// Prints the teams of `d` (a page at a time) and its replacements.
async fn print_teams(c: &mut Client, d: &pb::Draw) -> anyhow::Result<()> {
    if let Some(t) = &d.teams {
        let seed = t.seed.clone().unwrap_or_default();
        println!("  teams: {} (commitment {})", t.team_count, seed.commitment);
        let mut page_token = String::new();
        let mut more = t.team_count > 0;
        while more {
            let page = match c
                .list_teams(pb::ListTeamsRequest {
                    task_id: d.task_id.clone(),
                    page_size: 10_000,
                    page_token,
                    ..Default::default()
                })
                .await
            {
                Ok(page) => page.into_inner(),
                Err(s) if s.code() == tonic::Code::Unauthenticated => {
                    println!("    (the list is not public: give a token to see the teams)");
                    break;
                }
                Err(s) => return Err(show_status(s)),
            };
            for team in &page.teams {
                let seats: Vec<String> = team
                    .current
                    .iter()
                    .map(|s| format!("{}{}", s.inspector_id, if s.leader { "*" } else { "" }))
                    .collect();
                println!("    {}: {}", team.target_id, seats.join(" "));
            }
            more = !page.next_page_token.is_empty();
            page_token = page.next_page_token;
        }
        for r in &t.replacements {
            println!(
                "    replaced {} by {} on {} ({}, approved by {})",
                r.replaced_inspector_id,
                r.replacement_inspector_id,
                r.target_id,
                r.note,
                r.approved_by
            );
        }
    }
    Ok(())
}

/// Runs `suiji draw …`.
pub async fn run(args: DrawArgs) -> anyhow::Result<()> {
    if let DrawCommand::Verify { record, snapshot } = &args.command {
        let checks = verify_file(record, snapshot.as_deref())?;
        return report(&checks);
    }
    let mut c = DrawServiceClient::with_interceptor(
        channel(&args.addr)?,
        Bearer::for_person(args.token.as_deref()),
    );
    let shown = match args.command {
        DrawCommand::Get { task } => c
            .get_draw(pb::GetDrawRequest { task_id: task })
            .await
            .map(|r| r.into_inner().draw),
        DrawCommand::Targets {
            task,
            entropy,
            witnesses: w,
        } => c
            .draw_targets(pb::DrawTargetsRequest {
                task_id: task,
                witness_entropy: entropy,
                witnesses: witnesses(&w)?,
            })
            .await
            .map(|r| r.into_inner().draw),
        DrawCommand::Lock { task, revision } => c
            .lock_draw(pb::LockDrawRequest {
                task_id: task,
                expected_revision: revision,
            })
            .await
            .map(|r| r.into_inner().draw),
        DrawCommand::Inspectors {
            task,
            entropy,
            witnesses: w,
            departments,
        } => c
            .draw_inspectors(pb::DrawInspectorsRequest {
                task_id: task,
                witness_entropy: entropy,
                witnesses: witnesses(&w)?,
                eligible_on: String::new(),
                departments,
            })
            .await
            .map(|r| r.into_inner().draw),
        DrawCommand::Replace {
            task,
            target,
            inspector,
            reason,
            note,
        } => {
            let reason = pb::ReplacementReason::from_str_name(&format!(
                "REPLACEMENT_REASON_{}",
                reason.to_uppercase().replace('-', "_")
            ))
            .with_context(|| {
                format!("reason {reason:?}: job-change, conflict, health or recusal")
            })?;
            c.replace_inspector(pb::ReplaceInspectorRequest {
                task_id: task,
                target_id: target,
                inspector_id: inspector,
                reason: reason as i32,
                note,
                eligible_on: String::new(),
            })
            .await
            .map(|r| r.into_inner().draw)
        }
        DrawCommand::Export { task, out } => {
            let mut stream = c
                .export_draw(pb::ExportDrawRequest { task_id: task })
                .await
                .map_err(show_status)?
                .into_inner();
            let mut sink: Box<dyn Write> = match &out {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path).with_context(|| path.display().to_string())?,
                )),
                None => Box::new(std::io::stdout().lock()),
            };
            while let Some(chunk) = stream.message().await.map_err(show_status)? {
                sink.write_all(&chunk.chunk)?;
            }
            sink.flush()?;
            return Ok(());
        }
        DrawCommand::Verify { .. } => unreachable!("handled above"),
    };
    let d = shown.map_err(show_status)?.unwrap_or_default();
    print_draw(&d);
    print_teams(&mut c, &d).await
}

fn report(checks: &[Check]) -> anyhow::Result<()> {
    for c in checks {
        if c.ok {
            println!("ok    {}", c.name);
        } else {
            println!("FAIL  {}: {}", c.name, c.detail);
        }
    }
    if checks.iter().all(|c| c.ok) {
        println!("MATCH");
        Ok(())
    } else {
        anyhow::bail!("NO MATCH")
    }
}

/// Verifies a record file, reading its candidates (or the SNAPSHOT file's) as they stream past: memory stays in
/// proportion to the drawn list, whatever the directory's size.
pub fn verify_file(
    record: &std::path::Path,
    snapshot: Option<&std::path::Path>,
) -> anyhow::Result<Vec<Check>> {
    let file = std::fs::File::open(record).with_context(|| record.display().to_string())?;
    let mut reader =
        serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let mut state = FileState {
        record: None,
        checks: None,
        snapshot: snapshot.map(PathBuf::from),
    };
    (&mut state)
        .deserialize(&mut reader)
        .with_context(|| format!("{} is not a draw record file", record.display()))?;
    let record = state.record.context("the file has no record")?;
    let mut checks = match state.checks {
        Some(c) => c,
        None => {
            let path = state
                .snapshot
                .context("the record file has no candidates: give the SNAPSHOT file")?;
            let mut v = TargetVerifier::new(&record);
            let f = std::fs::File::open(&path).with_context(|| path.display().to_string())?;
            for line in std::io::BufReader::with_capacity(1 << 20, f).lines() {
                let line = line?;
                let (id, stratum) = line
                    .split_once('\t')
                    .with_context(|| format!("{}: lines are ID<TAB>STRATUM", path.display()))?;
                v.push(id.as_bytes(), stratum);
            }
            v.finish()
        }
    };
    checks.extend(verify_teams(&record));
    Ok(checks)
}

/// Reads `{"record": …, "candidates": [[id, stratum], …]}`: the record first, then the candidates straight into
/// a verifier.
struct FileState {
    record: Option<Record>,
    checks: Option<Vec<Check>>,
    snapshot: Option<PathBuf>,
}

impl<'de> DeserializeSeed<'de> for &mut FileState {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for &mut FileState {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a draw record file")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "record" => self.record = Some(map.next_value()?),
                "candidates" => {
                    let record = self.record.as_ref().ok_or_else(|| {
                        serde::de::Error::custom("`record` must come before `candidates`")
                    })?;
                    let mut v = TargetVerifier::new(record);
                    let some: Option<()> = map.next_value_seed(OptionalCandidates(&mut v))?;
                    if some.is_some() {
                        self.checks = Some(v.finish());
                    }
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct OptionalCandidates<'a, 'r>(&'a mut TargetVerifier<'r>);

impl<'de> DeserializeSeed<'de> for OptionalCandidates<'_, '_> {
    type Value = Option<()>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<()>, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for OptionalCandidates<'_, '_> {
    type Value = Option<()>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("null or a list of [id, stratum]")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Option<()>, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Option<()>, E> {
        Ok(None)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<()>, D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<()>, A::Error> {
        while let Some((id, stratum)) = seq.next_element::<(String, String)>()? {
            self.0.push(id.as_bytes(), &stratum);
        }
        Ok(Some(()))
    }
}
