//! Where the daemon of this user listens: the runtime folder `$XDG_RUNTIME_DIR/tikker` (without
//! `XDG_RUNTIME_DIR`, `/tmp/tikker-<uid>`) and its control socket `control.sock`. The daemon
//! creates and checks the folder; every client finds it with the same rule.

use std::path::PathBuf;

/// The runtime folder of this user's daemon (not created here).
pub fn runtime_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(base) => PathBuf::from(base).join("tikker"),
        None => std::env::temp_dir().join(format!("tikker-{}", current_uid())),
    }
}

/// The control socket of this user's daemon.
pub fn control_socket() -> PathBuf {
    runtime_dir().join("control.sock")
}

/// This process's user id.
pub fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}
