//! The access matrix of `docs/security.md`, tried by attacking. The list of RPCs comes from the services'
//! descriptors, so a new RPC without a row in the matrix fails here. Against `suiji dev` with its demo story (the
//! market regulator's plan, a joint task with visits and results), every RPC is called three times with a request
//! about the regulator's own things: without a token, as a person of the regulator holding none of the roles, and
//! as a person of a department that takes part in nothing (every department role, none of the overseers'). Each
//! answer must be the one the matrix names: `unauthenticated`, `denied` (PermissionDenied), or `allowed` (past
//! the checks of who calls: any answer but those two).
//!
//! `ACCESS_MATRIX_PRINT=1` prints the outcomes as matrix rows instead of checking them.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::{Buf, BufMut};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Code, Status};

use common::{SCJG, address, free_port, start_args, terminate, token_of};

/// The department that owns what the requests name.
const OWNER: &str = SCJG;
/// A department that takes part in nothing of the demo.
const OUTSIDER: &str = "610400-WHLY";
/// Every role a department's people hold; none of those who oversee.
const DEPARTMENT_ROLES: &str = "catalog.editor,catalog.publisher,directories.editor,planning.editor,\
draw.operator,inspection.coordinator,publication.entry,publication.reviewer,department.head";

/// What a caller gets, as the matrix writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Unauthenticated,
    Denied,
    Allowed,
}

impl Outcome {
    fn of(result: &Result<(), Status>) -> Self {
        match result {
            Err(s) if s.code() == Code::Unauthenticated => Self::Unauthenticated,
            Err(s) if s.code() == Code::PermissionDenied => Self::Denied,
            _ => Self::Allowed,
        }
    }

    fn parse(word: &str) -> Option<Self> {
        match word.trim().trim_matches('`') {
            "unauthenticated" => Some(Self::Unauthenticated),
            "denied" => Some(Self::Denied),
            "allowed" => Some(Self::Allowed),
            _ => None,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::Denied => "denied",
            Self::Allowed => "allowed",
        }
    }
}

/// A matrix row: the three outcomes, without a token, with another role, of another department.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expected([Outcome; 3]);

/// The rows of the matrix in `docs/security.md`: `| `Service/Method` | who | scope | no token | role | department |`.
fn matrix() -> BTreeMap<String, Expected> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/security.md"
    ))
    .expect("docs/security.md");
    let mut rows = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 8 || !cells[1].starts_with("`suiji.") {
            continue;
        }
        let rpc = cells[1].trim_matches('`').to_string();
        let outcome = |i: usize| {
            Outcome::parse(cells[i])
                .unwrap_or_else(|| panic!("{rpc}: `{}` is no outcome", cells[i]))
        };
        let row = Expected([outcome(4), outcome(5), outcome(6)]);
        assert!(
            rows.insert(rpc.clone(), row).is_none(),
            "{rpc} has two rows"
        );
    }
    rows
}

/// Every RPC of suiji's services, `package.Service/Method`, with its request's type, from the descriptors.
fn rpcs(pool: &DescriptorPool) -> Vec<(String, prost_reflect::MessageDescriptor)> {
    let mut out = Vec::new();
    for service in pool.services() {
        if !service.full_name().starts_with("suiji.") {
            continue;
        }
        for method in service.methods() {
            out.push((
                format!("{}/{}", service.full_name(), method.name()),
                method.input(),
            ));
        }
    }
    out
}

/// Encodes a dynamic request; decodes any reply as its bytes (only its status is looked at).
#[derive(Clone, Default)]
struct Raw;

struct RawEncoder;
struct RawDecoder;

impl Encoder for RawEncoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn encode(&mut self, item: DynamicMessage, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst)
            .map_err(|e| Status::internal(e.to_string()))
    }
}

impl Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut out = Vec::with_capacity(src.remaining());
        out.put(src);
        Ok(Some(out))
    }
}

impl Codec for Raw {
    type Encode = DynamicMessage;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

/// Calls `rpc` at `addr` with `request` (as a stream of one message, which every kind of RPC accepts) and
/// `token`; the first answer: the reply's status, or the first message's.
async fn call(
    addr: &str,
    rpc: &str,
    request: DynamicMessage,
    token: Option<&str>,
) -> Result<(), Status> {
    let channel = suiji_platform::grpc::channel(addr).unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let mut message = tonic::Request::new(tokio_stream::iter(vec![request]));
    if let Some(token) = token {
        message
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    message.set_timeout(Duration::from_secs(20));
    let path: http::uri::PathAndQuery = format!("/{rpc}").parse().unwrap();
    let reply = grpc.streaming(message, path, Raw).await?;
    let mut stream = reply.into_inner();
    stream.message().await.map(|_| ())
}

/// The service an RPC belongs to, by its package: where to call it.
fn service_of(rpc: &str) -> &'static str {
    match rpc.split('.').nth(1) {
        Some("catalog") => "catalog",
        Some("directories") => "directories",
        Some("planning") => "planning",
        Some("draw") => "draw",
        Some("inspection") => "inspection",
        Some("publication") => "publication",
        // The admin APIs (audit, calendar) are served by every service: the catalog's is asked.
        _ => "catalog",
    }
}

/// The request each RPC is attacked with, as proto3 JSON, naming the owner's things by placeholders.
fn request_of(rpc: &str) -> &'static str {
    let method = rpc.rsplit('/').next().unwrap();
    match method {
        // Admin.
        "VerifyChain" => "{}",
        "ListEntries" => "{}",
        "GetCalendar" => "{}",
        "ReloadCalendar" => "{}",
        "CountWorkingDays" => r#"{"dates": ["2026-12-21"]}"#,
        // Catalog.
        "CreateItem" | "UpdateItem" => {
            r#"{"code": "{item}", "content": {"name": "广告发布行为检查", "departmentCode": "{owner}", "frequencyPerYear": 1,
                "legalBasis": ["《中华人民共和国广告法》"], "targetKinds": ["TARGET_KIND_ENTERPRISE"], "category": "ITEM_CATEGORY_GENERAL",
                "methods": ["INSPECTION_METHOD_ON_SITE"], "checklist": [{"code": "1", "description": "广告内容是否真实"}],
                "inspectorQualifications": ["market-regulation"]}}"#
        }
        "PublishItem" | "GetItem" | "ListItemVersions" => r#"{"code": "{item}"}"#,
        "RetireItem" => r#"{"code": "{item}", "reason": "并入"}"#,
        "ListItems" => r#"{"departmentCode": "{owner}"}"#,
        "ListPublicItems" => "{}",
        "AnnounceItems" => "{}",
        // Directories.
        "UpsertDepartment" => {
            r#"{"department": {"code": "610400-SWJ", "name": "咸阳市商务局", "level": "DEPARTMENT_LEVEL_CITY",
                "regionCode": "610400", "active": true}}"#
        }
        "ListDepartments" => "{}",
        "GetTarget" => r#"{"id": "{target}", "withHistory": true}"#,
        "ListTargets" | "ExportTargets" => r#"{"filter": {"departments": ["{owner}"]}}"#,
        "ImportTargets" | "ImportInspectors" => r#"{"header": {"fileName": "a.csv"}}"#,
        "ListInspectors" => r#"{"departmentCode": "{owner}"}"#,
        "RequestRecusal" => {
            r#"{"targetId": "{target}", "inspectorId": "{inspector}", "reason": "亲属关系"}"#
        }
        "DecideRecusal" => r#"{"id": "{recusal}", "accept": true}"#,
        "ListRecusals" => r#"{"departmentCode": "{owner}"}"#,
        "CreateTargetSnapshot" => r#"{"filter": {"departments": ["{owner}"]}}"#,
        "CreateInspectorSnapshot" => r#"{"departmentCode": "{owner}"}"#,
        "GetSnapshot" | "ReadSnapshotIds" => r#"{"id": "{snapshot}"}"#,
        "PickFromSnapshot" => r#"{"id": "{snapshot}", "strata": [{"positions": [0]}]}"#,
        "PinSnapshot" | "UnpinSnapshot" => r#"{"id": "{snapshot}", "holder": "{snapshot_holder}"}"#,
        // Draw.
        "GetDraw" | "ExportDraw" | "ListTeams" => r#"{"taskId": "{task}"}"#,
        "ListDraws" => "{}",
        "DrawTargets" => r#"{"taskId": "{task2}"}"#,
        "LockDraw" => r#"{"taskId": "{task2}"}"#,
        "DrawInspectors" => r#"{"taskId": "{task2}"}"#,
        "ReplaceInspector" => {
            r#"{"taskId": "{task}", "targetId": "{visit_target}", "inspectorId": "{member}",
                "reason": "REPLACEMENT_REASON_CONFLICT", "note": "亲属关系"}"#
        }
        "VerifyDraw" => r#"{"taskId": "{task}"}"#,
        // Planning.
        "CreatePlan" => r#"{"content": {"name": "计划", "year": 2027}}"#,
        "UpdatePlan" => r#"{"id": "{plan}", "content": {"name": "计划", "year": 2027}}"#,
        "SubmitPlan" | "ApprovePlan" | "PublishPlan" | "GetPlan" | "ListPlanVersions" => {
            r#"{"id": "{plan}"}"#
        }
        "ReturnPlan" => r#"{"id": "{plan}", "reason": "请补充"}"#,
        "ListPlans" => r#"{"departmentCode": "{owner}"}"#,
        "ListPublicPlans" => "{}",
        "ProposeAmendment" => {
            r#"{"id": "{plan}", "reason": "上级部署", "content": {"name": "计划", "year": 2027}}"#
        }
        "FileAmendment" | "PublishAmendment" => r#"{"id": "{plan}", "version": 2}"#,
        "SetAnnualCap" => r#"{"year": 2027, "maxPerTarget": 2}"#,
        "ListAnnualCaps" => r#"{"year": 2027}"#,
        "CoverageReport" => r#"{"year": 2027}"#,
        "CreateTask" => r#"{"content": {"planId": "{plan}", "entryKey": "01"}}"#,
        "LaunchTask" | "GetTask" => r#"{"id": "{task2}"}"#,
        "CancelTask" => r#"{"id": "{task2}", "reason": "取消"}"#,
        "ListTasks" => r#"{"planId": "{plan}"}"#,
        // Inspection.
        "GetSaga" | "WatchSaga" | "GetProgress" | "ListVisits" => r#"{"taskId": "{task}"}"#,
        "ListSagas" => r#"{"departmentCode": "{owner}"}"#,
        "RespondToInvitation" => r#"{"taskId": "{task2}", "accept": true}"#,
        "Withdraw" => r#"{"taskId": "{task2}", "reason": "人员不足"}"#,
        "ApproveTargets" => r#"{"taskId": "{task2}"}"#,
        "Steer" => r#"{"taskIds": ["{task2}"], "action": "ACTION_PAUSE", "reason": "暂停"}"#,
        "GetVisit" => r#"{"id": "{visit}"}"#,
        "ScheduleVisit" => {
            r#"{"id": "{visit2}", "date": "2026-12-22", "method": "VISIT_METHOD_ON_SITE", "announced": true}"#
        }
        "RecordFindings" => {
            r#"{"id": "{visit2}", "findings": [{"itemCode": "{item}", "checkCode": "1", "result": "CHECK_RESULT_COMPLIANT"}]}"#
        }
        "SignRecord" => r#"{"id": "{visit2}", "signedBy": "法定代表人"}"#,
        "ConfirmRecord" => r#"{"id": "{visit2}", "inspectorIds": ["{member}"]}"#,
        "AttachEvidence" => {
            r#"{"visitId": "{visit2}", "itemCode": "{item}", "checkCode": "1",
                "sha256": "0000000000000000000000000000000000000000000000000000000000000000",
                "storageRef": "s3://evidence/1", "mediaType": "image/jpeg", "sizeBytes": 10, "description": "照片"}"#
        }
        "ConcludeVisit" => r#"{"id": "{visit2}", "outcome": "VISIT_OUTCOME_NOT_FOUND"}"#,
        "VerifyVisitCode" => r#"{"code": "0000000000000000"}"#,
        "CreateTransfer" => {
            r#"{"visitId": "{visit}", "itemCode": "{item}", "toDepartmentCode": "610400-STHJ",
                "kind": "TRANSFER_KIND_DEPARTMENT", "note": "移送"}"#
        }
        "ListTransfers" => r#"{"toDepartmentCode": "{owner}"}"#,
        "AnswerTransfer" => r#"{"id": "{transfer}", "answer": "TRANSFER_ANSWER_ACCEPT"}"#,
        "RerouteTransfer" => r#"{"id": "{transfer}", "toDepartmentCode": "610400-YJGL"}"#,
        // Publication.
        "ListResults" => r#"{"departmentCode": "{owner}"}"#,
        "GetResult" => r#"{"id": "{result}"}"#,
        "EnterResult" => {
            r#"{"id": "{result2}", "content": {"codes": ["1"], "disposal": "DISPOSAL_NONE"}}"#
        }
        "ReviewResult" => r#"{"id": "{result2}", "decision": "REVIEW_DECISION_APPROVE"}"#,
        "PublishResults" => r#"{"ids": ["{result2}"]}"#,
        "RequestWithholding" | "DeclineWithholding" => {
            r#"{"id": "{result2}", "reason": "案件调查中"}"#
        }
        "WithholdResult" => r#"{"id": "{result2}"}"#,
        "CorrectResult" => {
            r#"{"id": "{result}", "content": {"codes": ["1"], "disposal": "DISPOSAL_NONE"}, "reason": "更正"}"#
        }
        "ListResultCodes" => "{}",
        "PublicSearch" => r#"{"query": "公司"}"#,
        "Report" => r#"{"year": 2026}"#,
        "ListDeliveries" => "{}",
        "RetryDeliveries" => r#"{"ids": ["1"]}"#,
        "ExportPublished" => r#"{"day": "2026-12-21"}"#,
        _ => panic!(
            "{rpc}: no request to attack it with; add one here and a row to docs/security.md"
        ),
    }
}

/// The owner's things the requests name, read from the demo with an administrator's token.
async fn facts(addresses: &[(String, String)], admin: &str) -> BTreeMap<&'static str, String> {
    use suiji_api::directories::v1 as dir;
    use suiji_api::draw::v1 as draw;
    use suiji_api::inspection::v1 as insp;
    use suiji_api::planning::v1 as plan;
    use suiji_api::publication::v1 as publ;
    use suiji_platform::grpc::{Bearer, channel};
    let ch = |name: &str| channel(&address(addresses, name)).unwrap();
    let bearer = || Bearer::new(Some(admin));
    let mut f = BTreeMap::new();
    f.insert("owner", OWNER.to_string());
    f.insert("item", "SX-SCJG-001".to_string());
    let plans = plan::planning_service_client::PlanningServiceClient::with_interceptor(
        ch("planning"),
        bearer(),
    )
    .list_plans(plan::ListPlansRequest {
        department_code: OWNER.into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .plans;
    f.insert("plan", plans[0].id.clone());
    let mut inspection = insp::inspection_service_client::InspectionServiceClient::with_interceptor(
        ch("inspection"),
        bearer(),
    );
    let sagas = inspection
        .list_sagas(insp::ListSagasRequest::default())
        .await
        .unwrap()
        .into_inner()
        .sagas;
    let at = |phase: insp::Phase| {
        sagas
            .iter()
            .find(|s| s.phase == phase as i32)
            .unwrap_or_else(|| panic!("a task in {phase:?}: {sagas:?}"))
            .task_id
            .clone()
    };
    let (task, task2) = (at(insp::Phase::Results), at(insp::Phase::ReviewingTargets));
    let visits = inspection
        .list_visits(insp::ListVisitsRequest {
            task_id: task.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .visits;
    let held = visits
        .iter()
        .find(|v| v.outcome != 0)
        .expect("a held visit");
    // A visit not held yet stands for the steps of a visit, when there is one; else the held one (the attackers are
    // refused before the visit's state is looked at).
    let open = visits.iter().find(|v| v.outcome == 0).unwrap_or(held);
    f.insert("visit", held.id.clone());
    f.insert("visit_target", held.target_id.clone());
    f.insert("target", held.target_id.clone());
    f.insert("visit2", open.id.clone());
    let member = open
        .team
        .iter()
        .find(|m| m.department_code == OWNER)
        .expect("the owner on the team");
    f.insert("member", member.inspector_id.clone());
    f.insert("inspector", member.inspector_id.clone());
    f.insert("task", task.clone());
    f.insert("task2", task2);
    let record =
        draw::draw_service_client::DrawServiceClient::with_interceptor(ch("draw"), bearer())
            .get_draw(draw::GetDrawRequest {
                task_id: task.clone(),
            })
            .await
            .unwrap()
            .into_inner();
    let snapshot = record
        .draw
        .and_then(|d| d.targets)
        .map(|t| t.snapshot_id)
        .unwrap_or_default();
    f.insert("snapshot_holder", format!("draw:{task}"));
    f.insert("snapshot", snapshot);
    let results = publ::publication_service_client::PublicationServiceClient::with_interceptor(
        ch("publication"),
        bearer(),
    )
    .list_results(publ::ListResultsRequest {
        department_code: OWNER.into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .results;
    let published = results
        .iter()
        .find(|r| r.state == publ::ResultState::Published as i32)
        .expect("a published result");
    f.insert("result", published.id.clone());
    // A result not entered yet stands for the steps before publication (the demo holds one visit; the owner's
    // result of it is published, so the other department's waiting one is named: the owner's people are the
    // attackers of another's there, which the matrix rows of those steps say too).
    let waiting = results
        .iter()
        .find(|r| r.state != publ::ResultState::Published as i32)
        .map(|r| r.id.clone())
        .unwrap_or_else(|| published.id.clone());
    f.insert("result2", waiting);
    let recusal = dir::directories_service_client::DirectoriesServiceClient::with_interceptor(
        ch("directories"),
        bearer(),
    )
    .request_recusal(dir::RequestRecusalRequest {
        target_id: held.target_id.clone(),
        inspector_id: member.inspector_id.clone(),
        reason: "亲属关系".into(),
    })
    .await
    .unwrap()
    .into_inner()
    .recusal
    .unwrap();
    f.insert("recusal", recusal.id);
    let transfer = inspection
        .create_transfer(insp::CreateTransferRequest {
            visit_id: held.id.clone(),
            item_code: "SX-SCJG-001".into(),
            to_department_code: "610400-STHJ".into(),
            kind: insp::TransferKind::Department as i32,
            note: "移送".into(),
        })
        .await
        .map(|r| r.into_inner().transfer.unwrap().id)
        .unwrap_or_default();
    f.insert("transfer", transfer);
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_refuses_whom_the_matrix_says() {
    let pool = DescriptorPool::decode(suiji_api::FILE_DESCRIPTOR_SET).unwrap();
    let all = rpcs(&pool);
    let rows = matrix();
    let print = std::env::var("ACCESS_MATRIX_PRINT").is_ok();
    if !print {
        let missing: Vec<&str> = all
            .iter()
            .map(|(rpc, _)| rpc.as_str())
            .filter(|rpc| !rows.contains_key(*rpc))
            .collect();
        assert!(
            missing.is_empty(),
            "RPCs without a row in docs/security.md: {missing:#?}"
        );
        let stale: Vec<&String> = rows
            .keys()
            .filter(|rpc| !all.iter().any(|(r, _)| r == *rpc))
            .collect();
        assert!(
            stale.is_empty(),
            "rows of docs/security.md naming no RPC: {stale:#?}"
        );
    }
    let data = std::env::temp_dir().join(format!("suiji-access-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let started = start_args(&data, free_port(), &["--demo", "--story"], &[]);
    let admin = token_of(OWNER, &format!("{DEPARTMENT_ROLES},admin"), "matrix-admin");
    let f = facts(&started.addresses, &admin).await;
    let other_role = token_of(OWNER, "none", "matrix-other-role");
    let outsider = token_of(OUTSIDER, DEPARTMENT_ROLES, "matrix-outsider");
    let mut printed = Vec::new();
    let mut wrong = Vec::new();
    for (rpc, input) in &all {
        let mut json = request_of(rpc).to_string();
        for (name, value) in &f {
            json = json.replace(&format!("{{{name}}}"), value);
        }
        let request = |json: &str| {
            let mut de = serde_json::Deserializer::from_str(json);
            DynamicMessage::deserialize(input.clone(), &mut de).unwrap_or_else(|e| {
                let fields: Vec<String> =
                    input.fields().map(|f| f.json_name().to_string()).collect();
                panic!("{rpc}: the request {json} does not fit: {e}; its fields: {fields:?}")
            })
        };
        let addr = address(&started.addresses, service_of(rpc));
        let mut seen = [Outcome::Allowed; 3];
        let mut statuses = Vec::new();
        for (i, token) in [None, Some(other_role.as_str()), Some(outsider.as_str())]
            .into_iter()
            .enumerate()
        {
            let result = call(&addr, rpc, request(&json), token).await;
            seen[i] = Outcome::of(&result);
            statuses.push(
                result
                    .err()
                    .map(|s| format!("{:?}: {}", s.code(), s.message())),
            );
        }
        if print {
            printed.push(format!(
                "| `{rpc}` | | | {} | {} | {} |",
                seen[0].word(),
                seen[1].word(),
                seen[2].word()
            ));
            eprintln!("{rpc}: {statuses:?}");
        } else if rows[rpc].0 != seen {
            wrong.push(format!(
                "{rpc}: the matrix says {:?}, the service answered {seen:?} ({statuses:?})",
                rows[rpc].0
            ));
        }
    }
    terminate(started.dev);
    let _ = std::fs::remove_dir_all(&data);
    if print {
        println!("{}", printed.join("\n"));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
