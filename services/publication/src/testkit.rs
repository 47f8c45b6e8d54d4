//! A test kit (feature `testkit`): what the tests of other crates do with publication once visits are concluded —
//! wait for a department's results, then enter, approve and publish them.

use std::time::Duration;

use suiji_api::publication::v1 as pb;
use suiji_api::publication::v1::publication_service_client::PublicationServiceClient;
use suiji_platform::grpc::{Bearer, channel};
use suiji_platform::testing::eventually;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

/// A publication client.
pub type Client = PublicationServiceClient<InterceptedService<Channel, Bearer>>;

/// A client at `addr` sending `token` (none: the public).
pub fn client(addr: &str, token: Option<&str>) -> Client {
    PublicationServiceClient::with_interceptor(channel(addr).unwrap(), Bearer::new(token))
}

/// The caller's department's results, once there are `n` (within 30 s).
pub async fn results(client: &Client, n: usize) -> Vec<pb::Result> {
    let list = || {
        let mut c = client.clone();
        async move {
            c.list_results(pb::ListResultsRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .results
        }
    };
    let there = eventually(Duration::from_secs(30), || async {
        list().await.len() == n
    })
    .await;
    let results = list().await;
    assert!(there, "{n} results to enter, found {}", results.len());
    results
}

/// What the visit suggests: the suggested codes (ordered to correct when they state a problem), or `problem` with
/// its disposal where the visit found one.
pub fn suggested(r: &pb::Result, problem: (&str, pb::Disposal, &str)) -> pb::Content {
    if r.problem_found {
        return pb::Content {
            codes: vec![problem.0.into()],
            disposal: problem.1 as i32,
            disposal_department_code: problem.2.into(),
            note: String::new(),
        };
    }
    let nothing = r.suggested_codes.iter().any(|c| c == "1");
    pb::Content {
        codes: r.suggested_codes.clone(),
        disposal: if nothing {
            pb::Disposal::None
        } else {
            pb::Disposal::OrderedToCorrect
        } as i32,
        ..Default::default()
    }
}

/// Enters each of `results` with `content` as `entry`, approves and publishes them as `reviewer` (another
/// person: four eyes); every one must be published.
pub async fn publish_all(
    entry: &Client,
    reviewer: &Client,
    results: &[pb::Result],
    content: impl Fn(&pb::Result) -> pb::Content,
) {
    let (mut e, mut c) = (entry.clone(), reviewer.clone());
    for r in results {
        e.enter_result(pb::EnterResultRequest {
            id: r.id.clone(),
            content: Some(content(r)),
            expected_revision: 0,
        })
        .await
        .unwrap();
        c.review_result(pb::ReviewResultRequest {
            id: r.id.clone(),
            decision: pb::ReviewDecision::Approve as i32,
            ..Default::default()
        })
        .await
        .unwrap();
    }
    let out = c
        .publish_results(pb::PublishResultsRequest {
            ids: results.iter().map(|r| r.id.clone()).collect(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(out.outcomes.iter().all(|o| o.published), "{out:?}");
}
