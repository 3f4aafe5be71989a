//! The daemon's local control channel: HTTP over a Unix socket in the runtime folder.
//!
//! The socket is `$XDG_RUNTIME_DIR/tikker/control.sock`, mode `0600` in a `0700` folder of the
//! user; a stale socket left by a crashed daemon is removed (the daemon lock proves no other
//! daemon serves it), and every connection's peer credentials are checked so that only the
//! user's own processes are answered. It serves the whole HTTP API ([`crate::api`]), trusted;
//! `tikker pause`, `resume` and `status` talk to it with `tikker_wire::client::ControlClient`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tokio::net::{UnixListener, UnixStream};

/// A Unix socket listener that answers only processes of the same user.
#[derive(Debug)]
pub struct OwnerOnlyListener {
    inner: UnixListener,
    path: PathBuf,
}

impl OwnerOnlyListener {
    /// Binds the control socket at `path` (replacing a stale one) with mode `0600`.
    pub fn bind(path: &Path) -> anyhow::Result<OwnerOnlyListener> {
        if std::fs::symlink_metadata(path).is_ok() {
            // The caller holds the daemon lock, so nothing should answer here: a leftover of a
            // daemon that was killed.
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                anyhow::bail!(
                    "another process answers on {}: is another tikker daemon running?",
                    path.display()
                );
            }
            std::fs::remove_file(path)
                .with_context(|| format!("removing the stale socket {}", path.display()))?;
            tracing::debug!(socket = %path.display(), "removed a stale control socket");
        }
        let inner = UnixListener::bind(path)
            .with_context(|| format!("binding the control socket {}", path.display()))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("protecting {}", path.display()))?;
        Ok(OwnerOnlyListener {
            inner,
            path: path.to_path_buf(),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl axum::serve::Listener for OwnerOnlyListener {
    type Io = UnixStream;
    type Addr = tokio::net::unix::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let peer = stream.peer_cred().map(|c| c.uid());
                    match tikker_wire::socket::check_peer(&self.path, peer) {
                        Ok(()) => return (stream, addr),
                        Err(e) => {
                            tracing::warn!(error = %e, "refused a control connection")
                        }
                    }
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!(error = %e, "accepting a control connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}
