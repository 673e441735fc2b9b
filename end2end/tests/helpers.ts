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

/**
 * Makes the page's requests to the app look like a client of its own, as a reverse proxy would
 * report it (the e2e stack trusts 127.0.0.1 as one: TRUSTED_PROXIES), so the per-client sign-up
 * limit counts each test's visitor, not the whole suite. Requests to other origins are untouched.
 */
export async function asDistinctClient(page: Page) {
  const app = new URL(process.env.E2E_BASE_URL ?? "http://127.0.0.1:3000").origin;
  const ip = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  await page.route(
    (url) => url.origin === app,
    (route) => route.continue({ headers: { ...route.request().headers(), "x-forwarded-for": ip } }),
  );
}

/**
 * Creates an account through the sign-up form, follows the link mailed to confirm the address (which
 * signs in), and lands on `next` (the dashboard unless the sign-up page was given one).
 */
export async function signUp(page: Page, email: string, signupPath = "/signup") {
  await asDistinctClient(page);
  await page.goto(signupPath);
  await waitForHydration(page);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/signup\/check-email/);
  await confirmAddress(page, email, 1);
}

/** Opens the `nth` mail to `address` (counting from 1), and returns its `path` link. */
export async function linkInMail(address: string, nth: number, path: string): Promise<string> {
  const mails = await mailsTo(address, nth);
  expect(mails.length, `mail ${nth} to ${address}`).toBeGreaterThanOrEqual(nth);
  const match = mails[nth - 1].text.match(new RegExp(`https?://\\S+${path}\\?token=[A-Za-z0-9_-]+`));
  if (!match) throw new Error(`no ${path} link in: ${mails[nth - 1].text}`);
  return match[0];
}

/** Follows the address-confirmation link of the `nth` mail to `email` and confirms it. */
export async function confirmAddress(page: Page, email: string, nth: number) {
  await page.goto(await linkInMail(email, nth, "/verify-email"));
  await page.getByRole("button", { name: "Confirm my address" }).click();
  await expect(page).not.toHaveURL(/verify-email/);
}

/** Fills stripe-sim's hosted shipping step (goods sent by post), if the page shows it. */
export async function shipOnSimCheckout(page: Page, country = "US", rate?: RegExp) {
  const form = page.locator('form[action$="/shipping"]');
  if ((await form.count()) === 0) return;
  await form.getByLabel("Full name").fill("Ada Lovelace");
  await form.getByLabel("Address", { exact: true }).fill("12 Analytical Way");
  await form.getByLabel("City").fill("Springfield");
  await form.getByLabel("Postal code").fill("62701");
  await form.getByLabel("Country").selectOption(country);
  if (rate) await form.getByLabel(rate).check();
  await form.getByRole("button", { name: "Continue to payment" }).click();
  await expect(page.locator('form[action$="/shipping"]')).toHaveCount(0);
}

/** Pays on stripe-sim's hosted Checkout page with `card` (after its shipping step, if any). */
export async function payOnSimCheckout(page: Page, card: string) {
  await expect(page).toHaveURL(/\/checkout\/cs_/);
  await expect(page.getByText(/simulated/i).first()).toBeVisible();
  await shipOnSimCheckout(page);
  // Payment-mode pages also offer a bank debit form; the card form is the one posting to `/pay`.
  const form = page.locator('form[action$="/pay"]');
  const email = form.getByLabel("Email");
  if ((await email.inputValue()) === "") await email.fill("payer@example.com");
  await form.getByLabel("Card number").fill(card);
  await form.getByLabel("Expiry").fill("12 / 34");
  await form.getByLabel("CVC").fill("123");
  await form.locator('button[type="submit"]').click();
}

/** The mails maildev (the e2e stack's SMTP server) received for `address`, polled until `count` arrive. */
export async function mailsTo(address: string, count: number): Promise<{ subject: string; text: string }[]> {
  const api = process.env.MAIL_API_BASE;
  if (!api) throw new Error("MAIL_API_BASE is not set: start the stack with scripts/lib.sh's start_stack");
  const deadline = Date.now() + 15_000;
  for (;;) {
    const all = (await (await fetch(`${api}/email`)).json()) as {
      subject: string;
      text: string;
      to: { address: string }[];
    }[];
    const mine = all.filter((m) => m.to.some((to) => to.address.toLowerCase() === address.toLowerCase()));
    if (mine.length >= count || Date.now() > deadline) return mine;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
