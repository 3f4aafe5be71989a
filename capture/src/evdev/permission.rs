//! What to tell a person whose account cannot read `/dev/input`: join the `input` group.

use std::path::{Path, PathBuf};

/// The message for devices that exist but cannot be read.
pub(super) fn permission_advice(dir: &Path, denied: &[PathBuf]) -> String {
    let names: Vec<String> = denied
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    format!(
        "permission to read the input devices under {} was denied ({}). To let tikker read \
         keyboards, join the input group: `sudo usermod -aG input $USER`, then log out and log \
         in again (group membership only takes effect in a new login session)",
        dir.display(),
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advice_names_the_device_the_group_and_the_new_login() {
        let message = permission_advice(
            Path::new("/dev/input"),
            &[PathBuf::from("/dev/input/event3")],
        );
        assert!(message.contains("event3"), "{message}");
        assert!(message.contains("usermod -aG input"), "{message}");
        assert!(message.contains("log in again"), "{message}");
    }
}
