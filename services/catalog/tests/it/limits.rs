//! What one caller may ask of a server: calls without a token are limited per client address, calls with one are
//! not held up by them; reflection answers only where the settings switch it on.

use std::sync::Arc;

use suiji_api::catalog::v1 as pb;
use suiji_platform::testing::{self, Backend};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;

use crate::harness::{ALL_ROLES, SCJG};

/// The status line of a plain HTTP GET of `path` from the server at `addr` (`http://host:port`).
async fn http_status(addr: &str, path: &str) -> String {
    let host = addr.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.unwrap();
    String::from_utf8_lossy(&reply)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_without_a_token_is_refused_and_callers_with_one_are_not_held_up() {
    if !testing::require(Backend::Embedded).await {
        return;
    }
    let isolated = testing::isolated(Backend::Embedded).await;
    let mut settings = (*isolated.settings).clone();
    settings.grpc.limits.public_per_second = 1;
    settings.grpc.limits.public_burst = 20;
    settings.grpc.reflection = false;
    let running = testing::start_with(
        Arc::new(settings),
        isolated.bus().await,
        suiji_catalog::NAME,
        &suiji_catalog::migrations(),
        |ctx| async move { suiji_catalog::start(&ctx).await },
    )
    .await;
    let client = |token: Option<&str>| {
        pb::catalog_service_client::CatalogServiceClient::with_interceptor(
            suiji_platform::grpc::channel(&running.addr).unwrap(),
            suiji_platform::grpc::Bearer::new(token),
        )
    };
    let mut public = client(None);
    let mut refused = None;
    for call in 0..40 {
        match public
            .list_public_items(pb::ListPublicItemsRequest::default())
            .await
        {
            Ok(_) => assert!(call < 20, "call {call} went through past the burst"),
            Err(status) => {
                refused = Some((call, status));
                break;
            }
        }
    }
    let (call, status) = refused.expect("a burst of 40 is refused within its burst of 20");
    assert_eq!(call, 20, "the burst of 20 goes through, the 21st does not");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("try again"), "{status:?}");
    // A page or form from the same address: 429.
    assert!(
        http_status(&running.addr, "/").await.contains(" 429 "),
        "a plain request over the limit is told 429"
    );
    // Someone signed in is not held up by the address's public calls.
    let token = isolated.token(SCJG, ALL_ROLES);
    let mut signed_in = client(Some(&token));
    for _ in 0..50 {
        signed_in
            .list_items(pb::ListItemsRequest::default())
            .await
            .unwrap();
    }
    // Reflection is off with the setting off.
    let mut reflection =
        tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient::with_interceptor(
            suiji_platform::grpc::channel(&running.addr).unwrap(),
            suiji_platform::grpc::Bearer::new(Some(&token)),
        );
    let ask = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            tonic_reflection::pb::v1::server_reflection_request::MessageRequest::ListServices(
                String::new(),
            ),
        ),
    };
    let status = reflection
        .server_reflection_info(tokio_stream::iter(vec![ask]))
        .await
        .err()
        .map(|s| s.code());
    assert_eq!(status, Some(Code::Unimplemented));
    running.stop().await;
    isolated.cleanup().await;
}
