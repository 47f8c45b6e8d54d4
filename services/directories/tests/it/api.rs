//! The directories over gRPC: streaming import with its report, listing with filters, departments and their
//! events; on both backends.

use std::time::Duration;

use suiji_api::directories::v1 as pb;
use suiji_api::directories::v1::directories_service_client::DirectoriesServiceClient;
use suiji_platform::grpc::{Bearer, channel, violations_of};
use suiji_platform::testing::{self, Backend, Probe, eventually};
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

type Client = DirectoriesServiceClient<InterceptedService<Channel, Bearer>>;

pub(crate) async fn import(
    client: &mut Client,
    csv: &str,
) -> (pb::ImportSummary, Vec<pb::RejectedRow>) {
    let header = pb::ImportTargetsRequest {
        part: Some(pb::import_targets_request::Part::Header(pb::ImportHeader {
            file_name: "t.csv".into(),
            format: pb::FileFormat::Csv as i32,
        })),
    };
    // Chunks cut through the middle of rows and characters, as a network does.
    let bytes = csv.as_bytes().to_vec();
    let chunks: Vec<pb::ImportTargetsRequest> = bytes
        .chunks(7)
        .map(|c| pb::ImportTargetsRequest {
            part: Some(pb::import_targets_request::Part::Chunk(c.to_vec())),
        })
        .collect();
    let stream = futures::stream::iter(std::iter::once(header).chain(chunks));
    let mut replies = client.import_targets(stream).await.unwrap().into_inner();
    let (mut summary, mut rejected) = (None, Vec::new());
    while let Some(reply) = replies.message().await.unwrap() {
        match reply.event.unwrap() {
            pb::import_targets_response::Event::Rejected(r) => rejected.push(r),
            pb::import_targets_response::Event::Summary(s) => summary = Some(s),
            pb::import_targets_response::Event::Progress(_) => {}
        }
    }
    (summary.expect("a summary ends the stream"), rejected)
}

async fn import_inspectors(
    client: &mut Client,
    csv: &str,
) -> (pb::ImportSummary, Vec<pb::RejectedRow>) {
    use pb::import_inspectors_request::Part;
    let header = pb::ImportInspectorsRequest {
        part: Some(Part::Header(pb::ImportHeader {
            file_name: "i.csv".into(),
            format: 0,
        })),
    };
    let chunk = pb::ImportInspectorsRequest {
        part: Some(Part::Chunk(csv.as_bytes().to_vec())),
    };
    let mut replies = client
        .import_inspectors(futures::stream::iter(vec![header, chunk]))
        .await
        .unwrap()
        .into_inner();
    let (mut summary, mut rejected) = (None, Vec::new());
    while let Some(reply) = replies.message().await.unwrap() {
        match reply.event.unwrap() {
            pb::import_inspectors_response::Event::Rejected(r) => rejected.push(r),
            pb::import_inspectors_response::Event::Summary(s) => summary = Some(s),
            pb::import_inspectors_response::Event::Progress(_) => {}
        }
    }
    (summary.expect("a summary ends the stream"), rejected)
}

async fn directories_over_grpc(backend: Backend) {
    let Some((isolated, bus)) = testing::open(backend).await else {
        return;
    };
    let stop = CancellationToken::new();
    let probe = Probe::bind(&bus, &["directories.#"], stop.clone()).await;
    let running = testing::start(
        &isolated,
        bus,
        suiji_directories::NAME,
        &suiji_directories::migrations(),
        |ctx| async move { suiji_directories::start(&ctx).await },
    )
    .await;
    let client = |roles: &[&str]| {
        DirectoriesServiceClient::with_interceptor(
            channel(&running.addr).unwrap(),
            Bearer::new(Some(&isolated.token("610400-SCJG", roles))),
        )
    };
    let mut editor = client(&["directories.editor"]);

    let csv = "kind,credit_code,name,region_code,risk_level,departments\n\
               enterprise,91350100M000100Y43,秦都食品有限公司,610402,high,610400-SCJG\n\
               enterprise,91110000802100433B,渭城商贸有限公司,610404,low,610400-STHJ\n\
               individual_business,914403001922038216,广元小店,510802,medium,\n\
               enterprise,9144030071526726XA,坏码公司,610402,low,\n";
    let (summary, rejected) = import(&mut editor, csv).await;
    assert_eq!(
        (
            summary.rows_read,
            summary.accepted,
            summary.created,
            summary.rejected
        ),
        (4, 3, 3, 1)
    );
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        (rejected[0].line, rejected[0].field.as_str()),
        (5, "credit_code")
    );

    // The import is announced once, with its counts.
    assert!(
        eventually(Duration::from_secs(10), || async {
            probe
                .seen()
                .iter()
                .any(|e| e.r#type == "directories.target.imported")
        })
        .await
    );
    let imported = probe
        .seen()
        .iter()
        .find(|e| e.r#type == "directories.target.imported")
        .cloned()
        .unwrap();
    let counts: pb::ImportedEvent = imported.payload.unwrap().to_msg().unwrap();
    assert_eq!(
        (counts.rows_read, counts.accepted, counts.rejected),
        (4, 3, 1)
    );

    // Without the editor role, no import.
    let mut reader = client(&[]);
    let header = pb::ImportTargetsRequest {
        part: Some(pb::import_targets_request::Part::Header(
            pb::ImportHeader::default(),
        )),
    };
    let status = reader
        .import_targets(futures::stream::iter(vec![header]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // Listing with filters: a city's region code includes its counties.
    let list = |filter: pb::TargetFilter| pb::ListTargetsRequest {
        filter: Some(filter),
        ..Default::default()
    };
    let xianyang = reader
        .list_targets(list(pb::TargetFilter {
            region_codes: vec!["610400".into()],
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = xianyang.targets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, vec!["91110000802100433B", "91350100M000100Y43"]);
    let high = reader
        .list_targets(list(pb::TargetFilter {
            risk_levels: vec![pb::RiskLevel::High as i32],
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(high.targets.len(), 1);
    assert_eq!(high.targets[0].departments, vec!["610400-SCJG".to_string()]);
    let status = reader
        .list_targets(list(pb::TargetFilter {
            region_codes: vec!["123".into()],
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(violations_of(&status)[0].0, "filter.region_codes[0]");
    let one = reader
        .get_target(pb::GetTargetRequest {
            id: "914403001922038216".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        one.target.unwrap().kind(),
        pb::TargetKind::IndividualBusiness
    );
    assert_eq!(
        reader
            .get_target(pb::GetTargetRequest {
                id: "nope".into(),
                ..Default::default()
            })
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    // A target's page reads its inspection history with it, newest first; other readers do not pay for it.
    let mut tx = running.ctx.db.begin().await.unwrap();
    let part = |task: &str, department: &str, date: &str, problem_found| {
        suiji_directories::domain::history::Inspection {
            target_id: "914403001922038216".into(),
            task_id: task.into(),
            department: department.into(),
            level: "city".into(),
            date: date.parse().unwrap(),
            problem_found,
        }
    };
    suiji_directories::history::record(
        &mut tx,
        &[
            part("TASK-2026-000001", "610400-SCJG", "2026-03-02", false),
            part("TASK-2026-000009", "610400-STHJ", "2026-09-14", true),
            part("TASK-2026-000009", "610400-SCJG", "2026-09-14", true),
        ],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let get = |with_history| pb::GetTargetRequest {
        id: "914403001922038216".into(),
        with_history,
    };
    let history: Vec<(String, String, String, bool)> = reader
        .get_target(get(true))
        .await
        .unwrap()
        .into_inner()
        .inspections
        .into_iter()
        .map(|i| (i.task_id, i.department_code, i.visit_date, i.problem_found))
        .collect();
    let row = |t: &str, d: &str, day: &str, p| (t.to_string(), d.to_string(), day.to_string(), p);
    assert_eq!(
        history,
        [
            row("TASK-2026-000009", "610400-SCJG", "2026-09-14", true),
            row("TASK-2026-000009", "610400-STHJ", "2026-09-14", true),
            row("TASK-2026-000001", "610400-SCJG", "2026-03-02", false),
        ]
    );
    let plain = reader.get_target(get(false)).await.unwrap().into_inner();
    assert!(plain.inspections.is_empty() && plain.target.is_some());

    // Snapshots: sorted ids, their digest and strata; frozen; reproducible from the same data. They are made and
    // pinned by the draw (its operators, the draw service itself); a department's people read the directory page by
    // page instead.
    let status = reader
        .create_target_snapshot(pb::CreateTargetSnapshotRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let mut reader = client(&["draw.operator"]);
    let xianyang_filter = pb::TargetFilter {
        region_codes: vec!["610400".into()],
        ..Default::default()
    };
    let snap = |c: &mut Client| {
        let mut c = c.clone();
        let filter = xianyang_filter.clone();
        async move {
            c.create_target_snapshot(pb::CreateTargetSnapshotRequest {
                filter: Some(filter),
                exclusions: None,
            })
            .await
            .unwrap()
            .into_inner()
            .snapshot
            .unwrap()
        }
    };
    let first = snap(&mut reader).await;
    let expected_ids = "91110000802100433B\n91350100M000100Y43\n";
    assert_eq!(first.count, 2);
    assert_eq!(
        first.digest,
        suiji_directories::snapshot::digest_of(expected_ids.as_bytes()).unwrap()
    );
    let strata: Vec<(i32, u64)> = first
        .strata
        .iter()
        .map(|s| (s.risk_level, s.count))
        .collect();
    assert_eq!(
        strata,
        vec![
            (pb::RiskLevel::Low as i32, 1),
            (pb::RiskLevel::High as i32, 1)
        ]
    );
    assert_eq!(
        snap(&mut reader).await.digest,
        first.digest,
        "the same data gives the same digest"
    );
    import(&mut editor, "kind,credit_code,name,region_code\nenterprise,91350100M000100Y43,改名公司,610402\nenterprise,9144030071526726XG,新公司,610402\n").await;
    let later = snap(&mut reader).await;
    assert_eq!(later.count, 3);
    assert_ne!(later.digest, first.digest);
    let mut ids = Vec::new();
    let mut stream = reader
        .read_snapshot_ids(pb::ReadSnapshotIdsRequest {
            id: first.id.clone(),
            with_risk_levels: false,
        })
        .await
        .unwrap()
        .into_inner();
    while let Some(part) = stream.message().await.unwrap() {
        ids.extend(part.ids);
    }
    assert_eq!(
        String::from_utf8(ids).unwrap(),
        expected_ids,
        "a snapshot never changes"
    );
    // Picking positions of each risk level gives what reading every id gives, in the order asked.
    let mut by_level: std::collections::BTreeMap<i32, Vec<String>> = Default::default();
    let mut stream = reader
        .read_snapshot_ids(pb::ReadSnapshotIdsRequest {
            id: later.id.clone(),
            with_risk_levels: true,
        })
        .await
        .unwrap()
        .into_inner();
    while let Some(part) = stream.message().await.unwrap() {
        let ids = String::from_utf8(part.ids).unwrap();
        for (id, risk) in ids.lines().zip(part.risk_levels) {
            by_level
                .entry(i32::from(risk))
                .or_default()
                .push(id.to_string());
        }
    }
    let asked: Vec<pb::StratumPositions> = by_level
        .iter()
        .rev()
        .map(|(level, ids)| pb::StratumPositions {
            risk_level: *level,
            positions: (0..ids.len() as u64).rev().collect(),
        })
        .collect();
    let picked = reader
        .pick_from_snapshot(pb::PickFromSnapshotRequest {
            id: later.id.clone(),
            strata: asked.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .strata;
    let expected: Vec<pb::StratumIds> = by_level
        .iter()
        .rev()
        .map(|(level, ids)| pb::StratumIds {
            risk_level: *level,
            ids: ids.iter().rev().cloned().collect(),
            count: ids.len() as u64,
        })
        .collect();
    assert_eq!(picked, expected);
    let refused = |strata: Vec<pb::StratumPositions>| {
        let mut reader = reader.clone();
        let id = later.id.clone();
        async move {
            let e = reader
                .pick_from_snapshot(pb::PickFromSnapshotRequest { id, strata })
                .await
                .unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument);
            violations_of(&e)
        }
    };
    let mut past = asked[0].clone();
    past.positions = vec![0, past.positions.len() as u64];
    assert_eq!(
        refused(vec![past]).await[0].0,
        "strata[0].positions[1]",
        "a position past the level's end"
    );
    assert_eq!(
        refused(vec![asked[0].clone(), asked[0].clone()]).await[0].0,
        "strata[1].risk_level",
        "a level asked twice"
    );
    assert_eq!(
        refused(vec![pb::StratumPositions::default()]).await[0].0,
        "strata[0].risk_level"
    );

    let got = reader
        .get_snapshot(pb::GetSnapshotRequest {
            id: first.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.snapshot.unwrap().digest, first.digest);

    // A pinned snapshot outlives its retention; an unpinned one is purged.
    let pinned = reader
        .pin_snapshot(pb::PinSnapshotRequest {
            id: first.id.clone(),
            holder: "review:TASK-1".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .snapshot
        .unwrap();
    assert_eq!(pinned.pinned_by, vec!["review:TASK-1".to_string()]);
    let status = reader
        .pin_snapshot(pb::PinSnapshotRequest {
            id: first.id.clone(),
            holder: " ".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(violations_of(&status)[0].0, "holder");
    let db = &running.ctx.db;
    let future = suiji_platform::db::now_ms() + 60_000;
    assert_eq!(
        suiji_directories::snapshot::purge_unpinned(db, future)
            .await
            .unwrap(),
        2,
        "the repeat and the later snapshot"
    );
    assert!(
        reader
            .get_snapshot(pb::GetSnapshotRequest {
                id: later.id.clone()
            })
            .await
            .is_err()
    );
    assert!(
        reader
            .get_snapshot(pb::GetSnapshotRequest {
                id: first.id.clone()
            })
            .await
            .is_ok()
    );
    // Only whoever pinned it releases a pin (or an administrator); a draw's pin is never released: its record refers
    // to the snapshot, which must stay to verify it.
    let unpin = |holder: &str| pb::UnpinSnapshotRequest {
        id: first.id.clone(),
        holder: holder.into(),
    };
    let mut stranger = DirectoriesServiceClient::with_interceptor(
        channel(&running.addr).unwrap(),
        Bearer::new(Some(
            &isolated.token("610400-STHJ", &["directories.editor"]),
        )),
    );
    let refused = stranger
        .unpin_snapshot(unpin("review:TASK-1"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    reader
        .clone()
        .pin_snapshot(pb::PinSnapshotRequest {
            id: first.id.clone(),
            holder: "draw:TASK-1".into(),
        })
        .await
        .unwrap();
    let kept = reader
        .unpin_snapshot(pb::UnpinSnapshotRequest {
            id: first.id.clone(),
            holder: "draw:TASK-1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(kept.code(), Code::FailedPrecondition);
    let admin = DirectoriesServiceClient::with_interceptor(
        channel(&running.addr).unwrap(),
        Bearer::new(Some(&isolated.token("610400-SCJG", &["admin"]))),
    );
    let kept = admin
        .clone()
        .unpin_snapshot(pb::UnpinSnapshotRequest {
            id: first.id.clone(),
            holder: "draw:TASK-1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        kept.code(),
        Code::FailedPrecondition,
        "not even an administrator"
    );
    reader.unpin_snapshot(unpin("review:TASK-1")).await.unwrap();
    assert_eq!(
        suiji_directories::snapshot::purge_unpinned(db, future)
            .await
            .unwrap(),
        0,
        "the draw's pin keeps it"
    );
    let held = reader
        .get_snapshot(pb::GetSnapshotRequest {
            id: first.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .snapshot
        .unwrap();
    assert_eq!(held.pinned_by, vec!["draw:TASK-1".to_string()]);

    // Export writes the import format: importing an export changes nothing.
    let everything = |c: &mut Client| {
        let mut c = c.clone();
        async move {
            let mut targets = c
                .list_targets(pb::ListTargetsRequest::default())
                .await
                .unwrap()
                .into_inner()
                .targets;
            targets.iter_mut().for_each(|t| t.update_time = None);
            targets
        }
    };
    let before = everything(&mut reader).await;
    let mut exported = Vec::new();
    let mut stream = reader
        .export_targets(pb::ExportTargetsRequest::default())
        .await
        .unwrap()
        .into_inner();
    while let Some(part) = stream.message().await.unwrap() {
        exported.extend(part.chunk);
    }
    let exported = String::from_utf8(exported).unwrap();
    assert_eq!(
        exported.lines().count(),
        before.len() + 1,
        "a header and one line per target:\n{exported}"
    );
    let (summary, rejected) = import(&mut editor, &exported).await;
    assert_eq!(
        (summary.accepted, summary.created, summary.rejected),
        (before.len() as u64, 0, 0),
        "{rejected:?}"
    );
    assert_eq!(everything(&mut reader).await, before);

    // Writes are each department's own. The directory of targets is kept by the departments the setting names
    // (the market regulator): another department's editor may not import it.
    let mut sthj_editor = DirectoriesServiceClient::with_interceptor(
        channel(&running.addr).unwrap(),
        Bearer::new(Some(
            &isolated.token("610400-STHJ", &["directories.editor"]),
        )),
    );
    let header = pb::ImportTargetsRequest {
        part: Some(pb::import_targets_request::Part::Header(pb::ImportHeader {
            file_name: "t.csv".into(),
            format: pb::FileFormat::Csv as i32,
        })),
    };
    let refused = match sthj_editor
        .import_targets(futures::stream::iter(vec![
            header,
            pb::ImportTargetsRequest {
                part: Some(pb::import_targets_request::Part::Chunk(
                    exported.clone().into_bytes(),
                )),
            },
        ]))
        .await
    {
        Err(status) => status,
        Ok(replies) => {
            let mut replies = replies.into_inner();
            loop {
                match replies.message().await {
                    Err(status) => break status,
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("another department's import of targets went through"),
                }
            }
        }
    };
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(
        refused.message().contains("directories.target_sources"),
        "{refused:?}"
    );
    assert_eq!(everything(&mut reader).await, before, "nothing written");
    // Its export is of the targets it regulates; the whole directory is not its to copy.
    let mut sthj_export = Vec::new();
    let mut stream = sthj_editor
        .export_targets(pb::ExportTargetsRequest::default())
        .await
        .unwrap()
        .into_inner();
    while let Some(part) = stream.message().await.unwrap() {
        sthj_export.extend(part.chunk);
    }
    let sthj_export = String::from_utf8(sthj_export).unwrap();
    let regulated = before
        .iter()
        .filter(|t| t.departments.iter().any(|d| d == "610400-STHJ"))
        .count();
    assert!(regulated > 0 && regulated < before.len(), "{before:?}");
    assert_eq!(sthj_export.lines().count(), regulated + 1, "{sthj_export}");
    let status = sthj_editor
        .export_targets(pb::ExportTargetsRequest {
            filter: Some(pb::TargetFilter {
                departments: vec!["610400-SCJG".into()],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // Inspectors: imported the same way; listed by who may inspect on a day.
    let inspectors = "id,name,department,certificate_no,certificate_expires,qualifications,region_code,status\n\
                      XY-1,李四,610400-SCJG,C-1,2027-06-30,food-safety,610400,active\n\
                      XY-2,王五,610400-SCJG,C-2,2026-01-31,food-safety,610400,active\n\
                      XY-3,赵六,610400-SCJG,C-3,2027-06-30,food-safety,610400,on_leave\n\
                      XY-4,孙七,610400-SCJG,C-4,2027-06-30,environment,610400,active\n\
                      XY-5,周八,610400-SCJG,C-5,not-a-date,,610400,active\n";
    let (summary, rejected) = import_inspectors(&mut editor, inspectors).await;
    assert_eq!((summary.accepted, summary.rejected), (4, 1));
    assert_eq!(
        (rejected[0].line, rejected[0].field.as_str()),
        (6, "certificate_expires")
    );
    // Each department imports its own inspectors only, and does not take over another's by its id.
    let theirs =
        "id,name,department,certificate_no,certificate_expires,qualifications,region_code,status
                  HB-1,钱九,610400-STHJ,H-1,2027-06-30,environment,610400,active
                  XY-5,吴十,610400-SCJG,C-9,2027-06-30,food-safety,610400,retired
                  XY-1,李四,610400-STHJ,C-1,2027-06-30,environment,610400,active
";
    let (summary, rejected) = import_inspectors(&mut sthj_editor, theirs).await;
    assert_eq!((summary.accepted, summary.rejected), (1, 2), "{rejected:?}");
    let why: Vec<(u32, &str, &str)> = rejected
        .iter()
        .map(|r| {
            (
                r.line as u32,
                r.field.as_str(),
                r.reason_text.as_ref().unwrap().code.as_str(),
            )
        })
        .collect();
    assert_eq!(
        why,
        vec![
            (3, "department", "denied-inspector-department"),
            (4, "id", "denied-inspector-other"),
        ]
    );
    let eligible = reader
        .list_inspectors(pb::ListInspectorsRequest {
            department_code: "610400-SCJG".into(),
            qualification: "food-safety".into(),
            eligible_on: "2026-11-23".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = eligible.inspectors.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["XY-1"],
        "XY-2's certificate expired, XY-3 is on leave, XY-4 lacks the qualification"
    );
    // Several departments in one list (a joint team's draw): any of them, `department_code` with them.
    let of = |department_code: &str, codes: &[&str]| pb::ListInspectorsRequest {
        department_code: department_code.into(),
        department_codes: codes.iter().map(|c| c.to_string()).collect(),
        eligible_on: "2026-11-23".into(),
        ..Default::default()
    };
    for (request, expected) in [
        (of("", &["610400-HBJ", "610400-SCJG"]), vec!["XY-1", "XY-4"]),
        (of("610400-HBJ", &["610400-SCJG"]), vec!["XY-1", "XY-4"]),
        (of("", &["610400-HBJ"]), vec![]),
        (of("610400-SCJG", &["610400-HBJ"]), vec!["XY-1", "XY-4"]),
    ] {
        let listed = reader
            .list_inspectors(request.clone())
            .await
            .unwrap()
            .into_inner();
        let ids: Vec<&str> = listed.inspectors.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, expected, "{request:?}");
    }
    let status = reader
        .list_inspectors(of("", &["610400-SCJG", ""]))
        .await
        .unwrap_err();
    assert_eq!(violations_of(&status)[0].0, "department_codes[1]");
    // The eligible pool, frozen for a draw: sorted ids and their digest.
    let pool = reader
        .create_inspector_snapshot(pb::CreateInspectorSnapshotRequest {
            department_code: "610400-SCJG".into(),
            qualification: "food-safety".into(),
            eligible_on: "2026-11-23".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .snapshot
        .unwrap();
    assert_eq!(pool.count, 1);
    assert_eq!(
        pool.digest,
        suiji_directories::snapshot::digest_of(b"XY-1\n").unwrap()
    );
    let everyone = reader
        .create_inspector_snapshot(pb::CreateInspectorSnapshotRequest::default())
        .await
        .unwrap()
        .into_inner()
        .snapshot
        .unwrap();
    assert_eq!(
        everyone.digest,
        suiji_directories::snapshot::digest_of(b"HB-1\nXY-1\nXY-2\nXY-3\nXY-4\n").unwrap(),
        "ids in byte order (STHJ's HB-1 among them)"
    );
    let status = reader
        .list_inspectors(pb::ListInspectorsRequest {
            eligible_on: "23/11/2026".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violations_of(&status)[0].0, "eligible_on");

    // Recusal requests: recorded by staff for a target, decided once by the head of the inspector's department.
    let request = |target: &str, inspector: &str, reason: &str| pb::RequestRecusalRequest {
        target_id: target.into(),
        inspector_id: inspector.into(),
        reason: reason.into(),
    };
    let status = editor
        .request_recusal(request("91350100M000100Y43", "XY-1", " "))
        .await
        .unwrap_err();
    assert_eq!(violations_of(&status)[0].0, "reason");
    let status = editor
        .request_recusal(request("91350100M000100Y43", "XY-99", "亲属关系"))
        .await
        .unwrap_err();
    assert_eq!(violations_of(&status)[0].0, "inspector_id");
    let pending = editor
        .request_recusal(request(
            "91350100m000100y43",
            "XY-1",
            "检查人员系企业负责人亲属",
        ))
        .await
        .unwrap()
        .into_inner()
        .recusal
        .unwrap();
    assert_eq!(
        (pending.state(), pending.target_id.as_str()),
        (pb::RecusalState::Pending, "91350100M000100Y43")
    );
    let decide = |accept: bool, reason: &str| pb::DecideRecusalRequest {
        id: pending.id.clone(),
        accept,
        reason: reason.into(),
    };
    let other_head = DirectoriesServiceClient::with_interceptor(
        channel(&running.addr).unwrap(),
        Bearer::new(Some(&isolated.token("610400-STHJ", &["department.head"]))),
    );
    let status = other_head
        .clone()
        .decide_recusal(decide(true, ""))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let mut head = client(&["department.head"]);
    let status = head.decide_recusal(decide(false, "")).await.unwrap_err();
    assert_eq!(
        violations_of(&status)[0].0,
        "reason",
        "a rejection says why"
    );
    let accepted = head
        .decide_recusal(decide(true, ""))
        .await
        .unwrap()
        .into_inner()
        .recusal
        .unwrap();
    assert_eq!(accepted.state(), pb::RecusalState::Accepted);
    let status = head
        .decide_recusal(decide(false, "改变主意"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "decided once");
    let listed = reader
        .list_recusals(pb::ListRecusalsRequest {
            inspector_id: "XY-1".into(),
            state: pb::RecusalState::Accepted as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .recusals;
    assert_eq!(listed.len(), 1);
    // A head's queue: the requests about inspectors of their department only. Another department's reasons are
    // not read by a department (the auditors read every department's).
    let auditor = DirectoriesServiceClient::with_interceptor(
        channel(&running.addr).unwrap(),
        Bearer::new(Some(&isolated.token("610400-JW", &["audit.reader"]))),
    );
    for (mut who, department, expected) in [
        (reader.clone(), "610400-SCJG", 1),
        (reader.clone(), "", 1),
        (auditor.clone(), "610400-HBJ", 0),
        (auditor.clone(), "610400-SCJG", 1),
    ] {
        let of_department = who
            .list_recusals(pb::ListRecusalsRequest {
                department_code: department.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .recusals;
        assert_eq!(of_department.len(), expected, "{department}");
    }
    let mut stranger = other_head.clone();
    let status = stranger
        .list_recusals(pb::ListRecusalsRequest {
            department_code: "610400-SCJG".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let own = stranger
        .list_recusals(pb::ListRecusalsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .recusals;
    assert!(own.is_empty(), "STHJ's own: none, not SCJG's: {own:?}");
    assert!(
        eventually(Duration::from_secs(10), || async {
            probe
                .seen()
                .iter()
                .any(|e| e.r#type == "directories.recusal.decided")
        })
        .await
    );

    // Departments: only an admin changes them; a change is announced on the bus.
    let department = pb::Department {
        code: "610400-SWJ".into(),
        name: "咸阳市商务局".into(),
        level: pb::DepartmentLevel::City as i32,
        region_code: "610400".into(),
        active: true,
    };
    let status = editor
        .upsert_department(pb::UpsertDepartmentRequest {
            department: Some(department.clone()),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let mut admin = client(&["admin"]);
    let bad = pb::Department {
        region_code: "000000".into(),
        ..department.clone()
    };
    let status = admin
        .upsert_department(pb::UpsertDepartmentRequest {
            department: Some(bad),
        })
        .await
        .unwrap_err();
    assert_eq!(violations_of(&status)[0].0, "department.region_code");
    admin
        .upsert_department(pb::UpsertDepartmentRequest {
            department: Some(department.clone()),
        })
        .await
        .unwrap();
    let all = admin
        .list_departments(pb::ListDepartmentsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .departments;
    assert!(all.iter().any(|d| d == &department));
    let department_event = || {
        probe
            .seen()
            .iter()
            .find(|e| e.r#type == "directories.department.upserted")
            .cloned()
    };
    assert!(
        eventually(Duration::from_secs(10), || async {
            department_event().is_some()
        })
        .await
    );
    let event = department_event().unwrap();
    assert_eq!(event.r#type, "directories.department.upserted");
    let payload: pb::DepartmentUpsertedEvent = event.payload.unwrap().to_msg().unwrap();
    assert_eq!(payload.department.unwrap(), department);

    stop.cancel();
    running.stop().await;
    isolated.cleanup().await;
}

mod over_grpc {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded() {
        super::directories_over_grpc(suiji_platform::testing::Backend::Embedded).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_rabbitmq() {
        super::directories_over_grpc(suiji_platform::testing::Backend::Servers).await
    }
}
