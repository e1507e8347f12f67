/**
 * Definitions as data: a workflow definition written as JSON text. A syntax error is reported at its
 * line and column; the editor's `$schema` key is set aside; the rest goes through
 * `validateDefinition`, and each problem it names (step, field, why) is placed at the line and
 * column of that field in the text, so a person can go straight to it.
 *
 * jsonc-parser (not JSON.parse) because it gives the offset of every syntax error and of every
 * node, which JSON.parse's messages do not do reliably.
 */
import { parseTree, printParseErrorCode, getNodeValue, type Node, type ParseError } from 'jsonc-parser';
import type { WorkflowDefinition } from './definition.js';
import { DefinitionError, describeIssue, validateDefinition, type DefinitionIssue } from './validate.js';

/** A problem with a definition file, where the text has one: 1-based line and column. */
export interface LocatedIssue extends DefinitionIssue {
  readonly line?: number;
  readonly column?: number;
}

/**
 * A definition file that is not valid JSON or not a valid definition. A `DefinitionError`, so code
 * that handles bad definitions handles bad files too; `source` names the file.
 */
export class DefinitionFileError extends DefinitionError {
  constructor(
    readonly source: string,
    override readonly issues: readonly LocatedIssue[],
    workflowName?: string,
  ) {
    super(issues, workflowName);
    this.name = 'DefinitionFileError';
    this.message = `${source}: invalid workflow definition${workflowName ? ` "${workflowName}"` : ''}: ${issues.map(describeLocatedIssue).join('; ')}`;
  }
}

/** `12:5 step "ship" dependsOn: unknown step "pack"` (the position only when known). */
export function describeLocatedIssue(issue: LocatedIssue): string {
  return `${issue.line === undefined ? '' : `${issue.line}:${issue.column ?? 1} `}${describeIssue(issue)}`;
}

/** The key an editor reads to find the JSON Schema; not part of the definition. */
const SCHEMA_KEY = '$schema';

/** Parse and validate a definition written as JSON; throws `DefinitionFileError` naming every problem. */
export function parseDefinitionText(text: string, source = '(definition)'): WorkflowDefinition {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const syntax = errors[0];
  if (syntax || !root) {
    const at = position(text, syntax?.offset ?? text.length);
    throw new DefinitionFileError(source, [{ field: '(json)', message: syntax ? `not valid JSON: ${words(printParseErrorCode(syntax.error))}` : 'empty file', ...at }]);
  }
  if (root.type !== 'object') throw new DefinitionFileError(source, [{ field: '(definition)', message: `must be a JSON object, not ${root.type}`, ...position(text, root.offset) }]);
  const { [SCHEMA_KEY]: schema, ...definition } = getNodeValue(root) as Record<string, unknown>;
  if (schema !== undefined && typeof schema !== 'string') {
    throw new DefinitionFileError(source, [{ field: SCHEMA_KEY, message: 'must be a string (the URL or path of the JSON Schema)', ...position(text, locate(root, [SCHEMA_KEY]).offset) }]);
  }
  try {
    return validateDefinition(definition);
  } catch (error) {
    if (!(error instanceof DefinitionError)) throw error;
    const located = error.issues.map((issue) => ({ ...issue, ...position(text, locate(root, pathOf(issue, definition)).offset) }));
    throw new DefinitionFileError(source, located, error.workflowName);
  }
}

/** The JSON path an issue names: `steps/<index>/<field segments>` for a step, else the field's segments. */
function pathOf(issue: DefinitionIssue, definition: Record<string, unknown>): string[] {
  const segments = issue.field.startsWith('(') ? [] : issue.field.split('.');
  if (issue.stepId === undefined) return segments;
  const steps = Array.isArray(definition.steps) ? (definition.steps as unknown[]) : [];
  const byId = steps.findIndex((step) => (step as { id?: unknown } | null)?.id === issue.stepId);
  const index = byId >= 0 ? byId : Number(/^#(\d+)$/.exec(issue.stepId)?.[1] ?? -1);
  return index >= 0 ? ['steps', String(index), ...segments] : [];
}

/**
 * The deepest node along `path` (the whole path when it exists). At an object the longest run of
 * segments that is a key wins: mapping keys are dotted paths themselves (`"input": {"a.b": ...}`).
 * A property's value is located at its key, where a person looks.
 */
function locate(root: Node, path: readonly string[]): Node {
  let node = root;
  let rest = path;
  while (rest.length > 0) {
    let next: Node | undefined;
    let used = 1;
    if (node.type === 'array') next = node.children?.[Number(rest[0])];
    else if (node.type === 'object') {
      for (used = rest.length; used >= 1 && !next; used--) {
        const key = rest.slice(0, used).join('.');
        next = node.children?.find((property) => property.children?.[0]?.value === key)?.children?.[1];
      }
      used++;
    }
    if (!next) break;
    node = next;
    rest = rest.slice(used);
  }
  return node.parent?.type === 'property' ? node.parent : node;
}

function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** `PropertyNameExpected` -> `property name expected`. */
function words(code: string): string {
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}
