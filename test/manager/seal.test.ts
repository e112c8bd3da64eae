import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createSealer, open, seal, SealError } from '../../src/manager/crypto/seal.js';
import { ensureServerKeyFile, parseServerKey } from '../../src/manager/crypto/server-key.js';
import { openUserSecret, sealUserSecret } from '../../src/manager/users/user-secret.js';
import { assertNoLeaks } from '../support/leaks.js';

const scratch = mkdtempSync(join(tmpdir(), 'hopmap-seal-'));
after(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await assertNoLeaks();
});

describe('sealing', () => {
  const key = randomBytes(32);
  const secret = Buffer.from('the TOTP secret bytes');

  it('opens what it sealed, with a fresh IV each time', () => {
    const one = seal(key, secret, 'ctx');
    const two = seal(key, secret, 'ctx');
    assert.notEqual(one, two);
    assert.deepEqual(open(key, one, 'ctx'), secret);
    assert.equal(Buffer.from(one, 'base64').length, 12 + 16 + secret.length, 'iv | tag | ciphertext');
  });

  it('refuses, with a clear error, the wrong key, another context, and any changed byte', () => {
    const sealed = seal(key, secret, 'TOTP secret of alice');
    const message =
      /sealed TOTP secret of alice does not open: wrong key \(is SERVER_KEY the one it was sealed with\?\) or the stored value was tampered with/;
    assert.throws(() => open(randomBytes(32), sealed, 'TOTP secret of alice'), message);
    assert.throws(() => open(key, sealed, 'TOTP secret of bob'), SealError);
    const raw = Buffer.from(sealed, 'base64');
    for (let i = 0; i < raw.length; i++) {
      const changed = Buffer.from(raw);
      changed[i]! ^= 0x01;
      assert.throws(
        () => open(key, changed.toString('base64'), 'TOTP secret of alice'),
        SealError,
        `byte ${i} changed`,
      );
    }
    assert.throws(() => open(key, 'AAAA', 'x'), /too short/);
    assert.throws(() => seal(randomBytes(16), secret, 'x'), /must be 32 bytes, got 16/);
  });

  it('seals a user secret twice: only the server key opens it, and not in another user row', () => {
    const sealed = sealUserSecret(key, 'alice', secret);
    assert.deepEqual(openUserSecret(key, 'alice', sealed), secret);
    assert.throws(() => openUserSecret(randomBytes(32), 'alice', sealed), /user key of alice does not open/);
    assert.throws(() => openUserSecret(key, 'bob', sealed), SealError);
  });

  it('gives TLS code a sealer that holds the key', () => {
    const sealer = createSealer(key, 'tls key');
    assert.equal(sealer.open(sealer.seal('PEM')).toString(), 'PEM');
  });
});

describe('the server key', () => {
  it('is 32 bytes of base64, and says why not otherwise', () => {
    const good = randomBytes(32).toString('base64');
    assert.ok(parseServerKey(`${good}\n`).ok);
    assert.deepEqual(parseServerKey(randomBytes(16).toString('base64')), {
      ok: false,
      reason: 'decodes to 16 bytes; expected 32 random bytes in base64, e.g. from `openssl rand -base64 32`',
    });
    assert.equal(parseServerKey('not base64!').ok, false);
  });

  it('is created once in <state_dir>/server.key, mode 0600, and read back afterwards', () => {
    const dir = join(scratch, 'state');
    const first = ensureServerKeyFile(dir);
    assert.equal(first.path, join(dir, 'server.key'));
    assert.equal(statSync(first.path).mode & 0o777, 0o600);
    assert.equal(first.key.length, 32);
    assert.equal(readFileSync(first.path, 'utf8').trim(), first.key.toString('base64'));
    assert.deepEqual(ensureServerKeyFile(dir).key, first.key);
  });
});
