//! Arbitrary bytes as a whole trace file: the in-memory reader must return
//! records, a truncation report or an error, never panic or over-allocate.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut n = 0u64;
    let mut seen = 0u64;
    if let Ok(s) = ptrec_format::memfile::read_bytes(data, |r| {
        seen += 1;
        // Touch the lazily decoded parts too.
        if let ptrec_format::Record::SyscallEnter { mem, .. }
        | ptrec_format::Record::SyscallExit { mem, .. } = r
        {
            n += mem.iter().map(|m| m.data.len() as u64).sum::<u64>();
        }
    }) {
        assert_eq!(s.records, seen);
    }
    let _ = n;
    // Every prefix decoder entry point on the raw bytes, at a chunk offset.
    let _ = ptrec_format::chunk::decode(data, 1);
});
