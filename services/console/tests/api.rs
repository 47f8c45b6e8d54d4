//! The console's HTTP side without a browser: sessions (a token the platform's secret accepts starts one, its
//! cookie is `HttpOnly` and `SameSite=Strict`, signing out ends it, a forged or expired token starts none), and
//! what is refused before any service is called. The whole page against a running platform is driven in a browser
//! by the `suiji dev` scenario (crates/suiji/tests/dev.rs).

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use suiji_console::Console;
use suiji_platform::auth::{Identity, Tokens};
use suiji_platform::config::AuthSettings;
use tower::ServiceExt;

fn tokens(secret: &str) -> Tokens {
    Tokens::new(&AuthSettings {
        jwt_secret: suiji_platform::config::Secret::new(secret),
        issuer: "suiji-test".into(),
        dev_tokens: true,
    })
}

fn coordinator() -> Identity {
    Identity {
        subject: "zhang.san".into(),
        department: "610400-SCJG".into(),
        roles: vec!["inspection.coordinator".into()],
    }
}

/// A console whose inspection service does not answer (nothing listens on port 1).
fn console() -> axum::Router {
    let channel = suiji_platform::grpc::channel("http://127.0.0.1:1").unwrap();
    Console::new(tokens("the platform's secret"), channel.clone(), channel).router()
}

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<serde_json::Value>,
) -> (StatusCode, Option<String>, serde_json::Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let set_cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
        })
    };
    (status, set_cookie, json)
}

/// Signs in as the coordinator; the session's cookie.
async fn signed_in(app: &axum::Router) -> String {
    let token = tokens("the platform's secret").issue(&coordinator(), Duration::from_secs(3600));
    let (status, set_cookie, body) = call(
        app,
        "POST",
        "/console/session",
        None,
        Some(serde_json::json!({ "token": token })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    cookie_of(&set_cookie.expect("a session cookie"))
}

/// The `name=value` part of a `Set-Cookie` header.
fn cookie_of(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn a_session_starts_with_a_valid_token_and_ends_when_signed_out() {
    let app = console();
    let (status, _, body) = call(&app, "GET", "/console/session", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "Unauthenticated");

    let token = tokens("the platform's secret").issue(&coordinator(), Duration::from_secs(3600));
    let (status, set_cookie, body) = call(
        &app,
        "POST",
        "/console/session",
        None,
        Some(serde_json::json!({ "token": token })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["subject"], "zhang.san");
    assert_eq!(body["department"], "610400-SCJG");
    let set_cookie = set_cookie.expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = cookie_of(&set_cookie);
    assert!(
        !cookie.contains(&token),
        "the cookie carries a session id, not the token"
    );

    let (status, _, body) = call(&app, "GET", "/console/session", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["roles"], serde_json::json!(["inspection.coordinator"]));

    let (status, set_cookie, _) =
        call(&app, "DELETE", "/console/session", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(set_cookie.unwrap().contains("Max-Age=0"));
    let (status, _, _) = call(&app, "GET", "/console/session", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "signed out");
    let (status, _, _) = call(&app, "GET", "/console/api/sagas", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "signed out");
}

#[tokio::test]
async fn a_forged_or_empty_token_starts_no_session_and_names_the_field() {
    let app = console();
    let forged = tokens("another secret").issue(&coordinator(), Duration::from_secs(3600));
    for token in [forged.as_str(), "", "not a token"] {
        let (status, set_cookie, body) = call(
            &app,
            "POST",
            "/console/session",
            None,
            Some(serde_json::json!({ "token": token })),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{token:?}: {body}");
        assert!(set_cookie.is_none(), "{token:?}");
        assert_eq!(body["code"], "InvalidArgument");
        assert_eq!(body["violations"][0]["field"], "token", "{body}");
    }
    // A made-up session id is no session.
    let (status, _, _) = call(
        &app,
        "GET",
        "/console/api/sagas",
        Some("suiji_console=00ff"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_expired_token_starts_no_session() {
    let app = console();
    let cookie = signed_in(&app).await;
    // A token signed with the platform's secret but past its expiry (beyond the checker's leeway).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({
            "sub": "zhang.san", "dept": "610400-SCJG", "roles": ["inspection.coordinator"],
            "iss": "suiji-test", "iat": now - 7200, "exp": now - 3600,
        }),
        &jsonwebtoken::EncodingKey::from_secret(b"the platform's secret"),
    )
    .unwrap();
    let (status, set_cookie, body) = call(
        &app,
        "POST",
        "/console/session",
        None,
        Some(serde_json::json!({ "token": expired })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(set_cookie.is_none());
    assert!(
        body["message"].as_str().unwrap().contains("xpired"),
        "{body}"
    );
    // The valid session goes on.
    let (status, _, _) = call(&app, "GET", "/console/session", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_names_are_refused_by_field_and_an_unreachable_service_is_unavailable() {
    let app = console();
    let cookie = signed_in(&app).await;

    let (status, _, body) = call(
        &app,
        "GET",
        "/console/api/sagas?phase=lunch",
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["violations"][0]["field"], "phase");

    let (status, _, body) = call(
        &app,
        "POST",
        "/console/api/steer",
        Some(&cookie),
        Some(serde_json::json!({ "task_ids": ["T-1"], "action": "shred" })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["violations"][0]["field"], "action");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("proceed_without"),
        "{body}"
    );

    for (path, body, field) in [
        (
            "/console/api/visits/schedule",
            serde_json::json!({ "id": "T-1/X", "date": "2027-03-01", "method": "by_pigeon" }),
            "method",
        ),
        (
            "/console/api/visits/conclude",
            serde_json::json!({ "id": "T-1/X", "outcome": "vanished" }),
            "outcome",
        ),
    ] {
        let (status, _, answer) = call(&app, "POST", path, Some(&cookie), Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
        assert_eq!(answer["violations"][0]["field"], field, "{path}: {answer}");
    }

    // A well-formed request goes to the inspection service, which is not there.
    let (status, _, body) = call(
        &app,
        "GET",
        "/console/api/sagas?phase=scheduling&needs_attention=true",
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "Unavailable");

    // A change without a JSON body (what a form on another site could send) is refused.
    let request = Request::builder()
        .method("POST")
        .uri("/console/api/steer")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("task_ids=T-1&action=cancel"))
        .unwrap();
    let status = app.clone().oneshot(request).await.unwrap().status();
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn the_page_is_served() {
    let (status, _, body) = call(&console(), "GET", "/console", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let page = body.as_str().unwrap();
    assert!(page.contains("联合抽查工作台"), "{page}");
    assert!(
        page.contains("/api/steer"),
        "the page steers through the console's API"
    );
}
