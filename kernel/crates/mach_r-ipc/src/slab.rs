//! Tables with constant-time lookups for the IPC state's hot paths: [`Slab`] holds ports,
//! port sets and spaces under ids that are never reused, [`Names`] holds a space's entries.
//!
//! A slab id is `(sequence << SLOT_BITS) | slot`: the slot gives the lookup, the sequence
//! (one more for every insertion) makes every id unique for the whole run and orders ids by
//! creation, as the counters they replace did. A stale id (its slot freed, maybe reused)
//! finds nothing.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::consts::Name;
use crate::space::Entry;

/// Bits of an id that give its slot: at most `1 << SLOT_BITS` objects of one kind at once.
pub(crate) const SLOT_BITS: u32 = 24;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;

/// An id type a [`Slab`] hands out.
pub(crate) trait SlabKey: Copy + Eq {
    fn from_raw(raw: u64) -> Self;
    fn raw(self) -> u64;
}

/// Objects under never-reused ids, found by their slot.
#[derive(Debug)]
pub(crate) struct Slab<K, V> {
    slots: Vec<Option<(K, V)>>,
    /// Free slots, most recently freed last.
    free: Vec<u32>,
    len: usize,
    /// The sequence number of the next id.
    seq: u64,
}

impl<K: SlabKey, V> Slab<K, V> {
    pub const fn new() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            seq: 1,
        }
    }

    /// Stores `v` under a fresh id.
    pub fn insert_new(&mut self, v: V) -> K {
        let slot = match self.free.pop() {
            Some(s) => s as usize,
            None => {
                assert!(
                    (self.slots.len() as u64) <= SLOT_MASK,
                    "more than 2^{SLOT_BITS} IPC objects of one kind"
                );
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let key = K::from_raw((self.seq << SLOT_BITS) | slot as u64);
        self.seq += 1;
        self.slots[slot] = Some((key, v));
        self.len += 1;
        key
    }

    fn slot(key: K) -> usize {
        (key.raw() & SLOT_MASK) as usize
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        match self.slots.get(Self::slot(*key)) {
            Some(Some((k, v))) if k == key => Some(v),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        match self.slots.get_mut(Self::slot(*key)) {
            Some(Some((k, v))) if k == key => Some(v),
            _ => None,
        }
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    /// Makes room for the next [`insert_new`](Self::insert_new) (the slot vector doubling)
    /// without failing on an exhausted heap: false when the allocator refuses. The kernel
    /// asks this before it lets a user grow the table, so growth never panics.
    pub fn try_grow(&mut self) -> bool {
        if !self.free.is_empty() || self.slots.len() < self.slots.capacity() {
            return true;
        }
        let more = self.slots.capacity().max(4);
        self.slots.try_reserve_exact(more).is_ok()
    }

    /// Gives back the memory of free slots at the end (after a task's objects went): the
    /// vectors move to smaller blocks once they are four times larger than what is in use,
    /// only if the allocator has the smaller block (never fails).
    pub fn compact(&mut self) {
        while self.slots.last().is_some_and(|s| s.is_none()) {
            self.slots.pop();
        }
        let n = self.slots.len();
        self.free.retain(|&s| (s as usize) < n);
        if self.slots.capacity() > 4 * n.max(4) {
            let mut v = Vec::new();
            if v.try_reserve_exact(2 * n).is_ok() {
                v.append(&mut self.slots);
                self.slots = v;
            }
        }
        if self.free.capacity() > 4 * self.free.len().max(4) {
            let mut v = Vec::new();
            if v.try_reserve_exact(2 * self.free.len()).is_ok() {
                v.append(&mut self.free);
                self.free = v;
            }
        }
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let slot = Self::slot(*key);
        match self.slots.get_mut(slot) {
            Some(s @ Some(_)) if s.as_ref().is_some_and(|(k, _)| k == key) => {
                let (_, v) = s.take().expect("checked");
                self.free.push(slot as u32);
                self.len -= 1;
                Some(v)
            }
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Every object with its id, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.slots
            .iter()
            .filter_map(|s| s.as_ref().map(|(k, v)| (k, v)))
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }
}

impl<K: SlabKey, V> core::ops::Index<&K> for Slab<K, V> {
    type Output = V;
    fn index(&self, key: &K) -> &V {
        self.get(key).expect("id names a live object")
    }
}

/// Names at or above this go to the ordered overflow map; below it an entry is an index.
const DENSE_NAMES: Name = 4096;

/// A space's names -> entries: a vector indexed by name for the small names a space hands
/// out itself, an ordered map for large names taken explicitly (`allocate_name`). Every
/// iteration is in ascending order of names.
#[derive(Debug, Default)]
pub(crate) struct Names {
    dense: Vec<Option<Entry>>,
    sparse: BTreeMap<Name, Entry>,
    len: usize,
}

impl Names {
    pub fn get(&self, name: &Name) -> Option<&Entry> {
        if *name < DENSE_NAMES {
            self.dense.get(*name as usize)?.as_ref()
        } else {
            self.sparse.get(name)
        }
    }

    pub fn get_mut(&mut self, name: &Name) -> Option<&mut Entry> {
        if *name < DENSE_NAMES {
            self.dense.get_mut(*name as usize)?.as_mut()
        } else {
            self.sparse.get_mut(name)
        }
    }

    pub fn contains_key(&self, name: &Name) -> bool {
        self.get(name).is_some()
    }

    pub fn insert(&mut self, name: Name, e: Entry) -> Option<Entry> {
        let old = if name < DENSE_NAMES {
            let i = name as usize;
            if i >= self.dense.len() {
                let n = (i + 1).max(2 * self.dense.len()).max(16);
                self.dense.resize(n.min(DENSE_NAMES as usize), None);
            }
            self.dense[i].replace(e)
        } else {
            self.sparse.insert(name, e)
        };
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// Gives back the dense vector's memory past its last name (the kernel space after a
    /// burst of names), when it is four times larger than what is in use; never fails.
    pub fn compact(&mut self) {
        while self.dense.last().is_some_and(|e| e.is_none()) {
            self.dense.pop();
        }
        let n = self.dense.len();
        if self.dense.capacity() > 4 * n.max(16) {
            let mut v = Vec::new();
            if v.try_reserve_exact(n).is_ok() {
                v.append(&mut self.dense);
                self.dense = v;
            }
        }
    }

    pub fn remove(&mut self, name: &Name) -> Option<Entry> {
        let old = if *name < DENSE_NAMES {
            self.dense.get_mut(*name as usize)?.take()
        } else {
            self.sparse.remove(name)
        };
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Every name and its entry, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (Name, &Entry)> + '_ {
        self.dense
            .iter()
            .enumerate()
            .filter_map(|(n, e)| e.as_ref().map(|e| (n as Name, e)))
            .chain(self.sparse.iter().map(|(&n, e)| (n, e)))
    }

    /// Every name, ascending.
    pub fn keys(&self) -> impl Iterator<Item = Name> + '_ {
        self.iter().map(|(n, _)| n)
    }
}
