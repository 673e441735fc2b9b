//! `/shop` (every good, with its price and whether it is sold out) and `/shop/{slug}` (one good,
//! with a quantity). Stock is read per request (it changes with every order); the rest comes from
//! the catalog snapshot.

use super::islands::AddToCart;
use super::{CartAdd, SHOP_FORM_MESSAGES, error_of};
use crate::catalog::Good;
use crate::components::PageMeta;
use crate::components::{FormError, NotFound};
use crate::domain::MAX_LINE_QUANTITY;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_params_map;

/// Goods on sale with the units left of each.
#[derive(Debug, Clone, Default)]
struct Shelf {
    goods: Vec<(Good, i64)>,
}

#[cfg(feature = "ssr")]
async fn load_shelf() -> Shelf {
    let loaded = async {
        let shop = crate::state::from_context::<super::ssr::Shop>()?;
        let stock = shop.stock_levels().await?;
        let goods = shop
            .catalog()
            .goods
            .iter()
            .map(|g| (g.clone(), stock.get(&g.product_id).copied().unwrap_or(0)))
            .collect();
        Ok::<_, crate::error::AppError>(Shelf { goods })
    };
    loaded.await.unwrap_or_else(|error| {
        tracing::error!(%error, "shop query failed");
        Shelf::default()
    })
}

#[cfg(not(feature = "ssr"))]
async fn load_shelf() -> Shelf {
    Shelf::default()
}

#[component]
pub fn ShopPage() -> impl IntoView {
    let add = ServerAction::<CartAdd>::new();
    let body = Suspend::new(async move {
        let shelf = load_shelf().await;
        let empty = shelf.goods.is_empty();
        let cards = shelf
            .goods
            .into_iter()
            .map(|(good, left)| view! { <GoodCard good left /> })
            .collect_view();
        view! {
            {empty.then(|| view! { <p class="notice warn">"The shop is being stocked. Please check back soon."</p> })}
            <div class="goods-grid" data-testid="goods">{cards}</div>
        }
    });
    view! {
        <PageMeta title="Shop" description="Mugs, hoodies, posters and stickers, shipped from our shop." />
        <section class="shop">
            <header class="pricing-head">
                <h1>"Shop"</h1>
                <p class="lead">"Things we make for the people who use what we make."</p>
            </header>
            <FormError value=error_of(add) messages=SHOP_FORM_MESSAGES />
            <Suspense fallback=|| ()>{body}</Suspense>
        </section>
    }
}

#[component]
fn GoodCard(good: Good, left: i64) -> impl IntoView {
    let href = format!("/shop/{}", good.slug);
    view! {
        <article class="good-card" data-testid="good" data-slug=good.slug.clone()>
            <a href=href.clone() class="good-image">{image(&good)}</a>
            <h2><a href=href>{good.name.clone()}</a></h2>
            <p class="amount"><span class="figure">{good.money.format()}</span></p>
            <Availability left />
            {(left > 0).then(|| view! { <AddForm good=good.clone() left with_quantity=false /> })}
        </article>
    }
}

fn image(good: &Good) -> impl IntoView + use<> {
    good.image.clone().map(|src| {
        view! { <img src=src alt=good.name.clone() width="320" height="240" loading="lazy" /> }
    })
}

#[component]
fn Availability(left: i64) -> impl IntoView {
    match left {
        0 => Some(
            view! { <p class="badge sold-out" data-testid="sold-out">"Sold out"</p> }.into_any(),
        ),
        1..=5 => Some(
            view! { <p class="muted" data-testid="few-left">{format!("Only {left} left")}</p> }
                .into_any(),
        ),
        _ => None,
    }
}

/// "Add to cart": a plain form (to the cart page without JavaScript), inside the island that posts
/// it in the background when JavaScript is there.
#[component]
fn AddForm(good: Good, left: i64, with_quantity: bool) -> impl IntoView {
    let most = u32::try_from(left.clamp(1, i64::from(MAX_LINE_QUANTITY))).unwrap_or(1);
    let quantity = with_quantity.then(|| {
        view! {
            <label>
                "Quantity "
                <select name="quantity" data-testid="quantity">
                    {(1..=most).map(|n| view! { <option value=n.to_string()>{n.to_string()}</option> }).collect_view()}
                </select>
            </label>
        }
    });
    view! {
        <AddToCart>
            <form method="post" action={<CartAdd as ServerFn>::PATH} class="add-form">
                <input type="hidden" name="price_id" value=good.price_id.to_string() />
                {quantity}
                <button type="submit" class="button primary">"Add to cart"</button>
            </form>
        </AddToCart>
    }
}

#[component]
pub fn GoodPage() -> impl IntoView {
    let slug = use_params_map()
        .read_untracked()
        .get("slug")
        .unwrap_or_default();
    let add = ServerAction::<CartAdd>::new();
    let body = Suspend::new(async move {
        let shelf = load_shelf().await;
        let Some((good, left)) = shelf.goods.into_iter().find(|(g, _)| g.slug == slug) else {
            return view! { <NotFound /> }.into_any();
        };
        let description = good
            .description
            .clone()
            .unwrap_or_else(|| format!("{} from the Storefront shop.", good.name));
        view! {
            <PageMeta title=good.name.clone() description />
            <article class="good-page" data-testid="good-page">
                <div class="good-image">{image(&good)}</div>
                <div>
                    <h1>{good.name.clone()}</h1>
                    {good.description.clone().map(|d| view! { <p class="lead">{d}</p> })}
                    <p class="amount"><span class="figure" data-testid="price">{good.money.format()}</span></p>
                    <Availability left />
                    {(left > 0).then(|| view! { <AddForm good=good.clone() left with_quantity=true /> })}
                    <p><a href="/shop">"Back to the shop"</a></p>
                </div>
            </article>
        }
        .into_any()
    });
    view! {
        <section class="shop">
            <FormError value=error_of(add) messages=SHOP_FORM_MESSAGES />
            <Suspense fallback=|| ()>{body}</Suspense>
        </section>
    }
}
