//! Finding keyboards under `/dev/input`: a device counts if it reports all 26 letter keys (mice,
//! power buttons, lid switches and most macro pads do not).

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tikker_core::device::DeviceInfo;

use super::permission::permission_advice;

/// A keyboard found under `/dev/input`.
#[derive(Debug)]
pub struct Keyboard {
    /// Its device node.
    pub path: PathBuf,
    /// Its name as the kernel reports it.
    pub name: String,
    /// What the kernel says of it: ids, bus, port, sysfs folder, virtual or not.
    pub info: DeviceInfo,
    /// The node, for reading (a duplicate of the descriptor `device` holds).
    pub(super) file: File,
    /// The node as opened, kept open while it is read: its ioctls were made through this
    /// descriptor (emulators such as umockdev answer ioctls only on the descriptor `open`
    /// returned, not on a duplicate).
    pub(super) device: evdev::raw_stream::RawDevice,
}

/// What a look at `/dev/input` found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Readable keyboards.
    pub keyboards: Vec<Keyboard>,
    /// Event devices that could not be opened for lack of permission.
    pub denied: Vec<PathBuf>,
    /// Readable event devices that are not keyboards.
    pub other_devices: usize,
    /// The folder could not be listed (missing, or not readable); why.
    pub unreadable_dir: Option<String>,
}

impl Discovery {
    /// How many keyboards can be read.
    pub fn readable_keyboards(&self) -> usize {
        self.keyboards.len()
    }

    /// Why no keyboard can be read, and what to do about it.
    pub fn explain_no_keyboard(&self, dir: &Path) -> String {
        if let Some(why) = &self.unreadable_dir {
            return format!("{} cannot be read ({why})", dir.display());
        }
        if !self.denied.is_empty() {
            return permission_advice(dir, &self.denied);
        }
        format!(
            "no keyboard was found under {} ({} other input devices)",
            dir.display(),
            self.other_devices
        )
    }
}

/// Lists the event devices under `dir` and opens the keyboards among them.
pub fn discover(dir: &Path) -> Discovery {
    let mut discovery = Discovery::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            discovery.unreadable_dir = Some(e.to_string());
            return discovery;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| is_event_node(path))
        .collect();
    paths.sort();
    for path in paths {
        match open_keyboard(&path) {
            Ok(Some(keyboard)) => discovery.keyboards.push(keyboard),
            Ok(None) => discovery.other_devices += 1,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => discovery.denied.push(path),
            Err(e) => tracing::debug!(device = %path.display(), error = %e, "not an input device"),
        }
    }
    discovery
}

pub(super) fn is_event_node(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("event"))
}

/// Opens `path` and keeps it if it is a keyboard (`Ok(None)` if it is another device).
pub(super) fn open_keyboard(path: &Path) -> io::Result<Option<Keyboard>> {
    let opened = File::open(path)?;
    let file = opened.try_clone()?;
    let device = evdev::raw_stream::RawDevice::from_fd(opened.into())?;
    let letters = [
        evdev::KeyCode::KEY_A,
        evdev::KeyCode::KEY_B,
        evdev::KeyCode::KEY_C,
        evdev::KeyCode::KEY_D,
        evdev::KeyCode::KEY_E,
        evdev::KeyCode::KEY_F,
        evdev::KeyCode::KEY_G,
        evdev::KeyCode::KEY_H,
        evdev::KeyCode::KEY_I,
        evdev::KeyCode::KEY_J,
        evdev::KeyCode::KEY_K,
        evdev::KeyCode::KEY_L,
        evdev::KeyCode::KEY_M,
        evdev::KeyCode::KEY_N,
        evdev::KeyCode::KEY_O,
        evdev::KeyCode::KEY_P,
        evdev::KeyCode::KEY_Q,
        evdev::KeyCode::KEY_R,
        evdev::KeyCode::KEY_S,
        evdev::KeyCode::KEY_T,
        evdev::KeyCode::KEY_U,
        evdev::KeyCode::KEY_V,
        evdev::KeyCode::KEY_W,
        evdev::KeyCode::KEY_X,
        evdev::KeyCode::KEY_Y,
        evdev::KeyCode::KEY_Z,
    ];
    let is_keyboard = device
        .supported_keys()
        .is_some_and(|keys| letters.iter().all(|key| keys.contains(*key)));
    if !is_keyboard {
        return Ok(None);
    }
    let name = device.name().unwrap_or("unnamed keyboard").to_owned();
    let id = device.input_id();
    let sysfs_path = sysfs_folder(&file, path).unwrap_or_default();
    let info = DeviceInfo {
        name: name.clone(),
        bus: id.bus_type().0,
        vendor: id.vendor(),
        product: id.product(),
        phys: device.physical_path().unwrap_or_default().to_owned(),
        is_virtual: DeviceInfo::is_virtual_path(&sysfs_path, id.bus_type().0),
        sysfs_path,
    };
    Ok(Some(Keyboard {
        path: path.to_path_buf(),
        name,
        info,
        file,
        device,
    }))
}

/// The sysfs folder of the input device behind an event node (`/sys/devices/…/inputN`): found
/// through the node's device number (`/sys/dev/char/M:m`), or else its name
/// (`/sys/class/input/eventN`). `None` if sysfs does not say.
fn sysfs_folder(file: &File, path: &Path) -> Option<String> {
    let mut candidates = Vec::new();
    if let Ok(metadata) = file.metadata() {
        let rdev = metadata.rdev();
        candidates.push(PathBuf::from(format!(
            "/sys/dev/char/{}:{}",
            libc::major(rdev),
            libc::minor(rdev)
        )));
    }
    if let Some(name) = path.file_name() {
        candidates.push(Path::new("/sys/class/input").join(name));
    }
    candidates.into_iter().find_map(|event_dir| {
        // `eventN/device` links to the input device (`inputN`).
        let device = std::fs::canonicalize(event_dir.join("device")).ok()?;
        Some(device.to_string_lossy().into_owned())
    })
}
