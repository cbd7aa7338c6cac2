// Herald's link rule (src/model/link.rs): only http(s) URLs and same-origin
// paths open. `//host`, `/\host` and `\\host` mean another host to a browser,
// and URL parsing turns `\` into `/` and drops tabs and newlines, so a path
// starts with exactly one `/` and no backslash or control character may
// appear anywhere. A `javascript:` link would run in the host page.

export function linkOpens(link) {
  if (typeof link !== "string") return false;
  const absolute = link.startsWith("https://") || link.startsWith("http://");
  const sameOrigin = link.startsWith("/") && !link.startsWith("//");
  // eslint-disable-next-line no-control-regex
  const smuggles = /[\\\u0000-\u001f\u007f-\u009f]/.test(link);
  return (absolute || sameOrigin) && !smuggles;
}
