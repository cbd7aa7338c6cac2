// Herald's service worker (docs/escalation.md, "Web Push"): shows what
// escalation pushed (the payload is {count, title, body, link}) and opens
// the inbox when the notification is clicked. Nothing else: no caching.
'use strict';

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (_) {
    data = {};
  }
  const count = Number(data.count) || 1;
  const title = count > 1 ? `${data.title || 'Herald'} (+${count - 1} more)` : data.title || 'Herald';
  event.waitUntil(self.registration.showNotification(title, {
    body: data.body || '',
    tag: 'herald-escalation',
    data: { url: '/' },
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const inbox = new URL('/', self.location.origin).href;
  event.waitUntil((async () => {
    const open = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const tab = open.find((c) => c.url.startsWith(inbox));
    if (tab) {
      return tab.focus();
    }
    return self.clients.openWindow(inbox);
  })());
});
