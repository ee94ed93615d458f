//! `replay --json`: NDJSON, one object per call, signal or event, with the
//! raw values next to their decoded forms. The objects are described by
//! `analyzer/replay.schema.json` (a test validates output against it).

use serde_json::{json, Map, Value};

use ptrec_format::{mem_flags, ChildKind, Record, Termination};

use ptrec_abi::decode::{self as abi, Part, Style};

use crate::calls::{End, Entry, Exit};
use crate::decode::{signal_name, syscall_name};
use crate::stats::is_error;
use ptrec_abi::names::errno_text;

/// One call as an object.
pub(super) fn call(pid: i32, e: &Entry<'_>, x: Option<&Exit<'_>>, end: End, limit: usize) -> Value {
    let enter: Vec<_> = e.mem.iter().collect();
    let exit: Vec<_> = x.map(|x| x.mem.iter().collect()).unwrap_or_default();
    let call = abi::Call {
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
    let mut decoded = String::new();
    abi::write_args(&mut decoded, &call, Part::Whole, &style);
    let strings: Vec<Value> = enter
        .iter()
        .chain(exit.iter())
        .filter(|m| m.flags & mem_flags::STRING != 0 && m.arg < 6)
        .map(|m| {
            json!({
                "arg": m.arg,
                "value": String::from_utf8_lossy(m.data),
                "truncated": m.flags & (mem_flags::TRUNCATED | mem_flags::PARTIAL) != 0,
            })
        })
        .collect();
    let mut o = Map::new();
    o.insert("type".into(), "call".into());
    o.insert("tid".into(), e.tid.into());
    o.insert("pid".into(), pid.into());
    o.insert("name".into(), syscall_name(e.nr).into_owned().into());
    o.insert("nr".into(), e.nr.into());
    o.insert("args".into(), e.args.to_vec().into());
    o.insert("decoded".into(), decoded.into());
    o.insert("strings".into(), strings.into());
    o.insert("enter_ns".into(), e.time.into());
    if let Some(ip) = e.ip {
        o.insert("ip".into(), ip.into());
    }
    o.insert(
        "end".into(),
        match end {
            End::Returned => "returned",
            End::Death => "death",
            End::Lost => "lost",
        }
        .into(),
    );
    match x {
        Some(x) => {
            o.insert("exit_tid".into(), x.tid.into());
            o.insert("exit_ns".into(), x.time.into());
            o.insert("duration_ns".into(), x.time.saturating_sub(e.time).into());
            o.insert("ret".into(), x.ret.into());
            o.insert("ret_text".into(), abi::return_text(&call, &style).into());
            if is_error(x.ret) {
                let t = errno_text(-x.ret as i32);
                let name = t.split(' ').next().unwrap_or("").to_string();
                o.insert("errno".into(), name.into());
            }
        }
        None => {
            o.insert("ret".into(), Value::Null);
        }
    }
    Value::Object(o)
}

/// A call whose end the trace does not hold (it ended first).
pub(super) fn unfinished(pid: i32, e: &Entry<'_>, limit: usize) -> Value {
    let mut v = call(pid, e, None, End::Lost, limit);
    v["end"] = "end_of_trace".into();
    v
}

/// A signal, a group-stop or a process event; `None` for records that are
/// not shown.
pub(super) fn event(pid: i32, r: &Record<'_>) -> Option<Value> {
    let (tid, time) = (r.tid(), r.time());
    let mut o = match *r {
        Record::SignalDelivery { signo, siginfo, .. } => json!({
            "type": "signal",
            "signo": signo,
            "signal": signal_name(signo),
            "siginfo": abi::siginfo_text(signo, siginfo),
        }),
        Record::GroupStop { signo, .. } => json!({
            "type": "group_stop",
            "signo": signo,
            "signal": signal_name(signo),
        }),
        Record::NewChild {
            child, kind, flags, ..
        } => json!({
            "type": "new_child",
            "child": child,
            "kind": match kind {
                ChildKind::Fork => "fork",
                ChildKind::Vfork => "vfork",
                ChildKind::Clone => "clone",
            },
            "flags": flags,
        }),
        Record::Exec {
            former_tid,
            filename,
            ref argv,
            ..
        } => json!({
            "type": "exec",
            "former_tid": former_tid,
            "filename": String::from_utf8_lossy(filename),
            "argv": argv.iter().map(|a| String::from_utf8_lossy(a)).collect::<Vec<_>>(),
        }),
        Record::ExitEvent { status, .. } => json!({"type": "exit_event", "status": status}),
        Record::Death { how, .. } => match how {
            Termination::Exited(code) => json!({"type": "exited", "code": code}),
            Termination::Signaled { signo, core } => json!({
                "type": "killed",
                "signo": signo,
                "signal": signal_name(signo),
                "core_dumped": core,
            }),
        },
        Record::Attach { tgid, .. } => json!({"type": "attach", "tgid": tgid}),
        Record::Detach { signo, .. } => json!({"type": "detach", "signo": signo}),
        Record::Note {
            kind, value, text, ..
        } => json!({
            "type": "note",
            "kind": kind,
            "value": value,
            "text": String::from_utf8_lossy(text),
        }),
        Record::VforkDone { child, .. } => json!({"type": "vfork_done", "child": child}),
        Record::OpenFd {
            fd, flags, target, ..
        } => json!({
            "type": "open_fd",
            "fd": fd,
            "flags": flags,
            "target": String::from_utf8_lossy(target),
        }),
        Record::SyscallEnter { .. } | Record::SyscallExit { .. } => return None,
    };
    o["tid"] = tid.into();
    o["pid"] = pid.into();
    o["time_ns"] = time.into();
    Some(o)
}
