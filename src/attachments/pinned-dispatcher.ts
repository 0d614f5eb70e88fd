/**
 * An undici dispatcher whose connections can only reach addresses the SSRF guard vetted. Its DNS
 * lookup is replaced by one that answers from the vetted list, so a DNS answer that changes
 * between the check and the connect (rebinding) never reaches an internal host. TLS still checks
 * the certificate against the host name, because the URL keeps its name.
 */
import { isIP, type LookupFunction } from 'node:net';

import { Agent } from 'undici';

export interface PinnedDispatcherOptions {
  /** The host the URL names, normalised as the guard saw it (no trailing dot). */
  host: string;
  /** The vetted addresses; the only ones a socket may connect to. */
  addresses: readonly string[];
  /** Connect timeout; the caller's AbortSignal bounds the whole download. */
  connectTimeoutMs: number;
}

/**
 * A lookup that answers `host` with the vetted addresses only, and refuses any other name: the
 * dispatcher is built for one URL hop, so another name means something went wrong.
 */
export function createPinnedLookup(host: string, addresses: readonly string[]): LookupFunction {
  const answers = addresses.map((address) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
  return (hostname, options, callback) => {
    const asked = hostname.toLowerCase().replace(/\.$/, '');
    const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
    const matching = answers.filter((a) => wanted === 0 || a.family === wanted);
    const first = matching[0];
    if (asked !== host || first === undefined) {
      const error = Object.assign(new Error(`refusing to connect ${hostname}: not the vetted host`), {
        code: 'ENOTFOUND',
      });
      callback(error, '', 4);
      return;
    }
    if (options.all === true) {
      (callback as unknown as (e: null, all: typeof matching) => void)(null, matching);
    } else {
      callback(null, first.address, first.family);
    }
  };
}

/**
 * One hop, one dispatcher: an Agent pinned to the hop's vetted addresses. Close it when the body
 * has been read (`agent.destroy()`), so no socket outlives the download.
 */
export function createPinnedDispatcher(options: PinnedDispatcherOptions): Agent {
  return new Agent({
    connect: {
      lookup: createPinnedLookup(options.host, options.addresses),
      timeout: options.connectTimeoutMs,
    },
    // Keep-alive is pointless for a single request, and a lingering socket would outlive the hop.
    pipelining: 0,
  });
}
