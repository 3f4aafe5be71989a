//! Key identities: one canonical numbering for every capture backend and data set.
//!
//! tikker identifies a key by its Linux evdev code (`KEY_*` in `linux/input-event-codes.h`):
//! the evdev backend reads it directly, X11 keycodes are evdev codes plus 8, and this module maps
//! JavaScript `keyCode`s (the Aalto data set) and key names (`a`, `Shift`, `BackSpace`, `KEY_A`,
//! rdev's `KeyA`, …) onto it, so data from any source compares. A key identity names a physical
//! key, never the text it produced.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A physical key, numbered as Linux evdev numbers it (`KEY_A` = 30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyCode(pub u16);

/// Why a key token could not be resolved to a [`KeyCode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown key {token:?}: expected a key name (a, Shift, BackSpace, KEY_A…), an evdev code (0 to 767), or js:N / x11:N (X11 keycodes run from 8 to 255)"
)]
pub struct UnknownKey {
    /// The token as it was given.
    pub token: String,
}

/// `(evdev code, name without the KEY_ prefix)` for the keys tikker names.
const KEY_NAMES: &[(u16, &str)] = &[
    (0, "RESERVED"),
    (1, "ESC"),
    (2, "1"),
    (3, "2"),
    (4, "3"),
    (5, "4"),
    (6, "5"),
    (7, "6"),
    (8, "7"),
    (9, "8"),
    (10, "9"),
    (11, "0"),
    (12, "MINUS"),
    (13, "EQUAL"),
    (14, "BACKSPACE"),
    (15, "TAB"),
    (16, "Q"),
    (17, "W"),
    (18, "E"),
    (19, "R"),
    (20, "T"),
    (21, "Y"),
    (22, "U"),
    (23, "I"),
    (24, "O"),
    (25, "P"),
    (26, "LEFTBRACE"),
    (27, "RIGHTBRACE"),
    (28, "ENTER"),
    (29, "LEFTCTRL"),
    (30, "A"),
    (31, "S"),
    (32, "D"),
    (33, "F"),
    (34, "G"),
    (35, "H"),
    (36, "J"),
    (37, "K"),
    (38, "L"),
    (39, "SEMICOLON"),
    (40, "APOSTROPHE"),
    (41, "GRAVE"),
    (42, "LEFTSHIFT"),
    (43, "BACKSLASH"),
    (44, "Z"),
    (45, "X"),
    (46, "C"),
    (47, "V"),
    (48, "B"),
    (49, "N"),
    (50, "M"),
    (51, "COMMA"),
    (52, "DOT"),
    (53, "SLASH"),
    (54, "RIGHTSHIFT"),
    (55, "KPASTERISK"),
    (56, "LEFTALT"),
    (57, "SPACE"),
    (58, "CAPSLOCK"),
    (59, "F1"),
    (60, "F2"),
    (61, "F3"),
    (62, "F4"),
    (63, "F5"),
    (64, "F6"),
    (65, "F7"),
    (66, "F8"),
    (67, "F9"),
    (68, "F10"),
    (69, "NUMLOCK"),
    (70, "SCROLLLOCK"),
    (71, "KP7"),
    (72, "KP8"),
    (73, "KP9"),
    (74, "KPMINUS"),
    (75, "KP4"),
    (76, "KP5"),
    (77, "KP6"),
    (78, "KPPLUS"),
    (79, "KP1"),
    (80, "KP2"),
    (81, "KP3"),
    (82, "KP0"),
    (83, "KPDOT"),
    (85, "ZENKAKUHANKAKU"),
    (86, "102ND"),
    (87, "F11"),
    (88, "F12"),
    (89, "RO"),
    (96, "KPENTER"),
    (97, "RIGHTCTRL"),
    (98, "KPSLASH"),
    (99, "SYSRQ"),
    (100, "RIGHTALT"),
    (102, "HOME"),
    (103, "UP"),
    (104, "PAGEUP"),
    (105, "LEFT"),
    (106, "RIGHT"),
    (107, "END"),
    (108, "DOWN"),
    (109, "PAGEDOWN"),
    (110, "INSERT"),
    (111, "DELETE"),
    (113, "MUTE"),
    (114, "VOLUMEDOWN"),
    (115, "VOLUMEUP"),
    (116, "POWER"),
    (117, "KPEQUAL"),
    (119, "PAUSE"),
    (121, "KPCOMMA"),
    (125, "LEFTMETA"),
    (126, "RIGHTMETA"),
    (127, "COMPOSE"),
    (183, "F13"),
    (184, "F14"),
    (185, "F15"),
    (186, "F16"),
    (187, "F17"),
    (188, "F18"),
    (189, "F19"),
    (190, "F20"),
    (191, "F21"),
    (192, "F22"),
    (193, "F23"),
    (194, "F24"),
    (210, "PRINT"),
    (240, "UNKNOWN"),
];

/// Other spellings of key names (lower case, `_`, `-` and spaces removed) as used by X11 keysyms,
/// xdotool, rdev's `Key` variants, browsers and the Aalto data set's `LETTER` column.
const ALIASES: &[(&str, u16)] = &[
    ("escape", 1),
    ("esc", 1),
    ("backspace", 14),
    ("bksp", 14),
    ("tab", 15),
    ("return", 28),
    ("enter", 28),
    ("ret", 28),
    ("ctrl", 29),
    ("control", 29),
    ("controll", 29),
    ("controlleft", 29),
    ("leftcontrol", 29),
    ("lctrl", 29),
    ("shift", 42),
    ("shiftl", 42),
    ("shiftleft", 42),
    ("leftshift", 42),
    ("lshift", 42),
    ("shiftr", 54),
    ("shiftright", 54),
    ("rshift", 54),
    ("alt", 56),
    ("altl", 56),
    ("altleft", 56),
    ("lalt", 56),
    ("metal", 125),
    ("space", 57),
    ("spc", 57),
    ("spacebar", 57),
    ("capslock", 58),
    ("caps", 58),
    ("numlock", 69),
    ("scrolllock", 70),
    ("controlr", 97),
    ("controlright", 97),
    ("rightcontrol", 97),
    ("rctrl", 97),
    ("altr", 100),
    ("altgr", 100),
    ("altright", 100),
    ("isolevel3shift", 100),
    ("ralt", 100),
    ("home", 102),
    ("up", 103),
    ("uparrow", 103),
    ("arrowup", 103),
    ("pageup", 104),
    ("prior", 104),
    ("left", 105),
    ("leftarrow", 105),
    ("arrowleft", 105),
    ("right", 106),
    ("rightarrow", 106),
    ("arrowright", 106),
    ("end", 107),
    ("down", 108),
    ("downarrow", 108),
    ("arrowdown", 108),
    ("pagedown", 109),
    ("next", 109),
    ("insert", 110),
    ("ins", 110),
    ("delete", 111),
    ("del", 111),
    ("pause", 119),
    ("meta", 125),
    ("metaleft", 125),
    ("super", 125),
    ("superl", 125),
    ("win", 125),
    ("lmeta", 125),
    ("metar", 126),
    ("metaright", 126),
    ("superr", 126),
    ("rmeta", 126),
    ("menu", 127),
    ("contextmenu", 127),
    ("print", 99),
    ("printscreen", 99),
    ("minus", 12),
    ("equal", 13),
    ("equals", 13),
    ("bracketleft", 26),
    ("leftbracket", 26),
    ("bracketright", 27),
    ("rightbracket", 27),
    ("semicolon", 39),
    ("apostrophe", 40),
    ("quote", 40),
    ("grave", 41),
    ("backquote", 41),
    ("backslash", 43),
    ("comma", 51),
    ("period", 52),
    ("dot", 52),
    ("slash", 53),
    ("intlbackslash", 86),
    ("less", 86),
    ("kpmultiply", 55),
    ("kpasterisk", 55),
    ("kpsubtract", 74),
    ("kpminus", 74),
    ("kpadd", 78),
    ("kpplus", 78),
    ("kpdecimal", 83),
    ("kpdelete", 83),
    ("kpdot", 83),
    ("kpenter", 96),
    ("kpreturn", 96),
    ("kpdivide", 98),
    ("kpslash", 98),
    ("kpequal", 117),
];

/// US-layout characters and the key that produces them (shifted or not).
const CHARACTERS: &[(char, u16)] = &[
    (' ', 57),
    ('\n', 28),
    ('\r', 28),
    ('\t', 15),
    ('-', 12),
    ('_', 12),
    ('=', 13),
    ('+', 13),
    ('[', 26),
    ('{', 26),
    (']', 27),
    ('}', 27),
    (';', 39),
    (':', 39),
    ('\'', 40),
    ('"', 40),
    ('`', 41),
    ('~', 41),
    ('\\', 43),
    ('|', 43),
    (',', 51),
    ('<', 51),
    ('.', 52),
    ('>', 52),
    ('/', 53),
    ('?', 53),
    ('!', 2),
    ('@', 3),
    ('#', 4),
    ('$', 5),
    ('%', 6),
    ('^', 7),
    ('&', 8),
    ('*', 9),
    ('(', 10),
    (')', 11),
];

/// Evdev codes of the letter keys in alphabetical order.
const LETTERS: [u16; 26] = [
    30, 48, 46, 32, 18, 33, 34, 35, 23, 36, 37, 38, 50, 49, 24, 25, 16, 19, 31, 20, 22, 47, 17, 45,
    21, 44,
];

/// Evdev codes of the digit keys `0`–`9`.
const DIGITS: [u16; 10] = [11, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/// Evdev codes of the keypad digits `0`–`9`.
const KEYPAD_DIGITS: [u16; 10] = [82, 79, 80, 81, 75, 76, 77, 71, 72, 73];

impl KeyCode {
    /// `KEY_UNKNOWN`: a key the source reported but tikker cannot name. Its timings still count.
    pub const UNKNOWN: KeyCode = KeyCode(240);
    /// `KEY_LEFTSHIFT`.
    pub const LEFT_SHIFT: KeyCode = KeyCode(42);
    /// `KEY_SPACE`.
    pub const SPACE: KeyCode = KeyCode(57);
    /// `KEY_BACKSPACE`.
    pub const BACKSPACE: KeyCode = KeyCode(14);
    /// `KEY_ENTER`.
    pub const ENTER: KeyCode = KeyCode(28);
    /// The highest code of the evdev key range (`KEY_MAX`).
    pub const MAX: u16 = 0x2ff;

    /// The key of an X11 keycode (X servers with the evdev driver number keys as evdev + 8).
    pub fn from_x11_keycode(keycode: u32) -> KeyCode {
        match keycode.checked_sub(8).and_then(|c| u16::try_from(c).ok()) {
            Some(code) if code <= Self::MAX => KeyCode(code),
            _ => Self::UNKNOWN,
        }
    }

    /// The X11 keycode of this key.
    pub fn to_x11_keycode(self) -> u32 {
        u32::from(self.0) + 8
    }

    /// The key of a JavaScript `KeyboardEvent.keyCode` (US layout, including Firefox's variants).
    /// Codes no physical key maps to (0, IME's 229, …) give [`KeyCode::UNKNOWN`].
    pub fn from_js_keycode(code: u32) -> KeyCode {
        let evdev = match code {
            8 => 14,
            9 => 15,
            12 => 76, // keypad 5 without NumLock ("Clear")
            13 => 28,
            16 => 42,
            17 => 29,
            18 => 56,
            19 => 119,
            20 => 58,
            27 => 1,
            32 => 57,
            33 => 104,
            34 => 109,
            35 => 107,
            36 => 102,
            37 => 105,
            38 => 103,
            39 => 106,
            40 => 108,
            44 => 99,
            45 => 110,
            46 => 111,
            48..=57 => DIGITS[(code - 48) as usize],
            59 => 39, // Firefox ';'
            61 => 13, // Firefox '='
            65..=90 => LETTERS[(code - 65) as usize],
            91 | 224 => 125,
            92 => 126,
            93 => 127,
            96..=105 => KEYPAD_DIGITS[(code - 96) as usize],
            106 => 55,
            107 => 78,
            109 => 74,
            110 => 83,
            111 => 98,
            112..=121 => 59 + (code - 112) as u16,
            122 => 87,
            123 => 88,
            124..=135 => 183 + (code - 124) as u16,
            144 => 69,
            145 => 70,
            173 => 12, // Firefox '-'
            186 => 39,
            187 => 13,
            188 => 51,
            189 => 12,
            190 => 52,
            191 => 53,
            192 => 41,
            193 => 89, // ABNT C1 ("/?" on Brazilian keyboards)
            219 => 26,
            220 => 43,
            221 => 27,
            222 => 40,
            226 => 86, // the extra key left of Z on ISO keyboards
            _ => return Self::UNKNOWN,
        };
        KeyCode(evdev)
    }

    /// The key a single US-layout character is typed with (`'A'` and `'a'` give `KEY_A`).
    pub fn from_char(c: char) -> Option<KeyCode> {
        if c.is_ascii_alphabetic() {
            let index = (c.to_ascii_lowercase() as u8 - b'a') as usize;
            return Some(KeyCode(LETTERS[index]));
        }
        if let Some(d) = c.to_digit(10) {
            return Some(KeyCode(DIGITS[d as usize]));
        }
        CHARACTERS
            .iter()
            .find(|(ch, _)| *ch == c)
            .map(|(_, code)| KeyCode(*code))
    }

    /// Resolves a key token: a name in any common spelling (`a`, `KEY_A`, `Shift_L`, `BackSpace`,
    /// `BKSP`, `KeyA`, `Num1`, `F5`, `KP_1`, a single character), a decimal evdev code (`30`), or a
    /// code in another numbering with a prefix (`js:65`, `x11:38`, `evdev:30`).
    pub fn parse_token(token: &str) -> Result<KeyCode, UnknownKey> {
        let unknown = || UnknownKey {
            token: token.to_owned(),
        };
        // A single character (including a space) is the key that types it.
        let mut chars = token.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Self::from_char(c).ok_or_else(unknown);
        }
        let trimmed = token.trim();
        if let Some((prefix, number)) = trimmed.split_once(':') {
            let number: u32 = number.trim().parse().map_err(|_| unknown())?;
            return match prefix.trim().to_ascii_lowercase().as_str() {
                "js" => Ok(Self::from_js_keycode(number)),
                // X11 keycodes are evdev codes plus 8, from 8 to 255: another number names no
                // key (it is not stored as an unknown one).
                "x11" if (8..=255).contains(&number) => Ok(Self::from_x11_keycode(number)),
                "x11" => Err(unknown()),
                "evdev" => Self::from_evdev_number(number).ok_or_else(unknown),
                _ => Err(unknown()),
            };
        }
        if let Ok(number) = trimmed.parse::<u32>() {
            return Self::from_evdev_number(number).ok_or_else(unknown);
        }
        // A negative number (`-3`) is no key: names ignore `-`, so `-3` would otherwise be read
        // as the key `3`.
        if let Some(rest) = trimmed.strip_prefix('-')
            && !rest.is_empty()
            && rest.trim().bytes().all(|b| b.is_ascii_digit())
        {
            return Err(unknown());
        }
        Self::from_name(trimmed).ok_or_else(unknown)
    }

    fn from_evdev_number(number: u32) -> Option<KeyCode> {
        u16::try_from(number)
            .ok()
            .filter(|code| *code <= Self::MAX)
            .map(KeyCode)
    }

    /// Resolves a key name (see [`KeyCode::parse_token`]); case, `_`, `-` and spaces are ignored.
    pub fn from_name(name: &str) -> Option<KeyCode> {
        let folded: String = name
            .chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        let folded = folded.strip_prefix("xk").unwrap_or(&folded);
        let bare = folded.strip_prefix("key").unwrap_or(folded);
        // `KEY_PRINT` is the canonical name even though a bare `Print` means X's Print key.
        if bare.len() < folded.len()
            && let Some((code, _)) = KEY_NAMES
                .iter()
                .find(|(_, canonical)| canonical.eq_ignore_ascii_case(bare))
        {
            return Some(KeyCode(*code));
        }
        for candidate in [folded, bare] {
            if candidate.is_empty() {
                continue;
            }
            if let Some(code) = Self::resolve_folded(candidate) {
                return Some(code);
            }
        }
        None
    }

    fn resolve_folded(folded: &str) -> Option<KeyCode> {
        if let Some((_, code)) = ALIASES.iter().find(|(alias, _)| *alias == folded) {
            return Some(KeyCode(*code));
        }
        if let Some((code, _)) = KEY_NAMES
            .iter()
            .find(|(_, canonical)| canonical.eq_ignore_ascii_case(folded))
        {
            return Some(KeyCode(*code));
        }
        // rdev's Num1 / Kp1 and X's KP_1 spellings of digits.
        if let Some(digit) = folded.strip_prefix("num").and_then(single_digit) {
            return Some(KeyCode(DIGITS[digit]));
        }
        if let Some(digit) = folded.strip_prefix("kp").and_then(single_digit) {
            return Some(KeyCode(KEYPAD_DIGITS[digit]));
        }
        let mut chars = folded.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Self::from_char(c),
            _ => None,
        }
    }

    /// The canonical name (`KEY_A`), or `None` for codes tikker does not name.
    pub fn name(self) -> Option<&'static str> {
        KEY_NAMES
            .binary_search_by_key(&self.0, |(code, _)| *code)
            .ok()
            .map(|index| KEY_NAMES[index].1)
    }

    /// What is printed on the key (US layout), for people to read: `A`, `1`, `Space`, `Enter`,
    /// `Left Shift`, `;`; machine formats (JSON, CSV) keep the code or [`KeyCode::name`].
    /// Unnamed codes read `key 250`.
    pub fn label(self) -> String {
        let Some(name) = self.name() else {
            return format!("key {}", self.0);
        };
        let fixed = match name {
            "ESC" => "Esc",
            "MINUS" => "-",
            "EQUAL" => "=",
            "BACKSPACE" => "Backspace",
            "TAB" => "Tab",
            "LEFTBRACE" => "[",
            "RIGHTBRACE" => "]",
            "ENTER" => "Enter",
            "LEFTCTRL" => "Left Ctrl",
            "RIGHTCTRL" => "Right Ctrl",
            "SEMICOLON" => ";",
            "APOSTROPHE" => "'",
            "GRAVE" => "`",
            "LEFTSHIFT" => "Left Shift",
            "RIGHTSHIFT" => "Right Shift",
            "BACKSLASH" => "\\",
            "COMMA" => ",",
            "DOT" => ".",
            "SLASH" => "/",
            "LEFTALT" => "Alt",
            "RIGHTALT" => "AltGr",
            "SPACE" => "Space",
            "CAPSLOCK" => "Caps Lock",
            "NUMLOCK" => "Num Lock",
            "SCROLLLOCK" => "Scroll Lock",
            "LEFTMETA" => "Super",
            "RIGHTMETA" => "Right Super",
            "PAGEUP" => "Page Up",
            "PAGEDOWN" => "Page Down",
            "SYSRQ" => "Print Screen",
            "KPENTER" => "Keypad Enter",
            _ => "",
        };
        if !fixed.is_empty() {
            return fixed.to_owned();
        }
        if let Some(rest) = name.strip_prefix("KP") {
            return format!("Keypad {}", title_case(rest));
        }
        if name.chars().count() == 1 || (name.starts_with('F') && name[1..].parse::<u8>().is_ok()) {
            return name.to_owned();
        }
        title_case(name)
    }

    /// Whether this is a modifier key (Shift, Ctrl, Alt, Meta, AltGr, CapsLock, NumLock).
    pub fn is_modifier(self) -> bool {
        matches!(self.0, 29 | 42 | 54 | 56 | 58 | 69 | 97 | 100 | 125 | 126)
    }

    /// Whether pressing this key usually produces or edits text (letters, digits, punctuation,
    /// space, Tab, Return, BackSpace, Delete, keypad characters): the keys that count as
    /// characters for typing speed.
    pub fn is_text_key(self) -> bool {
        matches!(self.0, 2..=28 | 30..=41 | 43..=53 | 55 | 57 | 71..=83 | 86 | 89 | 96 | 98 | 111 | 117 | 121)
    }
}

/// `HOME` → `Home`.
fn title_case(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

fn single_digit(s: &str) -> Option<usize> {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => c.to_digit(10).map(|d| d as usize),
        _ => None,
    }
}

impl fmt::Display for KeyCode {
    /// `KEY_A` for named keys, the bare evdev number otherwise; [`KeyCode::parse_token`] reads
    /// both back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "KEY_{name}"),
            None => write!(f, "{}", self.0),
        }
    }
}

impl FromStr for KeyCode {
    type Err = UnknownKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_token(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn labels_are_what_is_printed_on_the_key() {
        for (code, label) in [
            (KeyCode::SPACE, "Space"),
            (KeyCode(30), "A"),
            (KeyCode(2), "1"),
            (KeyCode::ENTER, "Enter"),
            (KeyCode::LEFT_SHIFT, "Left Shift"),
            (KeyCode(39), ";"),
            (KeyCode(59), "F1"),
            (KeyCode(102), "Home"),
            (KeyCode(79), "Keypad 1"),
            (KeyCode(600), "key 600"),
        ] {
            assert_eq!(code.label(), label, "{code}");
        }
    }

    #[test]
    fn key_names_are_sorted_for_binary_search() {
        assert!(KEY_NAMES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn every_named_key_round_trips_through_its_display_form() {
        for (code, _) in KEY_NAMES {
            let key = KeyCode(*code);
            assert_eq!(KeyCode::parse_token(&key.to_string()), Ok(key), "{key}");
        }
        for code in 0..=KeyCode::MAX {
            let key = KeyCode(code);
            assert_eq!(KeyCode::parse_token(&key.to_string()), Ok(key));
        }
    }

    #[rstest]
    #[case("a", 30)]
    #[case("A", 30)]
    #[case("KEY_A", 30)]
    #[case("KeyA", 30)]
    #[case("key_z", 44)]
    #[case(" ", 57)]
    #[case("space", 57)]
    #[case("SHIFT", 42)]
    #[case("Shift_L", 42)]
    #[case("ShiftRight", 54)]
    #[case("BKSP", 14)]
    #[case("BackSpace", 14)]
    #[case("CAPS_LOCK", 58)]
    #[case("Return", 28)]
    #[case("Num1", 2)]
    #[case("0", 11)]
    #[case("KP_1", 79)]
    #[case("Kp0", 82)]
    #[case("F5", 63)]
    #[case("f12", 88)]
    #[case("Escape", 1)]
    #[case("?", 53)]
    #[case("30", 30)]
    #[case("js:65", 30)]
    #[case("js:16", 42)]
    #[case("x11:38", 30)]
    #[case("x11:8", 0)]
    #[case("x11:255", 247)]
    #[case("-", 12)]
    #[case("evdev:57", 57)]
    #[case("MetaLeft", 125)]
    #[case("Alt", 56)]
    #[case("AltGr", 100)]
    #[case("UpArrow", 103)]
    #[case("period", 52)]
    fn tokens_resolve_to_evdev_codes(#[case] token: &str, #[case] code: u16) {
        assert_eq!(KeyCode::parse_token(token), Ok(KeyCode(code)));
    }

    #[rstest]
    #[case("")]
    #[case("not-a-key")]
    #[case("js:abc")]
    #[case("foo:3")]
    #[case("70000")]
    #[case("é")]
    #[case("-3")]
    #[case("-30")]
    #[case("x11:3")]
    #[case("x11:7")]
    #[case("x11:256")]
    fn bad_tokens_name_the_token(#[case] token: &str) {
        let err = KeyCode::parse_token(token).unwrap_err();
        assert_eq!(err.token, token);
        assert!(err.to_string().contains("unknown key"));
    }

    #[test]
    fn javascript_letters_digits_and_modifiers_map_like_their_names() {
        for (js, c) in (65u32..=90).zip('a'..='z') {
            assert_eq!(KeyCode::from_js_keycode(js), KeyCode::from_char(c).unwrap());
        }
        for (js, c) in (48u32..=57).zip('0'..='9') {
            assert_eq!(KeyCode::from_js_keycode(js), KeyCode::from_char(c).unwrap());
        }
        assert_eq!(KeyCode::from_js_keycode(8), KeyCode::BACKSPACE);
        assert_eq!(KeyCode::from_js_keycode(32), KeyCode::SPACE);
        assert_eq!(
            KeyCode::from_js_keycode(190),
            KeyCode::from_char('.').unwrap()
        );
        assert_eq!(KeyCode::from_js_keycode(0), KeyCode::UNKNOWN);
        assert_eq!(KeyCode::from_js_keycode(229), KeyCode::UNKNOWN);
    }

    #[test]
    fn x11_keycodes_are_evdev_plus_eight() {
        assert_eq!(KeyCode::from_x11_keycode(38), KeyCode(30));
        assert_eq!(KeyCode(30).to_x11_keycode(), 38);
        assert_eq!(KeyCode::from_x11_keycode(3), KeyCode::UNKNOWN);
    }

    #[test]
    fn modifiers_are_not_text_keys() {
        for code in 0..=KeyCode::MAX {
            let key = KeyCode(code);
            assert!(!(key.is_modifier() && key.is_text_key()), "{key}");
        }
        assert!(KeyCode::LEFT_SHIFT.is_modifier());
        assert!(KeyCode::SPACE.is_text_key());
    }
}
