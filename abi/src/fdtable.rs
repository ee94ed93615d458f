//! The descriptor tables of a traced process tree, kept for every reader
//! that follows descriptors (the redaction rewriter, the analyzer's
//! per-process state); what each call does to a table is [`crate::fds`]'s.
//!
//! [`Tables`] maps each thread to a [`Table`] and gives a table's life as
//! the kernel does: a clone shares it (CLONE_FILES) or copies it
//! ([`Tables::new_child`]), a successful exec unshares it and closes its
//! close-on-exec descriptors ([`Tables::exec`]; from a thread that is not
//! the leader, the leader's tid takes over), close_range with
//! CLOSE_RANGE_UNSHARE unshares it ([`Tables::unshare`]), and a table is
//! freed, its slot reused, when its last thread dies or execs away
//! ([`Tables::exit`]): memory stays bounded by the live processes.
//!
//! Each descriptor holds a value `V` of the reader's (what the descriptor
//! refers to) and its close-on-exec flag; each thread a value `T` (the
//! analyzer's pid and working directory), kept in the same map so a
//! lookup by thread costs one hash.
//!
//! A table can have an *origin* ([`Tables::root`] with `inherits`): a
//! number standing for the descriptors it had before the trace saw it,
//! which the trace never shows being made. A descriptor it does not hold
//! is then [`Lookup::Inherited`] unless the trace closed it (by close, by
//! close_range, at exec when it was marked close-on-exec by close_range):
//! a closed descriptor is remembered as closed so that the inherited one
//! of the same number does not show through. Without an origin, a
//! descriptor not held is [`Lookup::Absent`] and a close forgets it.
//!
//! ```
//! use ptrec_abi::fdtable::{Lookup, Tables};
//! let mut t: Tables<&str> = Tables::default();
//! let id = t.root(10, (), false).table;
//! t.table_mut(id).insert(3, "/etc/hosts", true);
//! t.new_child(10, 11, false, ()); // fork: a copy
//! t.exec(10, 10); // fd 3 is close-on-exec
//! assert_eq!(t.of(10).map(|t| t.open(3)), Some(None));
//! assert_eq!(t.of(11).and_then(|t| t.open(3)), Some(&"/etc/hosts"));
//! assert!(matches!(t.of(11).map(|t| t.get(4)), Some(Lookup::Absent)));
//! ```

use ptrec_format::Tid;
use rustc_hash::FxHashMap;

/// An index into [`Tables`]' tables (reused once the table is freed).
pub type TableId = u32;

/// One descriptor: what it refers to and its close-on-exec flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot<V> {
    pub value: V,
    pub cloexec: bool,
}

/// What a descriptor number of a table is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup<'a, V> {
    /// Made (or seeded) in the trace.
    Known(&'a Slot<V>),
    /// Not seen made, not closed: the table's origin's.
    Inherited { origin: u32 },
    /// Not open, as far as the trace shows (or, in a table without an
    /// origin, not known).
    Absent,
}

/// Values by id (0, 1, ...), the ids of freed values given again before
/// the vector grows: a table of per-process state that grows with what is
/// alive at once, not with all a trace made. A freed value stays where it
/// was until its slot is given again, so its allocations serve the next.
#[derive(Clone, Debug)]
pub struct Slots<T> {
    items: Vec<T>,
    free: Vec<u32>,
}

impl<T> Default for Slots<T> {
    fn default() -> Slots<T> {
        Slots {
            items: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slots<T> {
    /// A free slot given `v`.
    pub fn insert(&mut self, v: T) -> u32 {
        match self.free.pop() {
            Some(id) => {
                self.items[id as usize] = v;
                id
            }
            None => {
                self.items.push(v);
                (self.items.len() - 1) as u32
            }
        }
    }

    /// Slot `id` is free (its value stays until the slot is given again).
    pub fn free(&mut self, id: u32) {
        self.free.push(id);
    }

    /// The free slots' ids.
    pub fn free_ids(&self) -> &[u32] {
        &self.free
    }

    /// How many slots are in use.
    pub fn live(&self) -> usize {
        self.items.len() - self.free.len()
    }

    /// How many slots there are, free ones included: every id is below.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no slot was ever given.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Every slot's value, free ones' included, by id.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }
}

impl<T: Default> Slots<T> {
    /// A free slot, its value as its last user left it (a new slot's the
    /// default).
    pub fn alloc(&mut self) -> u32 {
        match self.free.pop() {
            Some(id) => id,
            None => {
                self.items.push(T::default());
                (self.items.len() - 1) as u32
            }
        }
    }
}

impl<T: Default + Clone> Slots<T> {
    /// A free slot made a copy of slot `src` (`clone_from`: the free
    /// slot's allocations reused).
    pub fn copy(&mut self, src: u32) -> u32 {
        let dst = self.alloc();
        // `dst` was free and `src` is in use: two slots.
        let (s, d) = (src as usize, dst as usize);
        let (src, dst) = if s < d {
            let (a, b) = self.items.split_at_mut(d);
            (&a[s], &mut b[0])
        } else {
            let (a, b) = self.items.split_at_mut(s);
            (&b[0], &mut a[d])
        };
        dst.clone_from(src);
        d as u32
    }
}

impl<T> std::ops::Index<u32> for Slots<T> {
    type Output = T;
    fn index(&self, id: u32) -> &T {
        &self.items[id as usize]
    }
}

impl<T> std::ops::IndexMut<u32> for Slots<T> {
    fn index_mut(&mut self, id: u32) -> &mut T {
        &mut self.items[id as usize]
    }
}

/// One descriptor table.
#[derive(Debug)]
pub struct Table<V> {
    /// `None`: closed (in a table with an origin; hides the inherited fd
    /// of the same number).
    fds: FxHashMap<i32, Option<Slot<V>>>,
    origin: Option<u32>,
    /// Ranges closed by close_range, and inherited close-on-exec ones
    /// closed by an exec: they hide inherited fds. Only in a table with an
    /// origin.
    closed: Vec<(u32, u32)>,
    /// Ranges close_range marked close-on-exec: the inherited fds in them
    /// close at exec (the held ones carry their own flag).
    cloexec: Vec<(u32, u32)>,
    /// The threads using it; 0: free.
    refs: u32,
}

impl<V> Default for Table<V> {
    fn default() -> Table<V> {
        Table {
            fds: FxHashMap::default(),
            origin: None,
            closed: Vec::new(),
            cloexec: Vec::new(),
            refs: 0,
        }
    }
}

fn in_ranges(ranges: &[(u32, u32)], fd: u32) -> bool {
    ranges.iter().any(|&(a, b)| (a..=b).contains(&fd))
}

/// Adds `first..=last` to `ranges`, keeping no range inside another (a
/// program that calls close_range in a loop adds one range, not many).
fn add_range(ranges: &mut Vec<(u32, u32)>, first: u32, last: u32) {
    if ranges.iter().any(|&(a, b)| a <= first && last <= b) {
        return;
    }
    ranges.retain(|&(a, b)| !(first <= a && b <= last));
    ranges.push((first, last));
}

impl<V: Clone> Table<V> {
    /// The number of the descriptors it had before the trace, if any.
    pub fn origin(&self) -> Option<u32> {
        self.origin
    }

    pub fn get(&self, fd: i32) -> Lookup<'_, V> {
        if fd < 0 {
            return Lookup::Absent;
        }
        match self.fds.get(&fd) {
            Some(Some(s)) => Lookup::Known(s),
            Some(None) => Lookup::Absent,
            None => match self.origin {
                Some(origin) if !in_ranges(&self.closed, fd as u32) => Lookup::Inherited { origin },
                _ => Lookup::Absent,
            },
        }
    }

    /// What `fd` refers to, if the trace showed it made.
    pub fn open(&self, fd: i32) -> Option<&V> {
        match self.fds.get(&fd) {
            Some(Some(s)) => Some(&s.value),
            _ => None,
        }
    }

    /// `fd` now refers to `value` (an open, a socket, a seeded fd).
    pub fn insert(&mut self, fd: i32, value: V, cloexec: bool) {
        // No call makes a negative descriptor: a trace that says so is
        // not followed.
        if fd >= 0 {
            self.fds.insert(fd, Some(Slot { value, cloexec }));
        }
    }

    pub fn close(&mut self, fd: i32) {
        if self.origin.is_some() {
            if fd >= 0 {
                self.fds.insert(fd, None);
            }
        } else {
            self.fds.remove(&fd);
        }
    }

    /// close_range(first, last) without CLOSE_RANGE_UNSHARE (see
    /// [`Tables::unshare`]): closes them, or with `cloexec` marks them
    /// close-on-exec, the inherited ones too.
    pub fn close_range(&mut self, first: u32, last: u32, cloexec: bool) {
        if first > last {
            return;
        }
        let range = first..=last;
        let within = |fd: i32| fd >= 0 && range.contains(&(fd as u32));
        if cloexec {
            for (_, s) in self.fds.iter_mut().filter(|(f, _)| within(**f)) {
                if let Some(s) = s {
                    s.cloexec = true;
                }
            }
            if self.origin.is_some() {
                add_range(&mut self.cloexec, first, last);
            }
        } else {
            // Forgotten rather than closed one by one: the range hides the
            // inherited ones.
            self.fds.retain(|&f, _| !within(f));
            if self.origin.is_some() {
                add_range(&mut self.closed, first, last);
            }
        }
    }

    /// dup(old) = new (dup2, dup3, F_DUPFD*): `new` refers to what `old`
    /// does; `inherit(origin, old)` makes the value of an inherited `old`.
    /// An `old` the trace does not know leaves `new` unknown.
    pub fn dup(&mut self, old: i32, new: i32, cloexec: bool, inherit: impl FnOnce(u32, i32) -> V) {
        let value = match self.get(old) {
            Lookup::Known(s) => s.value.clone(),
            Lookup::Inherited { origin } => inherit(origin, old),
            Lookup::Absent => return self.close(new),
        };
        self.insert(new, value, cloexec);
    }

    /// fcntl(fd, F_SETFD): an inherited `fd` is held from now on (its
    /// value made by `inherit(origin, fd)`), with its own flag.
    pub fn set_cloexec(&mut self, fd: i32, on: bool, inherit: impl FnOnce(u32, i32) -> V) {
        match self.get(fd) {
            Lookup::Known(_) => {
                if let Some(Some(s)) = self.fds.get_mut(&fd) {
                    s.cloexec = on;
                }
            }
            Lookup::Inherited { origin } => {
                let v = inherit(origin, fd);
                self.insert(fd, v, on);
            }
            Lookup::Absent => {}
        }
    }

    /// What a successful exec does: every close-on-exec descriptor closed.
    fn drop_cloexec(&mut self) {
        if self.origin.is_none() {
            self.fds
                .retain(|_, s| s.as_ref().is_some_and(|s| !s.cloexec));
            return;
        }
        for s in self.fds.values_mut() {
            if s.as_ref().is_some_and(|s| s.cloexec) {
                *s = None;
            }
        }
        for (a, b) in std::mem::take(&mut self.cloexec) {
            add_range(&mut self.closed, a, b);
        }
    }
}

impl<V: Clone> Clone for Table<V> {
    fn clone(&self) -> Table<V> {
        Table {
            fds: self.fds.clone(),
            origin: self.origin,
            closed: self.closed.clone(),
            cloexec: self.cloexec.clone(),
            refs: self.refs,
        }
    }

    /// A copy of `src`'s descriptors in `self`'s allocations; `refs`
    /// stays `self`'s (the copy is held by whoever takes it).
    fn clone_from(&mut self, src: &Table<V>) {
        self.fds.clone_from(&src.fds);
        self.origin = src.origin;
        self.closed.clone_from(&src.closed);
        self.cloexec.clone_from(&src.cloexec);
    }
}

/// A thread: its table and the reader's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thread<T> {
    pub table: TableId,
    pub data: T,
}

/// Every live thread's descriptor table (see the module's overview).
#[derive(Clone, Debug)]
pub struct Tables<V, T = ()> {
    threads: FxHashMap<Tid, Thread<T>>,
    tables: Slots<Table<V>>,
    /// The last origin given.
    origins: u32,
}

impl<V, T> Default for Tables<V, T> {
    fn default() -> Tables<V, T> {
        Tables {
            threads: FxHashMap::default(),
            tables: Slots::default(),
            origins: 0,
        }
    }
}

impl<V: Clone, T> Tables<V, T> {
    pub fn thread(&self, tid: Tid) -> Option<&Thread<T>> {
        self.threads.get(&tid)
    }

    /// The reader's value of `tid`.
    pub fn data_mut(&mut self, tid: Tid) -> Option<&mut T> {
        self.threads.get_mut(&tid).map(|t| &mut t.data)
    }

    /// `tid`'s table.
    pub fn of(&self, tid: Tid) -> Option<&Table<V>> {
        self.threads.get(&tid).map(|t| &self.tables[t.table])
    }

    pub fn table(&self, id: TableId) -> &Table<V> {
        &self.tables[id]
    }

    pub fn table_mut(&mut self, id: TableId) -> &mut Table<V> {
        &mut self.tables[id]
    }

    /// The value of every descriptor of the tables in use.
    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.tables
            .iter()
            .filter(|t| t.refs > 0)
            .flat_map(|t| t.fds.values().flatten().map(|s| &s.value))
    }

    /// How many tables are in use.
    pub fn live(&self) -> usize {
        self.tables.live()
    }

    /// A thread the trace does not show being made (the started command,
    /// an attached process, one first seen mid-trace), with a table of its
    /// own: empty, holding the descriptors of a new origin when
    /// `inherits`. A thread `tid` already had is dropped first.
    pub fn root(&mut self, tid: Tid, data: T, inherits: bool) -> &Thread<T> {
        let table = self.alloc();
        let t = &mut self.tables[table];
        t.refs = 1;
        if inherits {
            self.origins += 1;
            t.origin = Some(self.origins);
        }
        self.put(tid, Thread { table, data })
    }

    /// fork, vfork, clone: `child` shares `parent`'s table when `share`
    /// ([`crate::fds::clone_shares_table`]), else gets a copy. `false`
    /// (and nothing done) when `parent` is not known.
    pub fn new_child(&mut self, parent: Tid, child: Tid, share: bool, data: T) -> bool {
        let Some(p) = self.threads.get(&parent) else {
            return false;
        };
        let pt = p.table;
        let table = if share { pt } else { self.copy(pt) };
        self.tables[table].refs += 1;
        self.put(child, Thread { table, data });
        true
    }

    /// A successful exec by `former`, now `tid` (the thread group leader;
    /// `former` itself unless a thread that is not the leader exec'd, the
    /// kernel then gives it the leader's tid): the table is unshared (a
    /// CLONE_FILES sibling keeps the old one) and loses its close-on-exec
    /// descriptors; `tid` keeps `former`'s value. `false` (and nothing
    /// done) when `former` is not known.
    pub fn exec(&mut self, tid: Tid, former: Tid) -> bool {
        let Some(f) = self.threads.remove(&former) else {
            return false;
        };
        let old = f.table;
        self.tables[old].refs -= 1;
        if tid != former {
            // The leader is gone: the exec'ing thread took its tid.
            if let Some(l) = self.threads.remove(&tid) {
                if l.table == old {
                    self.tables[old].refs -= 1;
                } else {
                    self.release(l.table);
                }
            }
        }
        // Nobody else holds it: changed in place, not copied.
        let table = if self.tables[old].refs == 0 {
            old
        } else {
            self.copy(old)
        };
        let t = &mut self.tables[table];
        t.drop_cloexec();
        t.refs += 1;
        self.threads.insert(
            tid,
            Thread {
                table,
                data: f.data,
            },
        );
        true
    }

    /// CLOSE_RANGE_UNSHARE, unshare(CLONE_FILES): `tid` gets a table of its
    /// own, a copy when another thread shares it. Its table, if `tid` is
    /// known.
    pub fn unshare(&mut self, tid: Tid) -> Option<TableId> {
        let cur = self.threads.get(&tid)?.table;
        if self.tables[cur].refs == 1 {
            return Some(cur);
        }
        let table = self.copy(cur);
        self.tables[cur].refs -= 1;
        self.tables[table].refs = 1;
        if let Some(t) = self.threads.get_mut(&tid) {
            t.table = table;
        }
        Some(table)
    }

    /// `tid` died: its table is freed if no other thread holds it. Its
    /// value, if it was known.
    pub fn exit(&mut self, tid: Tid) -> Option<T> {
        let t = self.threads.remove(&tid)?;
        self.release(t.table);
        Some(t.data)
    }

    /// Sets `tid`'s thread, dropping the one it replaces.
    fn put(&mut self, tid: Tid, t: Thread<T>) -> &Thread<T> {
        use std::collections::hash_map::Entry;
        match self.threads.entry(tid) {
            Entry::Occupied(mut e) => {
                let old = std::mem::replace(e.get_mut(), t).table;
                release(&mut self.tables, old);
                e.into_mut()
            }
            Entry::Vacant(e) => e.insert(t),
        }
    }

    /// A free table (refs 0, empty, no origin).
    fn alloc(&mut self) -> TableId {
        self.tables.alloc()
    }

    /// A copy of table `src` (refs 0: the caller takes it).
    fn copy(&mut self, src: TableId) -> TableId {
        self.tables.copy(src)
    }

    fn release(&mut self, id: TableId) {
        release(&mut self.tables, id);
    }
}

/// One thread less holds table `id`: freed at the last (emptied, its
/// allocations kept for the next table).
fn release<V>(tables: &mut Slots<Table<V>>, id: TableId) {
    let t = &mut tables[id];
    t.refs -= 1;
    if t.refs == 0 {
        t.fds.clear();
        t.origin = None;
        t.closed.clear();
        t.cloexec.clear();
        tables.free(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type T = Tables<&'static str>;

    #[test]
    fn slots_give_freed_ids_again_and_copies_keep_the_free_slot_s_allocation() {
        let mut s: Slots<Vec<u8>> = Slots::default();
        let a = s.insert(b"/a".to_vec());
        let b = s.insert(Vec::with_capacity(64));
        s.free(b);
        assert_eq!((s.live(), s.len(), s.free_ids()), (1, 2, &[b][..]));
        let c = s.copy(a);
        assert_eq!(c, b, "the freed id first");
        assert_eq!(s[c], b"/a");
        assert!(s[c].capacity() >= 64, "the freed value's allocation reused");
        s.free(a);
        assert_eq!(s.insert(b"/d".to_vec()), a);
        assert_eq!(
            s.insert(Vec::new()),
            2,
            "the vector grows once none is free"
        );
        assert_eq!(s.live(), 3);
    }

    fn open(t: &T, tid: Tid, fd: i32) -> Option<&'static str> {
        t.of(tid).and_then(|t| t.open(fd)).copied()
    }

    fn id(t: &T, tid: Tid) -> TableId {
        t.thread(tid).map_or(u32::MAX, |t| t.table)
    }

    fn get(t: &T, tid: Tid, fd: i32) -> Lookup<'_, &'static str> {
        t.of(tid).map_or(Lookup::Absent, |t| t.get(fd))
    }

    /// 10 with `a` on fd 3, close-on-exec `b` on fd 4.
    fn one() -> T {
        let mut t = T::default();
        let r = t.root(10, (), false).table;
        t.table_mut(r).insert(3, "a", false);
        t.table_mut(r).insert(4, "b", true);
        t
    }

    #[test]
    fn a_fork_copies_the_table_and_clone_files_shares_it() {
        let mut t = one();
        assert!(t.new_child(10, 11, false, ()));
        assert!(t.new_child(10, 12, true, ()));
        assert!(!t.new_child(99, 13, false, ()), "unknown parent");
        assert_eq!(id(&t, 12), id(&t, 10));
        assert_ne!(id(&t, 11), id(&t, 10));
        let shared = id(&t, 10);
        t.table_mut(shared).close(3);
        t.table_mut(shared).insert(5, "c", false);
        assert_eq!(open(&t, 12, 3), None);
        assert_eq!(open(&t, 12, 5), Some("c"));
        assert_eq!(open(&t, 11, 3), Some("a"), "the fork's copy is its own");
        assert_eq!(open(&t, 11, 5), None);
        assert_eq!(t.live(), 2);
    }

    #[test]
    fn exec_unshares_and_drops_cloexec_while_a_clone_files_sibling_keeps_the_old_table() {
        let mut t = one();
        t.new_child(10, 20, true, ());
        let before = id(&t, 10);
        assert!(t.exec(10, 10));
        assert_ne!(id(&t, 10), before);
        assert_eq!(id(&t, 20), before);
        assert_eq!(open(&t, 10, 3), Some("a"));
        assert_eq!(open(&t, 10, 4), None);
        assert_eq!(open(&t, 20, 4), Some("b"), "the sibling's is untouched");
        // Alone, an exec changes the table in place.
        let own = id(&t, 10);
        t.exec(10, 10);
        assert_eq!(id(&t, 10), own);
        assert!(!t.exec(99, 99), "unknown");
    }

    #[test]
    fn exec_from_a_thread_gives_its_table_to_the_leader_tid() {
        let mut t = one();
        // 13: a thread with a table of its own (CLONE_THREAD without
        // CLONE_FILES), 14 one sharing the leader's.
        t.new_child(10, 13, false, ());
        t.new_child(10, 14, true, ());
        let t13 = id(&t, 13);
        t.table_mut(t13).insert(6, "d", true);
        t.table_mut(t13).insert(7, "e", false);
        let leader = id(&t, 10);
        assert!(t.exec(10, 13));
        assert!(t.thread(13).is_none(), "the former tid is gone");
        assert_eq!(id(&t, 10), t13, "held by none else: changed in place");
        assert_eq!(open(&t, 10, 7), Some("e"));
        assert_eq!(open(&t, 10, 6), None);
        assert_eq!(open(&t, 10, 3), Some("a"), "13's copy of the leader's");
        // The old leader's table lives on in 14 until it dies.
        assert_eq!(id(&t, 14), leader);
        t.exit(14);
        assert_eq!(t.live(), 1);
        // A thread sharing the leader's table: the leader's reference
        // goes, the sibling's stays, so the exec copies.
        let mut t = one();
        t.new_child(10, 13, true, ());
        t.new_child(10, 14, true, ());
        let shared = id(&t, 10);
        t.exec(10, 13);
        assert_ne!(id(&t, 10), shared);
        assert_eq!(open(&t, 10, 4), None);
        assert_eq!(open(&t, 14, 4), Some("b"));
        t.exit(14);
        assert_eq!(
            t.live(),
            1,
            "the old table freed at its last thread's death"
        );
    }

    #[test]
    fn close_range_marks_or_closes_and_unshare_leaves_the_sibling_alone() {
        let mut t = one();
        t.new_child(10, 20, true, ());
        let shared = id(&t, 10);
        // close_range(3, 3, CLOSE_RANGE_CLOEXEC): only marked.
        t.table_mut(shared).close_range(3, 3, true);
        assert_eq!(open(&t, 10, 3), Some("a"));
        // close_range(4, ~0, CLOSE_RANGE_UNSHARE) by 10.
        let own = t.unshare(10).unwrap();
        assert_ne!(own, shared);
        t.table_mut(own).close_range(4, u32::MAX, false);
        assert_eq!(open(&t, 10, 4), None);
        assert_eq!(open(&t, 20, 4), Some("b"), "the sibling's is untouched");
        assert_eq!(t.unshare(10), Some(own), "already its own");
        t.exec(10, 10);
        assert_eq!(open(&t, 10, 3), None, "marked close-on-exec");
        assert_eq!(open(&t, 20, 3), Some("a"));
        assert_eq!(t.unshare(99), None);
    }

    #[test]
    fn an_inherited_fd_is_hidden_by_close_close_range_and_exec_after_marking() {
        let mut t = T::default();
        let r = t.root(1, (), true).table;
        let inh = Lookup::Inherited { origin: 1 };
        assert_eq!(get(&t, 1, 2), inh);
        assert_eq!(get(&t, 1, -1), Lookup::Absent);
        t.table_mut(r).close(2);
        assert_eq!(get(&t, 1, 2), Lookup::Absent);
        t.table_mut(r).close_range(5, 9, false);
        assert_eq!(get(&t, 1, 7), Lookup::Absent);
        assert_eq!(get(&t, 1, 10), inh);
        // A dup of an inherited fd: the reader makes its value.
        t.table_mut(r).dup(
            10,
            7,
            false,
            |o, fd| if (o, fd) == (1, 10) { "inh" } else { "?" },
        );
        assert_eq!(open(&t, 1, 7), Some("inh"));
        // Marked close-on-exec by close_range: closed at exec, except the
        // one given a flag of its own.
        t.table_mut(r).close_range(10, 20, true);
        t.table_mut(r).set_cloexec(11, false, |_, _| "eleven");
        t.new_child(1, 2, false, ());
        t.exec(1, 1);
        assert_eq!(get(&t, 1, 12), Lookup::Absent);
        assert_eq!(open(&t, 1, 11), Some("eleven"));
        assert_eq!(get(&t, 1, 21), inh);
        assert_eq!(get(&t, 2, 12), inh, "the fork did not exec");
        // A new root: a new origin; a table without one knows no fd.
        t.root(3, (), true);
        assert_eq!(get(&t, 3, 0), Lookup::Inherited { origin: 2 });
        t.root(4, (), false);
        assert_eq!(get(&t, 4, 0), Lookup::Absent);
    }

    #[test]
    fn a_table_is_freed_at_its_last_threads_death_and_reused() {
        let mut t = one();
        t.new_child(10, 11, true, ());
        t.new_child(10, 12, false, ());
        assert_eq!(t.live(), 2);
        t.exit(10);
        assert_eq!(open(&t, 11, 3), Some("a"), "11 still holds it");
        let freed = id(&t, 11);
        t.exit(11);
        assert_eq!(t.live(), 1);
        assert_eq!(t.exit(11), None);
        // The next table takes the freed slot, empty.
        t.new_child(12, 13, false, ());
        assert_eq!(id(&t, 13), freed);
        assert_eq!(open(&t, 13, 3), Some("a"));
        t.root(14, (), false);
        assert_eq!(t.live(), 3);
        // A thread made again (a reused tid) drops the table it had.
        t.root(14, (), false);
        assert_eq!(t.live(), 3);
        t.new_child(12, 14, true, ());
        assert_eq!(t.live(), 2);
    }
}
