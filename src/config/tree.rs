//! The config as a tree of values that know where they were written: a line and column of the
//! file, or an environment variable. Deserializing from it names that place in every error,
//! and a value found wrong can be left out so that the next attempt finds the next mistake:
//! one run reports all of them.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// Where a value was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Origin {
    File { line: usize, column: usize },
    Env(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { line, column } => write!(f, "line {line}, column {column}"),
            Origin::Env(var) => f.write_str(var),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Node {
    value: Value,
    origin: Origin,
}

#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Vec<Entry>),
    /// Already reported as wrong: read as if it were not there.
    Skipped,
}

#[derive(Debug, Clone)]
struct Entry {
    key: String,
    /// Where the key is written (for a `[section]`, its header).
    origin: Origin,
    node: Node,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    Key(String),
    Index(usize),
}

/// `policies[2].since.table`, as issues name keys.
pub(super) fn path_of(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Byte offsets to lines and columns.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        Lines(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    fn origin(&self, text: &str, offset: usize) -> Origin {
        let line = self.0.partition_point(|&start| start <= offset).max(1);
        let start = self.0[line - 1];
        let column = text.get(start..offset).map_or(0, |s| s.chars().count()) + 1;
        Origin::File { line, column }
    }
}

/// Parses TOML text; syntax errors are all reported, each with its line and column.
pub(super) fn parse(text: &str) -> Result<Node, String> {
    let (doc, errors) = toml::de::DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(|e| e.to_string().trim_end().to_string())
            .collect::<Vec<_>>()
            .join("\n"));
    }
    let lines = Lines::new(text);
    let convert = Convert {
        text,
        lines: &lines,
    };
    Ok(Node {
        origin: lines.origin(text, doc.span().start),
        value: convert.table(doc.get_ref())?,
    })
}

struct Convert<'a> {
    text: &'a str,
    lines: &'a Lines,
}

impl Convert<'_> {
    fn table(&self, table: &toml::de::DeTable<'_>) -> Result<Value, String> {
        table
            .iter()
            .map(|(k, v)| {
                Ok(Entry {
                    key: k.get_ref().to_string(),
                    origin: self.lines.origin(self.text, k.span().start),
                    node: self.node(v)?,
                })
            })
            .collect::<Result<_, String>>()
            .map(Value::Table)
    }

    fn node(&self, v: &toml::Spanned<toml::de::DeValue<'_>>) -> Result<Node, String> {
        use toml::de::DeValue;
        let origin = self.lines.origin(self.text, v.span().start);
        let value = match v.get_ref() {
            DeValue::String(s) => Value::Text(s.to_string()),
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Value::Integer(n),
                Err(_) => return Err(format!("{origin}: the number {i} is too large")),
            },
            DeValue::Float(x) => match x.as_str().parse() {
                Ok(n) => Value::Float(n),
                Err(_) => return Err(format!("{origin}: {x} is not a number")),
            },
            DeValue::Boolean(b) => Value::Boolean(*b),
            DeValue::Datetime(d) => Value::Datetime(d.to_string()),
            DeValue::Array(a) => {
                Value::Array(a.iter().map(|v| self.node(v)).collect::<Result<_, _>>()?)
            }
            DeValue::Table(t) => self.table(t)?,
        };
        Ok(Node { value, origin })
    }
}

impl Node {
    fn entries(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Table(entries) => Some(entries),
            _ => None,
        }
    }

    /// Where the value at `steps` was written, if it is there.
    fn find(&self, steps: &[Step]) -> Option<(&Node, &Origin)> {
        let (mut node, mut origin) = (self, &self.origin);
        for step in steps {
            match (step, &node.value) {
                (Step::Key(k), Value::Table(entries)) => {
                    let e = entries.iter().find(|e| &e.key == k)?;
                    (node, origin) = (&e.node, &e.origin);
                }
                (Step::Index(i), Value::Array(items)) => {
                    node = items.get(*i)?;
                    origin = &node.origin;
                }
                _ => return None,
            }
        }
        Some((node, origin))
    }

    fn find_mut(&mut self, steps: &[Step]) -> Option<&mut Node> {
        let mut node = self;
        for step in steps {
            node = match (step, &mut node.value) {
                (Step::Key(k), Value::Table(entries)) => {
                    &mut entries.iter_mut().find(|e| &e.key == k)?.node
                }
                (Step::Index(i), Value::Array(items)) => items.get_mut(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Leaves out the value at `steps` from now on; false when there is nothing to leave out.
    pub(super) fn skip(&mut self, steps: &[Step]) -> bool {
        match self.find_mut(steps) {
            Some(node) if !steps.is_empty() && !matches!(node.value, Value::Skipped) => {
                node.value = Value::Skipped;
                true
            }
            _ => false,
        }
    }

    /// The place of a value the file itself sets at `steps` (not an override).
    pub(super) fn written_in_file(&self, steps: &[Step]) -> Option<Origin> {
        self.find(steps)
            .filter(|(node, _)| !matches!(node.value, Value::Skipped))
            .map(|(_, origin)| origin.clone())
            .filter(|o| matches!(o, Origin::File { .. }))
    }

    /// Sets `path` (lower-case keys) to the text `value` of the environment variable `var`;
    /// `list` splits it at commas.
    pub(super) fn set_from_env(
        &mut self,
        var: &str,
        path: &[String],
        value: &str,
        list: bool,
    ) -> Result<(), String> {
        let origin = Origin::Env(var.to_string());
        let text = |s: &str| Node {
            value: Value::Text(s.to_string()),
            origin: origin.clone(),
        };
        let value = if list {
            Value::Array(value.split(',').map(text).collect())
        } else {
            Value::Text(value.to_string())
        };
        let mut node = self;
        for (i, key) in path.iter().enumerate() {
            let Value::Table(entries) = &mut node.value else {
                return Err(format!(
                    "{} is not a section that can be set from the environment",
                    path[..i].join(".")
                ));
            };
            let at = match entries.iter().position(|e| &e.key == key) {
                Some(at) => at,
                None => {
                    entries.push(Entry {
                        key: key.clone(),
                        origin: origin.clone(),
                        node: Node {
                            value: Value::Table(Vec::new()),
                            origin: origin.clone(),
                        },
                    });
                    entries.len() - 1
                }
            };
            if i + 1 == path.len() {
                entries[at].origin = origin.clone();
                entries[at].node = Node {
                    value,
                    origin: origin.clone(),
                };
                return Ok(());
            }
            node = &mut entries[at].node;
        }
        Ok(())
    }

    /// Every key's place by its path, for issues found after reading.
    pub(super) fn places(&self) -> Places {
        fn walk(node: &Node, steps: &mut Vec<Step>, out: &mut HashMap<String, Origin>) {
            match &node.value {
                Value::Table(entries) => {
                    for e in entries {
                        steps.push(Step::Key(e.key.clone()));
                        out.insert(path_of(steps), e.origin.clone());
                        walk(&e.node, steps, out);
                        steps.pop();
                    }
                }
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        steps.push(Step::Index(i));
                        out.insert(path_of(steps), item.origin.clone());
                        walk(item, steps, out);
                        steps.pop();
                    }
                }
                _ => {}
            }
        }
        let mut places = Places::default();
        walk(self, &mut Vec::new(), &mut places.origins);
        places
    }
}

/// Where each key was set, and which keys were already found wrong while reading.
#[derive(Debug, Default, Clone)]
pub(super) struct Places {
    origins: HashMap<String, Origin>,
    pub(super) reported: HashSet<String>,
}

impl Places {
    /// The place of `path`, or of the nearest enclosing key that was written (a missing key
    /// is placed at its section).
    pub(super) fn of(&self, path: &str) -> Option<Origin> {
        let mut path = path;
        loop {
            if let Some(o) = self.origins.get(path) {
                return Some(o.clone());
            }
            path = &path[..path.rfind(['.', '['])?];
        }
    }
}

/// A mistake found while reading, with the key it is about.
#[derive(Debug)]
pub(super) struct Error {
    steps: Option<Vec<Step>>,
    origin: Option<Origin>,
    message: String,
    /// For an unknown key that looks like a typo: the known key it was probably meant as.
    meant: Option<&'static str>,
}

impl Error {
    fn at(mut self, steps: &[Step], origin: &Origin) -> Self {
        if self.steps.is_none() {
            self.steps = Some(steps.to_vec());
            self.origin = Some(origin.clone());
        }
        self
    }

    pub(super) fn steps(&self) -> &[Step] {
        self.steps.as_deref().unwrap_or_default()
    }

    pub(super) fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    pub(super) fn message(&self) -> &str {
        &self.message
    }

    /// The path of the key an unknown key was probably meant as, which is then missing
    /// because of the typo alone.
    pub(super) fn meant_path(&self) -> Option<String> {
        let steps = self.steps.as_ref()?;
        let (_, parent) = steps.split_last()?;
        let mut meant = parent.to_vec();
        meant.push(Step::Key(self.meant?.to_string()));
        Some(path_of(&meant))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            steps: None,
            origin: None,
            message: msg.to_string(),
            meant: None,
        }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let found = match unexp {
            // Text is not repeated: it may be a secret.
            de::Unexpected::Str(_) => "text".to_string(),
            de::Unexpected::Map => "a table".to_string(),
            de::Unexpected::Seq => "a list".to_string(),
            other => other.to_string(),
        };
        Self::custom(format!("must be {exp} (found {found})"))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Error {
            meant: super::suggest::closest(field, expected),
            ..Self::custom(super::suggest::unknown_key(field, expected))
        }
    }
}

/// Reads a value; `steps` is its path.
pub(super) struct Reader<'a> {
    node: &'a Node,
    steps: Vec<Step>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(root: &'a Node) -> Self {
        Reader {
            node: root,
            steps: Vec::new(),
        }
    }

    fn found(&self) -> &'static str {
        match &self.node.value {
            Value::Text(_) => "text",
            Value::Integer(_) => "a whole number",
            Value::Float(_) => "a number with a fraction",
            Value::Boolean(_) => "true or false",
            Value::Datetime(_) => "a date",
            Value::Array(_) => "a list",
            Value::Table(_) => "a table",
            Value::Skipped => "nothing",
        }
    }

    fn wrong(&self, expected: &str) -> Error {
        de::Error::custom(format!("must be {expected} (found {})", self.found()))
    }

    /// Text set by an environment variable stands for any scalar.
    fn env_text(&self) -> Option<&'a str> {
        match (&self.node.value, &self.node.origin) {
            (Value::Text(s), Origin::Env(_)) => Some(s.trim()),
            _ => None,
        }
    }
}

struct Entries<'a> {
    entries: std::slice::Iter<'a, Entry>,
    steps: Vec<Step>,
    value: Option<&'a Entry>,
}

impl<'de> de::MapAccess<'de> for Entries<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(entry) = self
            .entries
            .by_ref()
            .find(|e| !matches!(e.node.value, Value::Skipped))
        else {
            return Ok(None);
        };
        self.value = Some(entry);
        self.steps.push(Step::Key(entry.key.clone()));
        let key = seed
            .deserialize(entry.key.as_str().into_deserializer())
            .map_err(|e: Error| e.at(&self.steps, &entry.origin));
        self.steps.pop();
        key.map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let entry = self
            .value
            .take()
            .ok_or_else(|| <Error as de::Error>::custom("a value without a key"))?;
        let mut steps = self.steps.clone();
        steps.push(Step::Key(entry.key.clone()));
        seed.deserialize(Reader {
            node: &entry.node,
            steps: steps.clone(),
        })
        .map_err(|e| e.at(&steps, &entry.origin))
    }
}

struct Items<'a> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
    steps: Vec<Step>,
}

impl<'de> de::SeqAccess<'de> for Items<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some((i, node)) = self
            .items
            .by_ref()
            .find(|(_, n)| !matches!(n.value, Value::Skipped))
        else {
            return Ok(None);
        };
        let mut steps = self.steps.clone();
        steps.push(Step::Index(i));
        seed.deserialize(Reader {
            node,
            steps: steps.clone(),
        })
        .map(Some)
        .map_err(|e| e.at(&steps, &node.origin))
    }
}

/// Narrower numbers are read as the wide ones, then checked by the type they go into.
macro_rules! forward_to {
    ($($($from:ident),+ => $to:ident;)+) => {
        $($(
            fn $from<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
                self.$to(v)
            }
        )+)+
    };
}

impl<'de> de::Deserializer<'de> for Reader<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Text(s) | Value::Datetime(s) => visitor.visit_str(s),
            Value::Integer(n) => visitor.visit_i64(*n),
            Value::Float(x) => visitor.visit_f64(*x),
            Value::Boolean(b) => visitor.visit_bool(*b),
            Value::Array(_) => self.deserialize_seq(visitor),
            Value::Table(_) => self.deserialize_map(visitor),
            Value::Skipped => visitor.visit_none(),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.node.value {
            Value::Skipped => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Text(s) | Value::Datetime(s) => visitor.visit_str(s),
            _ => Err(self.wrong("text in quotes")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match (&self.node.value, self.env_text().map(str::parse::<i64>)) {
            (Value::Integer(n), _) => visitor.visit_i64(*n),
            (_, Some(Ok(n))) => visitor.visit_i64(n),
            _ => Err(self.wrong("a whole number, e.g. 500")),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match (&self.node.value, self.env_text().map(str::parse::<f64>)) {
            (Value::Float(x), _) => visitor.visit_f64(*x),
            (_, Some(Ok(x))) => visitor.visit_f64(x),
            (Value::Integer(n), _) => visitor.visit_f64(*n as f64),
            _ => Err(self.wrong("a number, e.g. 0.5")),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match (&self.node.value, self.env_text().map(str::parse::<bool>)) {
            (Value::Boolean(b), _) => visitor.visit_bool(*b),
            (_, Some(Ok(b))) => visitor.visit_bool(b),
            _ => Err(self.wrong("true or false")),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Array(items) => visitor.visit_seq(Items {
                items: items.iter().enumerate(),
                steps: self.steps,
            }),
            _ => Err(self.wrong("a list in brackets, e.g. [\"a\", \"b\"]")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.node.entries() {
            Some(entries) => visitor.visit_map(Entries {
                entries: entries.iter(),
                steps: self.steps,
                value: None,
            }),
            None => Err(self.wrong("a table, e.g. { key = \"value\" } or a [section]")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    forward_to! {
        deserialize_i8, deserialize_i16, deserialize_i32, deserialize_u8, deserialize_u16,
        deserialize_u32, deserialize_u64 => deserialize_i64;
        deserialize_f32 => deserialize_f64;
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char bytes byte_buf unit unit_struct newtype_struct tuple
        tuple_struct enum identifier ignored_any
    }
}

/// What a key that takes a name or a table (`since`, `subject`) holds.
pub(super) enum NameOr<T> {
    Name(String),
    Table(T),
}

/// Reads a name or a table into `T`; `expecting` says what both look like, for the message
/// when it is neither. Mistakes inside the table are reported as the table's own (which key,
/// which keys it takes), not as "matches no variant".
pub(super) fn name_or_table<'de, D, T>(d: D, expecting: &'static str) -> Result<NameOr<T>, D::Error>
where
    D: de::Deserializer<'de>,
    T: de::Deserialize<'de>,
{
    struct Either<T>(&'static str, std::marker::PhantomData<T>);
    impl<'de, T: de::Deserialize<'de>> Visitor<'de> for Either<T> {
        type Value = NameOr<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok(NameOr::Name(s.to_string()))
        }
        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(NameOr::Table)
        }
    }
    d.deserialize_any(Either(expecting, std::marker::PhantomData))
}

/// Reads a name or a list of names (`key = "id"`, `key = ["order_id", "line"]`).
pub(super) fn name_or_list<'de, D>(
    d: D,
    expecting: &'static str,
) -> Result<NameOr<Vec<String>>, D::Error>
where
    D: de::Deserializer<'de>,
{
    struct Either(&'static str);
    impl<'de> Visitor<'de> for Either {
        type Value = NameOr<Vec<String>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok(NameOr::Name(s.to_string()))
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            de::Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))
                .map(NameOr::Table)
        }
    }
    d.deserialize_any(Either(expecting))
}
