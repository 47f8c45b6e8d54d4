//! `docs/using.md`, walked as a newcomer would: every command of its shell blocks, as written, in order, against
//! `suiji dev --demo`, with the ids the commands print put where the page writes `PLAN-…` and `TASK-…`, the token
//! `suiji dev` printed where it writes `SUIJI_TOKEN=…`, and its ports for the default ones.
//! A command that fails fails the test. Where the page has the reader take the demo task to its results in the
//! console (the block that names `FOUND=`), the test does the same coordinators' steps over gRPC first, and puts
//! the held visit's and another visit's result ids where the page writes them.

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::{
    SCJG, STHJ, Started, address, demo_task_to_scheduling, free_port, hold_the_visits, inspection,
    reach, schedule_all, start, terminate, token,
};

/// The shell blocks of `page`, each as its commands: continuation lines joined, comment lines dropped.
fn blocks(page: &str) -> Vec<Vec<String>> {
    let mut blocks = Vec::new();
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```sh" {
            continue;
        }
        let mut block = Vec::new();
        let mut command = String::new();
        for line in lines.by_ref() {
            if line.trim() == "```" {
                break;
            }
            let text = line.trim_end();
            if text.trim_start().starts_with('#') || text.trim().is_empty() {
                continue;
            }
            match text.strip_suffix('\\') {
                Some(part) => command.push_str(part),
                None => {
                    command.push_str(text);
                    block.push(std::mem::take(&mut command));
                }
            }
        }
        blocks.push(block);
    }
    blocks
}

/// Takes the demo task to its results as its coordinators would in the console (STHJ confirms, SCJG approves the
/// targets and schedules every visit, the first is held and finds a problem, the others find nobody), and waits
/// until SCJG's results are there. The ids of SCJG's result on the held visit and on another.
async fn demo_task_to_results(addresses: &[(String, String)]) -> (String, String) {
    let addr = |name: &str| address(addresses, name);
    let roles = "planning.editor,inspection.coordinator,publication.entry";
    let (scjg, sthj) = (token(SCJG, roles), token(STHJ, roles));
    let (mut lead, mut other) = (
        inspection(&addr("inspection"), &scjg),
        inspection(&addr("inspection"), &sthj),
    );
    let (task, _) = demo_task_to_scheduling(&mut lead, &mut other, &addr("planning"), &scjg).await;
    let visits = schedule_all(&mut lead, &task).await;
    assert!(visits.len() >= 2, "two visits at least: {visits:?}");
    hold_the_visits(&mut lead, &mut other, &addr("inspection"), &visits).await;
    reach(&lead, &task, suiji_api::inspection::v1::Phase::Results).await;
    let publication = suiji_publication::testkit::client(&addr("publication"), Some(&scjg));
    suiji_publication::testkit::results(&publication, visits.len()).await;
    let result = |v: &suiji_api::inspection::v1::Visit| format!("{}/{SCJG}/SX-SCJG-001", v.id);
    (result(&visits[0]), result(&visits[1]))
}

/// The variable a command line only sets (`X=…` or `export X=…`, then at most a comment); not one it sets for a
/// command it runs (`X=… suiji …`).
fn assignment(line: &str) -> Option<String> {
    let (name, value) = line.trim_start_matches("export ").split_once('=')?;
    let mut words = value.split_whitespace();
    words.next();
    let only_sets = words.next().is_none_or(|w| w.starts_with('#'));
    (only_sets && !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .then(|| name.to_string())
}

/// The first word of `output` that starts with `prefix` and goes on with the year (`PLAN-2027-…`).
fn id_in(output: &str, prefix: &str) -> Option<String> {
    output
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .find(|w| w.starts_with(prefix) && w[prefix.len()..].starts_with("20"))
        .map(String::from)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walkthrough_runs_as_written() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let page = std::fs::read_to_string(root.join("docs/using.md")).unwrap();
    let blocks = blocks(&page);
    let walk: Vec<String> = blocks.iter().flatten().cloned().collect();
    assert!(walk.len() > 30, "{walk:#?}");

    let work = std::env::temp_dir().join(format!("suiji-walk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    std::os::unix::fs::symlink(root.join("examples"), work.join("examples")).unwrap();
    let data = work.join("data");
    let base = free_port();
    let Started {
        dev,
        addresses,
        token: printed_token,
        ..
    } = start(&data, base, true);
    assert!(!printed_token.is_empty(), "suiji dev prints a token");

    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_suiji"));
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert(
        "PATH".into(),
        format!(
            "{}:{}",
            binary.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    for (name, addr) in &addresses {
        env.insert(format!("SUIJI_{}_ADDR", name.to_uppercase()), addr.clone());
    }
    // The CLI's offline commands (audit verify) read the data where `make run` keeps it.
    env.insert(
        "SUIJI_DATABASE__URL".into(),
        format!("sqlite:{}", data.display()),
    );
    let mut ids: HashMap<&str, String> = HashMap::new();
    let mut results: Option<(String, String)> = None;
    for (n, written) in walk.iter().enumerate() {
        let block = blocks.iter().find(|b| b.contains(written)).unwrap();
        if results.is_none() && block.iter().any(|c| c.starts_with("FOUND=")) {
            // The reader takes the demo task to its results in the console here.
            results = Some(demo_task_to_results(&addresses).await);
        }
        let mut line = written.replace("SUIJI_TOKEN=…", &format!("SUIJI_TOKEN={printed_token}"));
        let (name, _) = line.split_once('=').unwrap_or_default();
        if let ("FOUND" | "ABSENT", Some((found, absent))) = (name, &results) {
            let id = if name == "FOUND" { found } else { absent };
            line = format!("{name}={id}");
        }
        for port in 50051..=50057u16 {
            line = line.replace(
                &format!("127.0.0.1:{port}"),
                &format!("127.0.0.1:{}", base + (port - 50051)),
            );
        }
        for placeholder in ["PLAN-…", "TASK-…"] {
            if line.contains(placeholder) {
                let id = ids.get(placeholder).unwrap_or_else(|| {
                    panic!(
                        "command {n} `{written}` needs a {placeholder} no earlier command printed"
                    )
                });
                line = line.replace(placeholder, id);
            }
        }
        // `X=…` and `export X=…` keep X for the commands after it, as the reader's shell does.
        let assigned = assignment(&line);
        let script = match &assigned {
            Some(name) => format!(
                "export {}\nprintf '%s' \"${name}\"",
                line.trim_start_matches("export ")
            ),
            None => line.clone(),
        };
        let out = Command::new("bash")
            .args(["-c", &script])
            .current_dir(&work)
            .env_clear()
            .envs(&env)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "docs/using.md command {n} failed:\n  {written}\nran as:\n  {line}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        if let Some(name) = assigned {
            env.insert(name, stdout.clone());
        }
        if line.contains("plan create") {
            ids.insert(
                "PLAN-…",
                id_in(&stdout, "PLAN-").expect("plan create prints the plan's id"),
            );
        }
        if line.contains("task create") {
            ids.insert(
                "TASK-…",
                id_in(&stdout, "TASK-").expect("task create prints the task's id"),
            );
        }
    }
    // What the plan block leaves behind, as the planning service tells it: approved, published, a task launched.
    let plan = ids["PLAN-…"].clone();
    let task = ids["TASK-…"].clone();
    let shown = |args: &[&str]| {
        let out = Command::new(binary)
            .args(args)
            .current_dir(&work)
            .env_clear()
            .envs(&env)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let plan_shown = shown(&["plan", "get", &plan]);
    assert!(plan_shown.contains("published"), "{plan_shown}");
    let task_shown = shown(&["task", "get", &task]);
    assert!(task_shown.contains("launched"), "{task_shown}");
    terminate(dev);
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn a_line_that_only_sets_a_variable_is_told_from_one_that_runs_a_command() {
    assert_eq!(
        assignment("export SUIJI_TOKEN=abc   # printed"),
        Some("SUIJI_TOKEN".into())
    );
    assert_eq!(
        assignment("FOUND=TASK-1/T/X       # the visit"),
        Some("FOUND".into())
    );
    assert_eq!(
        assignment("SUIJI_TOKEN=$(suiji token) suiji plan approve P"),
        None
    );
    assert_eq!(assignment("suiji plan create --file a=b"), None);
}
