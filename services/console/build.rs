//! Builds the console's web app (`web/`, Vue + TypeScript, with Vite) and embeds it: the types come from the
//! services' protos by `buf generate`, the build goes to OUT_DIR, and every file is embedded as it is and gzipped,
//! so `suiji serve console` is one process that fetches nothing at run time.
//!
//! npm is a prerequisite of the build (README). The workspace's packages are installed with `npm ci` when the lock
//! file is newer than the installed tree. `SUIJI_WEB_DIST=<dir>` embeds a build made elsewhere instead.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    let web = manifest.join("web");
    let root = manifest.join("../..");
    for path in [
        "web/src",
        "web/proto",
        "web/index.html",
        "web/package.json",
        "web/vite.config.ts",
        "web/tsconfig.json",
        "web/buf.gen.yaml",
        "../../proto",
        "../../package-lock.json",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rerun-if-env-changed=SUIJI_WEB_DIST");

    let dist = match std::env::var_os("SUIJI_WEB_DIST") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let dist = out.join("web-dist");
            install(&root);
            run(
                Command::new("npm")
                    .args(["run", "build"])
                    .current_dir(&web)
                    .env("SUIJI_WEB_OUT", &dist),
                "npm run build (the console's web app)",
            );
            dist
        }
    };
    embed(&dist, &out);
}

/// `npm ci` in the workspace root when its lock file is newer than what is installed.
fn install(root: &Path) {
    let installed = root.join("node_modules/.package-lock.json");
    let fresh = match (
        modified(&installed),
        modified(&root.join("package-lock.json")),
    ) {
        (Some(installed), Some(lock)) => installed >= lock,
        _ => false,
    };
    if !fresh {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(root),
            "npm ci (the console's web app's packages)",
        );
    }
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| {
        panic!("{what}: cannot run npm ({e}); npm is a prerequisite, see the README")
    });
    if !output.status.success() {
        panic!(
            "{what} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Writes `OUT_DIR/web_assets.rs`: every file of `dist` with its content type, bytes and gzipped bytes.
fn embed(dist: &Path, out: &Path) {
    let gz = out.join("web-gz");
    let _ = std::fs::remove_dir_all(&gz);
    let mut files = Vec::new();
    walk(dist, &mut files);
    files.sort();
    assert!(
        files.iter().any(|f| f.ends_with("index.html")),
        "{} holds no index.html: the web app did not build",
        dist.display()
    );
    let mut code = String::from(
        "/// The web app's files: path under /console/, content type, bytes, gzipped bytes.\n",
    );
    code.push_str("pub static ASSETS: &[(&str, &str, &[u8], &[u8])] = &[\n");
    for file in files {
        let relative = file.strip_prefix(dist).expect("walked from dist");
        let name = relative.to_string_lossy().replace('\\', "/");
        let bytes = std::fs::read(&file).expect("a built file reads");
        let zipped = gz.join(format!("{name}.gz"));
        std::fs::create_dir_all(zipped.parent().expect("has a parent"))
            .expect("OUT_DIR is writable");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&bytes).expect("gzip in memory");
        std::fs::write(&zipped, encoder.finish().expect("gzip in memory"))
            .expect("OUT_DIR is writable");
        code.push_str(&format!(
            "    ({name:?}, {:?}, include_bytes!({:?}), include_bytes!({:?})),\n",
            content_type(&name),
            file.display().to_string(),
            zipped.display().to_string()
        ));
    }
    code.push_str("];\n");
    std::fs::write(out.join("web_assets.rs"), code).expect("OUT_DIR is writable");
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        Some("json") => "application/json",
        Some("map") => "application/json",
        _ => "application/octet-stream",
    }
}
