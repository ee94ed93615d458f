//! `replay --json`: NDJSON, one object per call, signal or event, with the
//! raw values next to their decoded forms. The objects are described by
//! `analyzer/replay.schema.json` (a test validates output against it).

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{json, Value};

use ptrec_format::{mem_flags, ChildKind, Record, Termination};

use ptrec_abi::decode::{self as abi, ArgType, Part, Style};

use crate::calls::{End, Entry, Exit};
use crate::decode::signal_name;
use crate::stats::is_error;
use ptrec_abi::names::errno_text;

/// A captured string argument.
#[derive(Serialize)]
struct Str<'a> {
    arg: u8,
    value: Cow<'a, str>,
    truncated: bool,
}

/// One argument, typed: its raw register, its decoded text, and what the
/// text holds (a path's string, flag names, a struct's fields).
#[derive(Serialize)]
struct Arg<'a> {
    index: u8,
    raw: u64,
    r#type: &'static str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    truncated: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    names: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<Fields<'a>>,
}

/// A struct's top-level `name=value` pairs, in the decoder's order.
struct Fields<'a>(Vec<(&'a str, &'a str)>);

impl Serialize for Fields<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The top-level items of `{a=1, b={c=2}, ...}` or `[x, y]`: split at the
/// `, ` outside nested brackets and quoted strings.
fn items(text: &str) -> Vec<&str> {
    let inner = &text[1..text.len().saturating_sub(1).max(1)];
    let b = inner.as_bytes();
    let (mut depth, mut quoted, mut esc, mut start) = (0i32, false, false, 0);
    let mut out = Vec::new();
    for (i, &c) in b.iter().enumerate() {
        if quoted {
            match (esc, c) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => quoted = true,
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' => depth -= 1,
            b',' if depth == 0 && b.get(i + 1) == Some(&b' ') => {
                out.push(&inner[start..i]);
                start = i + 2;
            }
            _ => {}
        }
    }
    if start < inner.len() {
        out.push(&inner[start..]);
    }
    out
}

/// The typed arguments strace shows of `call`.
fn typed<'a>(call: &abi::Call<'_, '_>, texts: &[&'a str], strings: &[Str<'a>]) -> Vec<Arg<'a>> {
    let types = abi::arg_types(call.arch, call.nr);
    let mut out = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        if text.is_empty() {
            continue;
        }
        let t = types[i];
        let first = text.as_bytes()[0];
        let shape_ok = match t {
            ArgType::Path | ArgType::String | ArgType::Buffer => first == b'"',
            ArgType::Struct => first == b'{',
            ArgType::Array => first == b'[',
            _ => true,
        };
        let t = if shape_ok { t } else { ArgType::Pointer };
        let name = match t {
            ArgType::Int => "int",
            ArgType::Fd => "fd",
            ArgType::Path => "path",
            ArgType::String => "string",
            ArgType::Buffer => "buffer",
            ArgType::Flags => "flags",
            ArgType::Pointer => "pointer",
            ArgType::Struct => "struct",
            ArgType::Array => "array",
            ArgType::Other => "other",
        };
        let mut a = Arg {
            index: i as u8,
            raw: call.args[i],
            r#type: name,
            text,
            value: None,
            truncated: None,
            names: None,
            fields: None,
        };
        match t {
            ArgType::Path | ArgType::String => {
                if let Some(st) = strings.iter().find(|st| st.arg as usize == i) {
                    a.value = Some(st.value.clone());
                    a.truncated = Some(st.truncated);
                }
            }
            ArgType::Flags => a.names = Some(text.split('|').collect()),
            ArgType::Struct => {
                a.fields = Some(Fields(
                    items(text)
                        .into_iter()
                        .filter_map(|f| f.split_once('='))
                        .collect(),
                ))
            }
            _ => {}
        }
        out.push(a);
    }
    out
}

/// One call, serialized straight to text (no intermediate JSON tree: a
/// replay writes millions of these).
#[derive(Serialize)]
struct CallObj<'a> {
    r#type: &'static str,
    tid: i32,
    pid: i32,
    name: Cow<'static, str>,
    nr: u32,
    args: [u64; 6],
    decoded: &'a str,
    strings: Vec<Str<'a>>,
    arguments: Vec<Arg<'a>>,
    enter_ns: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<u64>,
    end: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_tid: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ns: Option<u64>,
    ret: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ret_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errno: Option<String>,
}

/// Appends one call as a line of NDJSON; `end` as the schema names it.
pub(super) fn call(
    out: &mut String,
    pid: i32,
    e: &Entry<'_>,
    x: Option<&Exit<'_>>,
    end: End,
    limit: usize,
) {
    let end = match end {
        End::Returned => "returned",
        End::Death => "death",
        End::Lost => "lost",
    };
    write_call(out, pid, e, x, end, limit);
}

fn write_call(
    out: &mut String,
    pid: i32,
    e: &Entry<'_>,
    x: Option<&Exit<'_>>,
    end: &'static str,
    limit: usize,
) {
    let enter: Vec<_> = e.mem.iter().collect();
    let exit: Vec<_> = x.map(|x| x.mem.iter().collect()).unwrap_or_default();
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
    let mut decoded = String::new();
    let spans = abi::write_args_spans(&mut decoded, &call, &style);
    let strings = enter
        .iter()
        .chain(exit.iter())
        .filter(|m| m.flags & mem_flags::STRING != 0 && m.arg < 6)
        .map(|m| Str {
            arg: m.arg,
            value: String::from_utf8_lossy(m.data),
            truncated: m.flags & (mem_flags::TRUNCATED | mem_flags::PARTIAL) != 0,
        })
        .collect::<Vec<_>>();
    // Each argument's text: its part of the whole line, or (for the calls
    // shown as one text) decoded alone.
    let own: Vec<String>;
    let texts: [&str; 6] = match &spans {
        Some(sp) => std::array::from_fn(|i| &decoded[sp[i].clone()]),
        None => {
            own = (0..6)
                .map(|i| {
                    let mut t = String::new();
                    abi::write_args(&mut t, &call, Part::Only(i), &style);
                    t
                })
                .collect();
            std::array::from_fn(|i| own[i].as_str())
        }
    };
    let arguments = typed(&call, &texts, &strings);
    let o = CallObj {
        r#type: "call",
        tid: e.tid,
        pid,
        name: e.name(),
        nr: e.nr,
        args: e.args,
        decoded: &decoded,
        strings,
        arguments,
        enter_ns: e.time,
        ip: e.ip,
        end,
        exit_tid: x.map(|x| x.tid),
        exit_ns: x.map(|x| x.time),
        duration_ns: x.map(|x| x.time.saturating_sub(e.time)),
        ret: x.map(|x| x.ret),
        ret_text: x.map(|_| abi::return_text(&call, &style)),
        errno: x.filter(|x| is_error(x.ret)).map(|x| {
            let t = errno_text(-x.ret as i32);
            t.split(' ').next().unwrap_or("").to_string()
        }),
    };
    // Serializing plain fields into memory cannot fail.
    if let Ok(s) = serde_json::to_string(&o) {
        out.push_str(&s);
    }
    out.push('\n');
}

/// A call whose end the trace does not hold (it ended first).
pub(super) fn unfinished(out: &mut String, pid: i32, e: &Entry<'_>, limit: usize) {
    write_call(out, pid, e, None, "end_of_trace", limit);
}

/// A signal, a group-stop or a process event; `None` for records that are
/// not shown.
pub(super) fn event(arch: ptrec_abi::Arch, pid: i32, r: &Record<'_>) -> Option<Value> {
    let (tid, time) = (r.tid(), r.time());
    let mut o = match *r {
        Record::SignalDelivery { signo, siginfo, .. } => json!({
            "type": "signal",
            "signo": signo,
            "signal": signal_name(signo),
            "siginfo": abi::siginfo_text(arch, signo, siginfo),
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

#[cfg(test)]
mod tests {
    use super::items;

    #[test]
    fn a_struct_splits_at_its_top_level_commas_only() {
        assert_eq!(
            items(
                r#"{sa_handler=0x1, sa_mask=[INT TERM], sa_flags=SA_RESTART|SA_RESTORER, x={a=1, b="c, d\""}}"#
            ),
            vec![
                "sa_handler=0x1",
                "sa_mask=[INT TERM]",
                "sa_flags=SA_RESTART|SA_RESTORER",
                r#"x={a=1, b="c, d\""}"#,
            ]
        );
        assert_eq!(items("[3, 4]"), vec!["3", "4"]);
        assert!(items("{}").is_empty());
    }
}
