//! Item-level edits of a document's list fields on the command line (`put --add`, `--update`,
//! `--remove`, `--replace`).
//!
//! Replacing a whole list loses what other devices add to it meanwhile (two cashiers each adding
//! a line to one held bill would keep one), so `put --id X lines=[...]` is refused and each kind
//! of list edit is its own flag. An item is chosen by position (`lines[0]`) or by the value of one
//! of its keys (`lines[sku=SKU-1]`, the first item that matches), read from the record as this
//! device holds it; every position refers to the list before the command.

use lapak_core::schema::FieldType;
use lapak_core::{Collection, Edit, Item, Record, Scalar, Value};

/// Which item of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// By position, from 0.
    Index(usize),
    /// The first item whose `key` reads as `value`.
    Key(String, String),
}

/// One list edit as given on the command line, before positions are resolved.
#[derive(Clone, Debug, PartialEq)]
pub enum ListEdit {
    /// `--add field=ITEM` (at the end) or `--add field[N]=ITEM` (before position N).
    Add {
        field: String,
        at: Option<usize>,
        item: Item,
    },
    /// `--update field[SEL]=KEYS`: sets some keys of one item.
    Update {
        field: String,
        which: Selector,
        values: Item,
    },
    /// `--remove field[SEL]`.
    Remove { field: String, which: Selector },
    /// `--replace field=[...]`: the whole list, on purpose.
    Replace { field: String, items: Vec<Item> },
}

/// The list-edit flags of one `put`.
pub struct Flags<'a> {
    pub add: &'a [String],
    pub update: &'a [String],
    pub remove: &'a [String],
    pub replace: &'a [String],
}

/// Parses every list-edit flag against the collection's list fields.
///
/// # Errors
/// A message saying which argument is wrong and how to write it.
pub fn parse(c: &Collection, flags: &Flags<'_>) -> Result<Vec<ListEdit>, String> {
    let mut edits = Vec::new();
    for arg in flags.replace {
        let (field, value) = split_value(arg, "--replace")?;
        let items = items_of(c, &field, &value)?;
        edits.push(ListEdit::Replace { field, items });
    }
    for arg in flags.update {
        let (target, value) = split_value(arg, "--update")?;
        let (field, which) = target_of(&target, "--update")?;
        let which = which.ok_or_else(|| format!("--update `{arg}`: say which item, as `{field}[0]={{...}}` or `{field}[sku=SKU-1]={{...}}`"))?;
        let values = one_item(c, &field, &value)?;
        edits.push(ListEdit::Update {
            field,
            which,
            values,
        });
    }
    for arg in flags.remove {
        let (field, which) = target_of(arg, "--remove")?;
        let which = which.ok_or_else(|| {
            format!("--remove `{arg}`: say which item, as `{field}[1]` or `{field}[sku=SKU-1]`")
        })?;
        list_keys(c, &field)?;
        edits.push(ListEdit::Remove { field, which });
    }
    for arg in flags.add {
        let (target, value) = split_value(arg, "--add")?;
        let (field, at) = target_of(&target, "--add")?;
        let at = match at {
            None => None,
            Some(Selector::Index(i)) => Some(i),
            Some(Selector::Key(..)) => {
                return Err(format!(
                    "--add `{arg}`: a new item goes at a position (`{field}[0]=...`) or at the end (`{field}=...`)"
                ));
            }
        };
        let item = one_item(c, &field, &value)?;
        edits.push(ListEdit::Add { field, at, item });
    }
    Ok(edits)
}

/// Turns list edits into store edits against the record as this device holds it: updates, then
/// removals from the highest position down, then additions, so every position given refers to
/// the list before the command.
///
/// # Errors
/// A message naming an item that cannot be found or a position past the end.
pub fn resolve(current: &Record, edits: Vec<ListEdit>) -> Result<Vec<Edit>, String> {
    let mut updates = Vec::new();
    let mut removals = Vec::new();
    let mut additions = Vec::new();
    for e in edits {
        match e {
            ListEdit::Replace { field, items } => updates.push(Edit::Set {
                field,
                value: Value::List(items),
            }),
            ListEdit::Update {
                field,
                which,
                values,
            } => {
                let index = find(current, &field, &which)?;
                updates.push(Edit::UpdateItem {
                    field,
                    index,
                    values,
                });
            }
            ListEdit::Remove { field, which } => {
                let index = find(current, &field, &which)?;
                removals.push((index, field));
            }
            ListEdit::Add { field, at, item } => {
                let len = list(current, &field).len();
                let index = at.unwrap_or(len);
                if index > len {
                    return Err(format!(
                        "`{field}` has {len} items: a new one goes at 0..={len}"
                    ));
                }
                additions.push(Edit::InsertItem { field, index, item });
            }
        }
    }
    removals.sort_by_key(|r| std::cmp::Reverse(r.0));
    removals.dedup();
    let removals = removals
        .into_iter()
        .map(|(index, field)| Edit::RemoveItem { field, index });
    // Additions at a position are made from the highest down too, so each lands where asked.
    additions.sort_by_key(|e| match e {
        Edit::InsertItem { index, .. } => std::cmp::Reverse(*index),
        _ => std::cmp::Reverse(0),
    });
    Ok(updates
        .into_iter()
        .chain(removals)
        .chain(additions)
        .collect())
}

/// The refusal for `put --id X field=[...]` on a list field of an existing record.
pub fn whole_list_refused(field: &str) -> String {
    format!(
        "`{field}` is a list: setting it would replace the whole list and drop the items other devices add \
         meanwhile. Edit items instead: --add '{field}={{...}}', --update '{field}[0]={{...}}' or \
         --update '{field}[key=value]={{...}}', --remove '{field}[1]'; or replace it on purpose with \
         --replace '{field}=[...]'"
    )
}

/// Whether `field` of `c` is a list field.
pub fn is_list(c: &Collection, field: &str) -> bool {
    matches!(c.field_named(field).map(|f| &f.ty), Ok(FieldType::List(_)))
}

fn list<'a>(current: &'a Record, field: &str) -> &'a [Item] {
    current
        .get(field)
        .and_then(Value::as_list)
        .unwrap_or_default()
}

fn find(current: &Record, field: &str, which: &Selector) -> Result<usize, String> {
    let items = list(current, field);
    match which {
        Selector::Index(i) if *i < items.len() => Ok(*i),
        Selector::Index(i) => Err(format!(
            "`{field}` has {} items: there is no item {i}",
            items.len()
        )),
        Selector::Key(k, v) => items
            .iter()
            .position(|item| item.get(k).is_some_and(|s| reads_as(s, v)))
            .ok_or_else(|| format!("no item of `{field}` has {k}={v}")),
    }
}

fn reads_as(s: &Scalar, v: &str) -> bool {
    match s {
        Scalar::Text(t) => t == v,
        Scalar::Int(i) => i.to_string() == v,
        Scalar::Real(r) => r.to_string() == v,
        Scalar::Bool(b) => b.to_string() == v,
        Scalar::Null => false,
    }
}

/// Splits `target=value` at the first `=` outside brackets.
fn split_value(arg: &str, flag: &str) -> Result<(String, String), String> {
    // A selector (`lines[sku=X]`) may hold `=`: look past it when it comes before the value.
    let start = match (arg.find('['), arg.find('=')) {
        (Some(open), Some(eq)) if open < eq => arg[open..].find(']').map_or(0, |i| open + i + 1),
        _ => 0,
    };
    let eq = arg[start..]
        .find('=')
        .map(|i| i + start)
        .ok_or_else(|| format!("{flag} `{arg}` is not FIELD=VALUE"))?;
    Ok((arg[..eq].to_owned(), arg[eq + 1..].to_owned()))
}

/// `field` or `field[N]` or `field[key=value]`.
fn target_of(target: &str, flag: &str) -> Result<(String, Option<Selector>), String> {
    let Some((field, rest)) = target.split_once('[') else {
        return Ok((target.to_owned(), None));
    };
    let inner = rest
        .strip_suffix(']')
        .ok_or_else(|| format!("{flag} `{target}`: close the brackets, as `{field}[0]`"))?;
    let which = match inner.split_once('=') {
        Some((k, v)) => Selector::Key(k.to_owned(), v.to_owned()),
        None => Selector::Index(inner.parse().map_err(|_| {
            format!("{flag} `{target}`: `{inner}` is neither a position nor key=value")
        })?),
    };
    Ok((field.to_owned(), Some(which)))
}

fn list_keys(c: &Collection, field: &str) -> Result<(), String> {
    if is_list(c, field) {
        Ok(())
    } else {
        Err(format!("`{}` has no list field `{field}`", c.name()))
    }
}

/// The items of a JSON array given for `field`.
fn items_of(c: &Collection, field: &str, json: &str) -> Result<Vec<Item>, String> {
    list_keys(c, field)?;
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("`{field}`: `{json}` is not JSON ({e})"))?;
    let mut obj = serde_json::Map::new();
    obj.insert(field.to_owned(), value);
    match c.record_from_json(&obj)?.remove(field) {
        Some(Value::List(items)) => Ok(items),
        _ => Err(format!("`{field}` takes a JSON list of objects")),
    }
}

/// One item given as a JSON object for `field`.
fn one_item(c: &Collection, field: &str, json: &str) -> Result<Item, String> {
    let mut items = items_of(c, field, &format!("[{json}]"))?;
    match (items.pop(), items.is_empty()) {
        (Some(item), true) => Ok(item),
        _ => Err(format!(
            "`{field}`: give one JSON object, as {{\"sku\":\"SKU-1\",\"qty\":1}}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapak_core::{item, record};

    fn bills() -> Collection {
        lapak_core::catalog::business()
            .collection("held_bills")
            .unwrap()
            .clone()
    }

    fn flags<'a>(add: &'a [String], update: &'a [String], remove: &'a [String]) -> Flags<'a> {
        Flags {
            add,
            update,
            remove,
            replace: &[],
        }
    }

    #[test]
    fn items_are_chosen_by_position_or_key() {
        let current = record! {"lines" => Value::List(vec![
            item! {"sku" => "A", "qty" => 1}, item! {"sku" => "B", "qty" => 2}, item! {"sku" => "C", "qty" => 3},
        ])};
        let add = [
            r#"lines={"sku":"D","qty":1}"#.to_owned(),
            r#"lines[0]={"sku":"Z"}"#.to_owned(),
        ];
        let update = [r#"lines[sku=B]={"qty":5}"#.to_owned()];
        let remove = ["lines[2]".to_owned(), "lines[sku=A]".to_owned()];
        let edits = parse(&bills(), &flags(&add, &update, &remove)).unwrap();
        let edits = resolve(&current, edits).unwrap();
        assert_eq!(
            edits,
            vec![
                Edit::UpdateItem {
                    field: "lines".into(),
                    index: 1,
                    values: item! {"qty" => 5}
                },
                Edit::RemoveItem {
                    field: "lines".into(),
                    index: 2
                },
                Edit::RemoveItem {
                    field: "lines".into(),
                    index: 0
                },
                Edit::InsertItem {
                    field: "lines".into(),
                    index: 3,
                    item: item! {"sku" => "D", "qty" => 1}
                },
                Edit::InsertItem {
                    field: "lines".into(),
                    index: 0,
                    item: item! {"sku" => "Z"}
                },
            ]
        );
    }

    /// `--add`, `--update` and `--remove` arguments, and what the refusal must say.
    type Case<'a> = (&'a [String], &'a [String], &'a [String], &'a str);

    #[test]
    fn bad_arguments_say_how_to_write_them() {
        let c = bills();
        let current = record! {"lines" => Value::List(vec![item! {"sku" => "A"}])};
        let cases: [Case<'_>; 6] = [
            (
                &[],
                &[r#"lines={"qty":1}"#.to_owned()],
                &[],
                "say which item",
            ),
            (&[], &[], &["lines".to_owned()], "say which item"),
            (&["note={}".to_owned()], &[], &[], "no list field"),
            (
                &[r#"lines={"nope":1}"#.to_owned()],
                &[],
                &[],
                "no key `nope`",
            ),
            (
                &[r#"lines[x]={}"#.to_owned()],
                &[],
                &[],
                "neither a position",
            ),
            (&[r#"lines={"sku":1}"#.to_owned()], &[], &[], "lines.sku"),
        ];
        for (add, update, remove, expected) in cases {
            let err = parse(&c, &flags(add, update, remove)).unwrap_err();
            assert!(err.contains(expected), "{err}");
        }
        let missing = parse(&c, &flags(&[], &[], &["lines[sku=Q]".to_owned()])).unwrap();
        assert!(resolve(&current, missing).unwrap_err().contains("sku=Q"));
        let far = parse(&c, &flags(&[], &[], &["lines[4]".to_owned()])).unwrap();
        assert!(resolve(&current, far).unwrap_err().contains("no item 4"));
    }
}
