//! The most common words of one request (`common_words` of `/profile/build`).
//!
//! tikker never stores or logs text. This is the one place where key presses are read as
//! letters: the words of the events *of the request*, returned to the caller who sent them and
//! then forgotten (they are not part of the stored baseline). Letters and digits are read from
//! their evdev codes with a US layout; Backspace takes back the last letter; any other key
//! (space, Return, punctuation, arrows…) ends a word, and modifiers are ignored. Words of at
//! least [`MIN_WORD_CHARS`] characters count.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::event::{KeyAction, KeyEvent};
use crate::key::KeyCode;

/// How many words are returned at most.
pub const MAX_WORDS: usize = 10;
/// The shortest word counted.
pub const MIN_WORD_CHARS: usize = 2;
/// A longer run of letters is not a word (a key held down, a password…) and is dropped.
pub const MAX_WORD_CHARS: usize = 32;

/// The character each evdev code types (letters and digits of a US layout).
fn characters() -> &'static [Option<char>] {
    static TABLE: OnceLock<Vec<Option<char>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = vec![None; usize::from(KeyCode::MAX) + 1];
        for c in ('a'..='z').chain('0'..='9') {
            if let Some(code) = KeyCode::from_char(c) {
                table[usize::from(code.0)] = Some(c);
            }
        }
        table
    })
}

/// The most common words typed in `events` (sorted by time), most frequent first (ties in
/// alphabetical order), at most [`MAX_WORDS`].
pub fn common_words(events: &[KeyEvent]) -> Vec<String> {
    let table = characters();
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut word = String::new();
    let mut finish = |word: &mut String| {
        let length = word.chars().count();
        if (MIN_WORD_CHARS..=MAX_WORD_CHARS).contains(&length) {
            *counts.entry(std::mem::take(word)).or_default() += 1;
        }
        word.clear();
    };
    for event in events {
        if event.action != KeyAction::Press || event.key.is_modifier() {
            continue;
        }
        if event.key == KeyCode::BACKSPACE {
            word.pop();
            continue;
        }
        match table.get(usize::from(event.key.0)).copied().flatten() {
            Some(c) => word.push(c),
            None => finish(&mut word),
        }
    }
    finish(&mut word);
    let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked
        .into_iter()
        .take(MAX_WORDS)
        .map(|(word, _)| word)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> Vec<KeyEvent> {
        text.chars()
            .enumerate()
            .flat_map(|(i, c)| {
                let key = match c {
                    '<' => KeyCode::BACKSPACE,
                    '^' => KeyCode::LEFT_SHIFT,
                    c => KeyCode::from_char(c).unwrap(),
                };
                let t = i as i64 * 100_000;
                [KeyEvent::press(t, key), KeyEvent::release(t + 50_000, key)]
            })
            .collect()
    }

    #[test]
    fn words_are_counted_with_backspace_and_shift() {
        assert_eq!(
            common_words(&typed("the cat, ^the dog; thx<e a 42 42")),
            ["the", "42", "cat", "dog"]
        );
    }

    #[test]
    fn key_codes_of_another_numbering_give_no_words() {
        // ASCII codes 65, 66, 67 are F7, F8, F9 in evdev numbering.
        let events: Vec<KeyEvent> = (65..68)
            .map(|k| KeyEvent::press(i64::from(k) * 1000, KeyCode(k)))
            .collect();
        assert!(common_words(&events).is_empty());
        assert!(common_words(&[]).is_empty());
    }

    #[test]
    fn at_most_ten_words_are_returned() {
        let text: String = (0..15).map(|i| format!("w{i} ")).collect();
        assert_eq!(common_words(&typed(&text)).len(), MAX_WORDS);
    }
}
