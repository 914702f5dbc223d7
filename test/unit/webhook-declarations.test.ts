import { describe, expect, it } from 'vitest';
import { checkDeclarations, DeclarationError } from '../../src/domain/configuration/declarations.js';
import { checkWebhook, type WebhookBody } from '../../src/domain/configuration/webhooks.js';

// SPEC §9.3: `webhooks:` of an org in the config file, checked like the admin API's PUT body.
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

function problemsOf(webhooks: unknown[]): string[] {
  try {
    checkDeclarations({ orgs: [{ id: 100, name: 'Brand', webhooks }] });
    return [];
  } catch (error) {
    if (!(error instanceof DeclarationError)) throw error;
    return error.problems;
  }
}

describe('webhooks in the config file', () => {
  it('accepts a full declaration and a minimal one', () => {
    expect(
      problemsOf([
        {
          name: 'crm.main_1-a',
          url: 'https://crm.example.com:8443/hooks?x=1',
          events: ['partnerProgramLinked', 'supplementaryMembershipExpiryReminder'],
          secret: SECRET,
          active: false,
          headers: { Authorization: 'Bearer t', "x-!#$%&'*+.^_`|~": 'v\tw' },
        },
        { name: 'all', url: 'http://127.0.0.1/', events: ['*'] },
      ]),
    ).toEqual([]);
  });

  it('names the path of every problem', () => {
    expect(
      problemsOf([
        { name: 'a', url: 'mailto:x@example.com', events: ['*'], secret: 'nope', headers: { Host: 'h' } },
        { name: 'a', url: 'https://x.example.com/', events: ['*'] },
      ]),
    ).toEqual([
      'orgs[0].webhooks[0].url: must be an absolute http or https URL',
      expect.stringMatching(/^orgs\[0\]\.webhooks\[0\]\.secret: must be whsec_ followed by the base64 of 24 to 64/),
      expect.stringMatching(/^orgs\[0\]\.webhooks\[0\]\.headers\.Host: set by the service/),
      'orgs[0].webhooks[1].name: "a" is declared twice in this org',
    ]);
    expect(problemsOf([{ name: 'a b', url: 'https://x.example.com/', events: [] }])).toEqual([
      expect.stringMatching(/^orgs\[0\]\.webhooks\[0\]\.name: /),
      expect.stringMatching(/^orgs\[0\]\.webhooks\[0\]\.events: /),
    ]);
    const unknown = problemsOf([{ name: 'a', url: 'https://x.example.com/', events: ['*'], unknown: 1 }]);
    expect(unknown.length).toBeGreaterThan(0);
    expect(unknown.every((problem) => problem.startsWith('orgs[0].webhooks[0]'))).toBe(true);
  });
});

describe('checkWebhook', () => {
  const base: WebhookBody = { url: 'https://x.example.com/', events: ['*'] };

  it.each([
    [{ ...base, url: 'https://' }, 'url: must be an absolute http or https URL'],
    [{ ...base, url: 'file:///etc/passwd' }, 'url: must be an absolute http or https URL'],
    [{ ...base, events: ['*', 'partnerProgramLinked'] }, 'events: "*" stands alone'],
    [{ ...base, secret: `whsec_${Buffer.alloc(23).toString('base64')}` }, 'secret: must be whsec_'],
    [{ ...base, secret: `whsec_${Buffer.alloc(65).toString('base64')}` }, 'secret: must be whsec_'],
    [{ ...base, headers: { 'webhook-signature': 'x' } }, 'headers.webhook-signature: set by the service'],
    [{ ...base, headers: { 'Content-Length': '1' } }, 'headers.Content-Length: set by the service'],
    [{ ...base, headers: { 'Transfer-Encoding': 'chunked' } }, 'headers.Transfer-Encoding: a hop-by-hop header'],
    [{ ...base, headers: { 'x:y': 'v' } }, 'headers.x:y: not a header name'],
    [{ ...base, headers: { 'x-y': 'a\nb' } }, 'headers.x-y: the value must not contain CR, LF'],
    [{ ...base, headers: { 'x-y': 'a\u0000b' } }, 'headers.x-y: the value must not contain CR, LF'],
    [{ ...base, headers: { 'x-y': 'ünïcode ✓' } }, 'headers.x-y: the value must not contain CR, LF'],
  ] as Array<[WebhookBody, string]>)('refuses %j', (webhook, message) => {
    expect(checkWebhook(webhook, '')).toEqual([expect.stringMatching(new RegExp(`^${escape(message)}`))]);
  });

  it('accepts 24 and 64 byte secrets and Latin-1 header values', () => {
    for (const bytes of [24, 64]) {
      expect(checkWebhook({ ...base, secret: `whsec_${Buffer.alloc(bytes, 1).toString('base64')}` }, '')).toEqual([]);
    }
    expect(checkWebhook({ ...base, headers: { 'x-y': 'caf\u00e9 au lait' } }, '')).toEqual([]);
  });
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
