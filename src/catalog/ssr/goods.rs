//! The goods on sale, for the snapshot: active products marked as goods with active one-time
//! prices. A product whose prices name options (metadata `option`) is sold in each of them; any
//! other is sold at its cheapest one-time price.

use crate::catalog::Good;
use crate::db::Database;
use crate::domain::{Money, PriceId, ProductId};
use crate::error::AppResult;

#[derive(sqlx::FromRow)]
struct GoodRow {
    product_id: ProductId,
    slug: String,
    name: String,
    description: Option<String>,
    image: Option<String>,
    price_id: PriceId,
    currency: String,
    unit_amount: i64,
    shippable: i64,
    option_name: Option<String>,
    option_label: Option<String>,
}

pub(super) async fn load_goods(db: &Database) -> AppResult<Vec<Good>> {
    let rows = sqlx::query_as::<_, GoodRow>(
        "SELECT p.id AS product_id, p.slug, p.name, p.description, p.image, pr.id AS price_id, \
                pr.currency, pr.unit_amount, p.shippable, p.option_name, pr.option_label \
         FROM products p JOIN prices pr ON pr.product_id = p.id \
         WHERE p.kind = 'goods' AND p.active = 1 AND p.slug IS NOT NULL AND pr.active = 1 \
           AND pr.recurring_interval IS NULL AND pr.unit_amount IS NOT NULL AND pr.unit_amount > 0 \
         ORDER BY p.sort_order, p.id, pr.sort_order, pr.unit_amount, pr.id",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(build_goods(rows))
}

/// One entry per option of a product with options (prices without an option left out), else one
/// per product (its cheapest one-time price); one product per slug: a second product with a slug
/// already taken is left out, with a warning, rather than making two products share a page.
fn build_goods(rows: Vec<GoodRow>) -> Vec<Good> {
    let with_options: Vec<ProductId> = rows
        .iter()
        .filter(|r| r.option_label.is_some())
        .map(|r| r.product_id.clone())
        .collect();
    let mut goods: Vec<Good> = Vec::new();
    for row in rows {
        let optioned = with_options.contains(&row.product_id);
        if let Some(taken) = goods.iter().find(|g| g.slug == row.slug) {
            if taken.product_id != row.product_id {
                tracing::warn!(slug = %row.slug, product = %row.product_id, "slug already used by another product; not sold");
                continue;
            }
            let same_option = goods
                .iter()
                .any(|g| g.product_id == row.product_id && g.option == row.option_label);
            if !optioned || same_option {
                continue;
            }
        }
        if optioned && row.option_label.is_none() {
            continue;
        }
        goods.push(Good {
            product_id: row.product_id,
            slug: row.slug,
            name: row.name,
            description: row.description,
            image: row.image,
            price_id: row.price_id,
            money: Money::new(row.unit_amount, row.currency),
            shippable: row.shippable != 0,
            option: row.option_label,
            option_name: row.option_name,
        });
    }
    goods
}
