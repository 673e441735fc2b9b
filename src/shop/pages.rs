//! `/shop` (every good, with its price and whether it is sold out) and `/shop/{slug}` (one good,
//! with its options and a quantity). Stock is read per request (it changes with every order); the
//! rest comes from the catalog snapshot.

use super::islands::AddToCart;
use super::{CartAdd, SHOP_FORM_MESSAGES, error_of};
use crate::catalog::Good;
use crate::components::PageMeta;
use crate::components::{FormError, NotFound};
use crate::domain::MAX_LINE_QUANTITY;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_params_map;

/// Goods on sale (one entry per option) with the units left of each.
#[derive(Debug, Clone, Default)]
struct Shelf {
    goods: Vec<(Good, i64)>,
}

impl Shelf {
    /// The options of the good at `slug`, in order.
    fn options_of(&self, slug: &str) -> Vec<(Good, i64)> {
        self.goods
            .iter()
            .filter(|(g, _)| g.slug == slug)
            .cloned()
            .collect()
    }

    /// One entry per product: its options.
    fn products(&self) -> Vec<Vec<(Good, i64)>> {
        let mut products: Vec<Vec<(Good, i64)>> = Vec::new();
        for (good, left) in &self.goods {
            match products.iter_mut().find(|p| p[0].0.slug == good.slug) {
                Some(options) => options.push((good.clone(), *left)),
                None => products.push(vec![(good.clone(), *left)]),
            }
        }
        products
    }
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
            .map(|g| (g.clone(), stock.get(&g.price_id).copied().unwrap_or(0)))
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
            .products()
            .into_iter()
            .map(|options| view! { <GoodCard options /> })
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

/// A good on the shop's list; one with options links to its page to choose one.
#[component]
fn GoodCard(options: Vec<(Good, i64)>) -> impl IntoView {
    let (good, _) = options[0].clone();
    let left: i64 = options.iter().map(|(_, n)| n).sum();
    let href = format!("/shop/{}", good.slug);
    let buy = match (options.len(), left > 0) {
        (_, false) => None,
        (1, true) => {
            Some(view! { <AddForm good=good.clone() left with_quantity=false /> }.into_any())
        }
        (_, true) => {
            let choose = format!(
                "Choose a {}",
                good.option_name
                    .clone()
                    .unwrap_or_else(|| "option".into())
                    .to_lowercase()
            );
            Some(view! { <a class="button primary" href=href.clone()>{choose}</a> }.into_any())
        }
    };
    view! {
        <article class="good-card" data-testid="good" data-slug=good.slug.clone()>
            <a href=href.clone() class="good-image">{image(&good)}</a>
            <h2><a href=href>{good.name.clone()}</a></h2>
            <p class="amount"><span class="figure">{good.money.format()}</span></p>
            <Availability left />
            {buy}
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
fn AddForm(
    good: Good,
    left: i64,
    with_quantity: bool,
    /// A good's options with the units left of each: chosen with radio buttons (no JavaScript
    /// needed); a sold-out option is shown and cannot be chosen.
    #[prop(optional)]
    options: Vec<(Good, i64)>,
) -> impl IntoView {
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
                {if options.len() > 1 {
                    view! { <OptionPicker options /> }.into_any()
                } else {
                    view! { <input type="hidden" name="price_id" value=good.price_id.to_string() /> }.into_any()
                }}
                {quantity}
                <button type="submit" class="button primary">"Add to cart"</button>
            </form>
        </AddToCart>
    }
}

/// The options of a good as radio buttons, the first one left chosen.
#[component]
fn OptionPicker(options: Vec<(Good, i64)>) -> impl IntoView {
    let legend = options[0]
        .0
        .option_name
        .clone()
        .unwrap_or_else(|| "Option".into());
    let first_left = options.iter().position(|(_, left)| *left > 0);
    let choices = options
        .into_iter()
        .enumerate()
        .map(|(i, (good, left))| {
            let label = good.option.clone().unwrap_or_default();
            let sold_out = left == 0;
            view! {
                <label class="option" class:sold-out=sold_out data-testid="option">
                    <input type="radio" name="price_id" value=good.price_id.to_string()
                        checked=first_left == Some(i) disabled=sold_out required=true />
                    {label}
                    {sold_out.then(|| view! { <span class="muted">" (sold out)"</span> })}
                    {(1..=5).contains(&left).then(|| view! { <span class="muted">{format!(" (only {left} left)")}</span> })}
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="options" data-testid="options">
            <legend>{legend}</legend>
            {choices}
        </fieldset>
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
        let options = shelf.options_of(&slug);
        let Some((good, _)) = options.first().cloned() else {
            return view! { <NotFound /> }.into_any();
        };
        let left: i64 = options.iter().map(|(_, n)| n).sum();
        // Options say their own "only N left"; the whole good says "sold out" when all are.
        let single = options.len() <= 1 || left == 0;
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
                    {single.then(|| view! { <Availability left /> })}
                    {(left > 0).then(|| view! { <AddForm good=good.clone() left with_quantity=true options /> })}
                    {good.shippable.then(|| view! { <p class="muted">"Shipped by post; shipping and tax are added at checkout."</p> })}
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
