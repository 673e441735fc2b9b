import { expect, Page, test } from "@playwright/test";
import { asDistinctClient, mailsTo, payOnSimCheckout, screenshot, shipOnSimCheckout, signUp, uniqueEmail, waitForHydration } from "./helpers";

/** A coupon of `percentOff` % and a promotion code for it, made at the stack's stripe-sim. */
async function promotionCode(percentOff: number): Promise<string> {
  const sim = process.env.SIM_BASE;
  if (!sim) throw new Error("SIM_BASE is not set: run through scripts/test");
  const post = async (path: string, form: Record<string, string>) => {
    const response = await fetch(`${sim}${path}`, {
      method: "POST",
      headers: { authorization: "Bearer sk_test_stack", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
    });
    expect(response.status, path).toBe(200);
    return (await response.json()) as { id: string };
  };
  const coupon = await post("/v1/coupons", { percent_off: String(percentOff) });
  const code = `E2E${Date.now() % 1_000_000}`;
  await post("/v1/promotion_codes", { "promotion[type]": "coupon", "promotion[coupon]": coupon.id, code });
  return code;
}

test("a guest buys the hoodie in size M with a promotion code and gets a receipt with every line", async ({ page }) => {
  await asDistinctClient(page);
  const code = await promotionCode(10);
  await page.goto("/shop");
  await expect(page.locator('[data-slug="hoodie"]').getByRole("link", { name: "Choose a size" })).toBeVisible();
  await page.goto("/shop/hoodie");
  await waitForHydration(page);
  // L is sold out in the seed catalog: shown, not choosable.
  await expect(page.getByRole("radio", { name: /^L/ })).toBeDisabled();
  await page.getByRole("radio", { name: /^M/ }).check();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByTestId("cart-count")).toHaveText("1");

  await page.goto("/cart");
  await expect(page.getByTestId("cart-line")).toContainText("Hoodie (M)");
  await page.getByRole("button", { name: "Check out as a guest" }).click();
  await expect(page).toHaveURL(/\/checkout\/cs_/);
  await shipOnSimCheckout(page, "DE");
  await page.getByLabel("Promotion code").fill(code);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByText(code).first()).toBeVisible();
  const email = uniqueEmail("guest-hoodie");
  await page.locator('form[action$="/pay"]').getByLabel("Email").fill(email);
  await payOnSimCheckout(page, "4242424242424242");

  // Back on our order page through the signed link; no account needed.
  await expect(page).toHaveURL(/\/shop\/orders\/\d+\?key=[A-Za-z0-9_-]{43}&session_id=cs_/);
  await expect(page.getByTestId("order-status")).toHaveText("Paid");
  await expect(page.getByTestId("cart-count")).toHaveText("0");
  // $49 less 10 % ($4.90), standard shipping to Germany $5, 19 % VAT on $44.10 and on $5.
  await expect(page.getByTestId("order-subtotal")).toHaveText("$49");
  await expect(page.getByTestId("order-discount")).toHaveText("-$4.90");
  await expect(page.getByTestId("order-shipping")).toHaveText("$5");
  await expect(page.getByTestId("order-tax")).toHaveText("$9.33");
  await expect(page.getByTestId("order-total")).toHaveText("$58.43");
  await expect(page.getByTestId("order-address")).toContainText("DE");
  await expect(page.getByTestId("guest-note")).toBeVisible();
  await screenshot(page, "guest-order");

  const mails = await mailsTo(email, 1);
  expect(mails).toHaveLength(1);
  const receipt = mails[0].text;
  for (const line of ["1 x Hoodie (M)", `Discount (${code}): -$4.90`, "Shipping (Standard): $5", "Tax: $9.33", "Total: $58.43", "Ada Lovelace"]) {
    expect(receipt).toContain(line);
  }
  const link = receipt.match(/https?:\/\/\S+\/shop\/orders\/\d+\?key=\S+/);
  expect(link, "the receipt links to the order").not.toBeNull();
});

/** True when nothing on the page is wider than the window (no sideways scrolling). */
async function fitsTheScreen(page: Page): Promise<{ page: number; window: number }> {
  return page.evaluate(() => ({ page: document.documentElement.scrollWidth, window: window.innerWidth }));
}

test("no page is wider than a 390 px phone, and the menu opens without JavaScript", async ({ browser }) => {
  for (const javaScriptEnabled of [true, false]) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, javaScriptEnabled });
    const page = await context.newPage();
    await asDistinctClient(page);
    const email = uniqueEmail("phone");
    if (javaScriptEnabled) {
      await signUp(page, email);
    }
    await page.goto("/shop/mug");
    await page.getByRole("button", { name: "Add to cart" }).click();
    await expect(page).toHaveURL(/\/(cart|shop\/mug)$/);
    const paths = ["/", "/pricing", "/shop", "/shop/hoodie", "/cart", "/login", "/signup"];
    if (javaScriptEnabled) paths.push("/dashboard", "/account", "/shop/pay");
    for (const path of paths) {
      await page.goto(path);
      const width = await fitsTheScreen(page);
      expect(width.page, `${path} at 390 px (JavaScript ${javaScriptEnabled ? "on" : "off"})`).toBeLessThanOrEqual(width.window);
    }
    // The links fold behind "Menu" and open with a tap, script or not.
    await page.goto("/shop");
    await expect(page.getByRole("link", { name: "Pricing" })).toBeHidden();
    await page.getByText("Menu", { exact: true }).click();
    await expect(page.getByRole("link", { name: "Pricing" })).toBeVisible();
    const header = await page.locator(".site-header").boundingBox();
    expect(header?.width ?? 0).toBeLessThanOrEqual(390);
    if (javaScriptEnabled) await screenshot(page, "phone-menu");
    await context.close();
  }
});
