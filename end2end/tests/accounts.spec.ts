import { expect, test } from "@playwright/test";
import { PASSWORD, asDistinctClient, confirmAddress, linkInMail, signUp, uniqueEmail, waitForHydration } from "./helpers";

const NEW_PASSWORD = "a brand new secret 42";

test("forgot password: the mailed link sets a new password, which signs in", async ({ page }) => {
  const email = uniqueEmail("forgot");
  await signUp(page, email);
  await page.getByRole("button", { name: "Sign out" }).click();

  await page.goto("/login");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Forgot password?" }).click();
  await expect(page).toHaveTitle("Reset your password · Storefront");
  await page.getByLabel("E-mail").fill(email);
  await page.getByRole("button", { name: "Send me a link" }).click();
  await expect(page.getByRole("status")).toContainText("If an account uses that address");

  await page.goto(await linkInMail(email, 2, "/reset-password"));
  await expect(page).toHaveTitle("Choose a new password · Storefront");
  await page.getByLabel("New password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Set the new password" }).click();
  await expect(page).toHaveURL(/\/login\?reset=1$/);
  await expect(page.getByRole("status")).toHaveText("Your password was changed. Sign in with the new one.");

  await waitForHydration(page);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("account-email")).toHaveText(email);
});

test("delete my account, then the address signs up anew", async ({ page }) => {
  const email = uniqueEmail("leaving");
  await signUp(page, email);
  await page.goto("/account");
  await expect(page).toHaveTitle("Your account · Storefront");
  const data = page.getByRole("region", { name: "Your data" });
  await data.getByLabel("Current password").fill("not my password");
  await data.getByRole("button", { name: "Delete my account" }).click();
  await expect(page.getByRole("alert")).toHaveText("That is not your current password.");
  const again = page.getByRole("region", { name: "Your data" });
  await expect(again.getByLabel("Current password")).toBeFocused();
  await again.getByLabel("Current password").fill(PASSWORD);
  await again.getByRole("button", { name: "Delete my account" }).click();
  await expect(page).toHaveURL(/\/account\/deleted$/);
  await expect(page.getByRole("heading", { name: "Your account was deleted" })).toBeVisible();
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/login\?next=\/dashboard$/);

  // The sign-up link, then the goodbye; the new account's link is the third mail.
  expect(await linkInMail(email, 1, "/verify-email")).toBeTruthy();
  await asDistinctClient(page);
  await page.goto("/signup");
  await waitForHydration(page);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/signup\/check-email/);
  await confirmAddress(page, email, 3);
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("account-email")).toHaveText(email);
  await expect(page.getByTestId("plan")).toHaveText("Free");
});
