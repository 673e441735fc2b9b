//! Stripe's form encoding: `a[b][0][c]=v`, `expand[]=x`, parsed into a tree so handlers can
//! read nested parameters and reject unknown ones the way Stripe does.

use std::collections::BTreeMap;

use crate::error::ApiError;

/// One node of the parameter tree. Maps keep insertion order; list items are maps keyed by
/// their index (`[]` appends the next index).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Leaf(String),
    Map(Vec<(String, Node)>),
}

/// A view on a map node that knows its own name, for Stripe-style `param` values in errors.
#[derive(Debug, Clone)]
pub(crate) struct Obj<'a> {
    prefix: String,
    entries: &'a [(String, Node)],
}

/// Parsed request parameters (the root map).
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    entries: Vec<(String, Node)>,
}

fn split_key(key: &str) -> Result<Vec<String>, ApiError> {
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    if head.is_empty() {
        return Err(ApiError::invalid(
            key,
            format!("Invalid parameter name: {key}"),
        ));
    }
    let mut parts = vec![head.to_owned()];
    while !rest.is_empty() {
        let close = rest
            .find(']')
            .filter(|_| rest.starts_with('['))
            .ok_or_else(|| ApiError::invalid(key, format!("Invalid parameter name: {key}")))?;
        parts.push(rest[1..close].to_owned());
        rest = &rest[close + 1..];
    }
    Ok(parts)
}

fn insert(
    entries: &mut Vec<(String, Node)>,
    parts: &[String],
    value: String,
) -> Result<(), ApiError> {
    let Some((first, rest)) = parts.split_first() else {
        return Ok(());
    };
    // `[]` appends: its index is the number of entries already present.
    let name = if first.is_empty() {
        entries.len().to_string()
    } else {
        first.clone()
    };
    if rest.is_empty() {
        match entries.iter_mut().find(|(k, _)| *k == name) {
            Some((_, node)) => *node = Node::Leaf(value),
            None => entries.push((name, Node::Leaf(value))),
        }
        return Ok(());
    }
    let pos = match entries.iter().position(|(k, _)| *k == name) {
        Some(p) => p,
        None => {
            entries.push((name, Node::Map(Vec::new())));
            entries.len() - 1
        }
    };
    match &mut entries[pos].1 {
        Node::Map(children) => insert(children, rest, value),
        // An empty string for a hash (e.g. `metadata=`) means "unset" and may be refined later.
        node @ Node::Leaf(_) => {
            let mut children = Vec::new();
            insert(&mut children, rest, value)?;
            *node = Node::Map(children);
            Ok(())
        }
    }
}

impl Params {
    /// Parses an `application/x-www-form-urlencoded` body or query string.
    pub(crate) fn parse(raw: &str) -> Result<Self, ApiError> {
        let mut entries = Vec::new();
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            let parts = split_key(&k)?;
            insert(&mut entries, &parts, v.into_owned())?;
        }
        Ok(Self { entries })
    }

    /// Builds parameters from a flat JSON object (admin endpoints accept JSON too).
    pub(crate) fn from_json(value: &serde_json::Value) -> Result<Self, ApiError> {
        let mut entries = Vec::new();
        if let Some(map) = value.as_object() {
            for (k, v) in map {
                let s = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                insert(&mut entries, std::slice::from_ref(k), s)?;
            }
        }
        Ok(Self { entries })
    }

    pub(crate) fn obj(&self) -> Obj<'_> {
        Obj {
            prefix: String::new(),
            entries: &self.entries,
        }
    }

    pub(crate) fn str(&self, key: &str) -> Option<&str> {
        self.obj().str(key)
    }
    pub(crate) fn req_str(&self, key: &str) -> Result<&str, ApiError> {
        self.obj().req_str(key)
    }
    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        self.obj().bool(key)
    }
    pub(crate) fn i64(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.obj().i64(key)
    }
    pub(crate) fn metadata(&self, key: &str) -> Result<Option<BTreeMap<String, String>>, ApiError> {
        self.obj().metadata(key)
    }
    pub(crate) fn strings(&self, key: &str) -> Result<Vec<String>, ApiError> {
        self.obj().strings(key)
    }
    pub(crate) fn list(&self, key: &str) -> Result<Vec<Obj<'_>>, ApiError> {
        self.obj().list(key)
    }
    pub(crate) fn child(&self, key: &str) -> Result<Option<Obj<'_>>, ApiError> {
        self.obj().child(key)
    }
    pub(crate) fn allow(&self, allowed: &[&str]) -> Result<(), ApiError> {
        self.obj().allow(allowed)
    }
    pub(crate) fn has(&self, key: &str) -> bool {
        self.obj().get(key).is_some()
    }
}

impl<'a> Obj<'a> {
    /// The Stripe-style name of a child parameter, e.g. `line_items[0][price]`.
    pub(crate) fn name(&self, key: &str) -> String {
        key_name(&self.prefix, key)
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub(crate) fn str(&self, key: &str) -> Option<&'a str> {
        match self.get(key) {
            Some(Node::Leaf(s)) => Some(s.as_str()),
            _ => None,
        }
    }

    pub(crate) fn req_str(&self, key: &str) -> Result<&'a str, ApiError> {
        match self.get(key) {
            Some(Node::Leaf(s)) if !s.is_empty() => Ok(s.as_str()),
            Some(Node::Map(_)) => Err(ApiError::invalid(
                &self.name(key),
                format!("Invalid string: {{...}} for {}", self.name(key)),
            )),
            _ => Err(ApiError::missing(&self.name(key))),
        }
    }

    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.str(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ApiError::invalid(
                &self.name(key),
                format!("Invalid boolean: {other}"),
            )),
        }
    }

    pub(crate) fn i64(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.str(key) {
            None | Some("") => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| ApiError::invalid(&self.name(key), format!("Invalid integer: {s}"))),
        }
    }

    /// A string-to-string hash such as `metadata`. `metadata=` (empty) yields an empty map,
    /// and an empty value for one key is kept so callers can treat it as "delete this key".
    pub(crate) fn metadata(&self, key: &str) -> Result<Option<BTreeMap<String, String>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Node::Leaf(s)) if s.is_empty() => Ok(Some(BTreeMap::new())),
            Some(Node::Leaf(_)) => Err(ApiError::invalid(
                &self.name(key),
                format!("Invalid hash for {}", self.name(key)),
            )),
            Some(Node::Map(children)) => children
                .iter()
                .map(|(k, v)| match v {
                    Node::Leaf(s) => Ok((k.clone(), s.clone())),
                    Node::Map(_) => Err(ApiError::invalid(
                        &format!("{}[{k}]", self.name(key)),
                        "Metadata values must be strings".to_owned(),
                    )),
                })
                .collect::<Result<_, _>>()
                .map(Some),
        }
    }

    pub(crate) fn child(&self, key: &str) -> Result<Option<Obj<'a>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Node::Leaf(s)) if s.is_empty() => Ok(None),
            Some(Node::Leaf(_)) => Err(ApiError::invalid(
                &self.name(key),
                format!("Invalid hash for {}", self.name(key)),
            )),
            Some(Node::Map(children)) => Ok(Some(Obj {
                prefix: key_name(&self.prefix, key),
                entries: children,
            })),
        }
    }

    /// Items of an array parameter, ordered by index.
    pub(crate) fn list(&self, key: &str) -> Result<Vec<Obj<'a>>, ApiError> {
        let Some(Node::Map(children)) = self.get(key) else {
            return match self.get(key) {
                None => Ok(Vec::new()),
                Some(Node::Leaf(s)) if s.is_empty() => Ok(Vec::new()),
                Some(_) => Err(ApiError::invalid(
                    &self.name(key),
                    format!("Invalid array for {}", self.name(key)),
                )),
            };
        };
        let mut items: Vec<(usize, Obj<'a>)> = Vec::new();
        for (idx, node) in children {
            let i: usize = idx.parse().map_err(|_| {
                ApiError::invalid(
                    &self.name(key),
                    format!("Invalid array for {}", self.name(key)),
                )
            })?;
            match node {
                Node::Map(entries) => items.push((
                    i,
                    Obj {
                        prefix: key_name(&key_name(&self.prefix, key), idx),
                        entries,
                    },
                )),
                Node::Leaf(_) => {
                    return Err(ApiError::invalid(
                        &format!("{}[{idx}]", self.name(key)),
                        format!("Invalid hash for {}[{idx}]", self.name(key)),
                    ));
                }
            }
        }
        items.sort_by_key(|(i, _)| *i);
        Ok(items.into_iter().map(|(_, o)| o).collect())
    }

    /// An array of strings such as `expand[]` or `lookup_keys[]`.
    pub(crate) fn strings(&self, key: &str) -> Result<Vec<String>, ApiError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Node::Leaf(s)) if s.is_empty() => Ok(Vec::new()),
            Some(Node::Leaf(_)) => Err(ApiError::invalid(
                &self.name(key),
                format!("Invalid array for {}", self.name(key)),
            )),
            Some(Node::Map(children)) => {
                let mut items: Vec<(usize, String)> = Vec::new();
                for (idx, node) in children {
                    match (idx.parse::<usize>(), node) {
                        (Ok(i), Node::Leaf(s)) => items.push((i, s.clone())),
                        _ => {
                            return Err(ApiError::invalid(
                                &self.name(key),
                                format!("Invalid array for {}", self.name(key)),
                            ));
                        }
                    }
                }
                items.sort_by_key(|(i, _)| *i);
                Ok(items.into_iter().map(|(_, s)| s).collect())
            }
        }
    }

    /// Rejects the first key that is not in `allowed` with Stripe's `parameter_unknown`.
    pub(crate) fn allow(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self
            .entries
            .iter()
            .find(|(k, _)| !allowed.contains(&k.as_str()))
        {
            Some((k, _)) => Err(ApiError::unknown(&self.name(k))),
            None => Ok(()),
        }
    }
}

fn key_name(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}[{key}]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_brackets_and_appends() {
        let p = Params::parse(
            "line_items[0][price]=price_1&line_items[0][quantity]=2&expand[]=a&expand[]=b&metadata[user_id]=42&mode=subscription",
        )
        .expect("parse");
        let items = p.list("line_items").expect("list");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].str("price"), Some("price_1"));
        assert_eq!(items[0].i64("quantity").expect("int"), Some(2));
        assert_eq!(items[0].name("price"), "line_items[0][price]");
        assert_eq!(p.strings("expand").expect("expand"), vec!["a", "b"]);
        assert_eq!(
            p.metadata("metadata").expect("meta").expect("some")["user_id"],
            "42"
        );
        assert!(p.allow(&["line_items", "expand", "metadata"]).is_err());
        assert!(
            p.allow(&["line_items", "expand", "metadata", "mode"])
                .is_ok()
        );
    }

    #[test]
    fn indexed_arrays_sort_numerically() {
        let p = Params::parse("expand[10]=k&expand[2]=c&expand[0]=a").expect("parse");
        assert_eq!(p.strings("expand").expect("expand"), vec!["a", "c", "k"]);
    }

    #[test]
    fn rejects_bad_keys_and_types() {
        assert!(Params::parse("a[b=1").is_err());
        let p = Params::parse("active=maybe&limit=x").expect("parse");
        assert!(p.bool("active").is_err());
        assert!(p.i64("limit").is_err());
        assert_eq!(
            p.req_str("missing").expect_err("missing").code.as_deref(),
            Some("parameter_missing")
        );
    }
}
