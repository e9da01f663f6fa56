/**
 * Alpaca's streaming error codes, exactly as the service words them (ALPACA.md). These are what the mock's
 * WebSocket clients receive; they are not thrown at the mock's user.
 */
export const STREAM_ERRORS = {
  400: 'invalid syntax',
  401: 'not authenticated',
  402: 'auth failed',
  403: 'already authenticated',
  404: 'auth timeout',
  405: 'symbol limit exceeded',
  406: 'connection limit exceeded',
  407: 'slow client',
  409: 'insufficient subscription',
  410: 'invalid subscribe action for this feed',
  411: 'insufficient scope',
  412: 'option messages are only available in MsgPack format',
  413: 'star subscription is not allowed for option quotes',
  500: 'internal error',
} as const;

export type StreamErrorCode = keyof typeof STREAM_ERRORS;

export interface StreamErrorMessage {
  T: 'error';
  code: StreamErrorCode;
  msg: string;
}

export function streamError(code: StreamErrorCode): StreamErrorMessage {
  return { T: 'error', code, msg: STREAM_ERRORS[code] };
}

export function success(msg: 'connected' | 'authenticated'): { T: 'success'; msg: string } {
  return { T: 'success', msg };
}
