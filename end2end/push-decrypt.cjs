// Decrypts one Web Push message body (RFC 8291, aes128gcm) as a browser
// would, with http_ece (by the RFC's author): Herald's encryption checked
// by an implementation written by others (tests/integration/push.rs).
// stdin: {"body": base64url, "private_key": base64url (32-byte P-256
// scalar), "auth": base64url (16 bytes)}; stdout: the plaintext.
'use strict';
const crypto = require('crypto');
const ece = require('http_ece');

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { body, private_key: privateKey, auth } = JSON.parse(input);
  const receiver = crypto.createECDH('prime256v1');
  receiver.setPrivateKey(Buffer.from(privateKey, 'base64url'));
  const plain = ece.decrypt(Buffer.from(body, 'base64url'), {
    version: 'aes128gcm',
    privateKey: receiver,
    authSecret: auth,
  });
  process.stdout.write(plain);
});
