//! `/shop/orders/{id}`: one order, to its owner only (404 for anyone else). Stripe Checkout returns
//! here with `?session_id=…`, the pay page with `?payment_intent=…`; then a pending order is synced
//! from Stripe first, so the buyer sees "paid" even when the webhook is late. The dashboard shows the list (`OrderList`).

use super::{OrderView, ShipmentView};
use crate::auth::{User, require_user};
use crate::components::PageMeta;
use crate::domain::{OrderStatus, format_date};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn OrderPage() -> impl IntoView {
    let id = use_params_map()
        .read_untracked()
        .get("id")
        .unwrap_or_default();
    // Stripe Checkout comes back with `session_id`, our pay page with `payment_intent`.
    let query = use_query_map().read_untracked().clone();
    let returned = [
        ("session_id", query.get("session_id")),
        ("payment_intent", query.get("payment_intent")),
    ]
    .into_iter()
    .find_map(|(name, value)| value.map(|v| (name, v)));
    let here = match &returned {
        Some((name, value)) => format!(
            "/shop/orders/{id}?{name}={}",
            crate::request::urlencode(value)
        ),
        None => format!("/shop/orders/{id}"),
    };
    let returned_id = returned.map(|(_, value)| value);
    // A guest's signed link opens the order without an account (issue 22).
    let viewer = match query.get("key") {
        Some(key) => OrderViewer::Link(key),
        None => match require_user(&here) {
            Some(user) => OrderViewer::Account(user),
            None => return view! { <p>"Please sign in."</p> }.into_any(),
        },
    };
    let body = Suspend::new(async move { order_body(viewer, id, returned_id).await });
    view! {
        <PageMeta title="Your order" description="Your order, its payment and its receipt." />
        <section class="shop"><Suspense fallback=|| ()>{body}</Suspense></section>
    }
    .into_any()
}

/// Who opens the order page: its signed-in owner, or a guest with the order's signed link.
enum OrderViewer {
    Account(User),
    Link(String),
}

#[cfg(feature = "ssr")]
async fn order_body(viewer: OrderViewer, id: String, returned_id: Option<String>) -> AnyView {
    use crate::error::AppError;
    let loaded = async {
        let order_id = crate::domain::OrderId::parse(&id).ok_or(AppError::NotFound)?;
        let shop = crate::state::from_context::<super::ssr::Shop>()?;
        let viewer = match &viewer {
            OrderViewer::Account(user) => super::ssr::Viewer::Account(user.id),
            OrderViewer::Link(key) => super::ssr::Viewer::Link(key),
        };
        let order = shop
            .order_page(viewer, order_id, returned_id.as_deref())
            .await?;
        // Back from a payment: if this order (or any other of the cart) is paid now, the cart is
        // bought and empties; any other order, or a made-up `session_id`, leaves it alone (review 2, L5).
        if order.status.was_paid() {
            let session = super::ssr::SessionCart::of_request().await?;
            shop.current_cart(&session).await?;
        }
        Ok::<_, AppError>(order)
    };
    match loaded.await {
        Ok(order) => view! { <OrderDetails order /> }.into_any(),
        Err(error) => {
            crate::request::set_status(error.status().as_u16());
            let message = match error {
                AppError::NotFound => "We could not find that order.".to_owned(),
                other => other.public_message(),
            };
            view! {
                <h1>"Order"</h1>
                <p class="notice error" role="alert">{message}</p>
                <p><a href="/dashboard">"Go to your dashboard"</a></p>
            }
            .into_any()
        }
    }
}

#[cfg(not(feature = "ssr"))]
async fn order_body(_viewer: OrderViewer, _id: String, _returned_id: Option<String>) -> AnyView {
    ().into_any()
}

fn status_note(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => {
            "We are waiting for your payment to be confirmed. This page updates itself every few seconds."
        }
        OrderStatus::Paid => {
            "Thank you! Your payment is confirmed and a receipt is on its way to your inbox."
        }
        OrderStatus::PartiallyRefunded => "Part of this order was refunded.",
        OrderStatus::Refunded => "This order was refunded.",
        OrderStatus::Expired => "This checkout expired before it was paid. Nothing was charged.",
        OrderStatus::Failed => "The payment did not go through. Nothing was charged.",
    }
}

#[component]
fn OrderDetails(order: OrderView) -> impl IntoView {
    let items = order
        .items
        .iter()
        .map(|item| {
            view! {
                <tr>
                    <td>{item.name.clone()}</td>
                    <td>{item.quantity}</td>
                    <td>{item.unit.format()}</td>
                    <td>{item.line_total.format()}</td>
                </tr>
            }
        })
        .collect_view();
    // A payment Stripe is still confirming: the page reloads itself (no JavaScript needed) and each
    // load reads the order, which the webhook or the sweep moves on.
    let refresh = (order.status == OrderStatus::Pending)
        .then(|| view! { <leptos_meta::Meta http_equiv="refresh" content="5" /> });
    view! {
        {refresh}
        <h1>{format!("Order #{}", order.id)}</h1>
        <p class="lead">
            <span class=format!("badge status-{}", order.status) data-testid="order-status">{order.status.label()}</span>
        </p>
        <p>{status_note(order.status)}</p>
        <table class="cart" data-testid="order-items">
            <thead><tr><th>"Item"</th><th>"Quantity"</th><th>"Price"</th><th>"Total"</th></tr></thead>
            <tbody>{items}</tbody>
            <tfoot>
                {order.charge_lines().into_iter().map(|l| view! {
                    <tr><th colspan="3">{l.label}</th><td data-testid=l.test_id>{l.amount}</td></tr>
                }).collect_view()}
                <tr><th colspan="3">"Total"</th><td data-testid="order-total">{order.total.format()}</td></tr>
                {(order.refunded.amount > 0).then(|| view! {
                    <tr><th colspan="3">"Refunded"</th><td data-testid="order-refunded">{order.refunded.format()}</td></tr>
                })}
            </tfoot>
        </table>
        {order.shipment.clone().map(|shipment| view! { <Shipment shipment /> })}
        <p class="muted">{format!("Ordered on {}", format_date(order.created_at))}</p>
        {order.receipt_url.clone().filter(|_| order.status.was_paid()).map(|url| view! { <p><a href=url rel="noopener">"Stripe receipt"</a></p> })}
        {if order.guest {
            view! {
                <p class="notice" data-testid="guest-note">
                    "Keep this page's address (it is in your receipt too): it is your link to this order. "
                    "Create an account with the same e-mail and the order shows on your dashboard."
                </p>
                <p><a href="/shop">"Back to the shop"</a></p>
            }.into_any()
        } else {
            view! { <p><a href="/dashboard">"Your orders"</a>" · "<a href="/shop">"Back to the shop"</a></p> }.into_any()
        }}
    }
}

#[component]
fn Shipment(shipment: ShipmentView) -> impl IntoView {
    let lines = shipment
        .address
        .into_iter()
        .map(|l| view! { {l}<br /> })
        .collect_view();
    view! {
        <h2>"Shipping to"</h2>
        <address data-testid="order-address">{lines}</address>
        {shipment.delivery.map(|d| view! { <p class="muted">{format!("Delivery: {d} after dispatch")}</p> })}
    }
}

/// The dashboard's list of the user's orders.
#[component]
pub fn OrderList(orders: Vec<OrderView>) -> impl IntoView {
    if orders.is_empty() {
        return view! { <p class="muted" data-testid="no-orders">"No orders yet. " <a href="/shop">"Visit the shop"</a></p> }.into_any();
    }
    let rows = orders
        .into_iter()
        .map(|order| {
            let items = order
                .items
                .iter()
                .map(|i| format!("{} × {}", i.quantity, i.name))
                .collect::<Vec<_>>()
                .join(", ");
            view! {
                <tr data-testid="order-row">
                    <td><a href=format!("/shop/orders/{}", order.id)>{format!("#{}", order.id)}</a></td>
                    <td>{format_date(order.created_at)}</td>
                    <td>
                        {items}
                        {order.shipment.as_ref().map(|s| {
                            let place = s.address.iter().rev().take(2).rev().cloned().collect::<Vec<_>>().join(", ");
                            let how = s.rate.clone().unwrap_or_else(|| "Shipping".into());
                            view! { <br /><small class="muted" data-testid="order-ships">{format!("{how} to {place}")}</small> }
                        })}
                    </td>
                    <td>{order.total.format()}</td>
                    <td>{order.status.label()}</td>
                    // A failed charge has a receipt page at Stripe too; it is no receipt to the buyer.
                    <td>{order.receipt_url.clone().filter(|_| order.status.was_paid()).map(|url| view! { <a href=url rel="noopener">"Receipt"</a> })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="invoices" data-testid="orders">
            <thead><tr><th>"Order"</th><th>"Date"</th><th>"Items"</th><th>"Total"</th><th>"Status"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
