//! `analyze env` (and `info --env`): the environment the command was
//! started with, as the header holds it; a value a redaction policy dropped
//! shows as `<redacted N bytes>`.

use std::fmt::Write;

use ptrec_format::Header;
use serde::Serialize;

use crate::decode::{escaped, redacted_text};

#[derive(Serialize)]
struct Var {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    /// Bytes of the value a redaction dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    redacted: Option<u64>,
}

#[derive(Serialize)]
struct Json {
    environment: Vec<Var>,
}

/// Each entry as (name, value, bytes redacted).
fn vars(h: &Header) -> Vec<(&[u8], &[u8], Option<u64>)> {
    h.env
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let red = h
                .env_redacted
                .iter()
                .find(|r| r.0 as usize == i)
                .map(|r| r.1);
            match e.iter().position(|&c| c == b'=') {
                Some(k) => (&e[..k], &e[k + 1..], red),
                None => (e.as_slice(), &[][..], red),
            }
        })
        .collect()
}

pub fn text(h: &Header) -> String {
    let mut s = String::new();
    for (name, value, red) in vars(h) {
        let v = match red {
            Some(n) => redacted_text(n),
            None => escaped(value),
        };
        let _ = writeln!(s, "{}={v}", escaped(name));
    }
    s
}

pub fn json(h: &Header) -> serde_json::Result<String> {
    let environment = vars(h)
        .into_iter()
        .map(|(name, value, red)| Var {
            name: String::from_utf8_lossy(name).into_owned(),
            value: red
                .is_none()
                .then(|| String::from_utf8_lossy(value).into_owned()),
            redacted: red,
        })
        .collect();
    serde_json::to_string_pretty(&Json { environment })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_values_keep_their_name_and_length_and_names_are_escaped() {
        let h = Header {
            env: vec![
                b"PATH=/bin".to_vec(),
                b"API_TOKEN=".to_vec(),
                b"T\x1b=x".to_vec(),
            ],
            env_redacted: vec![(1, 40)],
            ..Header::default()
        };
        assert_eq!(
            text(&h),
            "PATH=/bin\nAPI_TOKEN=<redacted 40 bytes>\nT\\33=x\n"
        );
        let j: serde_json::Value = serde_json::from_str(&json(&h).expect("json")).expect("parse");
        assert_eq!(j["environment"][1]["redacted"], 40);
        assert!(j["environment"][1].get("value").is_none());
        assert_eq!(j["environment"][0]["value"], "/bin");
    }
}
