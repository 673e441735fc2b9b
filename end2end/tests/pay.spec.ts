import { expect, Page, Request } from "@playwright/test";
import { test } from "@playwright/test";
import { asDistinctClient, confirmAddress, mailsTo, screenshot, signUp, uniqueEmail, waitForHydration } from "./helpers";

// Paying on our own page (/shop/pay): Stripe.js (stripe-sim's, at {sim}/v3/) mounts the card field
// in a frame on its own origin; the island confirms the PaymentIntent /api/pay_cart created.

const CARD_OK = "4242424242424242";
const CARD_DECLINED = "4000000000000002";
const CARD_3DS = "4000002500003155";

/** Every request the page (and its frames) sends, with where it went and its body. */
function recordRequests(page: Page): { url: string; body: string }[] {
  const seen: { url: string; body: string }[] = [];
  page.on("request", (request: Request) => {
    seen.push({ url: request.url(), body: request.postData() ?? "" });
  });
  return seen;
}

/** Enters a US address in /shop/pay's form when the page asks where to send the order. */
async function enterAddress(page: Page) {
  if ((await page.getByTestId("pay-address-needed").count()) === 0) return;
  const form = page.getByTestId("pay-details");
  await form.getByLabel("Full name").fill("Ada Lovelace");
  await form.getByLabel("Address", { exact: true }).fill("1 Main St");
  await form.getByLabel("City").fill("Springfield");
  await form.getByLabel("Postal code").fill("62701");
  await form.getByLabel("Country").selectOption("US");
  await form.getByRole("button", { name: "Update the total" }).click();
  await expect(page).toHaveURL(/\/shop\/pay$/);
  await expect(page.getByTestId("pay-address-needed")).toHaveCount(0);
}

/** Signs up, puts `slug` in the cart from its page, and opens /shop/pay. */
async function toPayPage(page: Page, prefix: string, slug: string): Promise<string> {
  const email = uniqueEmail(prefix);
  await signUp(page, email);
  await page.goto(`/shop/${slug}`);
  await waitForHydration(page);
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByTestId("cart-count")).toHaveText("1");
  await page.goto("/cart");
  await page.getByTestId("pay-on-page").click();
  await expect(page).toHaveURL(/\/shop\/pay$/);
  await enterAddress(page);
  await waitForHydration(page);
  await expect(page.getByTestId("pay")).toHaveText("Pay now");
  await expect(page.getByTestId("card-loading")).toBeHidden();
  return email;
}

async function fillCard(page: Page, number: string) {
  const frame = page.frameLocator("iframe[name^=__privateStripeFrame]");
  await frame.getByLabel("Card number").fill(number);
  await frame.getByLabel("Expiration date").fill("12 / 34");
  await frame.getByLabel("CVC").fill("123");
}

async function expectPaidOrder(page: Page, email: string) {
  await expect(page).toHaveURL(/\/shop\/orders\/\d+\?payment_intent=pi_/);
  await expect(page.getByTestId("order-status")).toHaveText("Paid");
  // After the sign-up's link to confirm the address.
  const mails = await mailsTo(email, 2);
  expect(mails).toHaveLength(2);
  expect(mails[1].subject).toMatch(/Your receipt for order #\d+/);
}

/** The app's origin never receives the card number; Stripe's (the sim's) does, from its frame. */
function expectCardOnlyWentToStripe(requests: { url: string; body: string }[], appOrigin: string, card: string) {
  const grouped = card.replace(/(\d{4})(?=\d)/g, "$1 ");
  const toApp = requests.filter((r) => r.url.startsWith(appOrigin));
  expect(toApp.length).toBeGreaterThan(0);
  for (const r of toApp) {
    for (const needle of [card, grouped, encodeURIComponent(grouped)]) {
      expect(r.body, `request to ${r.url}`).not.toContain(needle);
      expect(r.url).not.toContain(needle);
    }
  }
  const toStripe = requests.filter((r) => r.url.includes("/v1/payment_methods"));
  expect(toStripe.some((r) => r.body.includes(card)), "the frame sent the card to Stripe").toBe(true);
}

test("pay on our page with 4242; the card number never reaches the app", async ({ page, baseURL }) => {
  const consoleErrors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(msg.text());
  });
  const requests = recordRequests(page);
  const email = await toPayPage(page, "pay-ok", "hoodie");
  // $49, $5 standard shipping, 7.25 % US tax on each ($3.55 + $0.36): the server's total.
  await expect(page.getByTestId("pay-total")).toHaveText("$57.91");
  await fillCard(page, CARD_OK);
  await screenshot(page, "pay-on-page");
  await page.getByTestId("pay").click();
  await expectPaidOrder(page, email);
  await screenshot(page, "pay-on-page-paid");
  await expect(page.getByTestId("order-total")).toHaveText("$57.91");
  await expect(page.getByTestId("order-address")).toContainText("1 Main St");
  expectCardOnlyWentToStripe(requests, new URL(baseURL!).origin, CARD_OK);
  expect(consoleErrors, "no errors in the browser console (CSP, hydration)").toEqual([]);
});

test("a declined card shows Stripe's message, then another card pays", async ({ page }) => {
  const email = await toPayPage(page, "pay-declined", "mug");
  await fillCard(page, CARD_DECLINED);
  await page.getByTestId("pay").click();
  await expect(page.getByTestId("card-error")).toHaveText("Your card was declined.");
  await expect(page.getByTestId("pay")).toBeEnabled();
  await expect(page).toHaveURL(/\/shop\/pay$/);
  await screenshot(page, "pay-declined");
  await fillCard(page, CARD_OK);
  await page.getByTestId("pay").click();
  await expectPaidOrder(page, email);
  await page.goto("/dashboard");
  await expect(page.getByTestId("order-row")).toHaveCount(1);
});

test("3-D Secure: a failed challenge can be retried and a completed one pays", async ({ page }) => {
  const email = await toPayPage(page, "pay-3ds", "stickers");
  await fillCard(page, CARD_3DS);
  await page.getByTestId("pay").click();
  await expect(page.getByTestId("pay")).toBeDisabled();
  const challenge = page.frameLocator("iframe[name=stripe-sim-challenge]");
  await challenge.getByRole("button", { name: "Fail authentication" }).click();
  await expect(page.getByTestId("card-error")).toContainText("unable to authenticate");
  await expect(page.getByTestId("pay")).toBeEnabled();

  await page.getByTestId("pay").click();
  await screenshot(page, "pay-3ds-challenge");
  await challenge.getByRole("button", { name: "Complete authentication" }).click();
  await expectPaidOrder(page, email);
});

test("without JavaScript the pay page offers Stripe's checkout page", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await asDistinctClient(page);
  const email = uniqueEmail("pay-nojs");
  await page.goto("/signup?next=/shop/poster");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await confirmAddress(page, email, 1);
  await expect(page).toHaveURL(/\/shop\/poster$/);
  await page.goto("/shop/stickers");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.goto("/shop/pay");
  await enterAddress(page);
  await expect(page.getByTestId("card-loading")).toContainText("needs JavaScript");
  await expect(page.getByTestId("pay")).toBeDisabled();
  await page.getByTestId("checkout").click();
  await expect(page).toHaveURL(/\/checkout\/cs_/);
  await context.close();
});
