//! One call as a whole strace line, for the views that quote calls
//! (`failures`' last syscalls, `slow`), with the one set of decoders
//! (`ptrec_abi::decode`).

use ptrec_abi::decode::{self as abi, Part, Style};
use ptrec_format::Mem;

use super::finish;
use crate::calls::{Entry, Exit};

/// `name(args) = ret`, the arguments decoded as `replay` shows them, each
/// buffer and argv string cut at `limit` bytes; ` = ?` when it did not
/// return.
pub fn call_line(e: &Entry<'_>, x: Option<&Exit<'_>>, limit: usize) -> String {
    let enter: Vec<Mem<'_>> = e.mem.iter().collect();
    let exit: Vec<Mem<'_>> = x.map(|x| x.mem.iter().collect()).unwrap_or_default();
    let call = abi::Call {
        arch: e.arch,
        nr: e.nr,
        args: e.args,
        ret: x.map(|x| x.ret),
        enter: &enter,
        exit: &exit,
    };
    let style = Style {
        string_limit: limit,
        ..Style::default()
    };
    let mut s = String::with_capacity(64);
    abi::write_call(&mut s, &call, Part::Whole, &style);
    s.push(')');
    finish(&mut s, 0, &abi::return_text(&call, &style));
    s
}
