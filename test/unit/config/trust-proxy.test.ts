import express from 'express';
import { ConfigError, loadConfig } from '../../../config/config';

const DATABASE_URL = 'postgres://kontor@127.0.0.1:5432/kontor';

describe('API_TRUST_PROXY', () => {
  test('unset, no proxy is trusted: the client address is the connection\'s', () => {
    expect(loadConfig({ DATABASE_URL }).api.trustProxy).toBe(false);
  });

  test.each([
    ['1', 1],
    [' 2 ', 2],
    ['loopback', ['loopback']],
    ['10.0.0.0/8, 172.16.0.0/12,192.168.0.1', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.1']],
    ['::1, fd00::/8, linklocal, uniquelocal', ['::1', 'fd00::/8', 'linklocal', 'uniquelocal']],
  ])('%j is taken as %j, which Express compiles', (value, expected) => {
    const { trustProxy } = loadConfig({ DATABASE_URL, API_TRUST_PROXY: value }).api;
    expect(trustProxy).toEqual(expected);
    // Express compiles the setting when it is set, and throws on an address it cannot read
    expect(() => express().set('trust proxy', trustProxy)).not.toThrow();
  });

  test.each(['true', '0', '11', '', 'proxy.example.de', '10.0.0.0/33', '::1/129', '10.0.0.1/8/1', 'loopback,', '1.2.3'])(
    '%j stops the process with a message naming the variable',
    (value) => {
      let error: unknown;
      try {
        loadConfig({ DATABASE_URL, API_TRUST_PROXY: value });
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^API_TRUST_PROXY: must be the number of proxies in front of the API/)]);
    },
  );
});
