/**
 * `GET /private/notes/migration/status/stream?cid=`: Server-Sent Events with the status body on
 * every change (`event: status`, its `id` naming that state), heartbeat comments (`: ping`), and
 * `event: end` after a terminal status, then the stream closes. A client that reconnects with
 * `Last-Event-ID` gets the current state at once unless that id already names it, so a terminal
 * status is delivered exactly once across reconnects (#17). A client that goes away, or a server
 * shutdown, ends the feed and so closes its change stream.
 */
import type { Router } from '@koa/router';

import type { Logger } from '../logger.js';
import type { SseObserver } from '../metrics.js';
import { parseInput } from './parse-input.js';
import type { RunStatusFeed } from './run-status-feed.js';
import { runSseChannel } from './sse-channel.js';
import { statusEventId, tryParseLastEventId } from './sse-event-id.js';
import { StatusQuerySchema } from './status-routes.js';
import { isFinalStatus, type StatusView } from './status-view.js';

export { DEFAULT_SSE_HEARTBEAT_MS, SHUTDOWN_EVENT } from './sse-channel.js';

export interface StatusStreamDeps {
  feed: RunStatusFeed;
  logger: Logger;
  sse?: SseObserver | undefined;
  heartbeatMs: number;
  /** Reconnect delay suggested to EventSource clients. Default 3,000 ms. */
  retryMs?: number | undefined;
}

export function registerStatusStream(router: Router, deps: StatusStreamDeps): void {
  router.get('/private/notes/migration/status/stream', async (ctx) => {
    const { cid } = parseInput(StatusQuerySchema, ctx.query, 'query');
    const lastEventId = tryParseLastEventId(ctx.get('last-event-id'));
    const abort = new AbortController();
    const updates = deps.feed.watch(cid, abort.signal);
    let first: IteratorResult<StatusView, void>;
    try {
      // Read before answering: a database error is still a JSON error with a status code.
      first = await updates.next();
    } catch (e) {
      abort.abort();
      throw e;
    }
    const channelOptions = { ...deps, logger: deps.logger.child({ cid }), abort };
    runSseChannel(
      ctx,
      channelOptions,
      async (channel) => {
        let view = first.done ? undefined : first.value;
        // Only the first state can be one the client already has: later ones are new.
        let clientHas = lastEventId;
        while (view !== undefined) {
          const id = statusEventId(view);
          if (id !== clientHas) channel.send('status', view, id);
          clientHas = null;
          if (isFinalStatus(view)) {
            // No id: the client's Last-Event-ID stays the terminal state's, so a reconnect after
            // this frame gets `end` again and never a second terminal status.
            channel.send('end', { status: view.status });
            return;
          }
          const next = await updates.next();
          if (channel.signal.aborted || next.done) return;
          view = next.value;
        }
      },
      async () => {
        await updates.return(undefined);
      },
    );
  });
}
