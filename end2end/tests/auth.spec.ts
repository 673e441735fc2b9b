import { expect, test } from "@playwright/test";
import { PASSWORD, confirmAddress, screenshot, uniqueEmail, waitForHydration } from "./helpers";

test("sign up, sign out and sign in again in a hydrated page", async ({ page }) => {
  const email = uniqueEmail("e2e");
  const consoleErrors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(msg.text());
  });

  await page.goto("/signup");
  await waitForHydration(page);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/signup\/check-email/);
  await expect(page).toHaveTitle("Check your inbox · Storefront");
  await confirmAddress(page, email, 1);

  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("account-email")).toHaveText(email);
  await expect(page.getByTestId("unverified")).toHaveCount(0);
  await expect(page.getByTestId("plan")).toHaveText("Free");
  await waitForHydration(page);
  await screenshot(page, "dashboard-free");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/login\?next=\/dashboard$/);
  await waitForHydration(page);
  await page.getByLabel("E-mail").fill(email.toUpperCase());
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong e-mail or password.");
  await screenshot(page, "login-error");

  await waitForHydration(page);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("account-email")).toHaveText(email);

  expect(consoleErrors, "no errors in the browser console (CSP, hydration)").toEqual([]);
});

test("forms work with JavaScript disabled", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const email = uniqueEmail("nojs");
  await page.goto("/signup");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("alert")).toContainText("at least 10 characters");
  // The address is kept, the error tied to the password field, which has the focus.
  await expect(page.getByLabel("E-mail")).toHaveValue(email);
  const password = page.getByLabel("Password");
  await expect(password).toHaveAttribute("aria-invalid", "true");
  await expect(password).toBeFocused();
  await password.fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/signup\/check-email/);
  await confirmAddress(page, email, 1);
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("account-email")).toHaveText(email);
  await context.close();
});
