//! What the tests that run `suiji dev` as a separate process share: free ports, the process and its guard,
//! starting it on a pinned day and stopping it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Ports `suiji dev` takes: one per service, then the console's.
pub const DEV_PORTS: u16 = 7;

/// The first of [`DEV_PORTS`] consecutive free ports for a `suiji dev`, below the kernel's ephemeral range (from
/// 32768 by default): a port the kernel picked for `:0` has neighbours that any other test's outgoing connection
/// may take before `suiji dev` binds them. A random base, so tests running at once rarely pick the same one, and
/// every port of it bound once to see that it is free.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    loop {
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let base = 20_000 + (random % 1_200) as u16 * 10;
        let free = (base..base + DEV_PORTS)
            .map(|port| std::net::TcpListener::bind(("127.0.0.1", port)))
            .collect::<Result<Vec<_>, _>>()
            .is_ok();
        if free {
            return base;
        }
    }
}

/// A running `suiji dev`, killed if the test ends (or fails) without [`terminate`]: a failed test must not
/// leave it holding its ports.
pub struct Dev(pub Option<Child>);

impl Drop for Dev {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The day `suiji dev` runs on in these tests (its clock is pinned there): a Monday in December, a working day
/// whose deadlines run into 2027, a year whose holiday notice is not shipped, and after 1 October, when the
/// operators are asked for it.
pub const DAY: &str = "2026-12-21";

/// Starts `suiji dev` and returns it with the services' addresses it printed, the console's and the token it
/// printed for the lead department.
pub fn start(
    data: &std::path::Path,
    port: u16,
    demo: bool,
) -> (Dev, Vec<(String, String)>, String, String) {
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
    let mut dev = Dev(Some(
        command
            .env("RUST_LOG", "warn")
            .env("SUIJI_CLOCK__START", DAY)
            .env_remove("SUIJI_CONFIG_FILE")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    ));
    let stdout = BufReader::new(dev.0.as_mut().unwrap().stdout.take().unwrap());
    let mut addresses = Vec::new();
    let mut console = String::new();
    let mut token = String::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some((name, addr)) = line.split_once(" grpc://") {
            addresses.push((name.trim().to_string(), format!("http://{}", addr.trim())));
        }
        if let Some(("console", url)) = line.split_once(" http://").map(|(n, u)| (n.trim(), u)) {
            console = format!("http://{}", url.split_whitespace().next().unwrap());
        }
        if let Some((_, printed)) = line.split_once("export SUIJI_TOKEN=") {
            token = printed.trim().to_string();
        }
        if line.starts_with("try:") {
            break;
        }
    }
    (dev, addresses, console, token)
}

pub fn terminate(mut dev: Dev) {
    let mut child = dev.0.take().unwrap();
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
