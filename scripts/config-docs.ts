/** The generated configuration table sits between these markers in docs/operations.md. */
export const CONFIG_TABLE_START =
  '<!-- config-table:start (generated from src/config.ts: npm run docs:config) -->';
export const CONFIG_TABLE_END = '<!-- config-table:end -->';

export function replaceConfigTable(markdown: string, table: string): string {
  const start = markdown.indexOf(CONFIG_TABLE_START);
  const end = markdown.indexOf(CONFIG_TABLE_END);
  if (start < 0 || end < start) throw new Error('docs/operations.md has no configuration table markers');
  return `${markdown.slice(0, start + CONFIG_TABLE_START.length)}\n${table}\n${markdown.slice(end)}`;
}

export function configTableOf(markdown: string): string | null {
  const start = markdown.indexOf(CONFIG_TABLE_START);
  const end = markdown.indexOf(CONFIG_TABLE_END);
  if (start < 0 || end < start) return null;
  return markdown.slice(start + CONFIG_TABLE_START.length, end).trim();
}
