/**
 * A wave scheduler's lease (#16): one live scheduler per wave, fenced like a run's CID lease —
 * claimed with `scheduler.epoch + 1`, renewed on its own heartbeat, and every write of the
 * scheduler filtered on that epoch. A scheduler of an older generation (the wave was resumed or
 * cancelled since its job was enqueued) steps aside for the newest one.
 */
import type { WaveDoc } from '../../db/documents.js';
import type { WavesRepository } from '../../db/waves-repository.js';
import { isTerminalWaveState } from '../../domain.js';
import { toError } from '../../errors.js';
import type { Logger } from '../../logger.js';

export interface WaveLeaseDeps {
  waves: Pick<WavesRepository, 'get' | 'claimScheduler' | 'renewScheduler' | 'releaseScheduler'>;
  logger: Logger;
  now: () => Date;
}

export interface WaveLeaseOptions {
  owner: string;
  leaseMs: number;
  heartbeatMs: number;
  /** After each renewal (touches the Agenda job). Errors are logged. */
  onHeartbeat?: () => Promise<void>;
}

export interface HeldWaveLease {
  readonly epoch: number;
  /** Aborted when a renewal finds the lease taken by another scheduler. */
  readonly lost: AbortSignal;
  stop(): void;
  /** Ends the lease now, so another scheduler may claim it at once. */
  handOff(): Promise<boolean>;
}

export type WaveClaim =
  | { kind: 'claimed'; lease: HeldWaveLease; wave: WaveDoc }
  | { kind: 'busy'; retryInMs: number }
  | { kind: 'nothing-to-do'; reason: string };

export async function claimWaveLease(
  deps: WaveLeaseDeps,
  waveId: string,
  generation: number,
  options: WaveLeaseOptions,
): Promise<WaveClaim> {
  const wave = await deps.waves.get(waveId);
  if (!wave) return { kind: 'nothing-to-do', reason: 'wave not found' };
  if (isTerminalWaveState(wave.state)) return { kind: 'nothing-to-do', reason: `wave is ${wave.state}` };
  if (wave.generation !== generation) {
    return { kind: 'nothing-to-do', reason: `superseded by generation ${wave.generation}` };
  }
  const now = deps.now();
  const claimed = await deps.waves.claimScheduler(waveId, options.owner, generation, options.leaseMs, now);
  if (!claimed) {
    const current = await deps.waves.get(waveId);
    if (!current || isTerminalWaveState(current.state) || current.generation !== generation) {
      return { kind: 'nothing-to-do', reason: 'the wave changed while claiming' };
    }
    // A scheduler of an older generation steps aside at its next tick; one of ours (a crashed
    // holder, a second delivery) must be waited out.
    if (current.scheduler.generation < generation) return { kind: 'busy', retryInMs: 1_000 };
    const leftMs = current.scheduler.expires_at.getTime() - now.getTime();
    return { kind: 'busy', retryInMs: Math.max(1_000, leftMs + 500) };
  }
  return {
    kind: 'claimed',
    lease: startHeartbeat(deps, waveId, claimed.scheduler.epoch, options),
    wave: claimed,
  };
}

function startHeartbeat(
  deps: WaveLeaseDeps,
  waveId: string,
  epoch: number,
  options: WaveLeaseOptions,
): HeldWaveLease {
  const lost = new AbortController();
  const log = deps.logger.child({ wave_id: waveId, epoch });
  let beating = false;
  const beat = async () => {
    if (beating || lost.signal.aborted) return;
    beating = true;
    try {
      if (!(await deps.waves.renewScheduler(waveId, epoch, options.leaseMs, deps.now()))) {
        log.warn('wave lease lost: another scheduler holds the wave now');
        lost.abort(new Error('wave lease lost'));
        clearInterval(timer);
        return;
      }
      await options.onHeartbeat?.();
    } catch (e) {
      // The database may be briefly unreachable: keep beating; fencing protects the wave meanwhile.
      log.warn({ err: toError(e) }, 'wave lease heartbeat failed; retrying');
    } finally {
      beating = false;
    }
  };
  const timer = setInterval(() => void beat(), options.heartbeatMs);
  timer.unref();
  const stop = () => clearInterval(timer);
  return {
    epoch,
    lost: lost.signal,
    stop,
    async handOff() {
      stop();
      return deps.waves.releaseScheduler(waveId, epoch, deps.now());
    },
  };
}
