//! One call as a whole strace line, for the views that quote calls
//! (`failures`' last syscalls, `slow`), with replay's decoders.

use ptrec_format::Mem;

use super::{call_text, finish, ret_text, Caps};
use crate::calls::{Entry, Exit};

/// `name(args) = ret`, the arguments decoded as `replay` shows them, each
/// buffer and argv string cut at `limit` bytes; ` = ?` when it did not
/// return.
pub fn call_line(e: &Entry<'_>, x: Option<&Exit<'_>>, limit: usize) -> String {
    let enter: Vec<Mem<'_>> = e.mem.iter().collect();
    let exit: Vec<Mem<'_>> = x.map(|x| x.mem.iter().collect()).unwrap_or_default();
    let caps = Caps {
        enter: &enter,
        exit: &exit,
        limit,
    };
    let mut s = call_text(e.nr, &e.args, x.map(|x| x.ret), &caps);
    s.push(')');
    match x {
        Some(x) => finish(
            &mut s,
            0,
            &ret_text(e.nr, x.ret, Some(&e.args), Some(&caps)),
        ),
        None => finish(&mut s, 0, "?"),
    }
    s
}
