//! `suiji dev` as a separate process: it prints every address, every service answers health SERVING, demo
//! data is loaded, SIGTERM stops it cleanly, and a second start finds the data where the first left it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use suiji_api::catalog::v1 as pb;
use suiji_api::catalog::v1::catalog_service_client::CatalogServiceClient;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `suiji dev` and returns it with the addresses it printed.
fn start(data: &std::path::Path, port: u16, demo: bool) -> (Child, Vec<(String, String)>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_suiji"));
    command.args([
        "dev",
        "--data",
        data.to_str().unwrap(),
        "--base-port",
        &port.to_string(),
    ]);
    if demo {
        command.arg("--demo");
    }
    let mut child = command
        .env("RUST_LOG", "warn")
        .env_remove("SUIJI_CONFIG_FILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut addresses = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some((name, addr)) = line.split_once(" grpc://") {
            addresses.push((name.trim().to_string(), format!("http://{}", addr.trim())));
        }
        if line.starts_with("try:") {
            break;
        }
    }
    (child, addresses)
}

fn terminate(mut child: Child) {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "suiji dev exits cleanly on SIGTERM: {status}"
            );
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("suiji dev did not stop within 10 s of SIGTERM");
}

async fn public_items(addr: &str) -> Vec<String> {
    let mut client = CatalogServiceClient::connect(addr.to_string())
        .await
        .unwrap();
    let page = client
        .list_public_items(pb::ListPublicItemsRequest::default())
        .await
        .unwrap()
        .into_inner();
    page.items.into_iter().map(|i| i.code).collect()
}

/// Targets in the directory, counted through the API with a development token.
async fn demo_targets(addr: &str) -> usize {
    use suiji_api::directories::v1 as dir;
    let token = Command::new(env!("CARGO_BIN_EXE_suiji"))
        .args([
            "token",
            "--department",
            "610400-SCJG",
            "--role",
            "directories.editor",
        ])
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap();
    let channel = suiji_platform::grpc::channel(addr).unwrap();
    let mut client = dir::directories_service_client::DirectoriesServiceClient::with_interceptor(
        channel,
        suiji_platform::grpc::Bearer::new(Some(token.trim())),
    );
    let mut count = 0;
    let mut page_token = String::new();
    loop {
        let page = client
            .list_targets(dir::ListTargetsRequest {
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        count += page.targets.len();
        if page.next_page_token.is_empty() {
            return count;
        }
        page_token = page.next_page_token;
    }
}

async fn public_plans(addr: &str) -> Vec<String> {
    use suiji_api::planning::v1 as plan;
    let channel = suiji_platform::grpc::channel(addr).unwrap();
    let mut client = plan::planning_service_client::PlanningServiceClient::new(channel);
    let page = client
        .list_public_plans(plan::ListPublicPlansRequest::default())
        .await
        .unwrap()
        .into_inner();
    page.plans.into_iter().map(|p| p.id).collect()
}

async fn health(addr: &str) -> i32 {
    let channel = suiji_platform::grpc::channel(addr).unwrap();
    let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
    client
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_serves_every_service_and_keeps_its_data() {
    let data = std::env::temp_dir().join(format!("suiji-dev-{}", uuid_like()));
    let port = free_port();

    let (child, addresses) = start(&data, port, true);
    let names: Vec<&str> = addresses.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "catalog",
            "directories",
            "planning",
            "draw",
            "inspection",
            "publication"
        ],
        "one line per service"
    );
    for (_, addr) in &addresses {
        assert_eq!(
            health(addr).await,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
    }
    let first = public_items(&addresses[0].1).await;
    assert_eq!(first.len(), 4, "demo catalog loaded: {first:?}");
    assert_eq!(
        demo_targets(&addresses[1].1).await,
        2000,
        "demo directory loaded"
    );
    let plans = public_plans(&addresses[2].1).await;
    assert_eq!(plans.len(), 1, "the demo's joint plan is published");
    // Publication answers the public without a token: the code table, and a search that finds nothing yet.
    let codes = Command::new(env!("CARGO_BIN_EXE_suiji"))
        .args(["result", "codes", "--addr", &addresses[5].1])
        .output()
        .unwrap();
    let codes = String::from_utf8_lossy(&codes.stdout);
    assert!(
        codes.contains("table 2024-1") && codes.contains("未发现问题"),
        "{codes}"
    );
    terminate(child);

    let (child, addresses) = start(&data, port, true);
    assert_eq!(
        public_plans(&addresses[2].1).await,
        plans,
        "loading the demo twice adds no second plan"
    );
    assert_eq!(
        public_items(&addresses[0].1).await,
        first,
        "the second start finds the first one's data, unchanged"
    );
    terminate(child);

    // The operator commands work on the same data: the audit trail holds, migrations are already applied.
    let url = format!("sqlite:{}", data.display());
    let verify = suiji(&["audit", "verify", "catalog"], &url);
    assert!(verify.status.success(), "{verify:?}");
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(
        out.starts_with("catalog: intact, 8 entries"),
        "4 demo items created and published: {out}"
    );
    let verify = suiji(&["audit", "verify", "directories"], &url);
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(
        out.starts_with("directories: intact, 2 entries"),
        "the two demo imports: {out}"
    );
    let verify = suiji(&["audit", "verify", "planning"], &url);
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(
        out.starts_with("planning: intact, 5 entries"),
        "the demo plan drafted, submitted, approved, published, and its task: {out}"
    );
    let migrate = suiji(&["migrate"], &url);
    let migrated = String::from_utf8_lossy(&migrate.stdout);
    assert!(migrate.status.success(), "{migrate:?}");
    assert!(
        migrated.contains("catalog      migrated") && migrated.contains("directories  migrated"),
        "{migrated}"
    );
    let _ = std::fs::remove_dir_all(&data);
}

fn suiji(args: &[&str], database_url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_suiji"))
        .args(args)
        .env("SUIJI_DATABASE__URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_suiji"))
        .args(["serve", "catalog"])
        .env(
            "SUIJI_JURISDICTION__GENERAL_RATIO_CAP_BASIS_POINTS",
            "twenty",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("jurisdiction.general_ratio_cap_basis_points"),
        "{err}"
    );
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}
