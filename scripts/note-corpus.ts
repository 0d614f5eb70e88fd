/**
 * A deterministic corpus of CRM-like note HTML for the normalizer benchmark (#3): formatting,
 * lists, links, both CRM mention forms and the junk real notes carry (Word/Outlook paste,
 * inline styles, scripts, images). Not used by the product.
 */

/** mulberry32: small, fast, and the same sequence for a seed on every machine. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const WORDS = (
  'customer called about the renewal quote and asked for a revised discount on the annual plan ' +
  'follow up next week with pricing contract signed shipment delayed invoice overdue meeting ' +
  'notes demo went well they want integration with their warehouse system budget approved ' +
  'décision prise équipe réunion Straße Grüße 会議 予定 確認 客户 电话 合同 שלום לקוח פגישה مرحبا العميل'
).split(' ');
const EMOJI = ['👍', '🎉', '📞', '✅', '🚚', '👨‍👩‍👧'];
const NAMES = ['Alice Martin', 'Bob Nguyen', 'Carla Díaz', '佐藤 花子', 'Dmitri Ivanov', 'Eve O’Neil'];

export interface CorpusOptions {
  /** Number of notes. */
  count: number;
  seed: number;
  /** Approximate lower and upper size of a note, in characters. */
  minChars: number;
  maxChars: number;
}

export function generateNoteCorpus(options: CorpusOptions): string[] {
  const random = createRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number): boolean => random() < p;

  const sentence = (): string => {
    const words = Array.from({ length: 6 + Math.floor(random() * 10) }, () => pick(WORDS));
    if (chance(0.1)) words.push(pick(EMOJI));
    if (chance(0.15)) words.push('&amp; R&amp;D', '&nbsp;');
    return `${words.join(' ')}.`;
  };
  const mention = (): string => {
    const id = 1000 + Math.floor(random() * 9000);
    const name = pick(NAMES);
    switch (Math.floor(random() * 4)) {
      case 0:
        return `<a data-user-id="${id}" class="mention">@${name}</a>`;
      case 1:
        return `<a href="/users/${id}/edit_user" class="mention" data-turbo="false">@${name}</a>`;
      case 2:
        return `<a class=mention href=https://crm.example.com/users/${id}/edit_user?tab=profile>@${name}</a>`;
      default:
        return `<a data-user-id=${id} href="#"><span class="mention-name"><b>@${name}</b></span></a>`;
    }
  };
  const inline = (): string => {
    const text = sentence();
    switch (Math.floor(random() * 12)) {
      case 0:
        return `<b>${text}</b>`;
      case 1:
        return `<strong>${text}</strong>`;
      case 2:
        return `<em>${text}</em> <i>${pick(WORDS)}</i>`;
      case 3:
        return `<u>${text}</u>`;
      case 4:
        return `<span style="font-family:Calibri,sans-serif;font-size:11pt;color:#1F497D">${text}</span>`;
      case 5:
        return `<font face="Arial" color="red">${text}</font><o:p></o:p>`;
      case 6:
        return `${text} <a href="https://docs.example.com/q/${Math.floor(random() * 1e6)}" target="_blank">quote</a>`;
      case 7:
        return `${text} <a href="mailto:buyer@example.com">mail</a>`;
      case 8:
        return `${mention()} ${text}`;
      case 9:
        return `<span class="MsoNormal" lang="EN-US">${text}</span>`;
      case 10:
        return `${text}<br>`;
      default:
        return text;
    }
  };
  const block = (): string => {
    switch (Math.floor(random() * 14)) {
      case 0:
        return `<ul>${Array.from({ length: 2 + Math.floor(random() * 3) }, () => `<li>${inline()}</li>`).join('')}</ul>`;
      case 1:
        return `<ol><li>${inline()}<ul><li>${inline()}</li><li>${inline()}</li></ul></li><li>${inline()}</li></ol>`;
      case 2:
        return `<blockquote>${inline()}</blockquote>`;
      case 3: {
        const level = 1 + Math.floor(random() * 3);
        return `<h${level}>${sentence()}</h${level}>`;
      }
      case 4:
        return `<pre>${sentence()}\n  ${sentence()}</pre>`;
      case 5:
        return `<div class="gmail_quote" style="margin:0 0 0 .8ex">${inline()} ${inline()}</div>`;
      case 6:
        return `<table border="1"><tr><td>${sentence()}</td><td>${inline()}</td></tr></table>`;
      case 7:
        return `<!--[if gte mso 9]><xml><o:OfficeDocumentSettings></o:OfficeDocumentSettings></xml><![endif]--><p class="MsoNormal">${inline()}</p>`;
      case 8:
        return `<style>p.MsoNormal{margin:0cm;font-size:11pt}</style><p>${inline()}</p>`;
      case 9:
        return `<p><img src="cid:image001.png@01D" width="120" onerror="this.remove()"> ${inline()}</p>`;
      case 10:
        return chance(0.3) ? `<script>track('${Math.floor(random() * 1e6)}')</script>${inline()}` : inline();
      default:
        return `<p>${inline()} ${inline()}</p>`;
    }
  };

  const notes: string[] = [];
  for (let i = 0; i < options.count; i += 1) {
    const target = options.minChars + Math.floor(random() * (options.maxChars - options.minChars));
    const parts: string[] = chance(0.5) ? [`<div>${mention()} ${sentence()}</div>`] : [];
    let size = parts[0]?.length ?? 0;
    while (size < target) {
      const next = block();
      parts.push(next);
      size += next.length;
    }
    notes.push(parts.join('\n'));
  }
  return notes;
}
