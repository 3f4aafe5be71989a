//! `tikker-tray`: the system tray client of the tikker daemon.
//!
//! Until the tray is built it only says what it is.

fn main() {
    if std::env::args().any(|a| a == "--version" || a == "-V") {
        println!("tikker-tray {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    println!(
        "tikker-tray {}: the tray icon is not built yet; use `tikker stats`",
        env!("CARGO_PKG_VERSION")
    );
}
