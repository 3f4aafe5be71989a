#!/usr/bin/python3
"""Writes the emulated devices of daemon/tests/evdev.rs (run it here after changing it).

Each device is a `.umockdev` file (its sysfs folder, udev properties and device node, as
umockdev-record writes them) and an `.ioctl` file answering exactly the requests the evdev crate
(0.13) makes when it opens a device, with the buffer lengths it passes: EVIOCGBIT(0) with 4
bytes (EV_CNT bits), EVIOCGNAME/PHYS/UNIQ with 256, EVIOCGID, EVIOCGVERSION, EVIOCGPROP with 4,
EVIOCGBIT(EV_KEY) with 96 (KEY_CNT bits), EVIOCGBIT(EV_REL) with 2, EVIOCGBIT(EV_MSC) with 1,
EVIOCGBIT(EV_LED) with 2 and EVIOCGREP (8). umockdev answers a request only if its length matches
the recorded data's, so the strings are padded to 256 bytes (the return value is the string's
length with its NUL, as the kernel returns it)."""

EV_SYN, EV_KEY, EV_REL, EV_MSC, EV_LED, EV_REP = 0, 1, 2, 4, 0x11, 0x14


def bits(count_bytes, set_bits):
    data = bytearray(count_bytes)
    for b in set_bits:
        data[b // 8] |= 1 << (b % 8)
    return data.hex().upper()


def padded(text, n=256):
    raw = text.encode() + b"\0"
    return f"{len(raw)} {(raw + bytes(n - len(raw))).hex().upper()}"


def device(name, sysfs, node, minor, bus, vendor, product, version, phys, keyboard):
    event_types = [EV_SYN, EV_KEY, EV_MSC] + ([EV_LED, EV_REP] if keyboard else [EV_REL])
    keys = list(range(1, 256)) if keyboard else [0x110, 0x111, 0x112]
    input_dir = sysfs.rsplit("/", 1)[0]
    input_name = input_dir.rsplit("/", 1)[1]
    udev_kind = "ID_INPUT_KEY=1\nE: ID_INPUT_KEYBOARD=1" if keyboard else "ID_INPUT_MOUSE=1"
    umockdev = f"""P: {sysfs}
N: input/{node}
E: DEVNAME=/dev/input/{node}
E: ID_INPUT=1
E: {udev_kind}
E: MAJOR=13
E: MINOR={minor}
E: SUBSYSTEM=input
A: dev=13:{minor}
L: device=../../{input_name}

P: {input_dir}
E: ID_INPUT=1
E: {udev_kind}
E: NAME="{name}"
E: PRODUCT={bus:x}/{vendor:x}/{product:x}/{version:x}
E: SUBSYSTEM=input
A: name={name}
A: phys={phys}
A: uniq=
A: properties=0
"""
    ioctl = [
        "EVIOCGVERSION 0 01000100",
        "EVIOCGID 0 "
        + b"".join(v.to_bytes(2, "little") for v in (bus, vendor, product, version)).hex().upper(),
        f"EVIOCGNAME(0) {padded(name)}",
        f"EVIOCGPHYS(0) {padded(phys)}",
        f"EVIOCGUNIQ(0) {padded('')}",
        "EVIOCGPROP(0) 4 00000000",
        f"EVIOCGBIT(0) 4 {bits(4, event_types)}",
        f"EVIOCGBIT(1) 96 {bits(96, keys)}",
        f"EVIOCGBIT(4) 1 {bits(1, [4])}",
    ]
    if keyboard:
        ioctl += [f"EVIOCGBIT(17) 2 {bits(2, [0, 1, 2])}", "EVIOCGREP 0 FA00000021000000"]
    else:
        ioctl += [f"EVIOCGBIT(2) 2 {bits(2, [0, 1, 8])}"]
    with open(f"{node_name(name)}.umockdev", "w") as f:
        f.write(umockdev)
    with open(f"{node_name(name)}.ioctl", "w") as f:
        f.write("\n".join(ioctl) + "\n")


def node_name(name):
    return {
        "AT Translated Set 2 keyboard": "at-keyboard",
        "Test USB Mouse": "usb-mouse",
        "Test USB Keyboard": "usb-keyboard",
        "ydotoold virtual device": "uinput-keyboard",
    }[name]


device("AT Translated Set 2 keyboard",
       "/devices/platform/i8042/serio0/input/input3/event3", "event3", 67,
       0x11, 0x0001, 0x0001, 0xAB41, "isa0060/serio0/input0", True)
device("Test USB Mouse",
       "/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/0003:046D:C077.0002/input/input5/event5",
       "event5", 69, 0x03, 0x046D, 0xC077, 0x0111, "usb-0000:00:14.0-1/input0", False)
device("Test USB Keyboard",
       "/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/0003:1234:5678.0003/input/input8/event8",
       "event8", 72, 0x03, 0x1234, 0x5678, 0x0111, "usb-0000:00:14.0-2/input0", True)
device("ydotoold virtual device",
       "/devices/virtual/input/input9/event9", "event9", 73,
       0x03, 0x2333, 0x6666, 0x0001, "", True)
