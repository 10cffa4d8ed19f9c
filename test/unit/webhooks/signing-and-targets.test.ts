import { Webhook } from 'standardwebhooks';
import { isInternalAddress, retryDelayMs, signWebhook } from '../../../operations/webhooks';

describe('the signature of a webhook', () => {
  // the worked example of the Standard Webhooks specification's reference libraries (their test suites sign
  // this message with this secret at this time and expect this signature)
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const webhookId = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const timestamp = 1614265330;
  const body = '{"test": 2432232314}';

  test('is the one the specification gives for its example', () => {
    expect(signWebhook(secret, webhookId, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  test('verifies with the standardwebhooks library, and a changed body, id or time does not', () => {
    const now = Math.floor(Date.now() / 1000);
    const headers = (id: string, at: number, signed: string) => ({ 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': signWebhook(secret, id, at, signed) });
    const verifier = new Webhook(secret);
    expect(verifier.verify(body, headers(webhookId, now, body))).toEqual({ test: 2432232314 });
    expect(() => verifier.verify('{"test": 2432232315}', headers(webhookId, now, body))).toThrow();
    expect(() => verifier.verify(body, { ...headers(webhookId, now, body), 'webhook-id': 'msg_other' })).toThrow();
    expect(() => verifier.verify(body, { ...headers(webhookId, now, body), 'webhook-timestamp': String(now + 1) })).toThrow();
  });
});

describe('the addresses an endpoint may not reach', () => {
  test.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['10.0.0.1', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.0.1', true],
    ['100.64.0.1', true],
    ['100.127.255.255', true],
    ['100.128.0.1', false],
    ['169.254.169.254', true],
    ['0.0.0.0', true],
    ['224.0.0.251', true],
    ['255.255.255.255', true],
    ['93.184.215.14', false],
    ['8.8.8.8', false],
    ['::1', true],
    ['::', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:8.8.8.8', true],
    ['fd00:ec2::254', true],
    ['fc00::1', true],
    ['fe80::1', true],
    ['ff02::1', true],
    ['2001:db8::1', true],
    ['2a00:1450:4001:80b::200e', false],
    ['not an address', true],
  ])('%s: %s', (address, internal) => {
    expect(isInternalAddress(address)).toBe(internal);
  });
});

test('retries wait 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h', () => {
  expect([1, 2, 3, 4, 5, 6, 7, 8].map(retryDelayMs)).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000, 36_000_000]);
});
