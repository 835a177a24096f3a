//! `name=value` lists shared by the connection and server tests: CLIENT LIST lines
//! (`id=3 addr=... resp=2`) and INFO commandstats values (`calls=1,usec=2,...`).

/// The `name=value` items of `text`, split on `separator`, in order.
pub fn pairs(text: &str, separator: char) -> Vec<(String, String)> {
    text.trim_end_matches('\n')
        .split(separator)
        .map(|item| {
            let (k, v) = item
                .split_once('=')
                .unwrap_or_else(|| panic!("not name=value: {item:?} in {text:?}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The value of `name` in `text` (panics when missing).
pub fn value(text: &str, separator: char, name: &str) -> String {
    pairs(text, separator)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} in {text:?}"))
}
