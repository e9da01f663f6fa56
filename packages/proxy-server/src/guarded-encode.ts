// Every frame the daemon sends to a client goes through here. The codec refuses what the peer would refuse (a
// string over 4096 bytes, a report over its limit); such a refusal used to be thrown inside a promise handler and
// take the whole daemon down. Now it becomes a typed error for that one peer, and the daemon carries on.

import { DaemonErrorCode, type DaemonMessage, encodeControlFrame } from '@wsproxy/protocol';
import { fitMessage } from './peer-text.js';

/** What the peer gets instead of a message that cannot be encoded: the same slot (request or event), as an error. */
function substituteFor(message: DaemonMessage, reason: string): DaemonMessage {
  const text = fitMessage(`the daemon's ${message.type} could not be sent: ${reason}`);
  if (message.type === 'event') {
    return {
      type: 'event',
      event: {
        kind: 'error',
        connectionId: message.event.connectionId,
        code: DaemonErrorCode.OVER_LIMIT,
        message: text,
      },
    };
  }
  const requestId = 'requestId' in message ? message.requestId : 0;
  return { type: 'error', requestId, code: DaemonErrorCode.OVER_LIMIT, message: text };
}

/**
 * The frame for `message`, or, when the codec refuses it, the frame of a `WSP_ERR_OVER_LIMIT` error in its place
 * (`substituted` says so, for the log). Never throws: undefined only if even the substitute cannot be encoded.
 */
export function encodeForPeer(
  message: DaemonMessage,
): { frame: Uint8Array; substituted?: unknown } | { frame: undefined; substituted: unknown } {
  try {
    return { frame: encodeControlFrame(message) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    try {
      return { frame: encodeControlFrame(substituteFor(message, reason)), substituted: error };
    } catch {
      return { frame: undefined, substituted: error };
    }
  }
}
