/**
 * The console's two charts as inline SVG rendered on the server (#17): failures by reason (bars)
 * and throughput over a run (notes/s per page). Hand-written instead of a chart library: two
 * fixed chart shapes are ~100 lines, need no script, no style attribute (the CSP forbids inline
 * styles) and escape their labels like every other value. Each chart has a text title and the
 * page shows the same figures in a table, so nothing is conveyed by the picture alone.
 */
import type { PageTimelineEntryDoc } from '../../db/documents.js';
import { html, type SafeHtml } from './html.js';

export interface Bar {
  label: string;
  value: number;
  /** Becomes the bar's class (`bar-failure`, `bar-warning`, …) and is written next to it. */
  category: string;
}

const BAR_ROW_PX = 26;
const LABEL_PX = 250;
const BAR_AREA_PX = 330;
const CHART_WIDTH_PX = LABEL_PX + BAR_AREA_PX + 120;

/** Horizontal bars, longest = largest value; each row says label, category and value in text. */
export function renderBarChart(title: string, bars: readonly Bar[]): SafeHtml {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const height = bars.length * BAR_ROW_PX + 8;
  const rows = bars.map((bar, i) => {
    const y = i * BAR_ROW_PX + 4;
    const width = Math.max(1, Math.round((bar.value / max) * BAR_AREA_PX));
    return html`<g class="bar-row">
      <text x="0" y="${y + 16}" class="bar-label">${bar.label}</text>
      <rect
        x="${LABEL_PX}"
        y="${y + 3}"
        width="${width}"
        height="${BAR_ROW_PX - 8}"
        class="bar bar-${bar.category}"
      ></rect>
      <text x="${LABEL_PX + width + 6}" y="${y + 16}" class="bar-value"
        >${bar.value.toLocaleString('en-US')} (${bar.category})</text
      >
    </g>`;
  });
  return html`<svg
    class="chart"
    role="img"
    aria-label="${title}"
    viewBox="0 0 ${CHART_WIDTH_PX} ${height}"
    width="${CHART_WIDTH_PX}"
    height="${height}"
    xmlns="http://www.w3.org/2000/svg"
  >
    <title>${title}</title>
    ${rows}
  </svg>`;
}

export interface RatePoint {
  /** Seconds since the run started. */
  elapsedS: number;
  notesPerS: number;
}

/**
 * Notes/s of each page: from the previous timeline entry, or for the first one from `startedAt`
 * and `notesAtStart` (0 for a run from page 1; unknown — null — for a resumed run, whose counters
 * start with the notes of the run it continues).
 */
export function ratePointsOf(
  timeline: readonly PageTimelineEntryDoc[],
  startedAt: Date | null,
  notesAtStart: number | null,
): RatePoint[] {
  const start = startedAt?.getTime() ?? timeline[0]?.at.getTime() ?? 0;
  const points: RatePoint[] = [];
  timeline.forEach((entry, i) => {
    const previous = timeline[i - 1];
    const fromMs = previous ? previous.at.getTime() : start;
    const fromNotes = previous ? previous.notes_processed : notesAtStart;
    const seconds = (entry.at.getTime() - fromMs) / 1000;
    if (fromNotes === null || seconds <= 0) return;
    points.push({
      elapsedS: Math.round((entry.at.getTime() - start) / 100) / 10,
      notesPerS: Math.round(((entry.notes_processed - fromNotes) / seconds) * 10) / 10,
    });
  });
  return points;
}

const LINE_W = 640;
const LINE_H = 180;
const PAD = 40;

/** A polyline of notes/s over elapsed time, with the axis maxima written out. */
export function renderRateChart(title: string, points: readonly RatePoint[]): SafeHtml {
  const maxT = Math.max(1, ...points.map((p) => p.elapsedS));
  const maxR = Math.max(1, ...points.map((p) => p.notesPerS));
  const xy = points
    .map((p) => {
      const x = PAD + (p.elapsedS / maxT) * (LINE_W - 2 * PAD);
      const y = LINE_H - PAD + -(p.notesPerS / maxR) * (LINE_H - 2 * PAD);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
  return html`<svg
    class="chart"
    role="img"
    aria-label="${title}"
    viewBox="0 0 ${LINE_W} ${LINE_H}"
    width="${LINE_W}"
    height="${LINE_H}"
    xmlns="http://www.w3.org/2000/svg"
  >
    <title>${title}</title>
    <line x1="${PAD}" y1="${LINE_H - PAD}" x2="${LINE_W - PAD}" y2="${LINE_H - PAD}" class="axis"></line>
    <line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${LINE_H - PAD}" class="axis"></line>
    <text x="${PAD}" y="${PAD - 8}" class="axis-label">${maxR.toFixed(1)} notes/s</text>
    <text x="${LINE_W - PAD}" y="${LINE_H - PAD + 18}" class="axis-label axis-label-end">
      ${maxT.toFixed(0)} s
    </text>
    <polyline points="${xy}" class="rate-line"></polyline>
  </svg>`;
}
