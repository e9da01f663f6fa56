import type { ControlMessage } from './messages.js';

const REDACTED = '[redacted]';

/**
 * A copy of `message` safe to log: credential secrets and header values are replaced (headers such as
 * Authorization carry secrets too). Everything else is kept, so logs still say what was asked.
 */
export function redactControlMessage(message: ControlMessage): ControlMessage {
  if (message.type !== 'open') return message;
  return {
    ...message,
    headers: message.headers.map(([name]) => [name, REDACTED] as const),
    credentials: message.credentials ? { key: message.credentials.key, secret: REDACTED } : null,
  };
}
