//! The `plaster` binary's own behaviour: help and bad settings.

use std::process::Command;

fn plaster() -> Command {
    Command::new(env!("CARGO_BIN_EXE_plaster"))
}

#[test]
fn help_lists_every_subcommand() {
    let out = plaster().arg("--help").output().expect("run plaster");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "migrate", "demo", "compensation"] {
        assert!(text.contains(cmd), "{cmd} missing from --help:\n{text}");
    }
}

#[test]
fn a_bad_setting_exits_2_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = plaster()
        .current_dir(dir.path())
        .args(["serve"])
        .env("PLASTER_TIME_ZONE", "Mars/Olympus_Mons")
        .output()
        .expect("run plaster");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PLASTER_TIME_ZONE"), "{err}");
}

#[test]
fn a_bad_config_file_exits_2_naming_file_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("plaster.toml");
    std::fs::write(&file, "listen = \"not an address\"\n").expect("write");
    let out = plaster()
        .current_dir(dir.path())
        .args(["migrate"])
        .env_remove("PLASTER_LISTEN")
        .output()
        .expect("run plaster");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plaster.toml") && err.contains("listen"), "{err}");
}
