/**
 * Live status of one CID for the SSE route: the current status first, then every change, until
 * the run is terminal or the caller aborts. Pushed from a change stream on `migration_runs` where
 * change streams work (decided once at start-up by `probeChangeStreams`), polled otherwise. It
 * owns its change streams: an abort closes the stream at once, and `openChangeStreams` counts them.
 */
import type { ChangeStream, ChangeStreamDocument } from 'mongodb';

import { abortableDelay } from '../abortable-delay.js';
import type { RunDoc } from '../db/documents.js';
import type { RunsRepository } from '../db/runs-repository.js';
import { toError } from '../errors.js';
import type { Logger } from '../logger.js';
import { isFinalStatus, type StatusView, toStatusView } from './status-view.js';

export type StatusFeedKind = 'change-streams' | 'polling';

/** Hooks for metrics (open change streams); never allowed to break a feed. */
export interface StatusFeedObserver {
  changeStreamOpened?(): void;
  changeStreamClosed?(): void;
}

export interface RunStatusFeedDeps {
  runs: Pick<RunsRepository, 'latestForCid' | 'watchCid'>;
  /** `change-streams` only when `probeChangeStreams` said they deliver events on this deployment. */
  kind: StatusFeedKind;
  /** Polling interval of the fallback (STATUS_POLL_MS). */
  pollMs: number;
  logger: Logger;
  observer?: StatusFeedObserver;
}

export interface RunStatusFeed {
  readonly kind: StatusFeedKind;
  /** Change streams open right now (0 when every client has gone). */
  readonly openChangeStreams: number;
  /**
   * The current status, then each different status until a terminal one (included) or `signal`
   * aborts. The first `next()` throws when the status cannot be read at all.
   */
  watch(cid: string, signal: AbortSignal): AsyncGenerator<StatusView, void, undefined>;
}

type RunChangeStream = ChangeStream<RunDoc, ChangeStreamDocument<RunDoc>>;

export function createRunStatusFeed(deps: RunStatusFeedDeps): RunStatusFeed {
  let open = 0;
  const safely = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      deps.logger.warn({ err: toError(e) }, 'status feed observer failed');
    }
  };

  async function* poll(cid: string, signal: AbortSignal, last: string | null): AsyncGenerator<StatusView> {
    let previous = last;
    let failures = 0;
    while (!signal.aborted) {
      await abortableDelay(Math.min(deps.pollMs * 2 ** failures, 30_000), signal);
      if (signal.aborted) return;
      let view: StatusView;
      try {
        view = toStatusView(await deps.runs.latestForCid(cid));
        failures = 0;
      } catch (e) {
        // A database blip must not end the stream: log, back off, try again.
        failures = Math.min(failures + 1, 5);
        deps.logger.warn({ err: toError(e), cid }, 'status poll failed; retrying');
        continue;
      }
      const json = JSON.stringify(view);
      if (json === previous) continue;
      previous = json;
      yield view;
      if (isFinalStatus(view)) return;
    }
  }

  async function* viaChangeStream(cid: string, signal: AbortSignal): AsyncGenerator<StatusView> {
    // Read first so the client gets its first event at once.
    let current = await deps.runs.latestForCid(cid);
    let last = JSON.stringify(toStatusView(current));
    yield toStatusView(current);
    if (isFinalStatus(toStatusView(current)) || signal.aborted) return;

    const stream: RunChangeStream = deps.runs.watchCid(cid);
    open++;
    safely(() => deps.observer?.changeStreamOpened?.());
    const closeStream = () => void stream.close().catch(() => undefined);
    signal.addEventListener('abort', closeStream, { once: true });
    try {
      const emit = (run: RunDoc | null): StatusView | null => {
        const view = toStatusView(run);
        const json = JSON.stringify(view);
        if (json === last) return null;
        last = json;
        return view;
      };
      let early: ChangeStreamDocument<RunDoc> | null;
      try {
        // Opens the cursor; from here on no write is missed. Then read again, to cover the gap.
        early = await stream.tryNext();
        current = await deps.runs.latestForCid(cid);
      } catch (e) {
        if (signal.aborted) return;
        deps.logger.warn({ err: toError(e), cid }, 'status change stream failed to open; polling instead');
        yield* poll(cid, signal, last);
        return;
      }
      const caughtUp = emit(current);
      if (caughtUp) {
        yield caughtUp;
        if (isFinalStatus(caughtUp)) return;
      }
      let change = early;
      while (!signal.aborted) {
        if (change) {
          const next = latestOf(current, change);
          if (next !== current) {
            current = next;
            const view = emit(current);
            if (view) {
              yield view;
              if (isFinalStatus(view)) return;
            }
          }
        }
        try {
          change = await stream.next();
        } catch (e) {
          if (signal.aborted) return;
          deps.logger.warn({ err: toError(e), cid }, 'status change stream failed; polling instead');
          yield* poll(cid, signal, last);
          return;
        }
      }
    } finally {
      signal.removeEventListener('abort', closeStream);
      await stream.close().catch(() => undefined);
      open--;
      safely(() => deps.observer?.changeStreamClosed?.());
    }
  }

  return {
    kind: deps.kind,
    get openChangeStreams() {
      return open;
    },
    watch(cid, signal) {
      if (deps.kind === 'change-streams') return viaChangeStream(cid, signal);
      return (async function* () {
        const first = toStatusView(await deps.runs.latestForCid(cid));
        yield first;
        if (isFinalStatus(first)) return;
        yield* poll(cid, signal, JSON.stringify(first));
      })();
    },
  };
}

/**
 * The run the status is about after `change`: the same run updated, or a newer run of the CID.
 * An update of an older run (a stale run being closed) does not change what the CID shows.
 */
function latestOf(current: RunDoc | null, change: ChangeStreamDocument<RunDoc>): RunDoc | null {
  if (!('fullDocument' in change) || !change.fullDocument) return current;
  const doc = change.fullDocument;
  if (!current || doc._id === current._id) return doc;
  if (doc.created_at.getTime() >= current.created_at.getTime()) return doc;
  return current;
}
