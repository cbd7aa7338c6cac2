import assert from "node:assert/strict";
import { test } from "node:test";
import { linkOpens } from "../src/link.js";

// The same cases as Herald's src/model/link.rs.
test("scripts, data and other hosts in disguise do not open", () => {
  for (const bad of [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>", "//evil.example", "/\\evil.example", "\\\\evil.example",
    "\\/evil.example", "/ok\\..\\x", "https:\\\\evil.example", "/\t/evil.example", "/\n/evil.example",
    "evil.example/path", "HTTPS://example.com", "", null, undefined, 42,
  ]) {
    assert.equal(linkOpens(bad), false, JSON.stringify(bad));
  }
});

test("web links and paths open", () => {
  for (const good of ["/changelog", "/inbox?x=1#top", "https://example.com/a", "http://example.com"]) {
    assert.equal(linkOpens(good), true, good);
  }
});
