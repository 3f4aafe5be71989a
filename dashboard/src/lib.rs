//! tikker's local dashboard: the built web assets, embedded in the binary.
//!
//! The web sources live in `web/` beside this crate (plain JavaScript modules and CSS, charts
//! by Apache ECharts from the npm registry at the version `package-lock.json` pins).
//! `scripts/build-dashboard` runs `npm ci` and bundles them with esbuild into `dist/`: one
//! `index.html`, one `app.js`, one `app.css` and `licenses.txt` (the licences of every bundled
//! npm package). This crate embeds those files; the build fails, naming that command, when
//! they are missing. The daemon's HTTP API serves them under `/dashboard/` (see
//! `tikker::api::dashboard`), behind its one-time code and session cookie.
//!
//! Nothing here reaches the network: no CDN, no web font; every asset is one of [`ASSETS`].
#![deny(missing_docs)]

/// A built asset: its name under `/dashboard/`, its media type and its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// The file name (`app.js`).
    pub name: &'static str,
    /// The `Content-Type` it is served with.
    pub content_type: &'static str,
    /// The file's bytes.
    pub bytes: &'static [u8],
}

macro_rules! built {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/dist/", $name)),
        }
    };
}

/// Every built asset.
pub const ASSETS: &[Asset] = &[
    built!("index.html", "text/html; charset=utf-8"),
    built!("app.js", "text/javascript; charset=utf-8"),
    built!("app.css", "text/css; charset=utf-8"),
    built!("licenses.txt", "text/plain; charset=utf-8"),
];

/// The page every dashboard view is (the views are chosen by the URL's fragment).
pub const INDEX: &str = "index.html";

/// The asset called `name`, if there is one.
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_asset_is_embedded_and_the_page_loads_only_its_own_files() {
        for a in ASSETS {
            assert!(!a.bytes.is_empty(), "{} is empty", a.name);
        }
        let index = std::str::from_utf8(asset(INDEX).unwrap().bytes).unwrap();
        assert!(index.contains("app.js") && index.contains("app.css"));
        assert!(
            !index.contains("http://") && !index.contains("https://"),
            "{index}"
        );
        assert!(!index.contains("<script>"), "no inline script: {index}");
        let licenses = std::str::from_utf8(asset("licenses.txt").unwrap().bytes).unwrap();
        assert!(licenses.contains("echarts") && licenses.contains("Apache License"));
    }
}
