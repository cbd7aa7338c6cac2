import { expect, test } from "@playwright/test";
import SwaggerParser from "@apidevtools/swagger-parser";

// The served API document checked by a validator written by others (the
// OpenAPI 3.1 schema, and every $ref resolved), and the docs page in a browser.
test("the API document is valid OpenAPI 3.1 and /api/docs lists every operation", async ({ page, request }) => {
  const res = await request.get("/api/openapi.json");
  expect(res.status()).toBe(200);
  const doc = await res.json();
  expect(doc.openapi).toMatch(/^3\.1\./);
  // Throws, naming the first error, when the document is not valid.
  await SwaggerParser.validate(structuredClone(doc));

  await page.goto("/api/docs");
  await expect(page.locator("h1")).toContainText("Herald API");
  let operations = 0;
  for (const [path, item] of Object.entries<Record<string, { operationId: string }>>(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const section = page.locator(`section[id="${op.operationId}"]`);
      await expect(section.locator("h3")).toHaveText(`${method} ${path}`);
      operations += 1;
    }
  }
  expect(operations).toBeGreaterThanOrEqual(20);
});
