import fs from 'node:fs/promises';
import type { Config } from './config';

export interface TemporalConnectionOptions {
  address: string;
  tls?: true | { clientCertPair: { crt: Buffer; key: Buffer } };
  apiKey?: string;
}

/**
 * How the API and the worker reach Temporal: plain gRPC for the embedded dev server, TLS with an API key or
 * with a client certificate (mTLS) for Temporal Cloud or a secured cluster. The same object suits the
 * client's `Connection.connect` and the worker's `NativeConnection.connect`.
 */
export async function temporalConnectionOptions(temporal: Config['temporal']): Promise<TemporalConnectionOptions> {
  if (temporal.clientCertificate) {
    const [crt, key] = await Promise.all([fs.readFile(temporal.clientCertificate.certPath), fs.readFile(temporal.clientCertificate.keyPath)]);
    return { address: temporal.address, tls: { clientCertPair: { crt, key } }, ...(temporal.apiKey ? { apiKey: temporal.apiKey } : {}) };
  }
  if (temporal.apiKey) return { address: temporal.address, tls: true, apiKey: temporal.apiKey };
  return { address: temporal.address };
}
