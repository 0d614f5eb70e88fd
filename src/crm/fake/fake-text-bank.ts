/**
 * Text material for fake notes, made with faker once per tenant and then picked from per note.
 * Faker's templated generators (product names, catch phrases) cost tens of microseconds a call;
 * picking from a bank keeps a 100,000-note tenant fast while the text still reads like CRM notes.
 */
import { base, en, Faker } from '@faker-js/faker';

import { escapeHtml } from './escape-html.js';
import { createFakerRandomizer, mixSeed } from './seeded-random.js';

export interface FakeTextBank {
  /** HTML-escaped sentences. */
  sentences: readonly string[];
  /** HTML-escaped short phrases (headings, link texts). */
  phrases: readonly string[];
  /** File name stems without extension. */
  fileStems: readonly string[];
  addresses: readonly string[];
  slugs: readonly string[];
}

const SALT_BANK = 0xba4c;

export function createFakeTextBank(seed: number): FakeTextBank {
  const f = new Faker({ locale: [en, base], randomizer: createFakerRandomizer() });
  f.seed(mixSeed(seed, SALT_BANK));
  const many = <T>(count: number, make: () => T) => Array.from({ length: count }, make);
  const sentence = () =>
    f.helpers.arrayElement([
      () => f.lorem.sentence({ min: 5, max: 16 }),
      () => `Called about ${f.commerce.productName()}; follow up next week.`,
      () => `Sent the quote for ${f.commerce.price({ min: 100, max: 9000, symbol: 'IDR ' })}.`,
      () => `Met at ${f.company.name()} — ${f.company.catchPhrase().toLowerCase()}.`,
      () => f.hacker.phrase(),
      () => `${f.person.firstName()} asked for a demo on ${f.date.weekday()}.`,
    ])();
  return {
    sentences: many(1024, () => escapeHtml(sentence())),
    phrases: many(128, () => escapeHtml(f.lorem.words({ min: 2, max: 4 }))),
    fileStems: many(256, () =>
      f.helpers.arrayElement([
        () => `IMG_${f.string.numeric(4)}`,
        () => f.system.commonFileName('x').replace(/\.x$/, ''),
        () => `${f.word.noun()}-${f.word.adjective()}`,
        () => `Quote ${f.company.name().replace(/[^\w ]/g, '')}`,
      ])(),
    ),
    addresses: many(128, () => f.location.streetAddress({ useFullAddress: true })),
    slugs: many(128, () => f.lorem.slug(2)),
  };
}
