// The upstream behind the endpoint fixture adapter (fixtures/endpoint-adapter.mjs, which dials WSP_TEST_UPSTREAM):
// a loopback WebSocket server that sends every message straight back, so a test sees its own frames come through.
import { WebSocketServer } from 'ws';

export interface EchoUpstream {
  readonly server: WebSocketServer;
  /** `ws://127.0.0.1:<port>/feed`, for WSP_TEST_UPSTREAM. */
  readonly url: string;
}

export async function startEchoUpstream(): Promise<EchoUpstream> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  return { server, url: `ws://127.0.0.1:${(server.address() as { port: number }).port}/feed` };
}
