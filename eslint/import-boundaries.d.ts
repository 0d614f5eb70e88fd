// Types of import-boundaries.js for the TypeScript test that exercises it.
import type { NewResolver } from 'eslint-plugin-import-x';

export interface ImportBoundaryZone {
  target: string;
  from: string[];
  message: string;
}
export function importBoundaryOptions(projectRoot: string): { basePath: string; zones: ImportBoundaryZone[] };
export const typeScriptAwareResolver: NewResolver;
