//! The console's server without a browser, on both backends: local sign-in (Argon2id, refusals at their field,
//! lock-out after repeated failures), sessions in the console's database (cookie attributes, CSRF on every change,
//! sign-out revoking the session on every replica), the gRPC-Web forwarding to a real service with the person's
//! identity (the service decides: a missing role is refused, field violations come through), and the page's
//! security headers. The app itself is driven in Chromium by the `suiji dev` scenarios (crates/suiji/tests/dev.rs).

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use prost::Message;
use suiji_console::{Account, Console, Services};
use suiji_platform::testing::{self, Backend, Isolated};
use tonic::Code;
use tonic_types::StatusExt;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

/// A console on `isolated`'s database whose services are at `services` (nothing listens on port 1 by default).
async fn console(isolated: &Isolated, catalog: Option<&str>) -> axum::Router {
    console_with(isolated, catalog, isolated.settings.console.clone()).await
}

/// The same, with `settings` for the console.
async fn console_with(
    isolated: &Isolated,
    catalog: Option<&str>,
    settings: suiji_platform::config::ConsoleSettings,
) -> axum::Router {
    let db = suiji_platform::db::Db::connect(&isolated.settings.database, suiji_console::NAME)
        .await
        .unwrap();
    db.migrate(&suiji_console::migrations()).await.unwrap();
    let nowhere = suiji_platform::grpc::channel("http://127.0.0.1:1").unwrap();
    let services = Services {
        catalog: catalog.map_or(nowhere.clone(), |a| {
            suiji_platform::grpc::channel(a).unwrap()
        }),
        directories: nowhere.clone(),
        planning: nowhere.clone(),
        draw: nowhere.clone(),
        inspection: nowhere.clone(),
        publication: nowhere,
    };
    let console = Console::new(isolated.tokens(), db, services, settings);
    for (username, department, roles) in [
        ("zhang.san", "610400-SCJG", vec!["catalog.editor", "admin"]),
        ("li.si", "610400-STHJ", vec!["inspection.coordinator"]),
    ] {
        console
            .accounts()
            .save(
                &Account {
                    username: username.into(),
                    display_name: username.into(),
                    department: department.into(),
                    roles: roles.into_iter().map(String::from).collect(),
                    inspector_id: None,
                    disabled: false,
                },
                PASSWORD,
            )
            .await
            .unwrap();
    }
    console.router()
}

/// The console's accounts, read from its database.
async fn console_accounts(isolated: &Isolated) -> suiji_console::Accounts {
    let db = suiji_platform::db::Db::connect(&isolated.settings.database, suiji_console::NAME)
        .await
        .unwrap();
    suiji_console::Accounts::new(db)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: bytes::Bytes,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

async fn call(app: &axum::Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

fn json_request(
    method: &str,
    path: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    body: serde_json::Value,
) -> Request<Body> {
    let mut r = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(cookie) = cookie {
        r = r.header(header::COOKIE, cookie);
    }
    if let Some(csrf) = csrf {
        r = r.header("x-suiji-csrf", csrf);
    }
    r.body(Body::from(body.to_string())).unwrap()
}

async fn sign_in(app: &axum::Router, username: &str, password: &str) -> Answer {
    call(
        app,
        json_request(
            "POST",
            "/console/session",
            None,
            None,
            serde_json::json!({ "username": username, "password": password }),
        ),
    )
    .await
}

/// Signs in; the cookie to send and the CSRF token.
async fn signed_in(app: &axum::Router, username: &str) -> (String, String) {
    let answer = sign_in(app, username, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    let set_cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    (cookie, answer.json()["csrf"].as_str().unwrap().to_string())
}

/// Signs out with the session's CSRF token, or a wrong one.
async fn sign_out(app: &axum::Router, cookie: &str, csrf: &str) -> Answer {
    call(
        app,
        json_request(
            "DELETE",
            "/console/session",
            Some(cookie),
            Some(csrf),
            serde_json::json!({}),
        ),
    )
    .await
}

async fn me(app: &axum::Router, cookie: &str) -> Answer {
    call(
        app,
        Request::get("/console/session")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn both(test: impl AsyncFn(Isolated)) {
    for backend in [Backend::Embedded, Backend::Servers] {
        if testing::require(backend).await {
            test(testing::isolated(backend).await).await;
        }
    }
}

#[tokio::test]
async fn a_person_signs_in_with_a_password_and_signing_out_ends_the_session() {
    both(async |isolated| {
        let app = console(&isolated, None).await;
        assert_eq!(
            me(&app, "suiji_session=nothing").await.status,
            StatusCode::UNAUTHORIZED
        );

        let wrong = sign_in(&app, "zhang.san", "not the password").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.json()["code"], "wrong");
        assert_eq!(wrong.json()["field"], "password");
        let unknown = sign_in(&app, "nobody", PASSWORD).await;
        assert_eq!(
            unknown.json(),
            wrong.json(),
            "an unknown name is answered as a wrong password"
        );
        let empty = sign_in(&app, "", PASSWORD).await;
        assert_eq!(
            (empty.status, empty.json()["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("username"))
        );

        let answer = sign_in(&app, "zhang.san", PASSWORD).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
        let set_cookie = answer.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .to_string();
        for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/console"] {
            assert!(set_cookie.contains(attribute), "{set_cookie}");
        }
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        let who = me(&app, &cookie).await.json();
        assert_eq!(who["subject"], "zhang.san");
        assert_eq!(who["department"], "610400-SCJG");
        assert_eq!(who["roles"], serde_json::json!(["catalog.editor", "admin"]));
        let csrf = who["csrf"].as_str().unwrap().to_string();
        assert!(
            !set_cookie.contains(&csrf),
            "the CSRF token is not the cookie"
        );

        // Signing out is a change: without the session's CSRF token it is refused and the session lives on.
        let forged = sign_out(&app, &cookie, "guess").await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert_eq!(me(&app, &cookie).await.status, StatusCode::OK);
        let out = sign_out(&app, &cookie, &csrf).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        assert_eq!(
            me(&app, &cookie).await.status,
            StatusCode::UNAUTHORIZED,
            "the session is revoked"
        );
        isolated.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn repeated_failures_lock_the_account_even_against_the_right_password() {
    both(async |isolated| {
        let app = console(&isolated, None).await;
        for _ in 1..suiji_console::accounts::MAX_FAILURES {
            assert_eq!(
                sign_in(&app, "li.si", "guess").await.json()["code"],
                "wrong"
            );
        }
        let last = sign_in(&app, "li.si", "guess").await;
        assert_eq!(last.status, StatusCode::LOCKED, "{}", last.json());
        assert_eq!(last.json()["code"], "locked");
        assert!(last.json()["until"].as_str().unwrap().len() > 10);
        let right = sign_in(&app, "li.si", PASSWORD).await;
        assert_eq!(right.json()["code"], "locked", "locked means locked");
        // Another account is not affected.
        assert_eq!(
            sign_in(&app, "zhang.san", PASSWORD).await.status,
            StatusCode::OK
        );
        isolated.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn two_consoles_serve_the_same_sessions() {
    both(async |isolated| {
        let (one, two) = (
            console(&isolated, None).await,
            console(&isolated, None).await,
        );
        let (cookie, csrf) = signed_in(&one, "zhang.san").await;
        assert_eq!(me(&two, &cookie).await.json()["subject"], "zhang.san");
        let out = sign_out(&two, &cookie, &csrf).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        assert_eq!(
            me(&one, &cookie).await.status,
            StatusCode::UNAUTHORIZED,
            "signed out on every replica"
        );
        isolated.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn a_sign_in_from_another_site_is_refused() {
    let isolated = testing::isolated(Backend::Embedded).await;
    let app = console(&isolated, None).await;
    let mut request = json_request(
        "POST",
        "/console/session",
        None,
        None,
        serde_json::json!({ "username": "zhang.san", "password": PASSWORD }),
    );
    request
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    let answer = call(&app, request).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.headers.get(header::SET_COOKIE).is_none());
    isolated.cleanup().await;
}

/// A gRPC-Web call of `method` with `message`, as the app makes it.
fn grpc_web<M: Message>(
    method: &str,
    message: &M,
    cookie: Option<&str>,
    csrf: Option<&str>,
) -> Request<Body> {
    let bytes = message.encode_to_vec();
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    framed.extend_from_slice(&bytes);
    let mut r = Request::post(format!("/console/rpc/{method}"))
        .header(header::CONTENT_TYPE, "application/grpc-web+proto")
        .header("x-grpc-web", "1");
    if let Some(cookie) = cookie {
        r = r.header(header::COOKIE, cookie);
    }
    if let Some(csrf) = csrf {
        r = r.header("x-suiji-csrf", csrf);
    }
    r.body(Body::from(framed)).unwrap()
}

/// The status of a gRPC-Web answer (its headers when trailers-only, else its trailer frame) and its message bytes.
fn grpc_outcome(answer: &Answer) -> (tonic::Status, Vec<u8>) {
    assert_eq!(answer.status, StatusCode::OK);
    if let Some(status) = tonic::Status::from_header_map(&answer.headers) {
        return (status, Vec::new());
    }
    let (mut rest, mut message) = (&answer.body[..], Vec::new());
    while rest.len() >= 5 {
        let len = u32::from_be_bytes(rest[1..5].try_into().unwrap()) as usize;
        let (flag, frame) = (rest[0], &rest[5..5 + len]);
        if flag & 0x80 != 0 {
            let mut trailers = HeaderMap::new();
            for line in String::from_utf8_lossy(frame)
                .split("\r\n")
                .filter(|l| !l.is_empty())
            {
                let (k, v) = line.split_once(':').unwrap();
                trailers.insert(
                    header::HeaderName::from_bytes(k.trim().as_bytes()).unwrap(),
                    v.trim().parse().unwrap(),
                );
            }
            return (tonic::Status::from_header_map(&trailers).unwrap(), message);
        }
        message = frame.to_vec();
        rest = &rest[5 + len..];
    }
    panic!("no status in {:?}", answer.body);
}

#[tokio::test]
async fn calls_reach_the_service_as_the_signed_in_person_and_the_service_decides() {
    use suiji_api::catalog::v1 as pb;
    both(async |isolated| {
        let bus = isolated.bus().await;
        let catalog = testing::start(
            &isolated,
            bus,
            suiji_catalog::NAME,
            &suiji_catalog::migrations(),
            |ctx| async move { suiji_catalog::start(&ctx).await },
        )
        .await;
        let app = console(&isolated, Some(&catalog.addr)).await;
        let list = pb::ListItemsRequest::default();
        const LIST: &str = "suiji.catalog.v1.CatalogService/ListItems";

        let (status, _) = grpc_outcome(&call(&app, grpc_web(LIST, &list, None, None)).await);
        assert_eq!(status.code(), Code::Unauthenticated, "no session, no call");
        let (cookie, csrf) = signed_in(&app, "zhang.san").await;
        let (status, _) =
            grpc_outcome(&call(&app, grpc_web(LIST, &list, Some(&cookie), None)).await);
        assert_eq!(
            status.code(),
            Code::PermissionDenied,
            "no CSRF token, no call: {status:?}"
        );
        let (status, _) = grpc_outcome(
            &call(
                &app,
                grpc_web(
                    "grpc.health.v1.Health/Check",
                    &list,
                    Some(&cookie),
                    Some(&csrf),
                ),
            )
            .await,
        );
        assert_eq!(
            status.code(),
            Code::Unimplemented,
            "only the services' own APIs are forwarded"
        );

        let answer = call(&app, grpc_web(LIST, &list, Some(&cookie), Some(&csrf))).await;
        let (status, message) = grpc_outcome(&answer);
        assert_eq!(status.code(), Code::Ok, "{status:?}");
        pb::ListItemsResponse::decode(&message[..]).unwrap();

        // An editor's draft with nothing in it: the service's field violations come through to the page.
        let create = pb::CreateItemRequest {
            code: String::new(),
            content: None,
        };
        const CREATE: &str = "suiji.catalog.v1.CatalogService/CreateItem";
        let (status, _) =
            grpc_outcome(&call(&app, grpc_web(CREATE, &create, Some(&cookie), Some(&csrf))).await);
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        // Each violation in English and, from the services' Chinese catalog, in Chinese beside it.
        let violations = status.get_details_bad_request().unwrap().field_violations;
        let content = violations.iter().find(|v| v.field == "content").unwrap();
        assert_eq!(content.description, "is required");
        assert_eq!(content.reason, "REQUIRED");
        let zh = content.localized_message.as_ref().unwrap();
        assert_eq!(
            (zh.locale.as_str(), zh.message.as_str()),
            ("zh-CN", "必须填写")
        );
        // A real draft of SCJG's: created as zhang.san of SCJG, refused to li.si of STHJ, who holds no catalog role,
        // because the service sees who is calling.
        let create = pb::CreateItemRequest {
            code: "SCJG-TEST-1".into(),
            content: Some(pb::ItemContent {
                name: "企业年报公示情况检查".into(),
                legal_basis: vec!["《企业信息公示暂行条例》第十四条".into()],
                department_code: "610400-SCJG".into(),
                target_kinds: vec![pb::TargetKind::Enterprise as i32],
                category: pb::ItemCategory::General as i32,
                frequency_per_year: 1,
                methods: vec![pb::InspectionMethod::OnSite as i32],
                checklist: vec![pb::CheckPoint {
                    code: "1".into(),
                    description: "年报是否真实".into(),
                    basis: String::new(),
                }],
                ..Default::default()
            }),
        };
        let (sthj, sthj_csrf) = signed_in(&app, "li.si").await;
        let (status, _) = grpc_outcome(
            &call(
                &app,
                grpc_web(CREATE, &create, Some(&sthj), Some(&sthj_csrf)),
            )
            .await,
        );
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
        let (status, message) =
            grpc_outcome(&call(&app, grpc_web(CREATE, &create, Some(&cookie), Some(&csrf))).await);
        assert_eq!(status.code(), Code::Ok, "{status:?}");
        let item = pb::CreateItemResponse::decode(&message[..])
            .unwrap()
            .item
            .unwrap();
        assert_eq!(item.code, "SCJG-TEST-1");
        catalog.stop().await;
        isolated.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn the_app_is_served_with_a_strict_content_security_policy() {
    let isolated = testing::isolated(Backend::Embedded).await;
    let app = console(&isolated, None).await;
    for path in ["/console/", "/console/sagas/some-task", "/console/sign-in"] {
        let answer = call(&app, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        let html = String::from_utf8_lossy(&answer.body);
        assert!(html.contains("<div id=\"app\">"), "{path}: the app's page");
        assert!(!html.contains("<script>"), "{path}: no inline script");
        let csp = answer.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        let scripts = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!scripts.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(answer.headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    }
    let page = call(&app, Request::get("/console/").body(Body::empty()).unwrap()).await;
    let html = String::from_utf8_lossy(&page.body).into_owned();
    let script = html
        .split("src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let gz = call(
        &app,
        Request::get(script)
            .header(header::ACCEPT_ENCODING, "gzip, br")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(gz.status, StatusCode::OK, "{script}");
    assert_eq!(gz.headers[header::CONTENT_ENCODING], "gzip");
    assert!(
        gz.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let missing = call(
        &app,
        Request::get("/console/assets/nothing.js")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let (bytes, files) = suiji_console::web::first_load();
    assert!(
        bytes > 10_000 && files >= 3,
        "{bytes} bytes in {files} files"
    );
    isolated.cleanup().await;
}

async fn put_account(
    app: &axum::Router,
    cookie: &str,
    csrf: &str,
    username: &str,
    form: serde_json::Value,
) -> Answer {
    call(
        app,
        json_request(
            "PUT",
            &format!("/console/api/accounts/{username}"),
            Some(cookie),
            Some(csrf),
            form,
        ),
    )
    .await
}

#[tokio::test]
async fn an_administrator_manages_accounts_and_a_change_ends_the_persons_sessions() {
    both(async |isolated| {
        let app = console(&isolated, None).await;
        let (admin, admin_csrf) = signed_in(&app, "zhang.san").await;
        let (clerk, clerk_csrf) = signed_in(&app, "li.si").await;
        let form = |roles: &[&str], disabled: bool, password: &str| {
            serde_json::json!({
                "displayName": "王五", "department": "610400-STHJ", "roles": roles,
                "disabled": disabled, "password": password,
            })
        };

        // Attacked: a person without `admin` creates an account, or lists them.
        let refused = put_account(
            &app,
            &clerk,
            &clerk_csrf,
            "wang.wu",
            form(&["admin"], false, PASSWORD),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.json());
        let listed = call(
            &app,
            Request::get("/console/api/accounts")
                .header(header::COOKIE, &clerk)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(listed.status, StatusCode::FORBIDDEN);
        assert_eq!(
            sign_in(&app, "wang.wu", PASSWORD).await.json()["code"],
            "wrong",
            "no account was made"
        );

        // A new account needs a password, named at its field.
        let missing = put_account(
            &app,
            &admin,
            &admin_csrf,
            "wang.wu",
            form(&["inspection.coordinator"], false, ""),
        )
        .await;
        assert_eq!(
            (
                missing.status,
                missing.json()["violations"][0]["field"].as_str()
            ),
            (StatusCode::BAD_REQUEST, Some("password"))
        );
        let made = put_account(
            &app,
            &admin,
            &admin_csrf,
            "wang.wu",
            form(&["inspection.coordinator"], false, PASSWORD),
        )
        .await;
        assert_eq!(made.status, StatusCode::NO_CONTENT, "{}", made.json());
        let (person, _) = signed_in(&app, "wang.wu").await;
        assert_eq!(
            me(&app, &person).await.json()["roles"],
            serde_json::json!(["inspection.coordinator"])
        );

        // New roles end the person's session (the next one carries them); the password stays.
        let changed = put_account(
            &app,
            &admin,
            &admin_csrf,
            "wang.wu",
            form(&["publication.entry"], false, ""),
        )
        .await;
        assert_eq!(changed.status, StatusCode::NO_CONTENT);
        assert_eq!(
            me(&app, &person).await.status,
            StatusCode::UNAUTHORIZED,
            "the old roles' session ended"
        );
        let (person, _) = signed_in(&app, "wang.wu").await;
        assert_eq!(
            me(&app, &person).await.json()["roles"],
            serde_json::json!(["publication.entry"])
        );

        // Disabled: out at once, and no new session.
        put_account(
            &app,
            &admin,
            &admin_csrf,
            "wang.wu",
            form(&["publication.entry"], true, ""),
        )
        .await;
        assert_eq!(me(&app, &person).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            sign_in(&app, "wang.wu", PASSWORD).await.json()["code"],
            "disabled"
        );

        let listed = call(
            &app,
            Request::get("/console/api/accounts")
                .header(header::COOKIE, &admin)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        let listed = listed.json();
        let names: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["username"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["li.si", "wang.wu", "zhang.san"]);

        // A team member's account carries their inspector id: their session and the tokens issued for it name it.
        let member = put_account(
            &app,
            &admin,
            &admin_csrf,
            "zhao.liu",
            serde_json::json!({
                "displayName": "赵六", "department": "610400-SCJG", "roles": ["inspection.member"],
                "inspectorId": " 610400-SCJG-00007 ", "password": PASSWORD,
            }),
        )
        .await;
        assert_eq!(member.status, StatusCode::NO_CONTENT, "{}", member.json());
        let (person, _) = signed_in(&app, "zhao.liu").await;
        assert_eq!(
            me(&app, &person).await.json()["inspector"],
            "610400-SCJG-00007"
        );
        let account = console_accounts(&isolated)
            .await
            .get("zhao.liu")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            account.identity().inspector.as_deref(),
            Some("610400-SCJG-00007")
        );
        // Cleared, the next session names none.
        put_account(
            &app,
            &admin,
            &admin_csrf,
            "zhao.liu",
            serde_json::json!({
                "displayName": "赵六", "department": "610400-SCJG", "roles": ["inspection.member"],
                "inspectorId": "",
            }),
        )
        .await;
        let (person, _) = signed_in(&app, "zhao.liu").await;
        assert_eq!(
            me(&app, &person).await.json()["inspector"],
            serde_json::Value::Null
        );
        isolated.cleanup().await;
    })
    .await;
}

/// Without single sign-on the console is the issuer: it publishes its public keys, which verify its tokens with
/// no private key at hand, and gives configured clients (the services, other departments' systems) tokens by
/// client credentials. A wrong secret, an unknown client and another grant are refused as RFC 6749 says.
#[tokio::test]
async fn the_console_publishes_its_keys_and_issues_tokens_to_its_clients() {
    use base64::Engine;
    use sha2::Digest;
    both(async |isolated: Isolated| {
        let mut settings = isolated.settings.console.clone();
        settings.clients.push(suiji_platform::config::ClientSettings {
            id: "credit-gateway".into(),
            secret_sha256: hex::encode(sha2::Sha256::digest(b"the gateway's secret")),
            department: "610400-FGW".into(),
            roles: vec!["publication.reader".into()],
        });
        let app = console_with(&isolated, None, settings).await;

        let keys = call(
            &app,
            Request::get("/console/.well-known/jwks.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(keys.status, StatusCode::OK);
        let jwks = keys.json();
        assert_eq!(jwks["keys"][0]["kty"], "EC");
        assert_eq!(jwks["keys"][0]["alg"], "ES256");
        assert!(jwks["keys"][0].get("d").is_none(), "no private part: {jwks}");
        let dir = std::env::temp_dir().join(format!("suiji-jwks-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("jwks.json"), keys.body.as_ref()).unwrap();
        let mut public_only = isolated.settings.auth.clone();
        public_only.signing_key = suiji_platform::config::Secret::new("");
        public_only.jwks = dir.join("jwks.json").display().to_string();
        let verifier = suiji_platform::auth::Tokens::new(&public_only).unwrap();

        let token_request = |auth: Option<(&str, &str)>, body: &str| {
            let mut r = Request::post("/console/oauth/token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            if let Some((id, secret)) = auth {
                let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
                r = r.header(header::AUTHORIZATION, format!("Basic {basic}"));
            }
            r.body(Body::from(body.to_string())).unwrap()
        };
        let granted = call(
            &app,
            token_request(
                Some(("credit-gateway", "the%20gateway%27s%20secret")),
                "grant_type=client_credentials",
            ),
        )
        .await;
        assert_eq!(granted.status, StatusCode::OK, "{:?}", granted.json());
        assert_eq!(granted.headers[header::CACHE_CONTROL], "no-store");
        let token = granted.json()["access_token"].as_str().unwrap().to_string();
        assert_eq!(granted.json()["token_type"], "Bearer");
        let who = verifier.verify(&token).unwrap();
        assert_eq!(who.subject, "client:credit-gateway");
        assert_eq!(who.department, "610400-FGW");
        assert_eq!(who.roles, ["publication.reader"]);

        let in_form = call(
            &app,
            token_request(
                None,
                "grant_type=client_credentials&client_id=credit-gateway&client_secret=the+gateway%27s+secret",
            ),
        )
        .await;
        assert_eq!(in_form.status, StatusCode::OK, "{:?}", in_form.json());

        for (auth, body, status, error) in [
            (
                Some(("credit-gateway", "a guess")),
                "grant_type=client_credentials",
                StatusCode::UNAUTHORIZED,
                "invalid_client",
            ),
            (
                Some(("nobody", "the%20gateway%27s%20secret")),
                "grant_type=client_credentials",
                StatusCode::UNAUTHORIZED,
                "invalid_client",
            ),
            (None, "grant_type=client_credentials", StatusCode::UNAUTHORIZED, "invalid_client"),
            (
                Some(("credit-gateway", "the%20gateway%27s%20secret")),
                "grant_type=password&username=zhang.san&password=x",
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
            ),
        ] {
            let refused = call(&app, token_request(auth, body)).await;
            assert_eq!(refused.status, status, "{auth:?} {body}");
            assert_eq!(refused.json()["error"], error, "{auth:?} {body}");
        }
        std::fs::remove_dir_all(dir).unwrap();
        isolated.cleanup().await;
    })
    .await;
}
