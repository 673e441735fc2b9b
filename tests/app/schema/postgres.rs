//! A migrated PostgreSQL database's schema (`public`), read from `information_schema` and the
//! catalogs. Names and domains are cast to `text`, which sqlx decodes as `String`.

use super::{Schema, Trigger, excluded_table, foreign_key, index};
use sqlx::PgPool;

pub async fn schema(pool: &PgPool) -> Schema {
    let mut schema = Schema::default();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    for table in tables.iter().filter(|t| !excluded_table(t)) {
        schema.add(table, "table");
    }
    add_columns(pool, &mut schema).await;
    add_indexes(pool, &mut schema).await;
    add_foreign_keys(pool, &mut schema).await;
    for trigger in triggers(pool).await {
        schema.add(&trigger.table.clone(), trigger);
    }
    schema
}

fn class(data_type: &str) -> &str {
    match data_type {
        "smallint" | "integer" | "bigint" => "integer",
        "text" | "character varying" | "character" => "text",
        "real" | "double precision" => "real",
        "bytea" => "blob",
        other => other,
    }
}

async fn add_columns(pool: &PgPool, schema: &mut Schema) {
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .expect("columns");
    for (table, name, data_type, nullable) in columns {
        if !excluded_table(&table) {
            let column = super::column(&name, class(&data_type), nullable == "NO");
            schema.add(&table, column);
        }
    }
}

/// The column names of attribute numbers `$numbers` of relation `$relation`, in order, as SQL.
fn attribute_names(numbers: &str, relation: &str) -> String {
    format!(
        "array_to_string(ARRAY(SELECT COALESCE(a.attname::text, '<expression>') \
         FROM unnest({numbers}) WITH ORDINALITY AS k(attnum, n) \
         LEFT JOIN pg_attribute a ON a.attrelid = {relation} AND a.attnum = k.attnum \
         ORDER BY k.n), ',')"
    )
}

async fn add_indexes(pool: &PgPool, schema: &mut Schema) {
    let sql = format!(
        "SELECT t.relname::text, i.relname::text, ix.indisunique, ix.indisprimary, \
         ix.indpred IS NOT NULL, \
         EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = t.oid \
                 AND c.conindid = ix.indexrelid AND c.contype IN ('p', 'u', 'x')), {} \
         FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public'",
        attribute_names("ix.indkey::int2[]", "t.oid")
    );
    let rows: Vec<(String, String, bool, bool, bool, bool, String)> =
        sqlx::query_as(&sql).fetch_all(pool).await.expect("indexes");
    for (table, name, unique, primary, partial, of_constraint, columns) in rows {
        if excluded_table(&table) {
            continue;
        }
        let columns: Vec<String> = columns.split(',').map(str::to_owned).collect();
        if primary {
            schema.add(&table, format!("primary key ({})", columns.join(", ")));
        } else {
            // Indexes of UNIQUE constraints are named by each backend its own way.
            let name = (!of_constraint).then_some(name.as_str());
            schema.add(&table, index(name, &columns, unique, partial));
        }
    }
}

async fn add_foreign_keys(pool: &PgPool, schema: &mut Schema) {
    let sql = format!(
        "SELECT child.relname::text, parent.relname::text, c.confdeltype::text, {}, {} \
         FROM pg_constraint c JOIN pg_class child ON child.oid = c.conrelid \
         JOIN pg_class parent ON parent.oid = c.confrelid \
         JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE c.contype = 'f' AND n.nspname = 'public'",
        attribute_names("c.conkey", "c.conrelid"),
        attribute_names("c.confkey", "c.confrelid")
    );
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(&sql)
        .fetch_all(pool)
        .await
        .expect("foreign keys");
    for (table, parent, on_delete, from, to) in rows {
        let on_delete = match on_delete.as_str() {
            "a" => "NO ACTION",
            "r" => "RESTRICT",
            "c" => "CASCADE",
            "n" => "SET NULL",
            "d" => "SET DEFAULT",
            other => other,
        };
        let split = |list: &str| list.split(',').map(str::to_owned).collect::<Vec<_>>();
        schema.add(
            &table,
            foreign_key(&split(&from), &parent, &split(&to), on_delete),
        );
    }
}

/// One `Trigger` per trigger and event (a PostgreSQL trigger may fire on several).
pub async fn triggers(pool: &PgPool) -> Vec<Trigger> {
    let rows: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
        "SELECT t.trigger_name::text, t.event_object_table::text, t.action_timing::text, \
         t.event_manipulation::text, t.action_orientation::text, \
         COALESCE((SELECT string_agg(c.event_object_column::text, ',') \
                   FROM information_schema.triggered_update_columns c \
                   WHERE c.trigger_schema = t.trigger_schema AND c.trigger_name = t.trigger_name \
                   AND c.event_object_table = t.event_object_table), '') \
         FROM information_schema.triggers t WHERE t.trigger_schema = 'public' \
         ORDER BY t.trigger_name, t.event_manipulation",
    )
    .fetch_all(pool)
    .await
    .expect("triggers");
    rows.into_iter()
        .map(|(name, table, timing, event, orientation, columns)| {
            let columns = if event == "UPDATE" && !columns.is_empty() {
                columns.split(',').map(str::to_owned).collect()
            } else {
                Vec::new()
            };
            Trigger::new(name, table, timing, event, columns, orientation == "ROW")
        })
        .collect()
}
