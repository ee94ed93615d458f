//! `analyze replay`: every recorded stop as a strace-like line, in file
//! order. How each syscall's arguments and results are shown is
//! `ptrec_abi::decode`'s; [`driver`] prints the call layer's stream by
//! strace's rules.

mod driver;
mod json;
mod line;

pub use driver::run;
pub use line::call_line;

/// Pads the call text to strace's 40th column before ` = `.
fn finish(s: &mut String, start: usize, ret: &str) {
    pad(s, start);
    s.push_str(ret);
}

/// Pads the call text to strace's 40th column and writes ` = `.
fn pad(s: &mut String, start: usize) {
    const SPACES: &str = "                                       ";
    let w = s.len() - start;
    if w < 39 {
        s.push_str(&SPACES[..39 - w]);
    }
    s.push_str(" = ");
}
