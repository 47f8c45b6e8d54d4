//! The README's "Using it" section, walked as a newcomer would: every command of its shell blocks, as written, in
//! order, against `suiji dev --demo`, with the ids the commands print put where the README writes `PLAN-…` and
//! `TASK-…`, the token `suiji dev` printed where it writes `SUIJI_TOKEN=…`, and its ports for the default ones.
//! A command that fails fails the test. The one block marked `<!-- readme walk: after concluded visits -->` needs
//! a task taken to its results in the console first, which the console scenario of `dev.rs` does.

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::{free_port, start, terminate};

/// The marker of the one block the walk leaves to the console scenario.
const AFTER_VISITS: &str = "<!-- readme walk: after concluded visits -->";

/// The commands of the shell blocks of the README's "Using it" section, continuation lines joined, comment lines
/// dropped; and how many blocks were marked as needing concluded visits.
fn commands(readme: &str) -> (Vec<String>, usize) {
    let start = readme.find("\n## Using it").expect("a Using it section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let mut commands = Vec::new();
    let mut marked = 0;
    let mut lines = section.lines().peekable();
    let mut previous = "";
    while let Some(line) = lines.next() {
        if line.trim() != "```sh" {
            if !line.trim().is_empty() {
                previous = line;
            }
            continue;
        }
        let skip = previous.trim() == AFTER_VISITS;
        marked += usize::from(skip);
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
                    if !skip {
                        commands.push(std::mem::take(&mut command));
                    }
                    command.clear();
                }
            }
        }
        previous = "";
    }
    (commands, marked)
}

/// The first word of `output` that starts with `prefix` and goes on with the year (`PLAN-2027-…`).
fn id_in(output: &str, prefix: &str) -> Option<String> {
    output
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .find(|w| w.starts_with(prefix) && w[prefix.len()..].starts_with("20"))
        .map(String::from)
}

#[test]
fn the_readme_walks_as_written() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let (walk, marked) = commands(&readme);
    assert_eq!(marked, 1, "one block is left to the console scenario");
    assert!(walk.len() > 20, "{walk:#?}");

    let work = std::env::temp_dir().join(format!("suiji-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    std::os::unix::fs::symlink(root.join("examples"), work.join("examples")).unwrap();
    let data = work.join("data");
    let base = free_port();
    let (dev, addresses, _, printed_token) = start(&data, base, true);
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
    for (n, written) in walk.iter().enumerate() {
        let mut line = written.replace("SUIJI_TOKEN=…", &format!("SUIJI_TOKEN={printed_token}"));
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
        // `export X=…` keeps X for the commands after it, as the reader's shell does.
        let script = match line.strip_prefix("export ") {
            Some(assignment) => {
                let (name, _) = assignment.split_once('=').unwrap();
                format!("export {assignment}\nprintf '%s' \"${name}\"")
            }
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
            "README command {n} failed:\n  {written}\nran as:\n  {line}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        if let Some(assignment) = line.strip_prefix("export ") {
            let (name, _) = assignment.split_once('=').unwrap();
            env.insert(name.to_string(), stdout.clone());
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
