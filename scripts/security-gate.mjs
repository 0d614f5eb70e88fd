// `npm run sec` (issue #18): static security analysis of src/ and of the browser scripts the
// service serves (eslint/security-config.js). Fails on any finding, on a suppression without a
// reason or missing from docs/security.md, and on a stale one; prints the justified suppressions.
import console from 'node:console';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';

import { ESLint } from 'eslint';

import config, {
  ACCEPTED_SERVED_FINDINGS,
  SECURITY_RULE_PREFIXES,
  SERVED_SCRIPTS,
  servedScriptsConfig,
  SOURCE_FILES,
} from '../eslint/security-config.js';

const DOCS_PAGE = 'docs/security.md';
const isGateRule = (id) => typeof id === 'string' && SECURITY_RULE_PREFIXES.some((p) => id.startsWith(p));
const rel = (file) => path.relative(process.cwd(), file).split(path.sep).join('/');
const problems = [];
const justified = [];
/** `file` `rule` of suppressions without a reason: reported once, not also as a stale docs row. */
const unexplained = new Set();

/** An unused `eslint-disable` of one of our rules is stale: the code it excused is gone. */
function isStaleGateDirective(message) {
  return (
    message.ruleId === null &&
    /^Unused eslint-disable directive/.test(message.message) &&
    SECURITY_RULE_PREFIXES.some((p) => message.message.includes(`'${p}`))
  );
}

function collect(results, onFinding) {
  for (const result of results) {
    const file = rel(result.filePath);
    for (const m of result.messages) {
      if (m.fatal) problems.push(`${file}:${m.line} cannot be parsed: ${m.message}`);
      else if (isStaleGateDirective(m))
        problems.push(`${file}:${m.line} ${m.message} — remove the stale suppression`);
      else if (isGateRule(m.ruleId)) onFinding(file, m);
    }
    for (const m of result.suppressedMessages ?? []) {
      if (!isGateRule(m.ruleId)) continue;
      const why = (m.suppressions ?? []).map((s) => s.justification?.trim()).find(Boolean);
      if (why) {
        justified.push({ where: `${file}:${m.line}`, file, ruleId: m.ruleId, why });
        continue;
      }
      problems.push(`${file}:${m.line} suppresses ${m.ruleId} without a reason (write "-- why it is safe")`);
      unexplained.add(`\`${file}\` \`${m.ruleId}\``);
    }
  }
}

const sources = await new ESLint({ overrideConfigFile: true, overrideConfig: config }).lintFiles(
  SOURCE_FILES,
);
collect(sources, (file, m) => problems.push(`${file}:${m.line}:${m.column} ${m.ruleId}: ${m.message}`));

const served = await new ESLint({ overrideConfigFile: true, overrideConfig: servedScriptsConfig }).lintFiles(
  SERVED_SCRIPTS,
);
if (served.length === 0)
  problems.push(`no served script matched ${SERVED_SCRIPTS.join(', ')}: update SERVED_SCRIPTS`);
const acceptedSeen = new Set();
collect(served, (file, m) => {
  const line = readFileSync(file, 'utf8').split(/\r?\n/)[m.line - 1] ?? '';
  const at = line.slice(m.column - 1);
  const accepted = ACCEPTED_SERVED_FINDINGS.find(
    (a) => a.file === file && a.ruleId === m.ruleId && at.startsWith(a.code),
  );
  if (!accepted) {
    problems.push(`${file}:${m.line}:${m.column} ${m.ruleId}: ${m.message} (at: ${at.slice(0, 60)})`);
    return;
  }
  acceptedSeen.add(accepted);
  justified.push({ where: `${file}:${m.line}:${m.column}`, file, ruleId: m.ruleId, why: accepted.why });
});
for (const a of ACCEPTED_SERVED_FINDINGS) {
  if (!acceptedSeen.has(a))
    problems.push(
      `accepted finding no longer present: ${a.file} ${a.ruleId} at "${a.code}" — remove it from eslint/security-config.js`,
    );
}

// Every justified suppression is listed in the docs page: one row per file and rule, with the
// count and the reason (`| \`file\` | \`rule\` | count | why |`).
const docRows = readFileSync(DOCS_PAGE, 'utf8')
  .split('\n')
  .map((line) => line.split('|').map((cell) => cell.trim()))
  .filter((cells) => cells.length >= 6 && /^`.+`$/.test(cells[1]) && /^`.+`$/.test(cells[2]));
const byFileAndRule = new Map();
for (const j of justified) {
  const key = `\`${j.file}\` \`${j.ruleId}\``;
  byFileAndRule.set(key, [...(byFileAndRule.get(key) ?? []), j]);
}
for (const [key, entries] of byFileAndRule) {
  const row = docRows.find((cells) => `${cells[1]} ${cells[2]}` === key);
  if (!row)
    problems.push(
      `${entries[0].where} ${entries[0].ruleId} is not listed in ${DOCS_PAGE} (add a row: file, rule, count, why)`,
    );
  else if (Number(row[3]) !== entries.length) {
    problems.push(`${DOCS_PAGE} lists ${row[3]} suppression(s) for ${key}, the code has ${entries.length}`);
  }
}
for (const cells of docRows) {
  const key = `${cells[1]} ${cells[2]}`;
  if (/^`(src|node_modules)\//.test(cells[1]) && !byFileAndRule.has(key) && !unexplained.has(key)) {
    problems.push(`${DOCS_PAGE} lists ${key}, which suppresses nothing any more: remove the row`);
  }
}

const inline = justified.filter((j) => j.file.startsWith('src/')).length;
console.log(`security gate: ${sources.length} source files, ${served.length} served script(s)`);
console.log(
  `  justified suppressions: ${justified.length} (${inline} inline in src/, ${justified.length - inline} accepted in served third-party scripts)`,
);
for (const j of justified) console.log(`    ${j.where} ${j.ruleId} — ${j.why}`);
if (problems.length > 0) {
  console.log(`  findings: ${problems.length}`);
  for (const p of problems) console.log(`    ${p}`);
  process.exitCode = 1;
} else {
  console.log('  findings: 0');
}
