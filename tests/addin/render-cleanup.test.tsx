import { describe, expect, it } from "vitest";
import { apiOver, renderWithApp, routeNotFound } from "./support/render";

// The add-in project's setup (tests/addin/support/setup.ts) takes down what a test rendered, so files need not.
describe("rendered trees", () => {
  const api = apiOver(async () => routeNotFound());

  it("are mounted in the document while the test runs", async () => {
    const first = await renderWithApp(<p data-testid="left-behind">one</p>, api);
    await renderWithApp(<p data-testid="left-behind">two</p>, api);
    expect(document.querySelectorAll("[data-testid=left-behind]")).toHaveLength(2);
    // Taken down early by the test itself, then left alone by the clean-up.
    await first.unmount();
    await first.unmount();
    expect(document.querySelectorAll("[data-testid=left-behind]")).toHaveLength(1);
  });

  it("are gone when the next test starts", () => {
    expect(document.querySelectorAll("[data-testid=left-behind]")).toHaveLength(0);
    expect(document.body.children).toHaveLength(0);
  });
});
