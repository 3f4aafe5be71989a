#!/usr/bin/python3
"""An umockdev testbed for tikker's evdev tests: emulated input devices, a program run in it,
and devices added and removed while it runs.

Usage: testbed.py DEVICE... -- PROGRAM ARGS...
  DEVICE is NAME=UMOCKDEV[,IOCTL[,EVENTS]] (files of the umockdev-record formats; the device
  node is the first `N:` line of UMOCKDEV). PROGRAM runs with libumockdev's preload library, so
  it sees the testbed's /sys and /dev/input, and its evdev ioctls are answered from IOCTL.
Commands on stdin, one a line, each answered with `ok ...` on stdout:
  add DEVICE               adds a device while PROGRAM runs (hot-plug)
  remove NAME              removes it (its sysfs folder and node)
  chmod NAME MODE          sets its node's mode (octal)
  root                     prints the testbed's root folder
SIGTERM and SIGINT are passed on to PROGRAM; on its exit the testbed exits with its status.

umockdev 0.17's evemu reader has two traps that the tests' event files avoid: the microseconds
are read as a C number literal (a leading 0 makes them octal: `.095000` reads as 0), and an
event whose first byte (the seconds' lowest byte) is 0x20 is garbled."""

import os
import signal
import subprocess
import sys
import threading

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import GLib, UMockdev  # noqa: E402

testbed = UMockdev.Testbed.new()
devices = {}  # name -> (syspath, devnode)


def add(spec):
    name, files = spec.split("=", 1)
    parts = files.split(",")
    with open(parts[0]) as f:
        description = f.read()
    devnode = None
    syspath = None
    for line in description.splitlines():
        if line.startswith("N: ") and devnode is None:
            devnode = "/dev/" + line[3:].strip()
        if line.startswith("P: ") and syspath is None:
            syspath = "/sys" + line[3:].strip()
    if len(parts) > 1 and parts[1]:
        testbed.load_ioctl(devnode, parts[1])
    testbed.add_from_string(description)
    if len(parts) > 2 and parts[2]:
        testbed.load_evemu_events(devnode, parts[2])
    devices[name] = (syspath, devnode)
    return devnode


def serve(child):
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] == "add":
                result = run_in_loop(lambda: add(words[1]))
                print("ok", result, flush=True)
            elif words[0] == "remove":
                syspath, _ = devices.pop(words[1])
                run_in_loop(lambda: testbed.remove_device(syspath))
                print("ok", flush=True)
            elif words[0] == "chmod":
                _, devnode = devices[words[1]]
                os.chmod(testbed.get_root_dir() + devnode, int(words[2], 8))
                print("ok", flush=True)
            elif words[0] == "root":
                print("ok", testbed.get_root_dir(), flush=True)
            else:
                print("error unknown command", words[0], flush=True)
        except Exception as e:  # the test reads the reason
            print("error", e, flush=True)


def run_in_loop(work):
    """Runs `work` on the GLib main loop's thread (the testbed's owner) and returns its value."""
    done = threading.Event()
    result = {}

    def call():
        try:
            result["value"] = work()
        except Exception as e:
            result["error"] = e
        done.set()
        return False

    GLib.idle_add(call)
    done.wait()
    if "error" in result:
        raise result["error"]
    return result.get("value")


def pass_on(target):
    child, number = target
    child.send_signal(number)
    return True


def main():
    args = sys.argv[1:]
    split = args.index("--")
    for spec in args[:split]:
        add(spec)
    env = dict(os.environ)
    env["UMOCKDEV_DIR"] = testbed.get_root_dir()
    preload = "libumockdev-preload.so.0"
    env["LD_PRELOAD"] = preload + (":" + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
    child = subprocess.Popen(args[split + 1:], env=env)
    loop = GLib.MainLoop()
    for number in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, number, pass_on, (child, number))

    def reap():
        result["status"] = child.wait()
        GLib.idle_add(loop.quit)

    result = {}
    threading.Thread(target=reap, daemon=True).start()
    threading.Thread(target=serve, args=(child,), daemon=True).start()
    loop.run()
    status = result.get("status", 1)
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
