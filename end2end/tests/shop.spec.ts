import { expect, test } from "@playwright/test";
import { asDistinctClient, confirmAddress, mailsTo, payOnSimCheckout, screenshot, signUp, uniqueEmail, waitForHydration } from "./helpers";

test("browse the shop, add two goods, pay on the hosted page, see the order paid", async ({ page }) => {
  const consoleErrors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(msg.text());
  });
  await page.goto("/shop");
  await waitForHydration(page);
  await expect(page.getByTestId("good")).toHaveCount(4);
  await expect(page.getByTestId("cart-count")).toHaveText("0");

  // With JavaScript the add-to-cart form posts in the background: no page load, the count follows.
  const mug = page.locator('[data-slug="mug"]');
  await mug.getByRole("button", { name: "Add to cart" }).click();
  await expect(mug.getByTestId("added")).toHaveText("Added to your cart.");
  await expect(page.getByTestId("cart-count")).toHaveText("1");
  await expect(page).toHaveURL(/\/shop$/);

  await page.locator('[data-slug="stickers"] a').first().click();
  await expect(page).toHaveURL(/\/shop\/stickers$/);
  await waitForHydration(page);
  await page.getByTestId("quantity").selectOption("2");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByTestId("cart-count")).toHaveText("3");
  await screenshot(page, "shop-good");

  await page.getByTestId("cart-link").click();
  await expect(page).toHaveURL(/\/cart$/);
  await expect(page.getByTestId("cart-line")).toHaveCount(2);
  await expect(page.getByTestId("cart-total")).toHaveText("$24");
  await screenshot(page, "cart");

  // Sign in to check out (a guest could check out at once), and the cart is still there afterwards.
  await expect(page.getByTestId("checkout")).toHaveText("Check out as a guest");
  await page.getByTestId("sign-in-to-buy").click();
  await expect(page).toHaveURL(/\/login\?next=\/cart$/);
  const email = uniqueEmail("shop");
  await signUp(page, email);
  await page.goto("/cart");
  await expect(page.getByTestId("cart-count")).toHaveText("3");
  await page.getByTestId("checkout").click();
  // Stripe's page adds shipping (and, with an address, tax) to the $24 of goods.
  await expect(page.getByText("Sticker pack").first()).toBeVisible();
  await payOnSimCheckout(page, "4242424242424242");

  await expect(page).toHaveURL(/\/shop\/orders\/\d+\?session_id=cs_/);
  await expect(page.getByTestId("order-status")).toHaveText("Paid");
  // The mug goes by post ($5 standard under $50), and the stack runs Stripe Tax (7.25 % in the US
  // on each line and on shipping): 102 + 73 + 36 cents.
  await expect(page.getByTestId("order-subtotal")).toHaveText("$24");
  await expect(page.getByTestId("order-shipping")).toHaveText("$5");
  await expect(page.getByTestId("order-tax")).toHaveText("$2.11");
  await expect(page.getByTestId("order-total")).toHaveText("$31.11");
  await expect(page.getByTestId("order-address")).toContainText("12 Analytical Way");
  await screenshot(page, "order-paid");
  await page.goto("/dashboard");
  await expect(page.getByTestId("order-row")).toHaveCount(1);
  await expect(page.getByTestId("cart-count")).toHaveText("0");

  // The receipt is in the inbox of the stack's real SMTP server, once.
  // After the sign-up's link to confirm the address.
  const mails = await mailsTo(email, 2);
  expect(mails).toHaveLength(2);
  expect(mails[1].subject).toMatch(/Your receipt for order #\d+/);
  expect(mails[1].text).toContain("2 x Sticker pack");
  expect(consoleErrors, "no errors in the browser console (CSP, hydration)").toEqual([]);
});

test("the shop works without JavaScript up to Checkout", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await asDistinctClient(page);
  await page.goto("/shop/hoodie");
  await page.getByTestId("quantity").selectOption("2");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page).toHaveURL(/\/cart$/);
  await expect(page.getByTestId("cart-count")).toHaveText("2");
  await expect(page.getByTestId("cart-total")).toHaveText("$98");
  await page.getByTestId("sign-in-to-buy").click();
  await expect(page).toHaveURL(/\/login\?next=\/cart$/);
  const email = uniqueEmail("nojs-shop");
  await page.goto("/signup?next=/cart");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await confirmAddress(page, email, 1);
  await expect(page).toHaveURL(/\/cart$/);
  await page.getByTestId("checkout").click();
  await expect(page).toHaveURL(/\/checkout\/cs_/);
  await expect(page.getByText("$98").first()).toBeVisible();
  await context.close();
});
