import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../../config/config';
import { temporalConnectionOptions } from '../../../config/temporal-connection';

const DATABASE_URL = 'postgres://kontor@127.0.0.1:5432/kontor';

describe('the connection to Temporal', () => {
  test('is plain gRPC for the embedded dev server', async () => {
    expect(await temporalConnectionOptions(loadConfig({ DATABASE_URL }).temporal)).toEqual({ address: '127.0.0.1:7233' });
  });

  test('uses TLS with an API key for Temporal Cloud', async () => {
    const config = loadConfig({ DATABASE_URL, TEMPORAL_ADDRESS: 'billing.a1b2c.tmprl.cloud:7233', TEMPORAL_API_KEY: 'secret-key' });
    expect(await temporalConnectionOptions(config.temporal)).toEqual({ address: 'billing.a1b2c.tmprl.cloud:7233', tls: true, apiKey: 'secret-key' });
  });

  test('presents the client certificate for mTLS', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kontor-tls-'));
    await fs.writeFile(path.join(dir, 'client.pem'), 'CERT');
    await fs.writeFile(path.join(dir, 'client.key'), 'KEY');
    try {
      const config = loadConfig({ DATABASE_URL, TEMPORAL_TLS_CERT: path.join(dir, 'client.pem'), TEMPORAL_TLS_KEY: path.join(dir, 'client.key') });
      const options = await temporalConnectionOptions(config.temporal);
      expect(options.tls).toEqual({ clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') } });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('refuses a certificate without its key, naming the missing variable', () => {
    expect(() => loadConfig({ DATABASE_URL, TEMPORAL_TLS_CERT: '/etc/kontor/client.pem' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL, TEMPORAL_TLS_CERT: '/etc/kontor/client.pem' })).toThrow(/TEMPORAL_TLS_KEY/);
  });
});
