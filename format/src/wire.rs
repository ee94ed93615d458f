//! The leaf of the crate: how one value becomes bytes and back.
//!
//! [`Cur`] reads and [`Put`] writes the same forms (FORMAT.md, section 1):
//! an unsigned integer wider than 8 bits is a varint — a first byte up to 250
//! is the value; 251, 252 and 253 announce a little-endian u16, u32 or u64;
//! signed values are zigzag-mapped first; a `u8` is one raw byte; a `bool` is
//! one byte, 0 or 1; a byte string is a varint length and the bytes. These
//! are the forms bincode 2's `config::standard()` writes, which version 1 and
//! 2 files were made with; the unit tests below keep bincode (a
//! dev-dependency only) as the oracle that they still are.
//!
//! Everything else in the crate builds on these two: nothing here knows a
//! record, a header or a chunk.

/// A decoding step's failure: a fixed reason, no allocation.
pub(crate) type Step<T> = std::result::Result<T, &'static str>;

pub(crate) const END: &str = "record ends inside a field";

/// A read position in a byte slice. The analyzer's inner loop: every
/// method is small and inlined.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Cur<'a> {
    pub(crate) b: &'a [u8],
}

impl<'a> Cur<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Cur { b }
    }

    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.b.is_empty()
    }

    #[inline(always)]
    pub(crate) fn u8(&mut self) -> Step<u8> {
        let (&x, rest) = self.b.split_first().ok_or(END)?;
        self.b = rest;
        Ok(x)
    }

    #[inline(always)]
    pub(crate) fn u64(&mut self) -> Step<u64> {
        let (&x, rest) = self.b.split_first().ok_or(END)?;
        if x <= 250 {
            self.b = rest;
            return Ok(u64::from(x));
        }
        self.u64_wide(x)
    }

    /// Register deltas of pointers are often wide: this is not a cold path.
    #[inline(always)]
    fn u64_wide(&mut self, x: u8) -> Step<u64> {
        let b = self.b;
        match x {
            251 if b.len() >= 3 => {
                self.b = &b[3..];
                Ok(u64::from(u16::from_le_bytes([b[1], b[2]])))
            }
            252 if b.len() >= 5 => {
                self.b = &b[5..];
                Ok(u64::from(u32::from_le_bytes([b[1], b[2], b[3], b[4]])))
            }
            253 if b.len() >= 9 => {
                self.b = &b[9..];
                let mut w = [0u8; 8];
                w.copy_from_slice(&b[1..9]);
                Ok(u64::from_le_bytes(w))
            }
            251..=253 => Err(END),
            254 => Err("a 128-bit integer where 64 bits are expected"),
            _ => Err("reserved integer marker 255"),
        }
    }

    /// Steps over `n` varints without computing them.
    #[inline(always)]
    pub(crate) fn skip(&mut self, n: u32) -> Step<()> {
        for _ in 0..n {
            let &x = self.b.first().ok_or(END)?;
            let len = match x {
                0..=250 => 1,
                251 => 3,
                252 => 5,
                253 => 9,
                _ => return Err("a 128-bit or reserved integer marker in a register delta"),
            };
            self.b = self.b.get(len..).ok_or(END)?;
        }
        Ok(())
    }

    /// A u32 varint: the u64 marker (253) is refused even for a small value,
    /// as bincode refuses it (FORMAT.md, section 1).
    #[inline(always)]
    pub(crate) fn u32(&mut self) -> Step<u32> {
        let (&x, rest) = self.b.split_first().ok_or(END)?;
        if x <= 250 {
            self.b = rest;
            return Ok(u32::from(x));
        }
        match x {
            251 | 252 => self.u64_wide(x).map(|v| v as u32),
            253 => Err("a 64-bit integer where 32 bits are expected"),
            254 => Err("a 128-bit integer where 32 bits are expected"),
            _ => Err("reserved integer marker 255"),
        }
    }

    #[inline(always)]
    pub(crate) fn i64(&mut self) -> Step<i64> {
        let n = self.u64()?;
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    #[inline(always)]
    pub(crate) fn i32(&mut self) -> Step<i32> {
        let n = self.u32()?;
        Ok(((n >> 1) as i32) ^ -((n & 1) as i32))
    }

    pub(crate) fn bool(&mut self) -> Step<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err("a boolean that is neither 0 nor 1"),
        }
    }

    /// A length-prefixed byte string, borrowed; its length is checked
    /// against the bytes left before anything else happens.
    #[inline]
    pub(crate) fn bytes(&mut self) -> Step<&'a [u8]> {
        let n = self.u64()?;
        if n > self.b.len() as u64 {
            return Err("a byte string longer than its record");
        }
        let (head, rest) = self.b.split_at(n as usize);
        self.b = rest;
        Ok(head)
    }

    /// A byte string that must be UTF-8.
    pub(crate) fn str(&mut self) -> Step<&'a str> {
        std::str::from_utf8(self.bytes()?).map_err(|_| "a string that is not UTF-8")
    }

    /// A sequence count, bounded by the bytes left: every element takes at
    /// least `min_elem` bytes, so a hostile count cannot make a caller
    /// reserve more than the input justifies.
    pub(crate) fn count(&mut self, min_elem: usize) -> Step<usize> {
        let n = self.u64()?;
        if n > (self.b.len() / min_elem.max(1)) as u64 {
            return Err("a count larger than the bytes left can hold");
        }
        Ok(n as usize)
    }

    /// A sequence of (u32, u64) pairs (redaction lists).
    pub(crate) fn pairs(&mut self) -> Step<Vec<(u32, u64)>> {
        let n = self.count(2)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push((self.u32()?, self.u64()?));
        }
        Ok(v)
    }
}

/// Appends values to a byte vector in the forms [`Cur`] reads.
pub(crate) struct Put<'v>(pub(crate) &'v mut Vec<u8>);

impl Put<'_> {
    #[inline(always)]
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    #[inline(always)]
    pub(crate) fn u64(&mut self, v: u64) {
        if v <= 250 {
            self.0.push(v as u8);
        } else if v <= u64::from(u16::MAX) {
            self.0.push(251);
            self.0.extend_from_slice(&(v as u16).to_le_bytes());
        } else if v <= u64::from(u32::MAX) {
            self.0.push(252);
            self.0.extend_from_slice(&(v as u32).to_le_bytes());
        } else {
            self.0.push(253);
            self.0.extend_from_slice(&v.to_le_bytes());
        }
    }

    #[inline(always)]
    pub(crate) fn u32(&mut self, v: u32) {
        self.u64(u64::from(v));
    }

    #[inline(always)]
    pub(crate) fn i64(&mut self, v: i64) {
        self.u64(((v << 1) ^ (v >> 63)) as u64);
    }

    #[inline(always)]
    pub(crate) fn i32(&mut self, v: i32) {
        self.u32(((v << 1) ^ (v >> 31)) as u32);
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.0.push(u8::from(v));
    }

    #[inline]
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.u64(v.len() as u64);
        self.0.extend_from_slice(v);
    }

    pub(crate) fn pairs(&mut self, v: &[(u32, u64)]) {
        self.u64(v.len() as u64);
        for &(a, b) in v {
            self.u32(a);
            self.u64(b);
        }
    }

    /// Bytes already in their stored form (no length prefix).
    #[inline]
    pub(crate) fn raw(&mut self, v: &[u8]) {
        self.0.extend_from_slice(v);
    }
}

#[cfg(test)]
mod tests {
    //! bincode 2.0.1 (`config::standard()`) as the oracle: the forms written
    //! and read here must stay exactly the ones version 1 and 2 files hold.
    use super::*;
    use proptest::prelude::*;

    const CFG: bincode::config::Configuration = bincode::config::standard();

    fn ours(f: impl FnOnce(&mut Put<'_>)) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut Put(&mut v));
        v
    }

    fn theirs<T: bincode::Encode>(x: T) -> Vec<u8> {
        bincode::encode_to_vec(x, CFG).unwrap()
    }

    const EDGES: [u64; 12] = [
        0,
        1,
        250,
        251,
        255,
        256,
        65535,
        65536,
        u32::MAX as u64,
        u32::MAX as u64 + 1,
        u64::MAX - 1,
        u64::MAX,
    ];

    #[test]
    fn every_varint_edge_is_written_and_read_as_bincode_does() {
        for v in EDGES {
            assert_eq!(ours(|p| p.u64(v)), theirs(v), "{v}");
            let b = theirs(v);
            assert_eq!(Cur::new(&b).u64(), Ok(v));
            let s = v as i64;
            assert_eq!(ours(|p| p.i64(s)), theirs(s), "{s}");
            let b = theirs(s);
            assert_eq!(Cur::new(&b).i64(), Ok(s));
            let (u, i) = (v as u32, v as i32);
            assert_eq!(ours(|p| p.u32(u)), theirs(u));
            assert_eq!(ours(|p| p.i32(i)), theirs(i));
            assert_eq!(Cur::new(&theirs(u)).u32(), Ok(u));
            assert_eq!(Cur::new(&theirs(i)).i32(), Ok(i));
        }
        for b in [false, true] {
            assert_eq!(ours(|p| p.bool(b)), theirs(b));
        }
        let s: &[u8] = &[7; 300];
        assert_eq!(ours(|p| p.bytes(s)), theirs(s));
        assert_eq!(ours(|p| p.bytes("é".as_bytes())), theirs("é"));
    }

    #[test]
    fn a_wider_marker_than_the_target_type_is_refused_as_bincode_refuses_it() {
        // The u64 form of 5 where a u32 is expected; the u128 marker anywhere.
        let wide = [253, 5, 0, 0, 0, 0, 0, 0, 0];
        assert!(Cur::new(&wide).u32().is_err());
        assert!(bincode::decode_from_slice::<u32, _>(&wide, CFG).is_err());
        assert_eq!(Cur::new(&wide).u64(), Ok(5));
        assert!(Cur::new(&[254; 17]).u64().is_err());
        assert!(Cur::new(&[255]).u64().is_err());
        assert!(Cur::new(&[2]).bool().is_err());
        // A length past the end, and a count the bytes cannot hold.
        assert!(Cur::new(&[5, 1, 2]).bytes().is_err());
        assert!(Cur::new(&[200, 1, 2]).count(1).is_err());
    }

    proptest! {
        #[test]
        fn any_value_round_trips_and_matches_bincode(v in any::<u64>(), s in any::<i64>(), w in any::<u32>(), i in any::<i32>()) {
            let b = ours(|p| { p.u64(v); p.i64(s); p.u32(w); p.i32(i); });
            prop_assert_eq!(&b, &[theirs(v), theirs(s), theirs(w), theirs(i)].concat());
            let mut c = Cur::new(&b);
            prop_assert_eq!((c.u64(), c.i64(), c.u32(), c.i32()), (Ok(v), Ok(s), Ok(w), Ok(i)));
            prop_assert!(c.is_empty());
        }

        #[test]
        fn any_bytes_read_as_bincode_reads_them(b in proptest::collection::vec(any::<u8>(), 0..12)) {
            let ref_u64 = bincode::decode_from_slice::<u64, _>(&b, CFG).map(|x| x.0).ok();
            prop_assert_eq!(Cur::new(&b).u64().ok(), ref_u64);
            let ref_u32 = bincode::decode_from_slice::<u32, _>(&b, CFG).map(|x| x.0).ok();
            prop_assert_eq!(Cur::new(&b).u32().ok(), ref_u32);
            let ref_i32 = bincode::decode_from_slice::<i32, _>(&b, CFG).map(|x| x.0).ok();
            prop_assert_eq!(Cur::new(&b).i32().ok(), ref_i32);
        }
    }
}
