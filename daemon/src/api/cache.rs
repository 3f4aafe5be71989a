//! A cache bounded in bytes: what the API keeps decoded between requests (compiled baselines,
//! loaded models), so that no number of distinct `user_id`s can grow the daemon's memory.
//!
//! Each entry is weighed when it is put in (by the size of its serialised form, which its
//! decoded form follows); when the weights together would pass the budget, the least recently
//! used entries go first. An entry heavier than the whole budget is not kept at all.

use std::collections::HashMap;
use std::time::Instant;

/// One cached value.
#[derive(Debug)]
struct Entry<V> {
    value: V,
    /// When it was last checked against the database.
    checked: Instant,
    /// Its weight, bytes.
    bytes: usize,
    /// The use counter at its last use (least recently used: the smallest).
    used: u64,
}

/// A cache of values by name, bounded in bytes.
#[derive(Debug)]
pub struct ByteBoundedCache<V> {
    entries: HashMap<String, Entry<V>>,
    budget: usize,
    bytes: usize,
    uses: u64,
}

impl<V: Clone> ByteBoundedCache<V> {
    /// An empty cache that holds at most `budget` bytes.
    pub fn new(budget: usize) -> ByteBoundedCache<V> {
        ByteBoundedCache {
            entries: HashMap::new(),
            budget,
            bytes: 0,
            uses: 0,
        }
    }

    /// Puts `value` weighing `bytes` under `key` (checked now), evicting the least recently used
    /// entries until it fits; one heavier than the budget is not kept.
    pub fn insert(&mut self, key: &str, value: V, bytes: usize) {
        self.remove(key);
        if bytes > self.budget {
            return;
        }
        while self.bytes + bytes > self.budget {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.used)
                .map(|(key, _)| key.clone())
            else {
                break;
            };
            self.remove(&oldest);
        }
        self.uses += 1;
        self.bytes += bytes;
        self.entries.insert(
            key.to_owned(),
            Entry {
                value,
                checked: Instant::now(),
                bytes,
                used: self.uses,
            },
        );
    }

    /// The value under `key` and when it was last checked, marking it used.
    pub fn get(&mut self, key: &str) -> Option<(Instant, V)> {
        self.uses += 1;
        let uses = self.uses;
        let entry = self.entries.get_mut(key)?;
        entry.used = uses;
        Some((entry.checked, entry.value.clone()))
    }

    /// Notes that the value under `key` was found still current now.
    pub fn mark_checked(&mut self, key: &str) {
        if let Some(entry) = self.entries.get_mut(key) {
            entry.checked = Instant::now();
        }
    }

    /// Removes the value under `key`, if any.
    pub fn remove(&mut self, key: &str) {
        if let Some(entry) = self.entries.remove(key) {
            self.bytes -= entry.bytes;
        }
    }

    /// The weight of what is cached, bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// How many values are cached.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_entries_go_when_the_bytes_would_pass_the_budget() {
        let mut cache = ByteBoundedCache::new(100);
        cache.insert("a", 1, 40);
        cache.insert("b", 2, 40);
        assert!(cache.get("a").is_some(), "a is used: b is now the oldest");
        cache.insert("c", 3, 40);
        assert_eq!(cache.len(), 2);
        assert!(cache.get("b").is_none());
        assert_eq!(cache.bytes(), 80);
        // Replacing an entry does not count it twice.
        cache.insert("c", 4, 50);
        assert_eq!(
            (cache.bytes(), cache.get("c").map(|(_, v)| v)),
            (90, Some(4))
        );
        // Heavier than the budget: not kept, nothing evicted.
        cache.insert("huge", 5, 101);
        assert!(cache.get("huge").is_none());
        assert_eq!(cache.len(), 2);
        for i in 0..1000 {
            cache.insert(&format!("u{i}"), i, 7);
            assert!(cache.bytes() <= 100);
        }
    }
}
