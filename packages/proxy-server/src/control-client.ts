import { connect } from 'node:net';
import {
  type ClientRequest,
  ControlStreamDecoder,
  DaemonErrorCode,
  type DaemonMessage,
  type DaemonStatus,
  encodeControlFrame,
  SUPPORTED_VERSIONS,
} from '@wsproxy/protocol';
import { WsproxyServerError } from './errors.js';

type RequestWithoutId = ClientRequest extends infer R
  ? R extends ClientRequest
    ? Omit<R, 'requestId'>
    : never
  : never;

/**
 * A minimal one-shot control connection for the CLI (`status`, `stop`): hello, one request, its answer. Strategies
 * use `@wsproxy/client`, which keeps the connection and reads the ring.
 */
export function requestOnce(
  socketPath: string,
  request: RequestWithoutId,
  timeoutMs = 5_000,
  { hello = true }: { hello?: boolean } = {},
): Promise<DaemonMessage> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new WsproxyServerError(
          'WSP_ERR_TIMEOUT',
          `the daemon at ${socketPath} did not answer in ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    const finish = (error: Error | undefined, message?: DaemonMessage) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(message!);
    };
    const decoder = new ControlStreamDecoder({
      onMessage: (message) => {
        if (message.type === 'welcome') {
          socket.write(encodeControlFrame({ ...request, requestId: 1 } as ClientRequest));
        } else if (message.type === 'refused') {
          finish(new WsproxyServerError(message.code, message.message));
        } else if ('requestId' in message && message.requestId === 1) {
          finish(undefined, message as DaemonMessage);
        } else if (message.type === 'error') {
          finish(new WsproxyServerError(message.code, message.message));
        }
      },
    });
    socket.on('connect', () => {
      if (!hello) {
        socket.write(encodeControlFrame({ ...request, requestId: 1 } as ClientRequest));
        return;
      }
      socket.write(
        encodeControlFrame({
          type: 'hello',
          minVersion: SUPPORTED_VERSIONS.min,
          maxVersion: SUPPORTED_VERSIONS.max,
          clientPid: process.pid,
          clientName: 'wsproxy-cli',
        }),
      );
    });
    socket.on('data', (chunk) => {
      try {
        decoder.push(chunk);
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () =>
      finish(new WsproxyServerError('WSP_ERR_DAEMON_DISCONNECTED', 'the daemon closed the connection')),
    );
  });
}

/**
 * The daemon's status report. Asked without a hello, so the asker is no client: it takes no reader slot and does not
 * appear in the report it gets. A daemon older than that answers "hello first": then it is asked the old way.
 */
export async function fetchStatus(socketPath: string, timeoutMs?: number): Promise<DaemonStatus> {
  const answer = await requestOnce(socketPath, { type: 'status' }, timeoutMs, { hello: false }).catch(
    (error: unknown) => {
      if ((error as { code?: unknown }).code !== DaemonErrorCode.HANDSHAKE_REQUIRED) throw error;
      return requestOnce(socketPath, { type: 'status' }, timeoutMs);
    },
  );
  if (answer.type === 'statusReport') return answer.status;
  if (answer.type === 'error') throw new WsproxyServerError(answer.code, answer.message);
  throw new WsproxyServerError('WSP_ERR_PROTOCOL', `unexpected answer ${answer.type} to a status request`);
}
