import { expect, test } from "@playwright/test";
import { payOnSimCheckout, screenshot, signUp, uniqueEmail, waitForHydration } from "./helpers";

test("subscribe to Pro yearly, open Pro tools, cancel in the portal", async ({ page }) => {
  await signUp(page, uniqueEmail("pro"));

  await page.goto("/pricing");
  await waitForHydration(page);
  await expect(page.getByTestId("plans")).toHaveAttribute("data-interval", "month");
  await page.getByRole("link", { name: "Yearly" }).click();
  // Client side after hydration: the attribute flips and the URL follows, without a page load.
  await expect(page.getByTestId("plans")).toHaveAttribute("data-interval", "year");
  await expect(page).toHaveURL(/interval=year/);
  await expect(page.locator('[data-plan="pro"] .interval-year .figure')).toHaveText("$290");
  await expect(page.locator('[data-plan="pro"] .interval-month')).toBeHidden();
  await screenshot(page, "pricing");

  await page.locator('[data-plan="pro"] .interval-year').getByRole("button", { name: "Subscribe to Pro" }).click();
  await expect(page).toHaveURL(/\/checkout\/cs_/);
  await expect(page.getByText("$290").first()).toBeVisible();
  await screenshot(page, "checkout");
  await payOnSimCheckout(page, "4242 4242 4242 4242");

  await expect(page).toHaveURL(/\/billing\/success\?session_id=cs_/);
  await expect(page.getByTestId("success-plan")).toHaveText("You are now on the Pro plan.");

  await page.goto("/dashboard");
  await expect(page.getByTestId("plan")).toHaveText("Pro");
  await expect(page.getByTestId("price")).toHaveText("$290 per year");
  await screenshot(page, "dashboard");

  await page.goto("/pro");
  await expect(page.getByTestId("pro-page")).toBeVisible();

  await page.goto("/dashboard");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Manage billing" }).click();
  await expect(page).toHaveURL(/\/portal\/bps_/);
  await page.getByRole("button", { name: "Cancel subscription" }).click();
  await expect(page.getByRole("button", { name: "Resume subscription" })).toBeVisible();
  await screenshot(page, "portal");
  await page.getByRole("link", { name: /Return to the app/ }).click();

  await expect(page).toHaveURL(/\/dashboard$/);
  // The portal's webhook may trail the redirect by a moment; the page shows the synced state on reload.
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("ends-on")).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId("canceling")).toBeVisible();
  await screenshot(page, "dashboard-canceling");
});

test("a declined card keeps the user on free and shows the error on Checkout", async ({ page }) => {
  await signUp(page, uniqueEmail("declined"));
  await page.goto("/pricing");
  await page.locator('[data-plan="basic"] .interval-month').getByRole("button", { name: "Subscribe to Basic" }).click();
  await payOnSimCheckout(page, "4000 0000 0000 0002");
  await expect(page.getByRole("alert")).toContainText("declined");
  await expect(page).toHaveURL(/\/checkout\/cs_/);
  await screenshot(page, "checkout-declined");

  await page.goto("/dashboard");
  await expect(page.getByTestId("plan")).toHaveText("Free");
});
