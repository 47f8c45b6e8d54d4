//! Compiles every `.proto` under `proto/` into Rust with tonic-prost, using the vendored `protoc`.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The manifest directory as cargo gives it to this run, not as it was when the script was compiled: two
    // checkouts sharing one target directory (CI's clone and a session's) share the compiled script, and a path
    // baked in at compile time would read the other checkout's protos.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let mut protos = Vec::new();
    collect(&root, &mut protos)?;
    protos.sort();
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let include = protoc_bin_vendored::include_path()?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .protoc_arg("--experimental_allow_proto3_optional")
        .file_descriptor_set_path(out.join("suiji_descriptor.bin"))
        .compile_with_config(
            {
                let mut config = tonic_prost_build::Config::new();
                config.protoc_executable(protoc);
                config.enable_type_names();
                config
            },
            &protos,
            &[root.clone(), include],
        )?;
    // A directory's own change time moves only when entries come or go: watch every file as well. The paths are
    // relative to this crate, so two checkouts sharing one target directory each watch their own files.
    println!("cargo:rerun-if-changed=../../proto");
    for proto in &protos {
        let under = proto.strip_prefix(&root).unwrap_or(proto);
        println!(
            "cargo:rerun-if-changed={}",
            Path::new("../../proto").join(under).display()
        );
    }
    Ok(())
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
