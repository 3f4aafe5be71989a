//! Checks that the dashboard's built assets exist before they are embedded, and names the
//! command that makes them when they do not.

use std::path::Path;

/// The files `src/lib.rs` embeds, as `scripts/build-dashboard` writes them into `dist/`.
const BUILT: &[&str] = &["index.html", "app.js", "app.css", "licenses.txt"];

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist");
    println!("cargo:rerun-if-changed=dist");
    let missing: Vec<&str> = BUILT
        .iter()
        .copied()
        .filter(|name| {
            let path = dist.join(name);
            println!("cargo:rerun-if-changed={}", path.display());
            !path.is_file()
        })
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "error: the dashboard's built assets are missing from {}: {}.\n\
             Build them with `scripts/build-dashboard` (npm ci, then esbuild; needs Node.js and \
             npm, which `scripts/setup` installs), then build again.",
            dist.display(),
            missing.join(", ")
        );
        std::process::exit(1);
    }
}
