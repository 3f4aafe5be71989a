//! The keyboard a session's typing came from, as far as its source can tell.
//!
//! Live evdev capture knows each device's name, its USB (or other bus) vendor and product ids,
//! its physical path (the port it hangs on) and where the kernel placed it in sysfs: a device
//! created by a program through `uinput` (as `ydotool` and software keyboards do) sits under
//! `/devices/virtual/`, a real one under its bus. X11's RECORD extension and replays of files do
//! not say which device typed, so their sessions have none.
//!
//! A keyboard is recognised again by its [`DeviceInfo::identity`] (bus, vendor, product, name
//! and whether it is virtual), not by its node or port: unplugging it and plugging it into
//! another port is the same keyboard.

use serde::{Deserialize, Serialize};

/// The Linux bus type of devices created by programs (`BUS_VIRTUAL`).
pub const BUS_VIRTUAL: u16 = 0x06;

/// A keyboard as its source describes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// The name the device gives itself (`EVIOCGNAME`).
    pub name: String,
    /// The bus type (`BUS_USB` 0x03, `BUS_I8042` 0x11, `BUS_BLUETOOTH` 0x05, `BUS_VIRTUAL` 0x06…).
    pub bus: u16,
    /// The vendor id.
    pub vendor: u16,
    /// The product id.
    pub product: u16,
    /// The physical path (`EVIOCGPHYS`, e.g. `usb-0000:00:14.0-2/input0`); empty if none.
    pub phys: String,
    /// The device's folder under `/sys` (e.g. `/sys/devices/virtual/input/input7`); empty if
    /// unknown.
    pub sysfs_path: String,
    /// Created by a program (`uinput`): under `/devices/virtual/` in sysfs, or on
    /// [`BUS_VIRTUAL`].
    pub is_virtual: bool,
}

impl DeviceInfo {
    /// Whether a device with this sysfs folder and bus was created by a program.
    pub fn is_virtual_path(sysfs_path: &str, bus: u16) -> bool {
        sysfs_path.contains("/devices/virtual/") || bus == BUS_VIRTUAL
    }

    /// What makes it the same keyboard another time: bus, vendor:product, name, and whether it
    /// is virtual (not its node or port).
    pub fn identity(&self) -> String {
        format!(
            "{:04x}:{:04x}:{:04x}:{}:{}",
            self.bus,
            self.vendor,
            self.product,
            if self.is_virtual {
                "virtual"
            } else {
                "physical"
            },
            self.name
        )
    }

    /// `vendor:product` in hex, as `lsusb` shows it.
    pub fn vendor_product(&self) -> String {
        format!("{:04x}:{:04x}", self.vendor, self.product)
    }

    /// One line for people: name, ids, bus, port, and whether it is virtual.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "\"{}\" ({}, {}",
            self.name,
            self.vendor_product(),
            bus_name(self.bus)
        );
        if !self.phys.is_empty() {
            text.push_str(&format!(", at {}", self.phys));
        }
        text.push(')');
        if self.is_virtual {
            text.push_str(
                ", a virtual device created by a program (uinput), not a physical keyboard",
            );
        }
        text
    }
}

/// The name of a Linux bus type.
pub fn bus_name(bus: u16) -> String {
    match bus {
        0x01 => "PCI".to_owned(),
        0x03 => "USB".to_owned(),
        0x05 => "Bluetooth".to_owned(),
        0x06 => "virtual bus".to_owned(),
        0x11 => "i8042 (built-in keyboard port)".to_owned(),
        0x18 => "I2C".to_owned(),
        0x19 => "host".to_owned(),
        other => format!("bus 0x{other:02x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyboard(sysfs_path: &str, bus: u16) -> DeviceInfo {
        DeviceInfo {
            name: "Test Keyboard".into(),
            bus,
            vendor: 0x1234,
            product: 0x5678,
            phys: "usb-test/input0".into(),
            sysfs_path: sysfs_path.into(),
            is_virtual: DeviceInfo::is_virtual_path(sysfs_path, bus),
        }
    }

    #[test]
    fn uinput_devices_are_virtual_by_their_sysfs_folder_or_bus() {
        assert!(keyboard("/sys/devices/virtual/input/input7", 0x03).is_virtual);
        assert!(keyboard("", BUS_VIRTUAL).is_virtual);
        let usb = keyboard(
            "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/input/input3",
            0x03,
        );
        assert!(!usb.is_virtual);
        assert_eq!(usb.vendor_product(), "1234:5678");
        assert!(usb.describe().contains("USB"), "{}", usb.describe());
        assert!(!usb.describe().contains("virtual"));
        let virtual_one = keyboard("/sys/devices/virtual/input/input7", 0x03);
        assert!(virtual_one.describe().contains("virtual device"));
    }

    #[test]
    fn the_same_keyboard_on_another_port_has_the_same_identity() {
        let mut moved = keyboard("/sys/devices/pci0000:00/usb1/1-3/input/input9", 0x03);
        moved.phys = "usb-0000:00:14.0-3/input0".into();
        assert_eq!(
            moved.identity(),
            keyboard("/sys/devices/pci0000:00/usb1/1-2/input/input3", 0x03).identity()
        );
        assert_ne!(
            moved.identity(),
            keyboard("/sys/devices/virtual/input/input7", 0x03).identity(),
            "a virtual copy of a keyboard's ids is another device"
        );
    }
}
