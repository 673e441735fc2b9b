//! A migrated SQLite database's schema, read from `sqlite_master` and the `pragma_*` functions.

use super::{Schema, Trigger, excluded_table, foreign_key, index};
use sqlx::SqlitePool;

pub async fn schema(pool: &SqlitePool) -> Schema {
    let mut schema = Schema::default();
    for table in tables(pool).await {
        schema.add(&table, "table");
        add_columns(pool, &table, &mut schema).await;
        add_indexes(pool, &table, &mut schema).await;
        add_foreign_keys(pool, &table, &mut schema).await;
    }
    for trigger in triggers(pool).await {
        schema.add(&trigger.table.clone(), trigger);
    }
    schema
}

async fn tables(pool: &SqlitePool) -> Vec<String> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(pool)
            .await
            .expect("tables");
    // sqlite_sequence and the like are SQLite's own (AUTOINCREMENT's counters).
    names
        .into_iter()
        .filter(|name| !name.starts_with("sqlite_") && !excluded_table(name))
        .collect()
}

/// SQLite's type affinity of a declared type (https://sqlite.org/datatype3.html, 3.1).
fn class(declared: &str) -> &'static str {
    let declared = declared.to_ascii_uppercase();
    let has = |part: &str| declared.contains(part);
    if has("INT") {
        "integer"
    } else if has("CHAR") || has("CLOB") || has("TEXT") {
        "text"
    } else if has("BLOB") || declared.is_empty() {
        "blob"
    } else if has("REAL") || has("FLOA") || has("DOUB") {
        "real"
    } else {
        "numeric"
    }
}

async fn add_columns(pool: &SqlitePool, table: &str, schema: &mut Schema) {
    let columns: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .expect("columns");
    let mut primary_key: Vec<(i64, String)> = Vec::new();
    for (name, declared, not_null, pk) in columns {
        // SQLite lets a PRIMARY KEY column other than INTEGER PRIMARY KEY hold NULL (a documented
        // legacy quirk, https://sqlite.org/lang_createtable.html#the_primary_key), PostgreSQL never.
        // Every key the app writes is given, so a key column counts as NOT NULL on both.
        let not_null = not_null != 0 || pk > 0;
        schema.add(table, super::column(&name, class(&declared), not_null));
        if pk > 0 {
            primary_key.push((pk, name));
        }
    }
    primary_key.sort();
    let key: Vec<String> = primary_key.into_iter().map(|(_, name)| name).collect();
    if !key.is_empty() {
        schema.add(table, format!("primary key ({})", key.join(", ")));
    }
}

async fn add_indexes(pool: &SqlitePool, table: &str, schema: &mut Schema) {
    let indexes: Vec<(String, i64, String, i64)> =
        sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)")
            .bind(table)
            .fetch_all(pool)
            .await
            .expect("indexes");
    for (name, unique, origin, partial) in indexes {
        // The primary key's own index ('pk') is compared as the primary key.
        if origin == "pk" {
            continue;
        }
        let columns: Vec<Option<String>> =
            sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                .bind(&name)
                .fetch_all(pool)
                .await
                .expect("index columns");
        let columns: Vec<String> = columns
            .into_iter()
            .map(|c| c.unwrap_or_else(|| "<expression>".into()))
            .collect();
        // Indexes of UNIQUE constraints ('u') are named by each backend its own way.
        let name = (origin == "c").then_some(name.as_str());
        schema.add(table, index(name, &columns, unique != 0, partial != 0));
    }
}

async fn add_foreign_keys(pool: &SqlitePool, table: &str, schema: &mut Schema) {
    let rows: Vec<(i64, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list($1) \
         ORDER BY id, seq",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .expect("foreign keys");
    // One row per column of a key, keys told apart by id.
    let mut keys: Vec<ForeignKey> = Vec::new();
    for (id, parent, from, to, on_delete) in rows {
        if keys.last().is_none_or(|key| key.id != id) {
            keys.push(ForeignKey {
                id,
                parent,
                on_delete,
                from: Vec::new(),
                to: Vec::new(),
            });
        }
        let key = keys.last_mut().expect("just pushed");
        key.from.push(from);
        // `REFERENCES users` without columns means the parent's primary key.
        key.to.push(to.unwrap_or_else(|| "<primary key>".into()));
    }
    for key in keys {
        let fact = foreign_key(&key.from, &key.parent, &key.to, &key.on_delete);
        schema.add(table, fact);
    }
}

struct ForeignKey {
    id: i64,
    parent: String,
    on_delete: String,
    from: Vec<String>,
    to: Vec<String>,
}

pub async fn triggers(pool: &SqlitePool) -> Vec<Trigger> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
            .fetch_all(pool)
            .await
            .expect("triggers");
    rows.into_iter()
        .map(|(name, sql)| {
            parse_trigger(&sql).unwrap_or_else(|| panic!("trigger {name} not understood: {sql}"))
        })
        .collect()
}

/// Reads `CREATE TRIGGER [IF NOT EXISTS] name [BEFORE|AFTER|INSTEAD OF] event [OF col, ...] ON table`.
fn parse_trigger(sql: &str) -> Option<Trigger> {
    let words: Vec<String> = sql
        .replace(',', " , ")
        .split_whitespace()
        .map(|w| w.trim_matches(['"', '`']).to_owned())
        .collect();
    let is = |i: usize, word: &str| words.get(i).is_some_and(|w| w.eq_ignore_ascii_case(word));
    let mut i = words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("TRIGGER"))?
        + 1;
    if is(i, "IF") {
        i += 3;
    }
    let name = words.get(i)?.clone();
    i += 1;
    let timing = if is(i, "BEFORE") || is(i, "AFTER") {
        i += 1;
        words[i - 1].to_ascii_uppercase()
    } else if is(i, "INSTEAD") {
        i += 2;
        "INSTEAD OF".to_owned()
    } else {
        "BEFORE".to_owned() // SQLite's default
    };
    let event = words.get(i)?.to_ascii_uppercase();
    i += 1;
    let mut columns = Vec::new();
    if is(i, "OF") {
        i += 1;
        while !is(i, "ON") {
            let word = words.get(i)?;
            if word != "," {
                columns.push(word.clone());
            }
            i += 1;
        }
    }
    let table = words.get(i + 1)?.clone();
    Some(Trigger::new(name, table, timing, event, columns, true))
}

#[test]
fn a_trigger_statement_is_read_into_its_parts() {
    let sql = "CREATE TRIGGER orders_changed AFTER UPDATE OF status,receipt_url, amount_refunded ON orders\n\
               BEGIN SELECT 1; END";
    let trigger = parse_trigger(sql).expect("parsed");
    assert_eq!(
        trigger.to_string(),
        "trigger orders_changed AFTER UPDATE OF amount_refunded, receipt_url, status FOR EACH ROW"
    );
    assert_eq!(trigger.table, "orders");
    let deleted = parse_trigger("CREATE TRIGGER IF NOT EXISTS gone DELETE ON \"users\" BEGIN END")
        .expect("parsed");
    assert_eq!(
        (deleted.table.as_str(), deleted.to_string().as_str()),
        ("users", "trigger gone BEFORE DELETE FOR EACH ROW")
    );
}
