import { expect, Page } from "@playwright/test";

/** Waits until the islands have hydrated (set by the HydrationMarker island). */
export async function waitForHydration(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

export const PASSWORD = "correct horse battery";

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
}

/** Creates an account through the sign-up form and lands on the dashboard. */
export async function signUp(page: Page, email: string) {
  await page.goto("/signup");
  await waitForHydration(page);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

/** Pays on stripe-sim's hosted Checkout page with `card`. */
export async function payOnSimCheckout(page: Page, card: string) {
  await expect(page).toHaveURL(/\/checkout\/cs_/);
  await expect(page.getByText(/simulated/i).first()).toBeVisible();
  const email = page.getByLabel("Email");
  if ((await email.inputValue()) === "") await email.fill("payer@example.com");
  await page.getByLabel("Card number").fill(card);
  await page.getByLabel("Expiry").fill("12 / 34");
  await page.getByLabel("CVC").fill("123");
  await page.locator('form[action$="/pay"] button[type="submit"]').click();
}
