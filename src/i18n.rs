//! Checks of the pages' message catalogues (`assets/i18n/*.json` beside each page): every
//! language has every text with the same blanks, and every text a page asks for is there.

use std::collections::{BTreeMap, BTreeSet};

/// A catalogue: texts by key.
pub(crate) fn catalogue(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).expect("a catalogue is a JSON object of texts")
}

/// The `{name}`s a text fills in.
pub(crate) fn placeholders(text: &str) -> BTreeSet<String> {
    text.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

/// The keys a page and its script ask for: `data-t="…"`, `data-t-placeholder="…"` and
/// `t("…"`.
pub(crate) fn keys_used(sources: &[&str]) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for text in sources {
        for open in ["data-t=\"", "data-t-placeholder=\"", "t(\""] {
            let mut rest = *text;
            while let Some(at) = rest.find(open) {
                // `t(` alone, not the end of another name (`list(`).
                let alone = !rest[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '-');
                rest = &rest[at + open.len()..];
                if let Some((key, _)) = rest.split_once('"').filter(|_| alone) {
                    keys.insert(key.to_string());
                }
            }
        }
    }
    keys
}

/// What is wrong with `catalogues` (language, text) for pages made of `sources`.
pub(crate) fn problems(catalogues: &[(&str, &str)], sources: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let all: Vec<(&str, BTreeMap<String, String>)> = catalogues
        .iter()
        .map(|(lang, text)| (*lang, catalogue(text)))
        .collect();
    let Some((first, reference)) = all.first() else {
        return problems;
    };
    for (lang, texts) in &all[1..] {
        for key in reference.keys().filter(|k| !texts.contains_key(*k)) {
            problems.push(format!("`{key}` is in {first}.json, not in {lang}.json"));
        }
        for key in texts.keys().filter(|k| !reference.contains_key(*k)) {
            problems.push(format!("`{key}` is in {lang}.json, not in {first}.json"));
        }
        for (key, text) in reference {
            if let Some(other) = texts.get(key) {
                if placeholders(text) != placeholders(other) {
                    problems.push(format!("`{key}` fills in other blanks in {lang}.json"));
                }
            }
        }
    }
    for key in keys_used(sources) {
        if !reference.contains_key(&key) {
            problems.push(format!("the page asks for `{key}`, in no catalogue"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keys_a_page_asks_for_are_its_t_calls_and_data_t_attributes_only() {
        let page = r#"<h2 data-t="section.floor">Floor</h2> list("not-a-key"); t("a.b", { n }); x.t("no")"#;
        let keys: Vec<String> = keys_used(&[page]).into_iter().collect();
        assert_eq!(keys, ["a.b", "section.floor"]);
        let problems = problems(
            &[
                ("en", r#"{"a": "{n} x", "b": "y"}"#),
                ("zh", r#"{"a": "{m} x"}"#),
            ],
            &[r#"t("c")"#],
        );
        assert_eq!(
            problems,
            [
                "`b` is in en.json, not in zh.json",
                "`a` fills in other blanks in zh.json",
                "the page asks for `c`, in no catalogue"
            ]
        );
    }
}
