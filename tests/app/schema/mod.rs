//! The schema the migrations build: both migration trees (`migrations/sqlite`, `migrations/postgres`)
//! must yield the same tables, columns, keys, indexes and triggers, and the `orders` trigger that
//! empties cached signed-in pages must cover what the order views read.
//!
//! Each schema is read as facts, one line each (`orders: column status text NOT NULL`). Compared:
//! tables; columns by name, NOT NULL and coarse type class (integer, text, real, blob), since the
//! dialects spell types differently (BIGINT/INTEGER, BIGSERIAL/AUTOINCREMENT); primary keys; indexes
//! by table, columns, UNIQUE and partial (and name, unless a UNIQUE constraint made it); foreign
//! keys with their ON DELETE; triggers by table, event, timing and `UPDATE OF` columns. Not
//! compared: defaults, CHECKs, a partial index's predicate, identity/autoincrement, the triggers'
//! bodies (a plpgsql function on PostgreSQL).

mod postgres;
mod sqlite;

use crate::helpers::{TestDatabase, testing_postgres};
use std::collections::BTreeSet;
use std::fmt;
use storefront::db::{Database, TypedPool};

/// Tables not made by our migrations: sqlx's ledger of them. (The session store's tables are made by
/// `tower-sessions-sqlx-store` at server start, not by `Database::connect`, so they are absent here.)
fn excluded_table(name: &str) -> bool {
    name == "_sqlx_migrations"
}

#[derive(Default)]
pub struct Schema {
    facts: BTreeSet<String>,
}

impl Schema {
    fn add(&mut self, table: &str, fact: impl fmt::Display) {
        self.facts.insert(format!("{table}: {fact}"));
    }

    /// The facts only one side has, `-` for this one and `+` for `other`, sorted so that a table's
    /// lines stay together; empty when the schemas agree.
    fn diff(&self, other: &Schema) -> Vec<String> {
        let mut lines: Vec<(&String, char)> = self
            .facts
            .difference(&other.facts)
            .map(|fact| (fact, '-'))
            .chain(other.facts.difference(&self.facts).map(|fact| (fact, '+')))
            .collect();
        lines.sort();
        lines
            .into_iter()
            .map(|(fact, side)| format!("{side} {fact}"))
            .collect()
    }
}

fn column(name: &str, class: &str, not_null: bool) -> String {
    let null = if not_null { " NOT NULL" } else { "" };
    format!("column {name} {class}{null}")
}

fn index(name: Option<&str>, columns: &[String], unique: bool, partial: bool) -> String {
    let kind = match (unique, partial) {
        (true, true) => "partial unique index",
        (true, false) => "unique index",
        (false, true) => "partial index",
        (false, false) => "index",
    };
    let name = name.map(|n| format!(" {n}")).unwrap_or_default();
    format!("{kind}{name} ({})", columns.join(", "))
}

fn foreign_key(columns: &[String], parent: &str, to: &[String], on_delete: &str) -> String {
    format!(
        "foreign key ({}) references {parent} ({}) on delete {on_delete}",
        columns.join(", "),
        to.join(", ")
    )
}

/// A trigger on one event: `columns` are its `UPDATE OF` list (sorted; empty for any column).
#[derive(Debug, Clone)]
pub struct Trigger {
    pub name: String,
    pub table: String,
    pub timing: String,
    pub event: String,
    pub columns: Vec<String>,
    pub for_each_row: bool,
}

impl Trigger {
    fn new(
        name: String,
        table: String,
        timing: String,
        event: String,
        mut columns: Vec<String>,
        for_each_row: bool,
    ) -> Self {
        columns.sort();
        Trigger {
            name,
            table,
            timing,
            event,
            columns,
            for_each_row,
        }
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "trigger {} {} {}", self.name, self.timing, self.event)?;
        if !self.columns.is_empty() {
            write!(f, " OF {}", self.columns.join(", "))?;
        }
        let each = if self.for_each_row {
            "ROW"
        } else {
            "STATEMENT"
        };
        write!(f, " FOR EACH {each}")
    }
}

async fn schema_of(db: &Database) -> Schema {
    match &db.typed {
        TypedPool::Sqlite(pool) => sqlite::schema(pool).await,
        TypedPool::Postgres(pool) => postgres::schema(pool).await,
    }
}

async fn triggers_of(db: &Database) -> Vec<Trigger> {
    match &db.typed {
        TypedPool::Sqlite(pool) => sqlite::triggers(pool).await,
        TypedPool::Postgres(pool) => postgres::triggers(pool).await,
    }
}

/// A fresh database migrated as the app does at start-up; keep the guard while using it.
async fn migrated((url, guard): (String, TestDatabase)) -> (Database, TestDatabase) {
    let db = Database::connect(&url).await.expect("connect and migrate");
    (db, guard)
}

#[tokio::test]
async fn the_sqlite_and_postgres_migrations_build_the_same_schema() {
    if !testing_postgres() {
        println!(
            "skipped: this test needs PostgreSQL and runs with STOREFRONT_TEST_DB=postgres (CI runs both)"
        );
        return;
    }
    let (sqlite_db, _sqlite_file) = migrated(TestDatabase::sqlite()).await;
    let (postgres_db, _postgres_database) = migrated(TestDatabase::postgres().await).await;
    let (sqlite, postgres) = (schema_of(&sqlite_db).await, schema_of(&postgres_db).await);
    sqlite_db.close().await;
    postgres_db.close().await;
    assert!(
        sqlite.facts.iter().any(|f| f == "orders: table"),
        "the SQLite schema was read"
    );
    let diff = sqlite.diff(&postgres);
    assert!(
        diff.is_empty(),
        "the migrated schemas differ (- SQLite only, + PostgreSQL only):\n{}",
        diff.join("\n")
    );
}

/// What `Shop::order_of` (the order page) and `Shop::orders_of` (the dashboard's list, which also
/// picks orders by `checkout_session_id` and `payment_intent_id`) read, as the app declares it.
const ORDER_VIEW_COLUMNS: &str = storefront::ORDER_COLUMNS;
/// Set by the order's insert when the cart is checked out, and by no `UPDATE orders`: the trigger
/// has no change of them to see.
const FIXED_AT_INSERT: [&str; 5] = ["id", "user_id", "currency", "total", "created_at"];

/// The dashboard is cached per user and emptied on every instance through `cache_invalidations`,
/// which the `orders_changed` trigger writes: a change to an order column the views read and the
/// trigger does not list leaves the cached page stale until something else empties it.
#[tokio::test]
async fn the_orders_trigger_covers_every_order_column_the_views_read() {
    let (db, _database) = migrated(TestDatabase::fresh().await).await;
    let triggers = triggers_of(&db).await;
    db.close().await;
    let trigger = triggers
        .iter()
        .find(|t| t.name == "orders_changed")
        .expect("the orders_changed trigger");
    assert_eq!(
        (trigger.table.as_str(), trigger.event.as_str()),
        ("orders", "UPDATE")
    );
    // Without an `UPDATE OF` list a trigger fires on a change of any column.
    let fires_on =
        |column: &str| trigger.columns.is_empty() || trigger.columns.iter().any(|c| c == column);
    let missing: Vec<&str> = ORDER_VIEW_COLUMNS
        .split(',')
        .map(str::trim)
        .filter(|c| !FIXED_AT_INSERT.contains(c) && !fires_on(c))
        .collect();
    assert!(
        missing.is_empty(),
        "orders_changed does not fire on {missing:?} ({trigger})"
    );
}
