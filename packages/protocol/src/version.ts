import { BadVersionError, ProtocolErrorCode, VersionMismatchError, type VersionRange } from './errors.js';

/**
 * The protocol version this build speaks best. Bumped whenever a frame is added or changes layout.
 * 2: `open` may name the adapter's module (`adapterModule`, sent as type 0x17) so the daemon can load it on demand.
 * 3: subscriptions are state: `subscribed`/`unsubscribed` carry the client's acknowledged set (types 0x26/0x27), and
 *    `restore` (0x18) puts a set back after a daemon restart;
 *    `error` responses and `error` events may carry the vendor's code (`vendorCode`: type 0x28, event kind 6).
 */
export const PROTOCOL_VERSION = 3;
/** The oldest protocol version this build still speaks. */
export const MIN_PROTOCOL_VERSION = 1;
/**
 * The first version in which a client may send `open` with an `adapterModule`. A client sends it only when the
 * negotiated version is at least this: to an older daemon it simply leaves the module out.
 */
export const ADAPTER_MODULE_VERSION = 2;
/**
 * The first version in which the daemon's answers to `subscribe`/`unsubscribe` carry the client's acknowledged
 * subscription state, and a client may send `restore`. With an older daemon a client has no state to restore.
 */
export const SUBSCRIPTION_STATE_VERSION = 3;
/** The first version whose `error` responses and events may carry `vendorCode`; a daemon leaves it out below. */
export const VENDOR_CODE_VERSION = 3;
/** Everything this build speaks: what a client offers in `hello` and what a daemon accepts. */
export const SUPPORTED_VERSIONS: VersionRange = Object.freeze({
  min: MIN_PROTOCOL_VERSION,
  max: PROTOCOL_VERSION,
});

/** Throws `BadVersionError` unless `range` is a valid inclusive range of versions 1..65535. */
export function assertVersionRange(range: VersionRange, who: string): void {
  const { min, max } = range;
  if (!isVersion(min) || !isVersion(max) || min > max) {
    throw new BadVersionError(
      `${who} version range ${min}..${max} is invalid (versions are 1..65535, min <= max)`,
    );
  }
}

function isVersion(v: number): boolean {
  return Number.isInteger(v) && v >= 1 && v <= 0xffff;
}

/**
 * The daemon's side of the handshake: the highest version in both ranges. Throws `VersionMismatchError` (naming both
 * ranges) when they do not overlap, `BadVersionError` when the client's range is not a range.
 */
export function negotiateVersion(
  clientRange: VersionRange,
  daemonRange: VersionRange = SUPPORTED_VERSIONS,
): number {
  assertVersionRange(clientRange, 'client');
  assertVersionRange(daemonRange, 'daemon');
  const version = Math.min(clientRange.max, daemonRange.max);
  if (version < clientRange.min || version < daemonRange.min) {
    throw new VersionMismatchError(clientRange, daemonRange);
  }
  return version;
}

/** The client's side: the daemon's pick must lie in what the client offered. */
export function assertAcceptedVersion(version: number, offered: VersionRange = SUPPORTED_VERSIONS): void {
  if (!isVersion(version) || version < offered.min || version > offered.max) {
    throw new BadVersionError(
      `daemon chose protocol version ${version}, outside the offered ${offered.min}..${offered.max}`,
    );
  }
}

/**
 * The client's reading of a `refused` frame: a `VersionMismatchError` naming both ranges when the refusal was about
 * versions, else null (the refusal's `code` and `message` are then a daemon error to report as such).
 */
export function versionMismatchFromRefusal(
  refused: { readonly code: string; readonly minVersion: number; readonly maxVersion: number },
  offered: VersionRange = SUPPORTED_VERSIONS,
): VersionMismatchError | null {
  if (refused.code !== ProtocolErrorCode.VERSION_MISMATCH) return null;
  return new VersionMismatchError(offered, { min: refused.minVersion, max: refused.maxVersion });
}
